"""The per-node lumen tracking of :class:`~game.sim.mechanics.contact.LumenIndex`, compiled: for each node, the
centreline segment near its remembered sample whose tube holds it most deeply (and, near junctions, those of the
other branches there), in one pass over the nodes instead of a dozen whole-array numpy operations.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _depth(x, i, j, points, segment, segment_len2, radius):
    """Node ``i`` against the tube of segment ``j``: (clearance mm, > 0 inside; position along the segment 0..1)."""
    r0, r1, r2 = x[i, 0] - points[j, 0], x[i, 1] - points[j, 1], x[i, 2] - points[j, 2]
    s0, s1, s2 = segment[j, 0], segment[j, 1], segment[j, 2]
    t = (r0 * s0 + r1 * s1 + r2 * s2) / segment_len2[j]
    t = min(1.0, max(0.0, t))
    o0, o1, o2 = r0 - t * s0, r1 - t * s1, r2 - t * s2
    rad = radius[j] + t * (radius[j + 1] - radius[j])
    return rad - np.sqrt(o0 * o0 + o1 * o1 + o2 * o2), t


@njit(cache=True, nogil=True)
def deepest_segments(x, seed, radius, points, segment, segment_len2, first_segment, last_segment, window,
                     has_extras, extras, extras_radius, other_branches):  # fmt: skip
    """Per node ``x[i]``: the segment start ``j`` (of ``seed[i] - window .. seed[i] + window`` within its branch,
    and, where ``other_branches`` and the seed has junction ``extras`` whose tubes could hold the node more deeply,
    the segments ending and starting at each of those) whose tube holds it most deeply; the first of equals.

    Returns (segment start, position along it 0..1, clearance mm) per node.
    """
    n = len(x)
    best_j = np.empty(n, dtype=np.int64)
    best_t = np.empty(n)
    best_c = np.empty(n)
    for i in range(n):
        s = seed[i]
        lo, hi = first_segment[s], last_segment[s]
        c_max, t_max, j_max = -np.inf, 0.0, lo
        for offset in range(-window, window + 1):
            j = min(hi, max(lo, s + offset))
            c, t = _depth(x, i, j, points, segment, segment_len2, radius)
            if c > c_max:
                c_max, t_max, j_max = c, t, j
        if other_branches and has_extras[s] and c_max < extras_radius[s]:
            row = extras[s]
            o_max, o_t, o_j = -np.inf, 0.0, 0
            for ends_here in range(2):  # the segments ending at each extra sample, then those starting there
                for e in row:
                    if e < 0:
                        e = row[0]
                    j = min(last_segment[e], max(first_segment[e], e - 1 + ends_here))
                    c, t = _depth(x, i, j, points, segment, segment_len2, radius)
                    if c > o_max:
                        o_max, o_t, o_j = c, t, j
            if o_max > c_max:
                c_max, t_max, j_max = o_max, o_t, o_j
        best_j[i], best_t[i], best_c[i] = j_max, t_max, c_max
    return best_j, best_t, best_c
