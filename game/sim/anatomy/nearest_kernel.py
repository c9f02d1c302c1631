"""The lumen look-up's inner loops, compiled: nearest centreline samples of a few points (a brute-force k-nearest
search per radius class) and, for any number of points, the segment near them that holds each most deeply.

For the one or two points asked about each step (the tips), scanning a tree's few thousand samples directly is
several times faster than a k-d tree query per radius class, whose per-call overhead dominates at that size; it
finds the same neighbours, nearest first (of samples exactly as far, the first in the tree).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Up to this many query points use the scan; more use the k-d trees.
SCAN_MAX_POINTS = 16


@njit(cache=True, nogil=True)
def nearest_by_class(points_mm, samples_mm, members, ends, k_per_class):
    """(N, sum k) global sample indices: for each point, the ``k_per_class[c]`` nearest samples of each radius
    class ``c`` (members ``members[ends[c-1]:ends[c]]``), nearest first, classes in order."""
    n = len(points_mm)
    out = np.empty((n, k_per_class.sum()), dtype=np.int64)
    for p in range(n):
        px, py, pz = points_mm[p, 0], points_mm[p, 1], points_mm[p, 2]
        column = 0
        first = 0
        for c in range(len(ends)):
            k = k_per_class[c]
            best_d = np.full(k, np.inf)
            best_i = np.zeros(k, dtype=np.int64)
            for m in range(first, ends[c]):
                i = members[m]
                dx, dy, dz = samples_mm[i, 0] - px, samples_mm[i, 1] - py, samples_mm[i, 2] - pz
                d = dx * dx + dy * dy + dz * dz
                if d < best_d[k - 1]:
                    j = k - 1
                    while j > 0 and best_d[j - 1] > d:
                        best_d[j] = best_d[j - 1]
                        best_i[j] = best_i[j - 1]
                        j -= 1
                    best_d[j] = d
                    best_i[j] = i
            out[p, column : column + k] = best_i
            column += k
            first = ends[c]
    return out


@njit(cache=True, nogil=True)
def deepest_segments(points_mm, candidates, samples_mm, seg_ab, seg_inv_len2, radius, seg_dr):
    """For each point, of the centreline segments starting at or just before its ``candidates`` (N, K) samples,
    the one that contains it most deeply: (N,) segment start index and (N,) parameter (0-1) of its closest point.
    A branch's last sample starts a zero-length segment, which is harmless (it is the sample itself)."""
    n, k = candidates.shape
    best_seg = np.empty(n, dtype=np.int64)
    best_t = np.empty(n)
    for p in range(n):
        best = -np.inf
        for c in range(2 * k):  # the segment before each candidate sample, then the one after it
            j = max(candidates[p, c] - 1, 0) if c < k else candidates[p, c - k]
            rx = points_mm[p, 0] - samples_mm[j, 0]
            ry = points_mm[p, 1] - samples_mm[j, 1]
            rz = points_mm[p, 2] - samples_mm[j, 2]
            ax, ay, az = seg_ab[j, 0], seg_ab[j, 1], seg_ab[j, 2]
            t = min(max((rx * ax + ry * ay + rz * az) * seg_inv_len2[j], 0.0), 1.0)
            ox, oy, oz = rx - t * ax, ry - t * ay, rz - t * az
            clearance = radius[j] + t * seg_dr[j] - np.sqrt(ox * ox + oy * oy + oz * oz)
            if clearance > best or c == 0:
                best, best_seg[p], best_t[p] = clearance, j, t
    return best_seg, best_t
