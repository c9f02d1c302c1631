"""Stent deployment: where a balloon-expandable stent ends up, and how it holds the lumen open."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.sim.anatomy.vessel_tree import VesselTree


@dataclass(frozen=True, eq=False)
class DeployedStent:
    """A stent expanded in ``branch`` from ``s_start_mm`` to ``s_end_mm`` (arc length, mm) at ``diameter_mm``."""

    instrument: str
    branch: str
    s_start_mm: float
    s_end_mm: float
    points_mm: np.ndarray  # (k, 3) centreline points covered by the stent, from s_start to s_end
    diameter_mm: float
    t_s: float

    @property
    def length_mm(self) -> float:
        return self.s_end_mm - self.s_start_mm


def place_stent(
    tree: VesselTree, instrument: str, ends_mm: np.ndarray, middle_mm: np.ndarray, diameter_mm: float, t_s: float
) -> DeployedStent | None:
    """The stent whose ends (2, 3) lie at ``ends_mm`` on the delivery system and whose middle (on the delivery
    system, not the chord: a stent across a bend is curved) is ``middle_mm``, expanded in the branch holding its
    middle (an ostial stent that juts into the parent is recorded on its own branch); None outside the lumen."""
    name = tree.branch_of(middle_mm)
    if name is None:
        return None
    branch = tree[name]
    s = sorted(arc_length_on(branch.points_mm, branch.s_mm, p) for p in ends_mm)
    inside = (branch.s_mm > s[0]) & (branch.s_mm < s[1])
    points = np.vstack([branch.point_at(s[0]), branch.points_mm[inside], branch.point_at(s[1])])
    return DeployedStent(instrument, name, s[0], s[1], points, diameter_mm, t_s)


def held_open_radius_mm(
    radius_mm: np.ndarray, tree: VesselTree, sample_branch: np.ndarray, sample_s_mm: np.ndarray, stent: DeployedStent
) -> np.ndarray:
    """Per-sample lumen radius with ``stent`` deployed: at least the stent's radius over its length."""
    covered = (sample_branch == tree[stent.branch].index) & (sample_s_mm >= stent.s_start_mm)
    covered &= sample_s_mm <= stent.s_end_mm
    return np.where(covered, np.maximum(radius_mm, stent.diameter_mm / 2.0), radius_mm)


def arc_length_on(points_mm: np.ndarray, s_mm: np.ndarray, p: np.ndarray) -> float:
    """Arc length of the point of a polyline closest to ``p``."""
    a, ab = points_mm[:-1], np.diff(points_mm, axis=0)
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0.0, 1.0)
    dist = np.linalg.norm(a + t[:, None] * ab - p, axis=1)
    j = int(np.argmin(dist))
    return float(s_mm[j] + t[j] * (s_mm[j + 1] - s_mm[j]))
