"""Per-pixel passes of the image chain, compiled: the recursive filter and the display look-up, one pass each.

Each is what a few whole-image numpy operations would do (multiply, add, clip, convert, look up), fused into one
loop over the pixels so that a 512 x 512 frame is read and written once. Float32 arithmetic, as the numpy chain.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True}
#: "None" for the kernels' optional image and mask arguments.
NO_IMAGE = np.zeros((0, 0), dtype=np.float32)
NO_MASK = np.zeros((0, 0), dtype=bool)


@njit(**_JIT)
def blank_and_filter(log, outside, blank_log, filtered, weight):
    """``log`` gets ``blank_log`` where ``outside`` (an empty mask: nowhere); then, if ``filtered`` is not empty,
    the recursive filter ``filtered = w filtered + (1 - w) log`` in place. All float32 (S, S) but the bool mask."""
    flat_log = log.reshape(-1)
    if outside.size:
        flat_out = outside.reshape(-1)
        for i in range(flat_log.size):
            if flat_out[i]:
                flat_log[i] = blank_log
    if filtered.size:
        flat = filtered.reshape(-1)
        keep = np.float32(1.0) - weight
        for i in range(flat.size):
            flat[i] = flat[i] * weight + flat_log[i] * keep


@njit(**_JIT)
def grey(image, add, sign, lut, scale, offset, outside, blank_grey):
    """uint8 (S, S): ``lut[clip(int((image + sign * add) * scale + offset))]``, ``blank_grey`` where ``outside``.
    ``add`` (S, S) float32, or empty for none; ``outside`` a bool mask, or empty for nowhere."""
    out = np.empty(image.shape, dtype=np.uint8)
    flat_in = image.reshape(-1)
    flat = out.reshape(-1)
    top = len(lut) - 1
    # +0.5 (in offset) then truncation rounds; a negative index (truncated toward zero) is clipped to 0 anyway.
    if add.size:  # one loop per case, without a test per pixel
        flat_add = add.reshape(-1)
        for i in range(flat_in.size):
            flat[i] = lut[min(max(int((flat_in[i] + sign * flat_add[i]) * scale + offset), 0), top)]
    else:
        for i in range(flat_in.size):
            flat[i] = lut[min(max(int(flat_in[i] * scale + offset), 0), top)]
    if outside.size:
        flat_out = outside.reshape(-1)
        for i in range(flat.size):
            if flat_out[i]:
                flat[i] = blank_grey
    return out
