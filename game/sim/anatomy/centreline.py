"""Smooth, uniformly resampled centrelines from a few control points (scipy interpolating splines)."""

from __future__ import annotations

import numpy as np
from scipy.interpolate import make_interp_spline

#: Dense evaluation per control interval when measuring the spline's arc length.
_DENSE_SAMPLES_PER_INTERVAL = 32


def resample_centreline(
    points_mm: np.ndarray, radii_mm: np.ndarray, spacing_mm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit an interpolating spline through ``points_mm`` (chord-length parameter) and resample it.

    Returns ``(points, radii, s)``: points (N, 3) mm spaced uniformly along the curve at most ``spacing_mm``
    apart, the radius at each (linear in arc length between the control points), and the arc length s (mm)
    of each point from the first. The curve passes exactly through every control point.
    """
    points_mm = np.asarray(points_mm, dtype=float)
    radii_mm = np.asarray(radii_mm, dtype=float)
    chords = np.linalg.norm(np.diff(points_mm, axis=0), axis=1)
    u = np.concatenate([[0.0], np.cumsum(chords)])
    degree = min(3, len(points_mm) - 1)
    spline = make_interp_spline(u, points_mm, k=degree)

    dense_u = _dense_parameters(u)
    dense = spline(dense_u)
    dense_s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
    length_mm = float(dense_s[-1])

    count = max(2, int(np.ceil(length_mm / spacing_mm - 1e-9)) + 1)
    s = np.linspace(0.0, length_mm, count)
    u_at_s = np.interp(s, dense_s, dense_u)
    points = spline(u_at_s)
    points[0], points[-1] = points_mm[0], points_mm[-1]
    control_s = np.interp(u, dense_u, dense_s)
    radii = np.interp(s, control_s, radii_mm)
    return points, radii, s


def _dense_parameters(u: np.ndarray) -> np.ndarray:
    """Parameters spread evenly inside each control interval, ending exactly at the last control point."""
    steps = np.linspace(0.0, 1.0, _DENSE_SAMPLES_PER_INTERVAL, endpoint=False)
    inner = (u[:-1, None] + np.diff(u)[:, None] * steps[None, :]).ravel()
    return np.concatenate([inner, u[-1:]])


def unit_tangents(points_mm: np.ndarray) -> np.ndarray:
    """Unit tangent at each point of a polyline (central differences, one-sided at the ends)."""
    tangents = np.gradient(points_mm, axis=0)
    return tangents / np.linalg.norm(tangents, axis=1, keepdims=True)
