"""Automatic exposure control: the patient's path length at the current angle sets kVp, mA and the dose per pulse.

The AEC keeps the **detector dose per pulse** at a target that depends on the mode (fluoroscopy low / normal /
high, cine, DSA) and the field of view, as a real system does (DOMAIN.md section 2, "How dose scales"):

1. Target detector dose: DOMAIN.md's figures at a 37 cm flat-panel field (fluoro ~40 nGy/pulse, cine
   ~0.24 uGy/frame, DSA ~25x a cine frame), times the FD20 field-of-view factor relative to 37 cm
   (100/130/145/170/200/240/280/330 % at 48/42/37/31/27/22/19/15 cm) or, for an image intensifier,
   ``(23 cm / fov)^2``. Dose per pulse does not depend on the pulse rate.
2. Patient transmission of the beam's air kerma: 0.0059 through 20 cm of water at 70 kVp + 0.1 mm Cu (DOMAIN.md
   cross-check), halving every ~3 cm of extra water-equivalent tissue (Azurion IFU: "x2 per ~3 cm"); a harder
   beam gets through better: x (kVp/70)^2.7 *(est.: the "15 % rule", +15 % kVp ~ x2 at the detector per mAs, less
   the tube's output rising as kVp^2)*, and its halving thickness grows as water's mu falls.
3. Air kerma at the IRP needed per pulse: ``detector dose / (transmission * grid 0.7) * (SID / 660 mm)^2``
   (no backscatter, table attenuation left to the skin-dose code). At 40 nGy, 20 cm water, 15 p/s, FD20 this
   is 29 mGy/min, DOMAIN.md's cross-check.
4. The tube: output 40 uGy/mAs at 1 m at 70 kVp rising as kVp^2 *(est.)*; fixed pulse width per mode; mA rises
   first; only when it would exceed the mode's limit does the kVp climb from 70 (up to the mode's maximum). At
   the top of both, the detector gets less than its target (a noisier image), as on a real system.
5. Normal fluoroscopy is capped at 88 mGy/min at the IRP and high-level fluoroscopy at 176 mGy/min
   (21 CFR 1020.32); cine and DSA are exempt. ``dose_scale`` (previews, tests) then multiplies the mA, and so the
   detector dose and Ka,r, at the kVp chosen for the normal dose: only the noise changes, not the contrast.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from game.sim import constants as C
from game.sim.imaging.attenuation import mean_energy_keV, water_mu_per_mm
from game.sim.imaging.carm import CArm
from game.sim.level.schema import Detector


class Mode(StrEnum):
    """What the X-ray pulses are for; fluoroscopy has three dose levels (Philips: low / normal / high)."""

    FLUORO_LOW = "fluoro_low"
    FLUORO = "fluoro"
    FLUORO_HIGH = "fluoro_high"
    CINE = "cine"
    DSA = "dsa"

    @property
    def is_fluoro(self) -> bool:
        return self in (Mode.FLUORO_LOW, Mode.FLUORO, Mode.FLUORO_HIGH)

    @property
    def ledger_mode(self) -> str:
        """The dose ledger's two categories: fluoroscopy, or acquisition (cine and DSA)."""
        return "fluoro" if self.is_fluoro else "cine"


@dataclass(frozen=True)
class ModeSettings:
    detector_dose_nGy_at_37cm: float  # target per pulse or frame
    pulse_width_ms: float
    max_mA: float
    max_kvp: float
    max_air_kerma_rate_mGy_per_min: float | None  # regulatory cap (None: recording modes are exempt)
    recursive_filter: float  # temporal filter weight b of the image chain


#: Per-mode targets and tube limits. Detector doses: DOMAIN.md section 3 (fluoro ~40 nGy, cine 0.2-0.3 uGy,
#: DSA ~25x cine per frame); pulse widths, mA limits (grid-pulsed fluoroscopy runs short pulses at 10-250 mA)
#: and filter weights *(est.)*.
MODE_SETTINGS: dict[Mode, ModeSettings] = {
    Mode.FLUORO_LOW: ModeSettings(20.0, 8.0, 200.0, 120.0, C.MAX_AIR_KERMA_RATE_NORMAL_MGY_PER_MIN, 0.6),
    Mode.FLUORO: ModeSettings(
        C.DETECTOR_DOSE_PER_FLUORO_PULSE_NGY, 8.0, 200.0, 120.0, C.MAX_AIR_KERMA_RATE_NORMAL_MGY_PER_MIN, 0.5
    ),
    Mode.FLUORO_HIGH: ModeSettings(80.0, 8.0, 250.0, 120.0, C.MAX_AIR_KERMA_RATE_HIGH_MGY_PER_MIN, 0.4),
    Mode.CINE: ModeSettings(240.0, 6.0, 800.0, 125.0, None, 0.0),
    Mode.DSA: ModeSettings(6000.0, 80.0, 800.0, 125.0, None, 0.0),
}

#: FD20 field-of-view dose factors (Azurion IFU p.292): field side (cm) -> relative detector dose.
FLAT_PANEL_FOV_FACTORS = (
    (48.0, 1.00),
    (42.0, 1.30),
    (37.0, 1.45),
    (31.0, 1.70),
    (27.0, 2.00),
    (22.0, 2.40),
    (19.0, 2.80),
    (15.0, 3.30),
)
REFERENCE_FOV_CM = 37.0  # the field at which MODE_SETTINGS' detector doses hold
II_REFERENCE_FOV_CM = 23.0  # image intensifier: dose ~ (23 cm / fov)^2 (magnification^2, PMC3097666)

REFERENCE_WATER_MM = 200.0
TRANSMISSION_AT_REFERENCE = 0.0059  # 20 cm water, 70 kVp + 0.1 mm Cu (DOMAIN.md cross-check)
HALVING_WATER_MM_AT_70KVP = 30.0  # "x2 per ~3 cm of extra tissue" (Azurion IFU p.293)
KVP_TRANSMISSION_EXPONENT = 2.7  # (est.) transmission through 20 cm water ~ kVp^2.7
GRID_TRANSMISSION = 0.7  # DOMAIN.md cross-check
TUBE_OUTPUT_UGY_PER_MAS_AT_1M = 40.0  # (est.) at 70 kVp, 3 mm Al + 0.1 mm Cu
TUBE_OUTPUT_KVP_EXPONENT = 2.0  # (est.) output ~ kVp^2
MIN_KVP = 70.0  # vascular work runs at 70-90 kVp and the AEC starts at the bottom (DOMAIN.md section 3)
KVP_STEP = 0.5  # the generator's kVp resolution as modelled
#: Photons per mm^2 per uGy behind 20 cm water at 70 kVp (DOMAIN.md section 3, spekpy) and detector DQE.
PHOTONS_PER_MM2_PER_UGY = 3.0e4
DETECTOR_DQE = 0.65


@dataclass(frozen=True)
class Technique:
    """One pulse's exposure: the tube settings the AEC chose and what reached the detector and the IRP."""

    mode: Mode
    kvp: float
    mA: float
    pulse_width_ms: float
    pulse_rate_per_s: float
    detector_dose_nGy: float  # per pulse, in the AEC's measuring field
    target_detector_dose_nGy: float
    mean_energy_keV: float  # mean energy of the beam behind the patient
    path_length_mm: float  # water-equivalent path length through the patient on the measuring field
    transmission: float  # patient transmission of the beam's air kerma
    air_kerma_irp_mGy: float  # per pulse, free in air at the IRP (no backscatter)

    @property
    def mAs(self) -> float:
        return self.mA * self.pulse_width_ms / 1000.0

    @property
    def air_kerma_rate_mGy_per_min(self) -> float:
        return self.air_kerma_irp_mGy * self.pulse_rate_per_s * 60.0

    def counts_per_pixel(self, pixel_mm: float) -> float:
        """Detected photons per pixel of side ``pixel_mm`` (at the detector) in the measuring field."""
        return self.detector_dose_nGy * 1e-3 * PHOTONS_PER_MM2_PER_UGY * pixel_mm * pixel_mm * DETECTOR_DQE


def fov_dose_factor(fov_cm: float, detector: Detector) -> float:
    """Relative detector dose at field ``fov_cm`` (1.0 at the reference field)."""
    if detector == Detector.IMAGE_INTENSIFIER:
        return (II_REFERENCE_FOV_CM / fov_cm) ** 2
    sides = np.array([f for f, _ in reversed(FLAT_PANEL_FOV_FACTORS)])
    factors = np.array([k for _, k in reversed(FLAT_PANEL_FOV_FACTORS)])
    at = float(np.exp(np.interp(np.log(fov_cm), np.log(sides), np.log(factors))))
    if fov_cm < sides[0]:  # below 15 cm: keep growing as 1 / area
        at = factors[0] * (sides[0] / fov_cm) ** 2
    ref = float(np.exp(np.interp(np.log(REFERENCE_FOV_CM), np.log(sides), np.log(factors))))
    return at / ref


def transmission(path_mm: float | np.ndarray, kvp: float | np.ndarray) -> np.ndarray:
    """Air-kerma transmission of the beam through ``path_mm`` of water-equivalent tissue at ``kvp``."""
    kvp = np.asarray(kvp, dtype=float)
    halving = HALVING_WATER_MM_AT_70KVP * water_mu_per_mm(MIN_KVP) / np.vectorize(water_mu_per_mm)(kvp)
    at_reference = TRANSMISSION_AT_REFERENCE * (kvp / MIN_KVP) ** KVP_TRANSMISSION_EXPONENT
    return np.minimum(at_reference * 2.0 ** (-(np.asarray(path_mm) - REFERENCE_WATER_MM) / halving), 1.0)


def tube_output_irp_uGy_per_mAs(kvp: float | np.ndarray, focus_to_irp_mm: float) -> np.ndarray:
    """Air kerma per mAs at the IRP, uGy."""
    return (
        TUBE_OUTPUT_UGY_PER_MAS_AT_1M
        * (np.asarray(kvp, float) / MIN_KVP) ** TUBE_OUTPUT_KVP_EXPONENT
        * (1000.0 / focus_to_irp_mm) ** 2
    )


def air_kerma_irp_nGy(detector_dose_nGy: float, path_mm: float, kvp: float, carm: CArm) -> float:
    """Air kerma at the IRP (nGy) that delivers ``detector_dose_nGy`` behind ``path_mm`` of water."""
    t = float(transmission(path_mm, kvp))
    return detector_dose_nGy / (t * GRID_TRANSMISSION) * (carm.sid_mm / carm.focus_to_irp_mm) ** 2


def choose_technique(
    path_mm: float,
    carm: CArm,
    mode: Mode = Mode.FLUORO,
    pulse_rate_per_s: float = 15.0,
    dose_scale: float = 1.0,
) -> Technique:
    """The AEC: technique for a patient of water-equivalent ``path_mm`` on the measuring field."""
    settings = MODE_SETTINGS[mode]
    target = settings.detector_dose_nGy_at_37cm * fov_dose_factor(carm.fov_cm, carm.detector)
    kvps = np.arange(MIN_KVP, settings.max_kvp + 1e-9, KVP_STEP)
    t = transmission(path_mm, kvps)
    geometry = (carm.sid_mm / carm.focus_to_irp_mm) ** 2
    width_s = settings.pulse_width_ms / 1000.0

    def needed_irp_uGy(detector_nGy: float) -> np.ndarray:
        return detector_nGy * 1e-3 / (t * GRID_TRANSMISSION) * geometry

    output = tube_output_irp_uGy_per_mAs(kvps, carm.focus_to_irp_mm)
    # Regulatory cap on the AEC's own exposure (the preview/test dose_scale comes after it).
    if settings.max_air_kerma_rate_mGy_per_min is not None and pulse_rate_per_s > 0:
        cap_uGy = settings.max_air_kerma_rate_mGy_per_min * 1000.0 / (pulse_rate_per_s * 60.0)
    else:
        cap_uGy = np.inf
    needed = needed_irp_uGy(target)
    ma = needed / output / width_s
    # The lowest kVp at which both the mA limit and the dose-rate cap allow the target; failing that, the
    # highest kVp (where the cap, or the mA limit, leaves the detector short of its target).
    ok = np.flatnonzero((ma <= settings.max_mA) & (needed <= cap_uGy))
    i = int(ok[0]) if len(ok) else len(kvps) - 1
    ma_i = min(float(ma[i]), settings.max_mA)
    irp_uGy = ma_i * width_s * float(output[i])
    if irp_uGy > cap_uGy:
        ma_i *= cap_uGy / irp_uGy
        irp_uGy = cap_uGy
    # A preview's or test's dose scale multiplies the exposure at the chosen kVp (beyond the tube's limits).
    ma_i *= dose_scale
    irp_uGy *= dose_scale
    delivered_nGy = irp_uGy * 1e3 * float(t[i]) * GRID_TRANSMISSION / geometry
    kvp = float(kvps[i])
    return Technique(
        mode=mode,
        kvp=kvp,
        mA=ma_i,
        pulse_width_ms=settings.pulse_width_ms,
        pulse_rate_per_s=pulse_rate_per_s,
        detector_dose_nGy=delivered_nGy,
        target_detector_dose_nGy=target * dose_scale,
        mean_energy_keV=mean_energy_keV(kvp),
        path_length_mm=float(path_mm),
        transmission=float(t[i]),
        air_kerma_irp_mGy=irp_uGy * 1e-3,
    )
