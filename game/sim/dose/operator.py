"""Operator (staff) dose from scatter: proportional to KAP, higher with the tube on the operator's side.

The operator stands at the patient's right, by the groin. With the tube under the table, LAO projections put the
X-ray tube (the main scatter source: the entrance side) toward the operator; RAO turns it away. DOMAIN.md gives the
eye dose per KAP (1089 nSv per Gy*cm^2 unshielded, 54 with a ceiling shield) and an LAO : RAO ratio of ~23 : 1,
modelled here as a factor that rises exponentially from RAO 90 to LAO 90 with that ratio at the two ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from game.sim import constants as C


@dataclass(frozen=True)
class OperatorShielding:
    ceiling_shield: bool = False
    lead_apron: bool = True  # body dose under the apron (the eye dose is not behind it)
    distance_mm: float = C.OPERATOR_REFERENCE_DISTANCE_MM


def projection_factor(lao_deg: float) -> float:
    """Relative scatter toward the operator: 1 at AP, sqrt(23) at LAO 90, 1/sqrt(23) at RAO 90."""
    clamped = max(-90.0, min(90.0, lao_deg))
    return C.OPERATOR_LAO_TO_RAO_RATIO ** (clamped / 180.0)


def operator_dose_uSv(kap_Gycm2: float, lao_deg: float, shielding: OperatorShielding) -> float:
    """Operator eye-level dose (uSv) for ``kap_Gycm2`` delivered at ``lao_deg`` (negative: RAO)."""
    per_kap_nSv = (
        C.OPERATOR_EYE_NSV_PER_GYCM2_CEILING_SHIELD if shielding.ceiling_shield else C.OPERATOR_EYE_NSV_PER_GYCM2
    )
    distance = (C.OPERATOR_REFERENCE_DISTANCE_MM / shielding.distance_mm) ** 2
    return kap_Gycm2 * per_kap_nSv * projection_factor(lao_deg) * distance / 1000.0
