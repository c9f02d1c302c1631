"""The vessel tree: smooth resampled branches, their topology, flow, lesions and fast lumen queries.

A :class:`VesselTree` is built once per level from :class:`VesselSpec` and :class:`LesionSpec` lists and never
changes afterwards; the mechanics, contrast and imaging read it thousands of times per second.

The lumen is the union of the branches' tubes (centreline plus a radius per sample). A point's *clearance* is
``radius - distance to the centreline`` of the tube that contains it most deeply: positive inside the lumen,
negative outside, and the branch of that tube is the branch the point is in. Queries find candidates with
k-d trees (one per radius class, so a large vessel's far-off samples are never crowded out by a nearby small
vessel's close ones) and then project exactly onto the two centreline segments around each candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from game.sim import constants as C
from game.sim.anatomy.centreline import resample_centreline, unit_tangents
from game.sim.anatomy.nearest_kernel import SCAN_MAX_POINTS, deepest_segments, nearest_by_class
from game.sim.anatomy.spec import LesionSpec, VesselSpec

#: Samples in one radius class differ in radius by at most this factor (see the module docstring).
_RADIUS_CLASS_RATIO = 2.0
#: Candidate samples per radius class in a lumen query.
_NEIGHBOURS_PER_CLASS = 5
#: A child's first point may lie this far outside its parent's lumen and still count as attached (mm).
_ATTACH_TOLERANCE_MM = 1.0
#: mL/min to mm^3/s.
_MM3_PER_S_PER_ML_PER_MIN = 1000.0 / 60.0


class AnatomyError(ValueError):
    """An anatomy that cannot be built: ``branch`` names the vessel at fault and ``field`` its faulty field
    (``parent``, ``points_mm``, ``radii_mm``), or ``lesion`` the index of a faulty lesion."""

    def __init__(self, message: str, branch: str | None = None, lesion: int | None = None, field: str | None = None):
        super().__init__(message)
        self.branch = branch
        self.lesion = lesion
        self.field = field


@dataclass(frozen=True, eq=False)
class Branch:
    """One resampled vessel. Arrays are indexed by sample along the centreline, from origin to end."""

    index: int
    name: str
    parent: int | None
    parent_s_mm: float  # arc length along the parent where this branch leaves it
    points_mm: np.ndarray  # (N, 3)
    tangents: np.ndarray  # (N, 3) unit
    s_mm: np.ndarray  # (N,) arc length from the origin
    radii_mm: np.ndarray  # (N,) lumen radius, narrowed by lesions
    healthy_radii_mm: np.ndarray  # (N,) radius without lesions
    flow_mL_per_min: float  # flow entering the branch
    children: tuple[int, ...] = ()
    #: Arc lengths (mm) where each child leaves, and the flow still in this branch downstream of each.
    flow_steps_s_mm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flow_steps_mL_per_min: np.ndarray = field(default_factory=lambda: np.zeros(0))
    first_sample: int = 0  # index of this branch's first sample in the tree's global arrays

    @property
    def length_mm(self) -> float:
        return float(self.s_mm[-1])

    def point_at(self, s_mm: float) -> np.ndarray:
        """Centreline point (mm) at arc length ``s_mm`` (clamped to the branch)."""
        return np.array([np.interp(s_mm, self.s_mm, self.points_mm[:, k]) for k in range(3)])

    def radius_at(self, s_mm: float) -> float:
        return float(np.interp(s_mm, self.s_mm, self.radii_mm))

    def flow_at(self, s_mm: float) -> float:
        """Blood flow (mL/min) through the branch at arc length ``s_mm``: what the children upstream left."""
        passed = int(np.searchsorted(self.flow_steps_s_mm, s_mm, side="right"))
        return float(self.flow_mL_per_min if passed == 0 else self.flow_steps_mL_per_min[passed - 1])

    def velocity_at(self, s_mm: float) -> float:
        """Mean blood velocity (mm/s) at ``s_mm``: flow over the lumen's cross-section."""
        area_mm2 = np.pi * self.radius_at(s_mm) ** 2
        return self.flow_at(s_mm) * _MM3_PER_S_PER_ML_PER_MIN / area_mm2


@dataclass(frozen=True)
class LumenQuery:
    """Where points lie relative to the lumen; every array has one entry per query point."""

    branch: np.ndarray  # (N,) int, the branch containing the point most deeply (or nearest, outside)
    s_mm: np.ndarray  # (N,) arc length of the closest centreline point on that branch
    closest_mm: np.ndarray  # (N, 3) that centreline point
    distance_mm: np.ndarray  # (N,) distance from the point to it
    radius_mm: np.ndarray  # (N,) lumen radius there
    clearance_mm: np.ndarray  # (N,) radius - distance: > 0 inside the lumen

    @property
    def inside(self) -> np.ndarray:
        return self.clearance_mm > 0.0


class VesselTree:
    """An immutable tree of branches with a root inlet, and vectorised geometric queries."""

    def __init__(
        self,
        specs: list[VesselSpec],
        lesions: list[LesionSpec] = (),
        spacing_mm: float = C.CENTRELINE_SPACING_MM,
    ):
        ordered = _topological_order(specs)
        self.spacing_mm = spacing_mm
        self.lesions: tuple[LesionSpec, ...] = tuple(lesions)
        raw = {spec.name: _resample(spec, spacing_mm) for spec in ordered}
        index = {spec.name: i for i, spec in enumerate(ordered)}
        attachments = {spec.name: _attachment(spec, raw) for spec in ordered}
        narrowed = _apply_lesions(raw, self.lesions)
        flows = _split_flow(ordered, raw, attachments)

        branches: list[Branch] = []
        first = 0
        for i, spec in enumerate(ordered):
            points, healthy, s = raw[spec.name]
            children = tuple(index[c.name] for c in ordered if c.parent == spec.name)
            inlet, steps_s, steps_q = flows[spec.name]
            branches.append(
                Branch(
                    index=i,
                    name=spec.name,
                    parent=None if spec.parent is None else index[spec.parent],
                    parent_s_mm=attachments[spec.name],
                    points_mm=points,
                    tangents=unit_tangents(points),
                    s_mm=s,
                    radii_mm=narrowed[spec.name],
                    healthy_radii_mm=healthy,
                    flow_mL_per_min=inlet,
                    children=children,
                    flow_steps_s_mm=steps_s,
                    flow_steps_mL_per_min=steps_q,
                    first_sample=first,
                )
            )
            first += len(s)
        for b in branches:
            for arr in (b.points_mm, b.tangents, b.s_mm, b.radii_mm, b.healthy_radii_mm):
                arr.setflags(write=False)
        self.branches: tuple[Branch, ...] = tuple(branches)
        self.by_name: dict[str, Branch] = {b.name: b for b in branches}
        self._build_index()

    # --- topology -------------------------------------------------------------------------------------------
    @property
    def root(self) -> Branch:
        return self.branches[0]

    def __getitem__(self, name: str) -> Branch:
        return self.by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def ancestors(self, branch: int) -> list[int]:
        """Branch indices from ``branch`` up to the root, inclusive."""
        chain = [branch]
        while (parent := self.branches[chain[-1]].parent) is not None:
            chain.append(parent)
        return chain

    def path(self, start: int, goal: int) -> list[int]:
        """Branch indices walked from ``start`` to ``goal`` through the tree (up to a common ancestor, down)."""
        up = self.ancestors(start)
        down = self.ancestors(goal)
        common = next(b for b in up if b in set(down))
        return up[: up.index(common) + 1] + list(reversed(down[: down.index(common)]))

    @property
    def sample_count(self) -> int:
        return len(self._points)

    @property
    def total_length_mm(self) -> float:
        return float(sum(b.length_mm for b in self.branches))

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned box (mm) around every lumen."""
        r = self._radius[:, None]
        return (self._points - r).min(axis=0), (self._points + r).max(axis=0)

    # --- queries --------------------------------------------------------------------------------------------
    def _build_index(self) -> None:
        self._points = np.concatenate([b.points_mm for b in self.branches])
        self._radius = np.concatenate([b.radii_mm for b in self.branches])
        self._s = np.concatenate([b.s_mm for b in self.branches])
        self._branch = np.concatenate([np.full(len(b.s_mm), b.index) for b in self.branches])
        # Segment j joins samples j and j+1; the last sample of a branch starts no segment.
        last = np.zeros(len(self._points), dtype=bool)
        last[[b.first_sample + len(b.s_mm) - 1 for b in self.branches]] = True
        nxt = np.minimum(np.arange(len(self._points)) + 1, len(self._points) - 1)
        self._seg_ab = np.where(last[:, None], 0.0, self._points[nxt] - self._points)
        self._seg_inv_len2 = np.where(
            last, 0.0, 1.0 / np.maximum(np.einsum("ij,ij->i", self._seg_ab, self._seg_ab), 1e-12)
        )
        self._seg_dr = np.where(last, 0.0, self._radius[nxt] - self._radius)
        self._seg_ds = np.where(last, 0.0, self._s[nxt] - self._s)
        self._classes: list[tuple[np.ndarray, cKDTree]] = []
        log_r = np.log(np.maximum(self._radius, 1e-3)) / np.log(_RADIUS_CLASS_RATIO)
        label = np.floor(log_r).astype(int)
        for value in np.unique(label):
            members = np.flatnonzero(label == value)
            self._classes.append((members, cKDTree(self._points[members])))
        # The same classes for the compiled scan of a few points.
        self._class_members = np.concatenate([m for m, _ in self._classes]).astype(np.int64)
        self._class_ends = np.cumsum([len(m) for m, _ in self._classes]).astype(np.int64)
        self._class_k = np.array([min(_NEIGHBOURS_PER_CLASS, len(m)) for m, _ in self._classes], dtype=np.int64)

    def query(self, points_mm: np.ndarray) -> LumenQuery:
        """Locate points (N, 3) mm in the lumen: branch, arc length, clearance (see :class:`LumenQuery`)."""
        p = np.atleast_2d(np.asarray(points_mm, dtype=float))
        if len(p) <= SCAN_MAX_POINTS:  # the tips, every step: a compiled scan
            candidates = nearest_by_class(p, self._points, self._class_members, self._class_ends, self._class_k)
        else:
            candidates = self._nearest_by_kd_tree(p)
        seg, tb = deepest_segments(
            p, candidates, self._points, self._seg_ab, self._seg_inv_len2, self._radius, self._seg_dr
        )
        a, ab = self._points[seg], self._seg_ab[seg]
        offset = p - a - tb[:, None] * ab
        dist = np.sqrt(np.einsum("nj,nj->n", offset, offset))
        radius = self._radius[seg] + tb * self._seg_dr[seg]
        return LumenQuery(
            branch=self._branch[seg],
            s_mm=self._s[seg] + tb * self._seg_ds[seg],
            closest_mm=a + tb[:, None] * ab,
            distance_mm=dist,
            radius_mm=radius,
            clearance_mm=radius - dist,
        )

    def _nearest_by_kd_tree(self, p: np.ndarray) -> np.ndarray:
        """(N, K) global indices of the samples nearest each point, :data:`_NEIGHBOURS_PER_CLASS` per radius class."""
        found = []
        for members, kdtree in self._classes:
            k = min(_NEIGHBOURS_PER_CLASS, len(members))
            _, idx = kdtree.query(p, k=k)
            found.append(members[np.reshape(idx, (len(p), k))])
        return np.concatenate(found, axis=1)

    def contains(self, points_mm: np.ndarray) -> np.ndarray:
        """True for each point (N, 3) inside the lumen."""
        return self.query(points_mm).inside

    def branch_of(self, point_mm: np.ndarray) -> str | None:
        """Name of the branch containing one point, or None outside the lumen."""
        q = self.query(np.asarray(point_mm, dtype=float)[None, :])
        return self.branches[int(q.branch[0])].name if q.inside[0] else None


# --- construction helpers -----------------------------------------------------------------------------------
def _topological_order(specs: list[VesselSpec]) -> list[VesselSpec]:
    """Specs ordered parents first; rejects duplicates, unknown parents, cycles and several roots."""
    by_name: dict[str, VesselSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise AnatomyError(f"two vessels are named {spec.name!r}", branch=spec.name)
        by_name[spec.name] = spec
    for spec in specs:
        if spec.parent is not None and spec.parent not in by_name:
            raise AnatomyError(
                f"vessel {spec.name!r} has parent {spec.parent!r}, which does not exist", spec.name, field="parent"
            )
        if spec.parent == spec.name:
            raise AnatomyError(f"vessel {spec.name!r} is its own parent", spec.name, field="parent")
    roots = [s for s in specs if s.parent is None]
    if not roots:
        raise AnatomyError(f"the vessels form a cycle ({_cycle(by_name)}): one vessel must have no parent")
    if len(roots) > 1:
        names = ", ".join(repr(r.name) for r in roots)
        raise AnatomyError(f"the tree has several roots ({names}); exactly one vessel may have no parent")
    ordered: list[VesselSpec] = []
    frontier = [roots[0]]
    while frontier:
        spec = frontier.pop(0)
        ordered.append(spec)
        frontier.extend(s for s in specs if s.parent == spec.name)
    if len(ordered) < len(specs):
        placed = {s.name for s in ordered}
        rest = {n: s for n, s in by_name.items() if n not in placed}
        raise AnatomyError(f"the vessels form a cycle ({_cycle(rest)})", branch=next(iter(rest)))
    return ordered


def _cycle(by_name: dict[str, VesselSpec]) -> str:
    """A readable ``a -> b -> a`` for some cycle among ``by_name``."""
    start = next(iter(by_name))
    seen = [start]
    while (parent := by_name[seen[-1]].parent) not in seen:
        seen.append(parent)
    loop = [*seen[seen.index(parent) :], parent]
    return " -> ".join(loop)


def _resample(spec: VesselSpec, spacing_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = np.asarray(spec.points_mm, dtype=float)
    radii = np.asarray(spec.radii_mm, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 2:
        raise AnatomyError(
            f"vessel {spec.name!r} needs at least 2 points of 3 coordinates", spec.name, field="points_mm"
        )
    if not np.all(np.isfinite(points)):
        raise AnatomyError(
            f"vessel {spec.name!r} has a coordinate that is not a finite number", spec.name, field="points_mm"
        )
    if np.any(np.abs(points) > C.MAX_COORDINATE_MM):
        raise AnatomyError(
            f"vessel {spec.name!r} has a point more than {C.MAX_COORDINATE_MM:.0f} mm from the origin",
            spec.name,
            field="points_mm",
        )
    if not np.all(np.isfinite(radii)) or np.any(radii <= 0) or np.any(radii > C.MAX_VESSEL_RADIUS_MM):
        raise AnatomyError(f"vessel {spec.name!r} has a radius outside 0-{C.MAX_VESSEL_RADIUS_MM:.0f} mm", spec.name)
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    if np.any(steps < 1e-6):
        raise AnatomyError(
            f"vessel {spec.name!r} repeats a point (two consecutive points coincide)", spec.name, field="points_mm"
        )
    if steps.sum() < C.MIN_BRANCH_LENGTH_MM:
        raise AnatomyError(
            f"vessel {spec.name!r} is {steps.sum():.1f} mm long, too short to sample "
            f"(at least {C.MIN_BRANCH_LENGTH_MM:.0f} mm)",
            spec.name,
            field="points_mm",
        )
    return resample_centreline(points, radii, spacing_mm)


def _attachment(spec: VesselSpec, raw: dict) -> float:
    """Arc length on the parent closest to the child's first point; the point must lie in the parent's lumen."""
    if spec.parent is None:
        return 0.0
    parent_points, parent_radii, parent_s = raw[spec.parent]
    origin = np.asarray(spec.points_mm[0], dtype=float)
    a, b = parent_points[:-1], parent_points[1:]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", origin - a, ab) / np.einsum("ij,ij->i", ab, ab), 0.0, 1.0)
    closest = a + t[:, None] * ab
    dist = np.linalg.norm(closest - origin, axis=1)
    j = int(np.argmin(dist))
    radius = parent_radii[j] + t[j] * (parent_radii[j + 1] - parent_radii[j])
    if dist[j] > radius + _ATTACH_TOLERANCE_MM:
        raise AnatomyError(
            f"vessel {spec.name!r} starts {dist[j]:.1f} mm from the centreline of its parent {spec.parent!r}, "
            f"outside its lumen (radius {radius:.1f} mm): a branch must start inside its parent",
            spec.name,
            field="points_mm",
        )
    return float(parent_s[j] + t[j] * (parent_s[j + 1] - parent_s[j]))


def _apply_lesions(raw: dict, lesions: tuple[LesionSpec, ...]) -> dict[str, np.ndarray]:
    """Radii narrowed by each stenosis: a cosine-shaped diameter loss, ``severity_pct`` at the lesion's centre."""
    narrowed = {name: radii.copy() for name, (_, radii, _) in raw.items()}
    for i, lesion in enumerate(lesions):
        if lesion.branch not in raw:
            raise AnatomyError(f"lesion {i + 1} is on branch {lesion.branch!r}, which does not exist", lesion=i)
        s = raw[lesion.branch][2]
        half = lesion.length_mm / 2.0
        if lesion.length_mm <= 0 or lesion.position_mm - half < 0 or lesion.position_mm + half > s[-1]:
            raise AnatomyError(
                f"lesion {i + 1} ({lesion.position_mm:g} mm +/- {half:g} mm) lies outside branch "
                f"{lesion.branch!r}, which is {s[-1]:.1f} mm long",
                lesion=i,
            )
        if not 0 < lesion.severity_pct < 100:
            raise AnatomyError(f"lesion {i + 1} severity must be between 0 and 100 %", lesion=i)
        offset = np.abs(s - lesion.position_mm)
        bump = np.where(offset < half, 0.5 * (1.0 + np.cos(np.pi * offset / half)), 0.0)
        narrowed[lesion.branch] *= 1.0 - (lesion.severity_pct / 100.0) * bump
    return narrowed


def _split_flow(ordered: list[VesselSpec], raw: dict, attachments: dict) -> dict:
    """Inlet flow and the flow left after each child, per branch, by Murray's law (flow ~ r^3) unless given.

    A side branch takes ``r_child^3 / (r_child^3 + r_parent^3)`` of the flow passing its origin; branches that
    leave at the parent's end (a bifurcation or a continuation) share all that is left in proportion to r^3.
    """
    root = ordered[0]
    root_radius = float(raw[root.name][1][0])
    inlet = {
        root.name: root.flow_mL_per_min
        or C.ABDOMINAL_AORTA_FLOW_ML_PER_MIN * (root_radius / C.ABDOMINAL_AORTA_RADIUS_MM) ** 3
    }
    result = {}
    for spec in ordered:
        _, radii, s = raw[spec.name]
        children = sorted((c for c in ordered if c.parent == spec.name), key=lambda c: attachments[c.name])
        at_end = [c for c in children if attachments[c.name] >= s[-1] - _ATTACH_TOLERANCE_MM]
        remaining = inlet[spec.name]
        steps_s, steps_q = [], []
        for child in children:
            if child in at_end:
                continue
            r_child = float(raw[child.name][1][0])
            r_on = float(np.interp(attachments[child.name] + 1.0, s, radii))
            share = r_child**3 / (r_child**3 + r_on**3)
            q = child.flow_mL_per_min
            inlet[child.name] = min(q, remaining) if q is not None else remaining * share
            remaining -= inlet[child.name]
            steps_s.append(attachments[child.name])
            steps_q.append(remaining)
        cubes = {c.name: float(raw[c.name][1][0]) ** 3 for c in at_end}
        total_cube = sum(cubes.values())
        for child in at_end:
            q = child.flow_mL_per_min
            inlet[child.name] = min(q, remaining) if q is not None else remaining * cubes[child.name] / total_cube
        result[spec.name] = (inlet[spec.name], np.array(steps_s), np.array(steps_q))
    return result
