"""Display processing: log image -> 8-bit grey as on a cath-lab monitor (window/level, flat panel or II look).

Convention (DOMAIN.md section 3): more attenuation is darker, so iodine, bone and metal are dark on a mid-grey
background and the lungs are bright. The log image ``-ln(I/I0)`` is mapped through a look-up table: a smooth
S-curve of width :data:`FLUORO_WINDOW` around the level (the mean attenuation of the AEC's measuring field, as a
real system's automatic brightness does), so the lungs grey out toward white and the densest bone toward black
instead of clipping. Before windowing, part of the body's large-scale attenuation is taken out (dynamic-range
compression, as every fluoroscopy system's image processing does), so the lungs, the spine and the thick pelvis
fit one window that still shows noise and small detail. Subtracted images (DSA, roadmap) are windowed around
zero.

The image intensifier's look: a circular field (black outside), vignetting (the output screen dims toward the
rim, :data:`II_VIGNETTING`) and the pincushion distortion already built into its projection
(:mod:`game.sim.imaging.carm`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage

from game.sim.imaging import pixels_kernel
from game.sim.imaging.carm import CArm
from game.sim.level.schema import Detector

#: Width (in units of -ln(I/I0)) of the fluoroscopy window *(est., tuned by eye on the shipped levels)*.
FLUORO_WINDOW = 2.0
#: Dynamic-range compression ("harmonisation"): this fraction of the body's large-scale attenuation (a Gaussian
#: blur of the noise-free background, sigma at the detector) is taken out before windowing, so the lungs and the
#: thick pelvis both stay inside a window narrow enough to show bone, iodine and noise *(est.)*.
EQUALIZATION_STRENGTH = 0.6
EQUALIZATION_SIGMA_MM = 30.0
EQUALIZATION_GRID_PX = 64  # resolution at which the blur is computed
#: Mid-grey (0-1) at the level, slightly below the middle as on cath-lab monitors *(est.)*.
FLUORO_MID_GREY = 0.52
#: Window width for subtracted images (DSA, roadmap), -ln units *(est.)*.
SUBTRACTED_WINDOW = 1.2
#: An II's output brightness at the rim of its field, relative to the centre *(est.; 10-25 % fall-off)*.
II_VIGNETTING = 0.8
#: Look-up table resolution and range (-ln units relative to the level).
LUT_SIZE = 4096
LUT_SPAN = 12.0
BLANK_GREY = 0  # outside the shutters and the II circle


def _s_curve(x: np.ndarray) -> np.ndarray:
    """0-1 grey for attenuation x (relative to the level, in window units): 1 = white (least attenuation)."""
    return 1.0 / (1.0 + np.exp(4.0 * x))


def make_lut(window: float, mid_grey: float) -> np.ndarray:
    """uint8 grey for LUT_SIZE steps of attenuation from -LUT_SPAN/2 to +LUT_SPAN/2 around the level."""
    x = np.linspace(-LUT_SPAN / 2.0, LUT_SPAN / 2.0, LUT_SIZE) / window
    # Shift the curve so that the level lands on mid_grey.
    shift = np.log(1.0 / mid_grey - 1.0) / 4.0
    grey = _s_curve(x + shift)
    return np.clip(np.rint(grey * 255.0), 0, 255).astype(np.uint8)


@lru_cache(maxsize=32)
def _lut(window: float, mid_grey: float) -> np.ndarray:
    return make_lut(window, mid_grey)


def to_grey(
    log_image: np.ndarray,
    level: float,
    subtracted: bool = False,
    window: float | None = None,
    add: np.ndarray | None = None,
    sign: float = 1.0,
    outside: np.ndarray | None = None,
) -> np.ndarray:
    """Map a log image (S, S) float32 to uint8 grey: the fluoroscopy window around ``level``, or for a subtracted
    image the subtraction window around zero. ``window`` overrides the width (-ln units; the user's contrast).
    ``add`` (S, S) float32, times ``sign``, is added first (a display offset, or a mask subtracted); pixels
    ``outside`` (a bool mask) are :data:`BLANK_GREY`. One compiled pass over the pixels."""
    if window is None:
        window = SUBTRACTED_WINDOW if subtracted else FLUORO_WINDOW
    lut = _lut(round(float(window), 4), 0.5 if subtracted else FLUORO_MID_GREY)
    scale = np.float32((LUT_SIZE - 1) / LUT_SPAN)
    offset = np.float32((LUT_SPAN / 2.0 - level) * (LUT_SIZE - 1) / LUT_SPAN + 0.5)
    image = np.ascontiguousarray(log_image, dtype=np.float32)
    add = pixels_kernel.NO_IMAGE if add is None else np.ascontiguousarray(add, dtype=np.float32)
    outside = pixels_kernel.NO_MASK if outside is None else np.ascontiguousarray(outside)
    return pixels_kernel.grey(image, add, np.float32(sign), lut, scale, offset, outside, np.uint8(BLANK_GREY))


def equalization_log(coarse_log: np.ndarray, level: float, field_side_mm: float, size_px: int) -> np.ndarray:
    """Display offset (S, S) float32 that takes :data:`EQUALIZATION_STRENGTH` of the background's blurred
    departure from the level out of the image. ``coarse_log`` is the background on its coarse ray grid."""
    from game.sim.imaging.render import upsample

    grid = coarse_log.shape[0]
    step = max(grid // EQUALIZATION_GRID_PX, 1)  # the blur is wide: work on a small block-averaged copy
    small = coarse_log[: grid - grid % step, : grid - grid % step].astype(np.float32)
    small = small.reshape(grid // step, step, grid // step, step).mean(axis=(1, 3))
    sigma = EQUALIZATION_SIGMA_MM / (field_side_mm / small.shape[0])
    blurred = ndimage.gaussian_filter(small, sigma, mode="nearest")
    return (-EQUALIZATION_STRENGTH * (upsample(blurred, size_px) - np.float32(level))).astype(np.float32)


def vignetting_log(carm: CArm, size_px: int) -> np.ndarray | None:
    """Extra darkening (-ln units, (S, S) float32) of an II's rim, or None for a flat panel."""
    if carm.detector != Detector.IMAGE_INTENSIFIER:
        return None
    idx = (np.arange(size_px) - (size_px / 2.0 - 0.5)) / (size_px / 2.0)
    r2 = np.minimum(idx[None, :] ** 2 + idx[:, None] ** 2, 1.0)
    brightness = 1.0 - (1.0 - II_VIGNETTING) * r2
    return (-np.log(brightness)).astype(np.float32)
