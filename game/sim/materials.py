"""Materials of the patient body and their X-ray attenuation at 40-80 keV.

Mass attenuation coefficients mu/rho (cm^2/g) come from ``constants.MASS_ATTENUATION_CM2_PER_G`` (NIST XCOM) at
``constants.ATTENUATION_ENERGIES_KEV``; between table energies they are interpolated log-log. Materials not in
the table are built from those that are: a density times a table composition, or a mixture by mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from game.sim import constants as C


class Material(IntEnum):
    """Body materials; the value is the index used in voxel grids and attenuation arrays."""

    AIR = 0
    ADIPOSE = 1
    LUNG = 2
    SOFT_TISSUE = 3
    WATER = 4
    BLOOD = 5
    TRABECULAR_BONE = 6
    CORTICAL_BONE = 7


# --- Densities (g/cm^3) ----------------------------------------------------------------------------------------
WATER_DENSITY_G_PER_CM3 = 1.00
SOFT_TISSUE_DENSITY_G_PER_CM3 = 1.06  # ICRU-44 soft tissue (NIST)
CORTICAL_BONE_DENSITY_G_PER_CM3 = 1.85  # ICRP cortical bone, the density of the DOMAIN.md table
ADIPOSE_DENSITY_G_PER_CM3 = 0.95  # ICRU-44 adipose tissue (NIST); mu/rho taken as soft tissue's (est.)
BLOOD_DENSITY_G_PER_CM3 = 1.06  # ICRU-44 blood (NIST); mu/rho taken as soft tissue's (est.)
LUNG_DENSITY_G_PER_CM3 = 0.26  # inflated lung (est.): soft-tissue composition at this density
MARROW_DENSITY_G_PER_CM3 = 1.00  # red/yellow marrow mix (est.), soft-tissue mu/rho
TRABECULAR_BONE_DENSITY_G_PER_CM3 = 1.18  # spongy bone (est.)
# Trabecular bone = cortical bone + marrow by volume, chosen to give its density:
TRABECULAR_CORTICAL_VOLUME_FRACTION = (TRABECULAR_BONE_DENSITY_G_PER_CM3 - MARROW_DENSITY_G_PER_CM3) / (
    CORTICAL_BONE_DENSITY_G_PER_CM3 - MARROW_DENSITY_G_PER_CM3
)  # ~0.21
TRABECULAR_CORTICAL_MASS_FRACTION = (
    TRABECULAR_CORTICAL_VOLUME_FRACTION * CORTICAL_BONE_DENSITY_G_PER_CM3 / TRABECULAR_BONE_DENSITY_G_PER_CM3
)  # ~0.33

MM_PER_CM = 10.0


@dataclass(frozen=True)
class MaterialProperties:
    """Density (g/cm^3) and mass attenuation (cm^2/g) at each of ``constants.ATTENUATION_ENERGIES_KEV``."""

    density_g_per_cm3: float
    mass_attenuation_cm2_per_g: tuple[float, ...]


def _mixture(*parts: tuple[float, str]) -> tuple[float, ...]:
    """mu/rho of a mixture by mass: sum of mass fraction x the table entry for each named component."""
    table = C.MASS_ATTENUATION_CM2_PER_G
    return tuple(
        float(sum(w * table[name][i] for w, name in parts)) for i in range(len(C.ATTENUATION_ENERGIES_KEV))
    )


_SOFT = _mixture((1.0, "soft_tissue"))
MATERIALS: dict[Material, MaterialProperties] = {
    Material.AIR: MaterialProperties(0.0, _SOFT),  # air's attenuation is negligible: density 0
    Material.ADIPOSE: MaterialProperties(ADIPOSE_DENSITY_G_PER_CM3, _SOFT),
    Material.LUNG: MaterialProperties(LUNG_DENSITY_G_PER_CM3, _SOFT),
    Material.SOFT_TISSUE: MaterialProperties(SOFT_TISSUE_DENSITY_G_PER_CM3, _SOFT),
    Material.WATER: MaterialProperties(WATER_DENSITY_G_PER_CM3, _mixture((1.0, "water"))),
    Material.BLOOD: MaterialProperties(BLOOD_DENSITY_G_PER_CM3, _SOFT),
    Material.TRABECULAR_BONE: MaterialProperties(
        TRABECULAR_BONE_DENSITY_G_PER_CM3,
        _mixture(
            (TRABECULAR_CORTICAL_MASS_FRACTION, "cortical_bone"),
            (1.0 - TRABECULAR_CORTICAL_MASS_FRACTION, "soft_tissue"),
        ),
    ),
    Material.CORTICAL_BONE: MaterialProperties(CORTICAL_BONE_DENSITY_G_PER_CM3, _mixture((1.0, "cortical_bone"))),
}


def _mass_attenuation_cm2_per_g(props: MaterialProperties, energy_keV: float) -> float:
    """Log-log interpolation of mu/rho between the table energies; outside 40-80 keV is an error."""
    energies = C.ATTENUATION_ENERGIES_KEV
    if not energies[0] <= energy_keV <= energies[-1]:
        raise ValueError(f"energy {energy_keV} keV outside the attenuation table ({energies[0]}-{energies[-1]} keV)")
    log_mu = np.interp(np.log(energy_keV), np.log(energies), np.log(props.mass_attenuation_cm2_per_g))
    return float(np.exp(log_mu))


def linear_attenuation_per_mm(material: Material, energy_keV: float) -> float:
    """Linear attenuation coefficient mu (1/mm) of ``material`` at ``energy_keV`` (40-80 keV)."""
    props = MATERIALS[Material(material)]
    if props.density_g_per_cm3 == 0.0:
        return 0.0
    return props.density_g_per_cm3 * _mass_attenuation_cm2_per_g(props, energy_keV) / MM_PER_CM


def linear_attenuation_table_per_mm(energy_keV: float) -> np.ndarray:
    """mu (1/mm) of every material at ``energy_keV``, indexed by :class:`Material` value."""
    return np.array([linear_attenuation_per_mm(m, energy_keV) for m in Material])
