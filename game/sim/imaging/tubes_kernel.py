"""The pixel-averaged chord through a tube, and the instruments' rasteriser of
:func:`~game.sim.imaging.render.add_tubes`, compiled: every projected tube segment drawn column by column along
its major axis, each pixel of a column's band getting the chord at its distance from the centreline.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, vectorize


@njit(cache=True, nogil=True)
def _chord_integral(x, r):
    """Integral from 0 to x of the chord 2 sqrt(r^2 - t^2) (x clipped to [-r, r]): r^2 (t sqrt(1 - t^2) + asin t)
    with t = x / r."""
    t = min(max(x / max(r, 1e-12), -1.0), 1.0)
    return r * r * (t * math.sqrt(1.0 - t * t) + math.asin(t))


@vectorize(["float64(float64, float64)"], cache=True, nopython=True)
def pixel_chord(d, r):
    """Chord of a disc of radius r (px) averaged over a one-pixel-wide strip at distance d (px) from its centre
    (a ufunc: for arrays, and for scalars in compiled code)."""
    return _chord_integral(d + 0.5, r) - _chord_integral(d - 0.5, r)


@njit(cache=True, nogil=True)
def draw_segments(image, p0, p1, r_out, r_in, weight):
    """Add to ``image`` (S, S) float32, in place, segment k from ``p0[k]`` to ``p1[k]`` (px, x then y) of a tube of
    outer and inner radius ``r_out[k]``, ``r_in[k]`` (px; inner 0 for a solid one): the chord through it per
    pixel x ``weight[k]``. Columns ``ceil(min a) .. ceil(max a) - 1`` of the major axis a, so that consecutive
    segments share none. Returns the flat indices of the pixels changed, in the order they were added (repeats
    where segments cross)."""
    size = image.shape[0]
    flat = image.reshape(-1)
    m = len(p0)
    x_major = np.empty(m, dtype=np.bool_)
    half = np.empty(m)
    rows = np.empty(m, dtype=np.int64)
    total = 0
    for k in range(m):  # first the bands' sizes, to size the output
        dx, dy = p1[k, 0] - p0[k, 0], p1[k, 1] - p0[k, 1]
        x_major[k] = abs(dx) >= abs(dy)
        da = dx if x_major[k] else dy
        cos = abs(da) / max(math.hypot(dx, dy), 1e-12)
        half[k] = (r_out[k] + 0.5) / max(cos, 1e-6) + 0.5
        rows[k] = math.ceil(2.0 * half[k]) + 1
        a0, a1 = (p0[k, 0], p1[k, 0]) if x_major[k] else (p0[k, 1], p1[k, 1])
        lo = max(math.ceil(min(a0, a1)), 0)
        total += max(min(math.ceil(max(a0, a1)), size) - lo, 0) * rows[k]
    changed = np.empty(total, dtype=np.int64)
    count = 0
    for k in range(m):
        if x_major[k]:
            a0, a1, b0, b1, stride_a, stride_b = p0[k, 0], p1[k, 0], p0[k, 1], p1[k, 1], 1, size
        else:
            a0, a1, b0, b1, stride_a, stride_b = p0[k, 1], p1[k, 1], p0[k, 0], p1[k, 0], size, 1
        da, db = a1 - a0, b1 - b0
        slope = db / (da if da != 0.0 else 1.0)
        cos = abs(da) / max(math.hypot(da, db), 1e-12)
        lo = max(math.ceil(min(a0, a1)), 0)
        end = min(math.ceil(max(a0, a1)), size)
        for a in range(lo, end):
            b_centre = b0 + (a - a0) * slope
            b_first = math.floor(b_centre - half[k])
            for b in range(b_first, b_first + rows[k]):
                if b < 0 or b >= size:
                    continue
                perp = abs(b - b_centre) * cos
                chord = pixel_chord(perp, r_out[k])
                if r_in[k] > 0:
                    chord -= pixel_chord(perp, r_in[k])
                value = chord * weight[k]
                if value > 0:
                    i = a * stride_a + b * stride_b
                    flat[i] += np.float32(value)
                    changed[count] = i
                    count += 1
    return changed[:count]
