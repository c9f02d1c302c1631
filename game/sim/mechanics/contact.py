"""Contact with the vessel: fast per-node lumen tracking, the local wall constraint, tip force and complications.

The lumen is the tree's union of tubes (see :mod:`game.sim.anatomy.vessel_tree`): a node belongs to the tube that
contains it most deeply. ``VesselTree.query`` answers that for arbitrary points (hundreds of microseconds for a
rod's nodes); a rod's nodes move less than a millimetre per step, so :class:`LumenIndex` instead remembers each
node's centreline sample and tests only the segments around it, plus, near junctions, the segments of the other
branches whose tubes overlap there (precomputed once per tree). Same semantics, ~10x faster.

A node changes tube only through the lumen: where two vessels run side by side a node a few tenths of a millimetre
through the wall between them is deeper in the other one, but it is kept in its proximal neighbour's vessel when
the edge between them would cross that wall (:meth:`LumenIndex.chord_clearance_mm`); otherwise the rod would be
held across the wall by the two vessels' walls, and a wire drawn back along it would catch on the far side.

Tip force: the wall reactions of the rod's quasi-static equilibrium (the contact penalty's forces in the solved
model, i.e. the constraint forces) summed over the distal :data:`TIP_WINDOW_MM`, each node's for the device it
hangs on - the outermost one at the node behind it, whose joint holds the node's position across the lumen: a
catheter's end is the catheter's contact with a wire through it and just out of it, the wire's own tip force begins
beyond its first joint of wire alone. Read from a converged step only (the solve settles when a reading could count,
see :mod:`~game.sim.mechanics.rod`). They follow from the devices' stiffness: a floppy wire tip sliding along a wall
presses with millinewtons, a shaped catheter tip held straight by a vessel with ~0.1-0.3 N, and a device pushed on
against a blind end loads up until its shaft buckles in the lumen - past the device's ``max_tip_force_N`` that is a
dissection, past twice that a perforation, reported once per push with its time, branch and position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.mechanics.lumen_kernel import deepest_segments
from game.sim.mechanics.rod import Walls, reaction_N

#: Segments tested on each side of a node's remembered centreline sample (samples are ~1 mm apart).
TRACK_WINDOW_SAMPLES = 2
#: Spacing of the points tested along a rod edge for whether it stays in the lumen, mm (walls between neighbouring
#: vessels are a few tenths of a millimetre thick).
CHORD_SAMPLE_MM = 0.25
#: Length of the distal end whose wall reactions make up the tip force, mm (about two nodes).
TIP_WINDOW_MM = 4.0
#: A tip force above this multiple of the device's limit perforates rather than dissects *(est.)*.
PERFORATION_FORCE_RATIO = 2.0
#: After an event, the force must fall below this fraction of the limit before another one can happen, so one
#: sustained push is one event (escalating from dissection to perforation at most once).
REARM_FORCE_RATIO = 0.5


@dataclass(frozen=True)
class ComplicationEvent:
    """A wall injury: when (s of simulated time), what, by which instrument, where (branch, mm along it), how hard."""

    t_s: float
    kind: str  # "dissection" or "perforation"
    instrument: str
    branch: str | None
    position_mm: float
    force_N: float


@dataclass(frozen=True)
class Location:
    """Where each node lies in the lumen (one entry per node)."""

    sample: np.ndarray  # (n,) global centreline sample to start from next time
    centre_mm: np.ndarray  # (n, 3) closest centreline point
    segment_start_mm: np.ndarray  # (n, 3) the centreline segment of the tube the point is in: its start
    segment_mm: np.ndarray  # (n, 3) and its vector to the next sample
    segment_limits: np.ndarray  # (n, 2) see Walls.limits: 0 / 1 at the vessel's ends, unbounded along it
    radius_mm: np.ndarray  # (n,) lumen radius there
    clearance_mm: np.ndarray  # (n,) radius - distance: > 0 inside
    branch: np.ndarray  # (n,) branch index
    s_mm: np.ndarray  # (n,) arc length along that branch

    def walls(self, device_radius_mm: np.ndarray) -> Walls:
        return Walls(self.segment_start_mm, self.segment_mm, self.radius_mm - device_radius_mm, self.segment_limits)


class LumenIndex:
    """Static lumen geometry of one tree for tracking many nodes step after step (built once per level)."""

    def __init__(self, tree: VesselTree, window: int = TRACK_WINDOW_SAMPLES):
        self.tree = tree
        branches = tree.branches
        self.points_mm = np.concatenate([b.points_mm for b in branches])
        self.radius_mm = np.concatenate([b.radii_mm for b in branches])
        self.s_mm = np.concatenate([b.s_mm for b in branches])
        self.branch = np.concatenate([np.full(len(b.s_mm), b.index) for b in branches])
        first = np.array([b.first_sample for b in branches])
        last = first + np.array([len(b.s_mm) for b in branches]) - 1
        self.first_segment = first[self.branch]  # per sample: its branch's first and last segment start
        self.last_segment = last[self.branch] - 1
        self.window = window
        # Per segment (sample j to j + 1): its vector, squared length and radius change (the last sample's is unused).
        self._segment = np.vstack([np.diff(self.points_mm, axis=0), np.zeros((1, 3))])
        self._segment_len2 = np.maximum(np.einsum("ij,ij->i", self._segment, self._segment), 1e-12)
        self.extras = self._junction_extras(tree.spacing_mm)
        self.has_extras = (self.extras >= 0).any(axis=1)
        # A point deeper in its own tube than the widest neighbouring tube's radius cannot belong to that one.
        self.extras_radius_mm = np.where(self.extras >= 0, self.radius_mm[self.extras], 0.0).max(axis=1)
        # Per segment start: its arc length step, and the Walls.limits of its tube (0 / 1 where it ends its vessel).
        start = np.arange(len(self.points_mm))
        self._segment_ds = np.append(self.s_mm[1:] - self.s_mm[:-1], 0.0)
        self._segment_limits = np.where(
            np.stack([start == self.first_segment, start == self.last_segment], axis=1),
            np.array([0.0, 1.0]),
            np.array([-np.inf, np.inf]),
        )

    def _junction_extras(self, spacing_mm: float) -> np.ndarray:
        """Per sample, every other sample of other branches whose tube overlaps this sample's (padded with -1)."""
        kd = cKDTree(self.points_mm)
        reach = self.radius_mm + self.radius_mm.max() + spacing_mm
        rows: list[list[int]] = []
        for j, found in enumerate(kd.query_ball_point(self.points_mm, reach)):
            found = np.asarray(found, dtype=int)
            found = found[self.branch[found] != self.branch[j]]
            near = np.linalg.norm(self.points_mm[found] - self.points_mm[j], axis=1)
            found = np.sort(found[near <= self.radius_mm[found] + self.radius_mm[j] + spacing_mm])
            rows.append(list(np.unique(np.concatenate([found[::2], found[-1:]]))))
        width = max(1, max(len(r) for r in rows))
        extras = np.full((len(rows), width), -1, dtype=int)
        for j, r in enumerate(rows):
            extras[j, : len(r)] = r
        return extras

    def seed(self, branch: str, s_mm: float) -> int:
        """Global sample index nearest to arc length ``s_mm`` on ``branch``."""
        b = self.tree[branch]
        return b.first_sample + int(np.argmin(np.abs(b.s_mm - s_mm)))

    def locate(
        self, x_mm: np.ndarray, seed: np.ndarray, radius_mm: np.ndarray | None = None, *, other_branches: bool = True
    ) -> Location:
        """Find the tube containing each point most deeply, searching around each point's ``seed`` sample (and,
        near junctions, the other branches there unless ``other_branches`` is False).

        ``radius_mm`` overrides the per-sample lumen radius (deployed stents hold the lumen open).
        """
        radius = self.radius_mm if radius_mm is None else radius_mm
        start, t, clearance = deepest_segments(
            np.ascontiguousarray(x_mm, dtype=float), np.ascontiguousarray(seed, dtype=np.int64), radius,
            self.points_mm, self._segment, self._segment_len2, self.first_segment, self.last_segment, self.window,
            self.has_extras, self.extras, self.extras_radius_mm, other_branches,
        )  # fmt: skip
        a, ab = self.points_mm[start], self._segment[start]
        rad = radius[start] + t * (radius[start + 1] - radius[start])
        s = self.s_mm[start] + t * self._segment_ds[start]
        return Location(
            start + (t > 0.5), a + t[:, None] * ab, a, ab, self._segment_limits[start], rad, clearance,
            self.branch[start], s,
        )  # fmt: skip

    def chord_clearance_mm(
        self, a_mm: np.ndarray, b_mm: np.ndarray, seeds: tuple[int, int], radius_mm: np.ndarray | None = None
    ) -> float:
        """Least lumen clearance (mm, < 0 outside) of the points between ``a_mm`` and ``b_mm``, sampled every
        :data:`CHORD_SAMPLE_MM` or less, searched around both ``seeds`` (the samples the two ends were found at)."""
        count = max(2, int(np.ceil(float(np.linalg.norm(b_mm - a_mm)) / CHORD_SAMPLE_MM)))
        f = np.arange(1, count)[:, None] / count
        points = a_mm + f * (b_mm - a_mm)
        clearance = [
            self.locate(points, np.full(len(points), seed), radius_mm).clearance_mm for seed in dict.fromkeys(seeds)
        ]
        return float(np.max(clearance, axis=0).min())


def tip_window(s_mm: np.ndarray, tip_s_mm: float) -> np.ndarray:
    """Indices of the nodes (at arc lengths ``s_mm``) within :data:`TIP_WINDOW_MM` behind ``tip_s_mm``."""
    return np.flatnonzero((s_mm >= tip_s_mm - TIP_WINDOW_MM) & (s_mm <= tip_s_mm + 1e-9))


def tip_force_N(s_mm: np.ndarray, tip_s_mm: float, normal_force_N: np.ndarray, normal: np.ndarray) -> float:
    """Magnitude of the summed wall reaction on the nodes within :data:`TIP_WINDOW_MM` behind ``tip_s_mm``."""
    return reaction_N(normal_force_N, normal, tip_window(s_mm, tip_s_mm))


def classify(force_N: float, limit_N: float, reported: int) -> tuple[str | None, int]:
    """The event a tip force causes given what this push already reported (0 none, 1 dissection, 2 perforation).

    Returns ``(kind or None, new reported level)``.
    """
    if force_N < REARM_FORCE_RATIO * limit_N:
        return None, 0
    level = 2 if force_N > PERFORATION_FORCE_RATIO * limit_N else 1 if force_N > limit_N else 0
    if level > reported:
        return ("perforation" if level == 2 else "dissection"), level
    return None, reported
