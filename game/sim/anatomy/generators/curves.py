"""Shared by the aortic generators: the curve toolkit and seeded variation.

A centreline is first drawn as a dense, smooth curve through a few key points (clamped cubic spline, chord-length
parameter), then sampled into control points every ~10 mm, with every branch origin placed exactly on a control
point of its parent.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from game.sim.anatomy.spec import VesselSpec

# --- Curve sampling --------------------------------------------------------------------------------------------
DENSE_STEP_MM = 0.25  # spacing of the dense curve that control points are taken from
CONTROL_SPACING_MM = 10.0  # default spacing of control points along a vessel
TORTUOUS_CONTROL_SPACING_MM = 6.0  # closer control points where a vessel winds
FIRST_STEP_MM = 5.0  # the first control segment of a branch: a short, straight take-off
MIN_CONTROL_GAP_MM = 3.0  # no two control points closer than this (the specs promise >= 2 mm)
MAX_CONTROL_TURN_DEG = 20.0  # at most this turn of the curve between neighbouring control points
VARIATION_CLIP_SD = 2.5  # random draws are clipped to +/- this many standard deviations


# --- Seeded variation ------------------------------------------------------------------------------------------
@dataclass
class Variation:
    """Random draws scaled by ``amount`` (0 returns the mean) and clipped to +/- 2.5 sd."""

    rng: np.random.Generator
    amount: float

    def _z(self, size: int | None = None) -> np.ndarray | float:
        return np.clip(self.rng.standard_normal(size), -VARIATION_CLIP_SD, VARIATION_CLIP_SD)

    def normal(self, mean: float, sd: float) -> float:
        return float(mean + self.amount * sd * self._z())

    def factor(self, sd_fraction: float) -> float:
        return float(1.0 + self.amount * sd_fraction * self._z())

    def vector(self, mean: Sequence[float], sd_mm: float | Sequence[float]) -> np.ndarray:
        mean = np.asarray(mean, dtype=float)
        return mean + self.amount * np.asarray(sd_mm, dtype=float) * self._z(len(mean))

    def uniform(self, low: float, high: float) -> float:
        """Uniform in [low, high] at amount 1, shrinking to the midpoint as amount -> 0."""
        mid = 0.5 * (low + high)
        return float(mid + min(self.amount, 1.0) * (self.rng.uniform(low, high) - mid))


# --- Curves ----------------------------------------------------------------------------------------------------
def unit(v: Sequence[float]) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


class Curve:
    """A dense, smooth centreline (points every ``DENSE_STEP_MM``) with arc-length look-ups."""

    def __init__(self, points_mm: np.ndarray):
        self.points_mm = np.asarray(points_mm, dtype=float)
        steps = np.linalg.norm(np.diff(self.points_mm, axis=0), axis=1)
        self.s_mm = np.concatenate([[0.0], np.cumsum(steps)])

    @classmethod
    def through(
        cls,
        key_points_mm: Sequence[Sequence[float]],
        start_direction: Sequence[float] | None = None,
        end_direction: Sequence[float] | None = None,
    ) -> Curve:
        """Cubic spline through the key points (chord-length parameter), clamped to the given unit directions."""
        keys = np.asarray(key_points_mm, dtype=float)
        u = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(keys, axis=0), axis=1))])
        start = (1, unit(start_direction)) if start_direction is not None else "not-a-knot"
        end = (1, unit(end_direction)) if end_direction is not None else "not-a-knot"
        if len(keys) == 2 and (start == "not-a-knot" or end == "not-a-knot"):
            start = end = "natural"
        spline = CubicSpline(u, keys, bc_type=(start, end))
        fine = spline(np.linspace(0.0, u[-1], int(np.ceil(u[-1] / (0.5 * DENSE_STEP_MM))) + 1))
        return cls(fine).resampled(DENSE_STEP_MM)

    def resampled(self, step_mm: float) -> Curve:
        count = max(2, int(np.ceil(self.length_mm / step_mm)) + 1)
        s = np.linspace(0.0, self.length_mm, count)
        return Curve(self.at(s))

    @property
    def length_mm(self) -> float:
        return float(self.s_mm[-1])

    def at(self, s_mm: float | np.ndarray) -> np.ndarray:
        """Point(s) at arc length ``s_mm`` (clipped to the curve)."""
        s = np.clip(np.asarray(s_mm, dtype=float), 0.0, self.length_mm)
        return np.stack([np.interp(s, self.s_mm, self.points_mm[:, i]) for i in range(3)], axis=-1)

    def direction_at(self, s_mm: float) -> np.ndarray:
        """Unit tangent at arc length ``s_mm`` (finite difference over ~2 mm)."""
        a, b = self.at(max(0.0, s_mm - 1.0)), self.at(min(self.length_mm, s_mm + 1.0))
        return unit(b - a)

    def s_at_height(self, z_mm: float) -> float:
        """Arc length of the first point at or below height ``z_mm`` (for a descending curve)."""
        below = np.nonzero(self.points_mm[:, 2] <= z_mm)[0]
        if len(below) == 0:
            return self.length_mm
        j = int(below[0])
        if j == 0:
            return 0.0
        z0, z1 = self.points_mm[j - 1, 2], self.points_mm[j, 2]
        return float(self.s_mm[j - 1] + (z0 - z_mm) / (z0 - z1) * (self.s_mm[j] - self.s_mm[j - 1]))

    def wound(self, amplitude_mm: float, wavelength_mm: float, phase_rad: float, normal: np.ndarray) -> Curve:
        """The curve displaced sideways by a windowed sine (ends and end tangents unchanged): tortuosity."""
        if amplitude_mm <= 0.0:
            return self
        chord = unit(self.points_mm[-1] - self.points_mm[0])
        n1 = unit(normal - np.dot(normal, chord) * chord)
        n2 = np.cross(chord, n1)
        x = self.s_mm / self.length_mm
        window = np.sin(np.pi * x) ** 2
        phase = 2.0 * np.pi * self.s_mm / wavelength_mm + phase_rad
        across = np.sin(phase)[:, None] * n1 + 0.5 * np.cos(0.8 * phase)[:, None] * n2
        offset = amplitude_mm * window[:, None] * across
        return Curve(self.points_mm + offset).resampled(DENSE_STEP_MM)


def control_arclengths(
    curve: Curve, spacing_mm: float, anchors_mm: Sequence[float] = (), first_step_mm: float | None = None
) -> np.ndarray:
    """Arc lengths of the control points: both ends, every anchor, a short first step, and in between points
    at most ``spacing_mm`` apart that also turn by at most ``MAX_CONTROL_TURN_DEG`` each (closer in bends)."""
    length_mm = curve.length_mm
    anchors = sorted({0.0, length_mm, *(float(np.clip(a, 0.0, length_mm)) for a in anchors_mm)})
    if first_step_mm is not None and first_step_mm + MIN_CONTROL_GAP_MM < length_mm:
        anchors = sorted({*anchors, first_step_mm})
    tangents = np.diff(curve.points_mm, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    turn = np.arccos(np.clip(np.einsum("ij,ij->i", tangents[:-1], tangents[1:]), -1.0, 1.0))
    turned = np.concatenate([[0.0, 0.0], np.cumsum(turn)])
    effort = curve.s_mm / spacing_mm + turned / np.radians(MAX_CONTROL_TURN_DEG)
    chosen: list[float] = []
    for a, b in itertools.pairwise(anchors):
        ea, eb = np.interp([a, b], curve.s_mm, effort)
        count = max(1, int(np.ceil(eb - ea - 0.25)))
        chosen.extend(np.interp(np.linspace(ea, eb, count, endpoint=False), effort, curve.s_mm))
    chosen.append(anchors[-1])
    s = np.array(chosen)
    keep = np.concatenate([[True], np.diff(s) >= MIN_CONTROL_GAP_MM])
    keep[-1] = True
    s = s[keep]
    if len(s) > 2 and s[-1] - s[-2] < MIN_CONTROL_GAP_MM:
        s = np.delete(s, -2)
    return s


@dataclass(frozen=True)
class Vessel:
    """A vessel under construction: its dense curve and its chosen control arc lengths."""

    name: str
    parent: str | None
    curve: Curve
    control_s_mm: np.ndarray
    radius_mm: Callable[[np.ndarray], np.ndarray]
    flow_mL_per_min: float | None = None

    def point(self, s_mm: float) -> np.ndarray:
        """The control point nearest to ``s_mm``: where a child attaches (exactly on this vessel's polyline)."""
        j = int(np.argmin(np.abs(self.control_s_mm - s_mm)))
        return self.curve.at(self.control_s_mm[j])

    @property
    def end(self) -> np.ndarray:
        return self.curve.at(self.curve.length_mm)

    def spec(self) -> VesselSpec:
        points = self.curve.at(self.control_s_mm)
        radii = self.radius_mm(self.control_s_mm / self.curve.length_mm)
        return VesselSpec(
            name=self.name,
            parent=self.parent,
            points_mm=tuple(tuple(float(c) for c in p) for p in points),
            radii_mm=tuple(float(r) for r in radii),
            flow_mL_per_min=self.flow_mL_per_min,
        )


def tapered(start_mm: float, end_mm: float) -> Callable[[np.ndarray], np.ndarray]:
    """Radius linear in the fraction of the vessel's length (0 at the origin, 1 at the end)."""
    return lambda f: start_mm + (end_mm - start_mm) * np.asarray(f)


def branch(
    name: str,
    parent: str,
    origin_mm: np.ndarray,
    takeoff: Sequence[float],
    key_points_mm: Sequence[Sequence[float]],
    radius_mm: Callable[[np.ndarray], np.ndarray],
    spacing_mm: float = CONTROL_SPACING_MM,
    end_direction: Sequence[float] | None = None,
    anchors_mm: Sequence[float] = (),
    curve_hook: Callable[[Curve], Curve] | None = None,
) -> Vessel:
    """A branch leaving ``origin_mm`` (on its parent) along ``takeoff``, then through ``key_points_mm``."""
    keys = [np.asarray(origin_mm, dtype=float), *(np.asarray(k, dtype=float) for k in key_points_mm)]
    curve = Curve.through(keys, start_direction=takeoff, end_direction=end_direction)
    if curve_hook is not None:
        curve = curve_hook(curve)
    control = control_arclengths(curve, spacing_mm, anchors_mm, first_step_mm=FIRST_STEP_MM)
    return Vessel(name, parent, curve, control, radius_mm)


def mirrored(point_mm: Sequence[float], side: int) -> np.ndarray:
    """A left-side offset (mm) mirrored to ``side`` (+1 left, -1 right)."""
    p = np.asarray(point_mm, dtype=float)
    return np.array([side * p[0], p[1], p[2]])


@dataclass(frozen=True)
class Inlet:
    """Where the abdominal aorta starts: point (mm), unit direction, radius (mm)."""

    point_mm: np.ndarray
    direction: np.ndarray
    radius_mm: float
