"""X-ray attenuation per tube voltage: effective energies, iodine contrast, metals, the body's materials.

spekpy and xraylib are not available offline, so the beam is described by the numbers in DOMAIN.md section 3
(computed there with spekpy + xraylib for a W anode, 3 mm Al + 0.1 mm Cu, behind 20 cm of water):

- **Body background** (``game.sim.materials``: water, soft tissue, bone, lung, fat): attenuation at the beam's
  *mean exit energy* for the kVp (51.9 / 56.8 / 61.0 keV at 70 / 80 / 90 kVp, linear in kVp between and
  beyond), mu/rho interpolated log-log in the NIST XCOM table of ``constants.MASS_ATTENUATION_CM2_PER_G``.
  Check against DOMAIN.md: 1 cm of cortical bone replacing water gives 39.5 % contrast at 70 kVp and 34 % at
  80 kVp (table: 39.7 / 34.5 %).
- **Iodine**: the mean-energy shortcut underestimates iodine contrast (the spectrum's low-energy part, where
  iodine absorbs strongly, matters), so iodine uses the contrast table itself. For each kVp the exponent
  ``-ln(1 - contrast)`` at 5/10/20/50 mgI/cm^2 is fitted by ``mu0 * rho / (1 + beta * rho)`` (rho the areal
  density in g/cm^2): ``mu0`` is the effective mass attenuation of a thin iodine layer and ``beta`` its beam
  hardening. The fit reproduces the table within 0.2 percentage points; it is computed here at import, from the
  table below, so nothing has to be precomputed offline.
- **Metals** (stainless steel / nitinol wire cores, platinum marker bands) use NIST XCOM mu/rho values rounded to
  two digits *(est.: not in DOMAIN.md; the platinum values lie below its K-edge at 78.4 keV, which the mean exit
  energies of 70-110 kVp never reach)*. The polymer catheter wall is described by its iodine-equivalent
  concentration (barium sulphate filler attenuates like iodine above ~40 keV).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from game.sim import constants as C
from game.sim.materials import Material, linear_attenuation_per_mm, linear_attenuation_table_per_mm

# --- DOMAIN.md section 3: the beam behind 20 cm water ---------------------------------------------------------
TABLE_KVP = (70.0, 80.0, 90.0)
MEAN_EXIT_ENERGY_KEV = (51.9, 56.8, 61.0)
#: Iodine areal densities (mg/cm^2) of the contrast table and the contrast (fraction) at each kVp.
IODINE_TABLE_MG_PER_CM2 = (5.0, 10.0, 20.0, 50.0)
IODINE_CONTRAST = {
    70.0: (0.057, 0.111, 0.207, 0.430),
    80.0: (0.048, 0.092, 0.174, 0.369),
    90.0: (0.041, 0.080, 0.152, 0.328),
}
#: Tube voltages the imaging accepts (below 60 kVp nothing gets through an adult; 125 kVp is the generator's top).
KVP_RANGE = (60.0, 125.0)

# --- Materials -----------------------------------------------------------------------------------------------
#: Densities (g/cm^3) of the instrument metals.
METAL_DENSITY_G_PER_CM3 = {"steel": 7.9, "platinum": 21.45}
#: mu/rho (cm^2/g) at ``constants.ATTENUATION_ENERGIES_KEV`` for metals (NIST XCOM, rounded; est.).
METAL_MASS_ATTENUATION_CM2_PER_G = {
    "steel": (3.63, 1.96, 1.21, 0.82, 0.60),  # iron; nitinol (Ni-Ti, 6.45 g/cm^3) attenuates about as much per mm
    "platinum": (12.5, 7.0, 4.4, 3.0, 2.1),
}
#: Iodine-equivalent concentration (mgI/mL) of a diagnostic catheter's wall: polymer loaded with 20-40 % barium
#: sulphate or bismuth, with a fine steel braid *(est.: chosen so that a 5F catheter shows as a clear "tram
#: track", 20-30 % contrast at its walls, yet much fainter than a 0.035" wire)*.
CATHETER_WALL_IODINE_EQUIVALENT_MG_PER_ML = 250.0


def mean_energy_keV(kvp: float) -> float:
    """Mean energy (keV) of the beam behind the patient at tube voltage ``kvp`` (linear through the table)."""
    e = MEAN_EXIT_ENERGY_KEV
    if kvp <= TABLE_KVP[1]:
        slope = (e[1] - e[0]) / (TABLE_KVP[1] - TABLE_KVP[0])
        return float(e[0] + slope * (kvp - TABLE_KVP[0]))
    slope = (e[2] - e[1]) / (TABLE_KVP[2] - TABLE_KVP[1])
    return float(e[1] + slope * (kvp - TABLE_KVP[1]))


def mass_attenuation_cm2_per_g(material: str, energy_keV: float) -> float:
    """mu/rho (cm^2/g) of iodine, water, soft tissue, cortical bone, steel or platinum, log-log interpolated."""
    if material in METAL_MASS_ATTENUATION_CM2_PER_G:
        table = METAL_MASS_ATTENUATION_CM2_PER_G[material]
    else:
        table = C.MASS_ATTENUATION_CM2_PER_G[material]
    log_e = np.log(C.ATTENUATION_ENERGIES_KEV)
    return float(np.exp(np.interp(np.log(energy_keV), log_e, np.log(table), left=None, right=None)))


def body_mu_per_mm(kvp: float) -> np.ndarray:
    """Linear attenuation (1/mm) of every body material (indexed by :class:`Material` value) at the mean exit
    energy of ``kvp``: what ``Body.line_integral`` takes."""
    return _body_mu_cached(round(float(kvp), 3)).copy()


@lru_cache(maxsize=256)
def _body_mu_cached(kvp: float) -> np.ndarray:
    return linear_attenuation_table_per_mm(mean_energy_keV(kvp))


@lru_cache(maxsize=1024)
def water_mu_per_mm(kvp: float) -> float:
    return linear_attenuation_per_mm(Material.WATER, mean_energy_keV(kvp))


@lru_cache(maxsize=1024)
def metal_mu_per_mm(metal: str, kvp: float) -> float:
    """Linear attenuation (1/mm) of ``steel`` or ``platinum`` in excess of the soft tissue it displaces."""
    energy = mean_energy_keV(kvp)
    own = mass_attenuation_cm2_per_g(metal, energy) * METAL_DENSITY_G_PER_CM3[metal] / 10.0
    return own - linear_attenuation_per_mm(Material.SOFT_TISSUE, energy)


# --- iodine ----------------------------------------------------------------------------------------------------
def _fit_iodine(kvp: float) -> tuple[float, float]:
    """Least-squares fit of ``mu0 * rho / (1 + beta * rho)`` (rho in g/cm^2) to the table at one kVp."""
    rho = np.array(IODINE_TABLE_MG_PER_CM2) / 1000.0
    exponent = -np.log(1.0 - np.array(IODINE_CONTRAST[kvp]))
    # exponent * (1 + beta rho) = mu0 rho  ->  linear in (mu0, beta): mu0 rho - beta (rho * exponent) = exponent
    a = np.stack([rho, -rho * exponent], axis=1)
    (mu0, beta), *_ = np.linalg.lstsq(a, exponent, rcond=None)
    return float(mu0), float(max(beta, 0.0))


IODINE_FIT = {kvp: _fit_iodine(kvp) for kvp in TABLE_KVP}


@lru_cache(maxsize=1024)
def iodine_coefficients(kvp: float) -> tuple[float, float]:
    """(mu0 cm^2/g, beta cm^2/g) of iodine at ``kvp``, linear in kVp through the fitted table points."""
    kvps = np.array(TABLE_KVP)
    mu0s = np.array([IODINE_FIT[k][0] for k in TABLE_KVP])
    betas = np.array([IODINE_FIT[k][1] for k in TABLE_KVP])
    i = 0 if kvp <= kvps[1] else 1
    t = (kvp - kvps[i]) / (kvps[i + 1] - kvps[i])
    mu0 = mu0s[i] + t * (mu0s[i + 1] - mu0s[i])
    beta = betas[i] + t * (betas[i + 1] - betas[i])
    return float(max(mu0, 1.0)), float(max(beta, 0.0))


def iodine_exponent(areal_mg_per_cm2: np.ndarray | float, kvp: float) -> np.ndarray:
    """``-ln(I/I0)`` added by an iodine layer of ``areal_mg_per_cm2`` at tube voltage ``kvp``."""
    mu0, beta = iodine_coefficients(kvp)
    rho = np.asarray(areal_mg_per_cm2, dtype=np.float32) * np.float32(1e-3)
    return mu0 * rho / (1.0 + beta * rho)


def iodine_contrast(areal_mg_per_cm2: float, kvp: float) -> float:
    """Fractional signal drop ``1 - I/I0`` behind an iodine layer (what the DOMAIN.md table lists)."""
    return float(1.0 - np.exp(-iodine_exponent(areal_mg_per_cm2, kvp)))
