"""``lumen snapshot``: one fluoroscopy frame of a level's start, for instructors' previews and image tests.

The frame is what the live monitor shows after the pedal has been held for :data:`SNAPSHOT_PULSES` pulses of
normal fluoroscopy at 15 p/s (so the recursive filter has settled), with the level's C-arm set-up unless
overridden. With ``contrast=True`` every vessel is filled with contrast at the level's concentration.
"""

from __future__ import annotations

import numpy as np

from game.sim.imaging.aec import Mode
from game.sim.imaging.carm import CArm
from game.sim.imaging.fluoroscopy import Fluoroscope
from game.sim.imaging.shapes import Tube

#: Pulses fired before the frame is taken: the recursive filter's weight falls to 0.5^8 < 0.4 %.
SNAPSHOT_PULSES = 8
SNAPSHOT_PULSE_RATE = 15.0


def level_carm(level, lao_deg=None, cra_deg=None, fov_cm=None) -> CArm:
    """The level's C-arm set-up ([imaging]), with any angle or field overridden."""
    imaging = level.definition.imaging
    return CArm(
        lao_deg=imaging.lao_deg if lao_deg is None else float(lao_deg),
        cra_deg=imaging.cra_deg if cra_deg is None else float(cra_deg),
        fov_cm=imaging.fov_cm if fov_cm is None else float(fov_cm),
        table_x_mm=imaging.table_x_mm,
        table_z_mm=imaging.table_z_mm,
        detector=imaging.detector,
    )


def render_snapshot(
    level,
    lao_deg: float | None = None,
    cra_deg: float | None = None,
    fov_cm: float | None = None,
    dose_scale: float = 1.0,
    contrast: bool = False,
    seed: int = 0,
    size_px: int = 512,
    tubes: list[Tube] | None = None,
    mode: Mode = Mode.FLUORO,
) -> tuple[np.ndarray, np.ndarray]:
    """Render one frame of ``level`` (a loaded :class:`~game.sim.level.loader.Level`).

    Returns ``(display, raw)``: the monitor's 8-bit image (H, W) and the last pulse's detector signal (H, W)
    float32, normalised so that 1.0 is the unattenuated beam (0 where no X-rays arrive). ``tubes`` are the
    instruments to show (default: none, as at the level's start, before anything is inserted).
    """
    carm = level_carm(level, lao_deg, cra_deg, fov_cm)
    scope = Fluoroscope(level.body, level.tree, carm, size_px)
    scope.dose_scale = float(dose_scale)
    concentration = None
    if contrast:
        concentration = np.full(level.tree.sample_count, level.definition.imaging.contrast_mgI_per_mL, np.float32)
    rng = np.random.default_rng(seed)
    pulses = SNAPSHOT_PULSES if mode.is_fluoro else 1
    for _ in range(pulses):
        scope.pulse(mode, SNAPSHOT_PULSE_RATE, rng, concentration, tubes or [])
    return scope.chain.display.copy(), scope.chain.raw.copy()
