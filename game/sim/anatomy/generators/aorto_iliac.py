"""The abdominal aorta and its branches down to the common femoral arteries, as seeded, parametric vessel specs.

Coordinates follow ``game.sim.constants`` (mm; x patient's left, y posterior, z head; z = 0 at L4). The curve toolkit
shared with :mod:`.aortic_arch` is in :mod:`.curves`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from game.sim import constants as C
from game.sim.anatomy.generators.curves import (
    CONTROL_SPACING_MM,
    MIN_CONTROL_GAP_MM,
    TORTUOUS_CONTROL_SPACING_MM,
    Curve,
    Inlet,
    Variation,
    Vessel,
    branch,
    control_arclengths,
    mirrored,
    tapered,
    unit,
)
from game.sim.anatomy.spec import VesselSpec

# --- Abdominal anatomy (mm; z = 0 at L4). Positions (est.) from standard CT anatomy unless noted --------------
AORTIC_INLET_MM = (12.0, 10.0, 180.0)  # abdominal aorta at the diaphragm (aortic hiatus, T11-T12)
AORTIC_INLET_DIRECTION = (0.0, -0.12, -1.0)  # down, slightly anterior (lumbar lordosis)
AORTIC_MID_MM = ((12.0, 6.0, 140.0), (11.0, 2.0, 95.0), (9.0, -0.5, 45.0))  # key points, inlet -> bifurcation
BIFURCATION_MM = (7.0, -1.0, 0.0)  # aortic bifurcation, lower L4 (the origin's definition)
BIFURCATION_SD_MM = (3.0, 2.0, 8.0)
AORTA_WOBBLE_SD_MM = 2.5  # lateral/AP jitter of the aortic key points
AORTIC_RADIUS_SD_FRACTION = 0.04

COELIAC_HEIGHT_MM = (150.0, 5.0)  # T12, mean and sd
SMA_BELOW_COELIAC_MM = (13.0, 2.0)  # 10-15 mm below the coeliac trunk
RENAL_HEIGHT_MM = 105.0  # L1-L2 (DOMAIN.md section 6)
RENAL_SIDE_SD_MM = 4.0  # each renal artery's own offset from renal_height_mm
IMA_HEIGHT_MM = (40.0, 5.0)  # inferior mesenteric artery, L3

COELIAC_LENGTH_MM = (24.0, 3.0)  # from the aortic centreline to where it divides (est.)
COELIAC_RADIUS_MM = 3.5  # ~7 mm (est.)
COMMON_HEPATIC_RADIUS_MM = 2.5  # (est.)
SPLENIC_RADIUS_MM = 2.75  # (est.)
SMA_RADIUS_MM = (3.5, 2.5)  # origin -> distal, ~7 mm at the origin (est.)
IMA_RADIUS_MM = (1.75, 1.5)  # (est.)
RENAL_RADIUS_MM = (C.RENAL_ARTERY_RADIUS_MM, 2.5)
RENAL_HILUM_MM = (60.0, 28.0, -12.0)  # |x|, y, dz below the origin: kidney hilum (est.)
COMMON_ILIAC_RADIUS_MM = (C.COMMON_ILIAC_RADIUS_MM, 4.7)
EXTERNAL_ILIAC_RADIUS_MM = (4.5, 4.4)  # ~9 mm, as the common femoral (est.)
INTERNAL_ILIAC_RADIUS_MM = (3.25, 2.75)  # ~6.5 mm (est.); Murray: 5^3 ~ 4.5^3 + 3.25^3
COMMON_FEMORAL_RADIUS_MM = (C.COMMON_FEMORAL_RADIUS_MM, 4.2)
BRANCH_RADIUS_SD_FRACTION = 0.08

# Iliac key points, left side (x mirrored for the right), relative to the bifurcation (mm)
CIA_END_MM = (37.0, 7.0, -50.0)  # at the sacroiliac joint, where the common iliac divides
EIA_KEYS_MM = ((55.0, -6.0, -74.0), (69.0, -26.0, -95.0))
EIA_END_MM = (80.0, -42.0, -112.0)  # inguinal ligament: external iliac becomes common femoral
EIA_END_DIRECTION = (0.2, -0.4, -0.9)  # over the pubic ramus into the thigh (left side; x mirrored)
IIA_KEYS_MM = ((3.0, 10.0, -10.0), (4.0, 22.0, -26.0))  # relative to the common iliac's end
IIA_END_MM = (0.0, 32.0, -44.0)  # internal iliac trunk, into the pelvis
CFA_KEYS_MM = ((82.0, -45.0, -135.0),)
CFA_END_MM = (84.0, -46.0, -160.0)  # femoral bifurcation, over the femoral head's lower half
ILIAC_POINT_SD_MM = 2.5
TORTUOSITY_AMPLITUDE_MM = 6.5  # at iliac_tortuosity = 1
TORTUOSITY_WAVELENGTH_MM = (60.0, 80.0)  # range of wavelengths drawn per vessel


# --- Params ----------------------------------------------------------------------------------------------------
class CommonParams(BaseModel):
    """Settings shared by every aortic generator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variation_amount: float = Field(
        1.0, ge=0.0, le=2.0, description="Scale of the seeded random variation; 0 gives textbook mean values."
    )
    aortic_radius_scale: float = Field(
        1.0, ge=0.7, le=1.2, description="Factor applied to every aortic radius (1 = adult mean)."
    )
    renal_height_mm: float = Field(
        RENAL_HEIGHT_MM,
        ge=80.0,
        le=125.0,
        description="Height (z, mm above L4) of the renal artery origins; L1-L2 is 95-115 mm.",
    )
    iliac_tortuosity: float = Field(
        0.0, ge=0.0, le=1.0, description="How much the iliac arteries wind: 0 straight-ish, 1 very tortuous."
    )


class AortoIliacParams(CommonParams):
    """Parameters of the ``aorto_iliac`` generator."""


# --- Builder ---------------------------------------------------------------------------------------------------
def build(params: BaseModel, rng: np.random.Generator) -> list[VesselSpec]:
    """``aorto_iliac``: abdominal aorta (root, inlet at the diaphragm) to the common femoral arteries."""
    assert isinstance(params, CommonParams)
    return build_abdomen(params, Variation(rng, params.variation_amount))


def build_abdomen(
    params: CommonParams, var: Variation, inlet: Inlet | None = None, parent: str | None = None
) -> list[VesselSpec]:
    """The abdominal aorta and its branches; a child of ``parent`` starting at ``inlet`` when given."""
    scale = params.aortic_radius_scale
    if inlet is None:
        radius = C.ABDOMINAL_AORTA_RADIUS_MM * scale * var.factor(AORTIC_RADIUS_SD_FRACTION)
        inlet = Inlet(var.vector(AORTIC_INLET_MM, AORTA_WOBBLE_SD_MM), unit(AORTIC_INLET_DIRECTION), radius)
    bifurcation = var.vector(BIFURCATION_MM, BIFURCATION_SD_MM)
    mids = [var.vector(p, (AORTA_WOBBLE_SD_MM, AORTA_WOBBLE_SD_MM, 0.0)) for p in AORTIC_MID_MM]
    mids = [m for m in mids if inlet.point_mm[2] - 15.0 > m[2] > bifurcation[2] + 15.0]
    aorta_curve = Curve.through([inlet.point_mm, *mids, bifurcation], start_direction=inlet.direction)
    distal_radius = C.ABDOMINAL_AORTA_DISTAL_RADIUS_MM * scale * var.factor(AORTIC_RADIUS_SD_FRACTION)
    distal_radius = min(distal_radius, inlet.radius_mm)

    z_coeliac = var.normal(*COELIAC_HEIGHT_MM)
    z_sma = z_coeliac - max(8.0, var.normal(*SMA_BELOW_COELIAC_MM))
    z_left_renal = var.normal(params.renal_height_mm, RENAL_SIDE_SD_MM)
    z_right_renal = var.normal(params.renal_height_mm, RENAL_SIDE_SD_MM)
    z_ima = var.normal(*IMA_HEIGHT_MM)
    heights = {"coeliac": z_coeliac, "sma": z_sma, "left_renal": z_left_renal, "right_renal": z_right_renal}
    heights["ima"] = z_ima
    origin_s = _merge_close({k: aorta_curve.s_at_height(z) for k, z in heights.items()})
    control = control_arclengths(aorta_curve, CONTROL_SPACING_MM, list(origin_s.values()))
    aorta = Vessel(
        "abdominal_aorta",
        parent,
        aorta_curve,
        control,
        tapered(inlet.radius_mm, distal_radius),
        None if parent else C.ABDOMINAL_AORTA_FLOW_ML_PER_MIN,
    )
    vessels = [aorta]
    vessels += _visceral(aorta, origin_s, var)
    for side in (+1, -1):
        vessels.append(_renal(aorta, origin_s, side, var))
    for side in (+1, -1):
        vessels += _iliac(aorta.end, side, params.iliac_tortuosity, var)
    return [v.spec() for v in vessels]


def _merge_close(origins: dict[str, float]) -> dict[str, float]:
    """Origins closer than the minimum control gap share one control point."""
    merged: dict[str, float] = {}
    for name, s in sorted(origins.items(), key=lambda kv: kv[1]):
        near = [m for m in merged.values() if abs(m - s) < MIN_CONTROL_GAP_MM]
        merged[name] = near[0] if near else s
    return merged


def _visceral(aorta: Vessel, origin_s: dict[str, float], var: Variation) -> list[Vessel]:
    """Coeliac trunk (with common hepatic and splenic arteries), SMA and IMA, all leaving anteriorly."""
    o = aorta.point(origin_s["coeliac"])
    takeoff = unit(var.vector((0.05, -1.0, -0.1), 0.12))
    length = var.normal(*COELIAC_LENGTH_MM)
    coeliac = branch(
        "coeliac",
        aorta.name,
        o,
        takeoff,
        [o + takeoff * length],
        tapered(COELIAC_RADIUS_MM * var.factor(BRANCH_RADIUS_SD_FRACTION), COELIAC_RADIUS_MM),
    )
    c = coeliac.end
    hepatic = branch(
        "common_hepatic",
        coeliac.name,
        c,
        unit(var.vector((-1.0, -0.15, -0.15), 0.15)),
        [c + var.vector((-22.0, -4.0, -3.0), 2.0), c + var.vector((-48.0, 0.0, 3.0), 3.0)],
        tapered(COMMON_HEPATIC_RADIUS_MM * var.factor(BRANCH_RADIUS_SD_FRACTION), 2.2),
    )
    splenic = branch(
        "splenic",
        coeliac.name,
        c,
        unit(var.vector((1.0, 0.1, 0.2), 0.15)),
        [
            c + var.vector((25.0, 6.0, 6.0), 2.0),
            c + var.vector((50.0, 18.0, 4.0), 3.0),
            c + var.vector((75.0, 34.0, 12.0), 3.0),
            c + var.vector((98.0, 46.0, 16.0), 3.0),
        ],
        tapered(SPLENIC_RADIUS_MM * var.factor(BRANCH_RADIUS_SD_FRACTION), 2.4),
    )
    s = aorta.point(origin_s["sma"])
    sma_takeoff = unit(var.vector((0.0, -1.0, -0.6), 0.1))
    sma = branch(
        "sma",
        aorta.name,
        s,
        sma_takeoff,
        [
            s + sma_takeoff * 10.0,
            s + var.vector((-1.0, -21.0, -28.0), 2.0),
            s + var.vector((-4.0, -26.0, -65.0), 4.0),
            s + var.vector((-14.0, -28.0, -105.0), 5.0),
            s + var.vector((-30.0, -26.0, -140.0), 6.0),
        ],
        tapered(SMA_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), SMA_RADIUS_MM[1]),
    )
    i = aorta.point(origin_s["ima"])
    ima_takeoff = unit(var.vector((0.35, -1.0, -0.45), 0.1))
    ima = branch(
        "ima",
        aorta.name,
        i,
        ima_takeoff,
        [i + var.vector((14.0, -16.0, -16.0), 2.0), i + var.vector((30.0, -14.0, -52.0), 4.0)],
        tapered(IMA_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), IMA_RADIUS_MM[1]),
    )
    return [coeliac, hepatic, splenic, sma, ima]


def _renal(aorta: Vessel, origin_s: dict[str, float], side: int, var: Variation) -> Vessel:
    """A renal artery: laterally, slightly posterior and down, to the kidney hilum."""
    name = "left_renal" if side > 0 else "right_renal"
    o = aorta.point(origin_s[name])
    down = var.normal(0.22, 0.08)
    takeoff = unit((side * 1.0, var.normal(0.25, 0.1), -down))
    hilum = np.array([side * RENAL_HILUM_MM[0], RENAL_HILUM_MM[1], o[2] + RENAL_HILUM_MM[2]])
    hilum = var.vector(hilum, (5.0, 4.0, 4.0))
    mid = o + 0.55 * (hilum - o) + np.array([0.0, -4.0, 3.0])
    return branch(
        name,
        aorta.name,
        o,
        takeoff,
        [o + takeoff * 12.0, mid, hilum],
        tapered(RENAL_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), RENAL_RADIUS_MM[1]),
    )


def _iliac(bifurcation: np.ndarray, side: int, tortuosity: float, var: Variation) -> list[Vessel]:
    """Common, external and internal iliac and common femoral arteries on one side."""
    prefix = "left" if side > 0 else "right"
    b = bifurcation

    def key(offset: Sequence[float]) -> np.ndarray:
        return var.vector(b + mirrored(offset, side), ILIAC_POINT_SD_MM)

    def winding(curve: Curve) -> Curve:
        wavelength = var.uniform(*TORTUOSITY_WAVELENGTH_MM)
        phase = var.uniform(0.0, 2.0 * np.pi)
        normal = unit(var.vector((side * 0.3, -1.0, 0.2), 0.5))
        return curve.wound(tortuosity * TORTUOSITY_AMPLITUDE_MM, wavelength, phase, normal)

    spacing = TORTUOUS_CONTROL_SPACING_MM if tortuosity > 0.25 else CONTROL_SPACING_MM
    cia_end = key(CIA_END_MM)
    cia_dir = unit(var.vector((side * 0.45, 0.05, -0.9), 0.08))
    cia = branch(
        f"{prefix}_common_iliac",
        "abdominal_aorta",
        b,
        cia_dir,
        [cia_end],
        tapered(COMMON_ILIAC_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), COMMON_ILIAC_RADIUS_MM[1]),
        spacing_mm=spacing,
        curve_hook=winding,
    )
    cia_out = cia.curve.direction_at(cia.curve.length_mm)
    eia_end = key(EIA_END_MM)
    eia = branch(
        f"{prefix}_external_iliac",
        cia.name,
        cia.end,
        cia_out,
        [*(key(k) for k in EIA_KEYS_MM), eia_end],
        tapered(EXTERNAL_ILIAC_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), EXTERNAL_ILIAC_RADIUS_MM[1]),
        spacing_mm=spacing,
        end_direction=mirrored(EIA_END_DIRECTION, side),
        curve_hook=winding,
    )
    iia = branch(
        f"{prefix}_internal_iliac",
        cia.name,
        cia.end,
        unit(var.vector((side * 0.2, 0.65, -0.7), 0.05)),
        [var.vector(cia.end + mirrored(k, side), 1.5) for k in (*IIA_KEYS_MM, IIA_END_MM)],
        tapered(INTERNAL_ILIAC_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), INTERNAL_ILIAC_RADIUS_MM[1]),
    )
    cfa = branch(
        f"{prefix}_common_femoral",
        eia.name,
        eia.end,
        mirrored(EIA_END_DIRECTION, side),
        [*(key(k) for k in CFA_KEYS_MM), key(CFA_END_MM)],
        tapered(COMMON_FEMORAL_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), COMMON_FEMORAL_RADIUS_MM[1]),
    )
    return [cia, eia, iia, cfa]
