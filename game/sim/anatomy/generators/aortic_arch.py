"""The thoracic aorta from the aortic root: arch types I-III, normal or bovine great vessels, optional coronaries,
and (by default) the whole aorto-iliac tree below, so that a femoral access can reach the arch.

The arch is a half-ellipse in a vertical plane running from right-anterior (top of the ascending aorta) to
left-posterior (start of the descending aorta), which is why an LAO ~50 view opens it. Its height sets the arch
type: the great vessels arise at fixed arc gaps (stEVE means, ``constants.ARCH_GAP_*``) from the start of the
arch, so a taller arch puts their origins further below its top (type I: < 1 CCA diameter, II: 1-2, III: > 2).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from game.sim import constants as C
from game.sim.anatomy.generators.aorto_iliac import (
    AORTIC_INLET_DIRECTION,
    AORTIC_INLET_MM,
    AORTIC_RADIUS_SD_FRACTION,
    BRANCH_RADIUS_SD_FRACTION,
    CommonParams,
    build_abdomen,
)
from game.sim.anatomy.generators.curves import (
    CONTROL_SPACING_MM,
    Curve,
    Inlet,
    Variation,
    Vessel,
    branch,
    control_arclengths,
    tapered,
    unit,
)
from game.sim.anatomy.spec import VesselSpec

# --- Thoracic aorta (mm; z = 0 at L4). Positions (est.) from standard CT anatomy -------------------------------
ROOT_MM = (-4.0, -30.0, 280.0)  # aortic valve, slightly right and anterior, behind the sternum
ROOT_SD_MM = 3.0
ROOT_DIRECTION = (-0.35, -0.35, 1.0)  # ascending aorta leaves the heart up, rightward and forward
MIN_ASCENDING_RISE_MM = 40.0  # a tall (type III) arch starts low: the root sits at least this far below
ARCH_START_XY_MM = (-26.0, -40.0)  # top of the ascending aorta (right upper mediastinal border)
ARCH_END_XY_MM = (33.0, 22.0)  # start of the descending aorta (aortic knob, left of the spine)
ARCH_XY_SD_MM = 3.0
ARCH_TOP_HEIGHT_MM = 365.0  # top of the arch centreline, T3-T4
ARCH_TOP_SD_MM = 5.0
ARCH_HEIGHT_BY_TYPE_MM = {"I": 30.0, "II": 42.0, "III": 56.0}  # arch start -> arch top (est., sets the type)
ARCH_HEIGHT_SD_FRACTION = 0.06
ARCH_SAMPLES = 1200  # dense samples of the half-ellipse
DESCENDING_KEY_MM = ((-3.0, 6.0, -35.0),)  # after the arch end, relative to it
DESCENDING_LOWER_MM = ((22.0, 31.0), (17.0, 25.0, 215.0))  # mid-thoracic x, y and the lower key point
DESCENDING_SD_MM = 2.5
ARCH_START_RADIUS_MM = 14.0  # (est.) tapering from the root (AORTA_ASCENDING_RADIUS_MM)
ARCH_END_RADIUS_MM = 11.5  # (est.) proximal descending aorta, ~23 mm
BOVINE_GAP_BCT_TO_LSCA_MM = (41.0, 2.5)  # stEVE type II (common origin of BCT and LCCA)
BOVINE_LCCA_ALONG_BCT = 0.4  # fraction of the BCT's length where a bovine LCCA arises (est.)
MIN_GAP_MM = 9.0  # minimum arc gap between neighbouring great-vessel origins
ARCH_END_MARGIN_MM = 10.0  # the last great vessel arises at least this far before the arch's end

BCT_RADIUS_MM = (6.0, 5.5)  # ~12 mm (est.)
BCT_END_MM = (-16.0, 6.0, 38.0)  # BCT division behind the right sternoclavicular joint, relative to its origin
SUBCLAVIAN_RADIUS_MM = (C.SUPRA_AORTIC_ORIGIN_RADIUS_MM, 3.5)
RIGHT_SUBCLAVIAN_RADIUS_MM = (4.5, 3.5)  # (est.)
CAROTID_RADIUS_MM = (C.SUPRA_AORTIC_ORIGIN_RADIUS_MM, C.COMMON_CAROTID_RADIUS_MM)
RIGHT_CAROTID_RADIUS_MM = (3.6, C.COMMON_CAROTID_RADIUS_MM)  # from the BCT (est.)
GREAT_VESSEL_SD_MM = 3.0

CORONARY_OSTIUM_S_MM = {"left_main": (12.0, 1.5), "rca": (15.0, 1.5)}  # along the ascending aorta from the valve
LEFT_MAIN_OUTSIDE_LENGTH_MM = 10.0  # beyond the aortic wall
LAD_RADIUS_MM = (C.LAD_PROXIMAL_RADIUS_MM, 1.0)
LCX_RADIUS_MM = (1.6, 1.0)  # (est.)
RCA_RADIUS_MM = (1.75, 1.1)  # (est.)
CORONARY_SD_MM = 2.0
# Coronary key points relative to the aortic root (mm): they lie on the heart in body.py (est.)
LAD_KEYS_MM = ((32.0, -28.0, -8.0), (49.0, -38.0, -30.0), (66.0, -36.0, -54.0), (79.0, -25.0, -75.0))
LCX_KEYS_MM = ((39.0, 0.0, -2.0), (56.0, 20.0, -14.0), (60.0, 42.0, -30.0), (50.0, 58.0, -45.0))
RCA_KEYS_MM = ((-24.0, -32.0, -2.0), (-36.0, -24.0, -20.0), (-42.0, -7.0, -42.0), (-38.0, 15.0, -62.0))
RCA_END_MM = (-22.0, 32.0, -74.0)

ArchType = Literal["I", "II", "III"]


class AorticArchParams(CommonParams):
    """Parameters of the ``aortic_arch`` generator."""

    arch_type: ArchType = Field(
        "I",
        description="Arch type: great vessels from the arch top (I), 1-2 (II) or > 2 (III) CCA diameters below it.",
    )
    variant: Literal["normal", "bovine"] = Field(
        "normal", description="Great-vessel pattern: normal, or bovine (left common carotid from the BCT)."
    )
    coronaries: bool = Field(False, description="Add the left main (LAD, LCx) and right coronary arteries.")
    include_abdomen: bool = Field(
        True, description="Continue the descending aorta into the full aorto-iliac tree (femoral access)."
    )
    arch_top_height_mm: float = Field(
        ARCH_TOP_HEIGHT_MM, ge=340.0, le=390.0, description="Height (z, mm above L4) of the arch's top (T3-T4)."
    )


def build(params: BaseModel, rng: np.random.Generator) -> list[VesselSpec]:
    """``aortic_arch``: ascending aorta (root) -> arch -> descending aorta, with branches."""
    assert isinstance(params, AorticArchParams)
    var = Variation(rng, params.variation_amount)
    scale = params.aortic_radius_scale
    root_radius = C.AORTA_ASCENDING_RADIUS_MM * scale * var.factor(AORTIC_RADIUS_SD_FRACTION)
    end_radius = C.ABDOMINAL_AORTA_RADIUS_MM * scale * var.factor(AORTIC_RADIUS_SD_FRACTION)

    height = ARCH_HEIGHT_BY_TYPE_MM[params.arch_type] * var.factor(ARCH_HEIGHT_SD_FRACTION)
    z_start = var.normal(params.arch_top_height_mm, ARCH_TOP_SD_MM) - height
    root = var.vector(ROOT_MM, ROOT_SD_MM)
    root[2] = min(root[2], z_start - MIN_ASCENDING_RISE_MM)
    start = np.array([*var.vector(ARCH_START_XY_MM, ARCH_XY_SD_MM)[:2], z_start])
    end = np.array([*var.vector(ARCH_END_XY_MM, ARCH_XY_SD_MM)[:2], z_start])

    ascending_curve = Curve.through([root, start], start_direction=ROOT_DIRECTION, end_direction=(0.0, 0.0, 1.0))
    coronary_s = {k: var.normal(*v) for k, v in CORONARY_OSTIUM_S_MM.items()} if params.coronaries else {}
    ascending = Vessel(
        "ascending_aorta",
        None,
        ascending_curve,
        control_arclengths(ascending_curve, CONTROL_SPACING_MM, list(coronary_s.values())),
        tapered(root_radius, ARCH_START_RADIUS_MM * scale),
        C.CARDIAC_OUTPUT_ML_PER_MIN,
    )

    arch_curve = _half_ellipse(start, end, height)
    gaps = _great_vessel_origins(params, var, arch_curve.length_mm)
    arch = Vessel(
        "aortic_arch",
        ascending.name,
        arch_curve,
        control_arclengths(arch_curve, CONTROL_SPACING_MM, list(gaps.values())),
        tapered(ARCH_START_RADIUS_MM * scale, ARCH_END_RADIUS_MM * scale),
    )

    inlet_point = var.vector(AORTIC_INLET_MM, DESCENDING_SD_MM)
    upper = end + var.vector(DESCENDING_KEY_MM[0], DESCENDING_SD_MM)
    mid_xy, lower = DESCENDING_LOWER_MM
    mid = var.vector((*mid_xy, 0.5 * (upper[2] + lower[2])), (DESCENDING_SD_MM, DESCENDING_SD_MM, 0.0))
    descending_curve = Curve.through(
        [end, upper, mid, var.vector(lower, DESCENDING_SD_MM), inlet_point],
        start_direction=(0.0, 0.0, -1.0),
        end_direction=AORTIC_INLET_DIRECTION,
    )
    descending = Vessel(
        "descending_aorta",
        arch.name,
        descending_curve,
        control_arclengths(descending_curve, 2.0 * CONTROL_SPACING_MM),
        tapered(ARCH_END_RADIUS_MM * scale, end_radius),
        None,
    )

    vessels = [ascending]
    if params.coronaries:
        vessels += _coronaries(ascending, coronary_s, root, root_radius, var)
    vessels.append(arch)
    vessels += _great_vessels(arch, gaps, params.variant, var)
    vessels.append(descending)
    specs = [v.spec() for v in vessels]
    if params.include_abdomen:
        inlet = Inlet(descending.end, unit(AORTIC_INLET_DIRECTION), end_radius)
        specs += build_abdomen(params, var, inlet, parent=descending.name)
    return specs


def _half_ellipse(start: np.ndarray, end: np.ndarray, height_mm: float) -> Curve:
    """Half-ellipse from ``start`` up over the top (``height_mm`` above) and down to ``end`` (same height)."""
    centre = 0.5 * (start + end)
    across = end - start
    half_width = 0.5 * np.linalg.norm(across)
    phi = np.linspace(0.0, np.pi, ARCH_SAMPLES)
    points = (
        centre[None, :]
        - half_width * np.cos(phi)[:, None] * unit(across)[None, :]
        + height_mm * np.sin(phi)[:, None] * np.array([0.0, 0.0, 1.0])[None, :]
    )
    return Curve(points).resampled(0.25)


def _great_vessel_origins(params: AorticArchParams, var: Variation, arch_length_mm: float) -> dict[str, float]:
    """Arc lengths along the arch of the great-vessel origins (stEVE gaps)."""
    s_bct = max(15.0, var.normal(*C.ARCH_GAP_AORTA_TO_BCT_MM))
    origins = {"brachiocephalic": s_bct}
    if params.variant == "bovine":
        s_lsca = s_bct + max(2.0 * MIN_GAP_MM, var.normal(*BOVINE_GAP_BCT_TO_LSCA_MM))
    else:
        origins["left_common_carotid"] = s_lcca = s_bct + max(MIN_GAP_MM, var.normal(*C.ARCH_GAP_BCT_TO_LCCA_MM))
        s_lsca = s_lcca + max(MIN_GAP_MM, var.normal(*C.ARCH_GAP_LCCA_TO_LSCA_MM))
    origins["left_subclavian"] = min(s_lsca, arch_length_mm - ARCH_END_MARGIN_MM)
    return origins


def _great_vessels(arch: Vessel, origins: dict[str, float], variant: str, var: Variation) -> list[Vessel]:
    """BCT (dividing into right subclavian and right common carotid), left common carotid, left subclavian."""
    o = arch.point(origins["brachiocephalic"])
    bct_end = var.vector(o + np.asarray(BCT_END_MM), GREAT_VESSEL_SD_MM)
    bct_length_guess = float(np.linalg.norm(bct_end - o))
    bct = branch(
        "brachiocephalic",
        arch.name,
        o,
        unit(var.vector((-0.3, 0.0, 1.0), 0.1)),
        [bct_end],
        tapered(BCT_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), BCT_RADIUS_MM[1]),
        anchors_mm=[BOVINE_LCCA_ALONG_BCT * bct_length_guess] if variant == "bovine" else (),
    )
    e = bct.end
    right_subclavian = branch(
        "right_subclavian",
        bct.name,
        e,
        unit(var.vector((-1.0, 0.15, 0.35), 0.1)),
        [e + var.vector(k, GREAT_VESSEL_SD_MM) for k in ((-25, 6, 8), (-52, 12, 9), (-78, 15, 0), (-102, 14, -16))],
        tapered(RIGHT_SUBCLAVIAN_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), RIGHT_SUBCLAVIAN_RADIUS_MM[1]),
    )
    right_carotid = branch(
        "right_common_carotid",
        bct.name,
        e,
        unit(var.vector((-0.12, 0.08, 1.0), 0.08)),
        [e + var.vector(k, GREAT_VESSEL_SD_MM) for k in ((-6, 4, 45), (-10, 10, 100))],
        tapered(RIGHT_CAROTID_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), RIGHT_CAROTID_RADIUS_MM[1]),
    )
    if variant == "bovine":
        o = bct.point(BOVINE_LCCA_ALONG_BCT * bct_length_guess)
        lcca_takeoff, lcca_keys = (0.7, 0.05, 0.7), ((15, 3, 18), (30, 8, 60), (36, 12, 120))
        lcca_parent = bct.name
    else:
        o = arch.point(origins["left_common_carotid"])
        lcca_takeoff, lcca_keys = (0.1, -0.05, 1.0), ((8, 2, 40), (20, 10, 90), (26, 14, 140))
        lcca_parent = arch.name
    left_carotid = branch(
        "left_common_carotid",
        lcca_parent,
        o,
        unit(var.vector(lcca_takeoff, 0.08)),
        [o + var.vector(k, GREAT_VESSEL_SD_MM) for k in lcca_keys],
        tapered(CAROTID_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), CAROTID_RADIUS_MM[1]),
    )
    o = arch.point(origins["left_subclavian"])
    left_subclavian = branch(
        "left_subclavian",
        arch.name,
        o,
        unit(var.vector((0.3, 0.25, 1.0), 0.1)),
        [o + var.vector(k, GREAT_VESSEL_SD_MM) for k in ((10, 8, 30), (35, 12, 50), (65, 12, 48), (92, 8, 30))],
        tapered(SUBCLAVIAN_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), SUBCLAVIAN_RADIUS_MM[1]),
    )
    return [bct, right_subclavian, right_carotid, left_carotid, left_subclavian]


def _coronaries(
    ascending: Vessel, ostia_s: dict[str, float], root: np.ndarray, root_radius_mm: float, var: Variation
) -> list[Vessel]:
    """Left main (to LAD and LCx) from the left sinus, RCA from the right sinus, on the surface of the heart."""
    o = ascending.point(ostia_s["left_main"])
    lm_dir = unit(var.vector((1.0, -0.35, -0.25), 0.08))
    left_main = branch(
        "left_main",
        ascending.name,
        o,
        lm_dir,
        [o + lm_dir * (root_radius_mm + LEFT_MAIN_OUTSIDE_LENGTH_MM)],
        tapered(C.LEFT_MAIN_RADIUS_MM, C.LEFT_MAIN_RADIUS_MM),
    )
    p = left_main.end
    lad = branch(
        "lad",
        left_main.name,
        p,
        unit(var.vector((0.35, -0.85, -0.4), 0.1)),
        [root + var.vector(k, CORONARY_SD_MM) for k in LAD_KEYS_MM],
        tapered(LAD_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), LAD_RADIUS_MM[1]),
    )
    lcx = branch(
        "lcx",
        left_main.name,
        p,
        unit(var.vector((0.7, 0.6, -0.2), 0.1)),
        [root + var.vector(k, CORONARY_SD_MM) for k in LCX_KEYS_MM],
        tapered(LCX_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), LCX_RADIUS_MM[1]),
    )
    o = ascending.point(ostia_s["rca"])
    rca_dir = unit(var.vector((-0.4, -0.9, -0.1), 0.08))
    rca = branch(
        "rca",
        ascending.name,
        o,
        rca_dir,
        [
            o + rca_dir * (root_radius_mm + 3.0),
            *(root + var.vector(k, CORONARY_SD_MM) for k in RCA_KEYS_MM),
            root + var.vector(RCA_END_MM, CORONARY_SD_MM),
        ],
        tapered(RCA_RADIUS_MM[0] * var.factor(BRANCH_RADIUS_SD_FRACTION), RCA_RADIUS_MM[1]),
    )
    return [left_main, lad, lcx, rca]
