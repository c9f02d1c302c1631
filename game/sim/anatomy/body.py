"""The patient body seen by the X-rays: analytic shapes (ellipsoids, elliptic cylinders/frusta) of materials.

Each shape lies inside its ``container`` (another shape, or air for the outline), so a ray's attenuation line
integral is exact as a sum over shapes of chord x (mu of the shape - mu of its container): an inner shape
replaces the material it sits in. Shapes may be cut by half-spaces (``clips``), which keeps every chord
analytic and lets neighbouring pieces (rib segments, the two halves of a femoral head) meet without overlapping.

Coordinates follow ``game.sim.constants`` (mm; x patient's left, y posterior, z head; z = 0 at L4). Nominal
anatomy is an average adult (est. from standard CT/radiograph anatomy unless noted); ``build_body`` adds fat
for a bigger patient and shrinks the anatomy in x/y for a smaller one. The vessel generators use the same frame.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.interpolate import CubicSpline

from game.sim.materials import Material

Vec3 = tuple[float, float, float]
ClipPlane = tuple[Vec3, float]  # keeps the points p with dot(normal, p) <= offset_mm

_NO_HIT = np.inf  # empty interval: lo = +inf, hi = -inf
_BOUNDS_LATTICE = 15  # lattice points per axis used to bound a clipped shape
_BINNING_MIN_RAYS = 4096  # below this, every shape is tested against every ray
_RAYS_PER_BIN_SIDE = 4.0  # ~16 rays per angular bin
_MAX_BINS_PER_SIDE = 256
_MIN_COS_TO_AXIS = 0.2  # rays further than ~78 deg from the mean direction disable the angular binning


# ===================================================================================================== shapes
@dataclass(frozen=True, kw_only=True)
class Shape:
    """Base: a named region of one material inside shape ``container`` (an index into the body, None = air)."""

    name: str
    material: Material
    container: int | None
    clips: tuple[ClipPlane, ...] = ()

    # --- interface -----------------------------------------------------------------------------------------
    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lo[3], hi[3]) in mm."""
        return self._bounds

    def contains(self, points_mm: np.ndarray) -> np.ndarray:
        """bool[N]: which points (N, 3) lie inside."""
        p = np.atleast_2d(np.asarray(points_mm, dtype=float))
        inside = self._contains_unclipped(p)
        for normal, offset in self.clips:
            inside &= p @ np.asarray(normal) <= offset
        return inside

    def chord_length_mm(self, origin_mm: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """float[N]: length (mm) inside the shape of each ray origin + t d, t >= 0 (d unit vectors, (N, 3))."""
        origin = np.asarray(origin_mm, dtype=float)
        d = np.atleast_2d(np.asarray(directions, dtype=float))
        total = np.zeros(len(d))
        for lo, hi in self._intervals(origin, d):
            lo = np.maximum(lo, 0.0)
            lo, hi = _clip_intervals(self.clips, origin, d, lo, hi)
            total += np.maximum(hi - lo, 0.0)
        return total

    def primitives(self) -> tuple[Shape, ...]:
        """The convex pieces to ray-trace one by one (a shape is its own only piece)."""
        return (self,)

    # --- implemented by subclasses -------------------------------------------------------------------------
    def _contains_unclipped(self, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _intervals(self, origin: np.ndarray, d: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError

    def _unclipped_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def scaled(self, factors: Sequence[float]) -> Shape:
        """The shape under the map p -> factors * p (non-uniform scaling about the origin)."""
        raise NotImplementedError

    # --- shared helpers ------------------------------------------------------------------------------------
    @functools.cached_property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._unclipped_bounds()
        if not self.clips:
            return lo, hi
        # Clipped: bound the lattice points that survive, padded by one lattice step.
        axes = [np.linspace(lo[i], hi[i], _BOUNDS_LATTICE) for i in range(3)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        inside = grid[self.contains(grid)]
        step = (hi - lo) / (_BOUNDS_LATTICE - 1)
        if len(inside) == 0:
            return lo, hi
        return np.maximum(lo, inside.min(axis=0) - step), np.minimum(hi, inside.max(axis=0) + step)

    def _scaled_clips(self, factors: Sequence[float]) -> tuple[ClipPlane, ...]:
        f = np.asarray(factors, dtype=float)
        clips = []
        for normal, offset in self.clips:
            n = np.asarray(normal) / f
            norm = float(np.linalg.norm(n))
            clips.append((_vec(n / norm), offset / norm))
        return tuple(clips)


@dataclass(frozen=True, kw_only=True)
class Ellipsoid(Shape):
    """Ellipsoid: centre (mm), semi-axes (mm) along the columns of ``rotation`` (identity if None)."""

    centre_mm: Vec3
    semi_axes_mm: Vec3
    rotation: tuple[Vec3, Vec3, Vec3] | None = None  # rows of a 3x3 matrix whose columns are the local axes

    @functools.cached_property
    def _to_local(self) -> np.ndarray:
        """Matrix L with local = L @ (p - centre); the ellipsoid is the unit ball in local coordinates."""
        r = np.eye(3) if self.rotation is None else np.asarray(self.rotation, dtype=float)
        return (r / np.asarray(self.semi_axes_mm)[None, :]).T

    def _contains_unclipped(self, p: np.ndarray) -> np.ndarray:
        q = (p - np.asarray(self.centre_mm)) @ self._to_local.T
        return np.einsum("ij,ij->i", q, q) <= 1.0

    def _intervals(self, origin: np.ndarray, d: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        o = self._to_local @ (origin - np.asarray(self.centre_mm))
        dl = d @ self._to_local.T
        a = np.einsum("ij,ij->i", dl, dl)
        half_b = dl @ o
        c = float(o @ o) - 1.0
        disc = half_b * half_b - a * c
        root = np.sqrt(np.maximum(disc, 0.0))
        hit = disc > 0.0
        lo = np.where(hit, (-half_b - root) / a, _NO_HIT)
        hi = np.where(hit, (-half_b + root) / a, -_NO_HIT)
        return [(lo, hi)]

    def _unclipped_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.linalg.norm(np.linalg.inv(self._to_local), axis=1)
        c = np.asarray(self.centre_mm)
        return c - half, c + half

    def scaled(self, factors: Sequence[float]) -> Ellipsoid:
        f = np.asarray(factors, dtype=float)
        r = np.eye(3) if self.rotation is None else np.asarray(self.rotation, dtype=float)
        u, s, _ = np.linalg.svd(f[:, None] * r * np.asarray(self.semi_axes_mm)[None, :])
        return replace(
            self,
            centre_mm=_vec(f * np.asarray(self.centre_mm)),
            semi_axes_mm=_vec(s),
            rotation=_matrix(u),
            clips=self._scaled_clips(f),
        )


@dataclass(frozen=True, kw_only=True)
class EllipticCylinder(Shape):
    """Elliptic cylinder capped by two planes perpendicular to the local z axis (world z unless rotated).

    The bottom cap's ellipse (semi-axes ``semi_axes_mm`` along local x, y) is centred at ``bottom_centre_mm``;
    the top cap's centre is ``top_centre_mm`` (it may be offset sideways: a sheared cylinder) and its semi-axes
    are ``top_scale`` times the bottom's (a frustum of an elliptic cone when top_scale != 1).
    """

    bottom_centre_mm: Vec3
    top_centre_mm: Vec3
    semi_axes_mm: tuple[float, float]
    top_scale: float = 1.0
    rotation: tuple[Vec3, Vec3, Vec3] | None = None

    @functools.cached_property
    def _canonical(self) -> tuple[np.ndarray, float, float]:
        """(L, height, k): canonical = L @ (p - bottom) is inside iff u^2 + v^2 <= (1 + k w)^2, 0 <= w <= h."""
        r = np.eye(3) if self.rotation is None else np.asarray(self.rotation, dtype=float)
        axis = r.T @ (np.asarray(self.top_centre_mm) - np.asarray(self.bottom_centre_mm))
        height = float(axis[2])
        if height <= 0.0:
            raise ValueError(f"{self.name}: the top cap must lie above the bottom cap along the local z axis")
        a, b = self.semi_axes_mm
        shear = np.array([[1.0 / a, 0.0, -axis[0] / height / a], [0.0, 1.0 / b, -axis[1] / height / b], [0, 0, 1]])
        return shear @ r.T, height, (self.top_scale - 1.0) / height

    def _contains_unclipped(self, p: np.ndarray) -> np.ndarray:
        m, h, k = self._canonical
        q = (p - np.asarray(self.bottom_centre_mm)) @ m.T
        s = 1.0 + k * q[:, 2]
        return (q[:, 0] ** 2 + q[:, 1] ** 2 <= s * s) & (q[:, 2] >= 0.0) & (q[:, 2] <= h)

    def _intervals(self, origin: np.ndarray, d: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        m, h, k = self._canonical
        o = m @ (origin - np.asarray(self.bottom_centre_mm))
        dl = d @ m.T
        s0 = 1.0 + k * o[2]
        ds = k * dl[:, 2]
        a = dl[:, 0] ** 2 + dl[:, 1] ** 2 - ds * ds
        half_b = dl[:, 0] * o[0] + dl[:, 1] * o[1] - s0 * ds
        c = o[0] ** 2 + o[1] ** 2 - s0 * s0
        intervals = _quadric_intervals(a, half_b, c)
        # the slab 0 <= w <= h between the caps
        with np.errstate(divide="ignore", invalid="ignore"):
            t0, t1 = -o[2] / dl[:, 2], (h - o[2]) / dl[:, 2]
        parallel = np.abs(dl[:, 2]) < 1e-12
        inside_slab = (o[2] >= 0.0) & (o[2] <= h)
        slab_lo = np.where(parallel, np.where(inside_slab, -np.inf, np.inf), np.minimum(t0, t1))
        slab_hi = np.where(parallel, np.where(inside_slab, np.inf, -np.inf), np.maximum(t0, t1))
        return [(np.maximum(lo, slab_lo), np.minimum(hi, slab_hi)) for lo, hi in intervals]

    def _unclipped_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        m, h, _ = self._canonical
        inverse = np.linalg.inv(m)
        spread = np.linalg.norm(inverse[:, :2], axis=1)
        base = np.asarray(self.bottom_centre_mm)
        ends = ((0.0, 1.0), (h, self.top_scale))
        caps = [(base + inverse @ np.array([0.0, 0.0, w]), radius * spread) for w, radius in ends]
        lo = np.minimum(*(c - e for c, e in caps))
        hi = np.maximum(*(c + e for c, e in caps))
        return lo, hi

    def scaled(self, factors: Sequence[float]) -> EllipticCylinder:
        f = np.asarray(factors, dtype=float)
        if self.rotation is not None and not np.allclose(f[0], f[1]):
            raise ValueError(f"{self.name}: a rotated cylinder can only be scaled equally in x and y")
        a, b = self.semi_axes_mm
        return replace(
            self,
            bottom_centre_mm=_vec(f * np.asarray(self.bottom_centre_mm)),
            top_centre_mm=_vec(f * np.asarray(self.top_centre_mm)),
            semi_axes_mm=(float(a * f[0]), float(b * f[1])) if self.rotation is None else (a * f[0], b * f[0]),
            clips=self._scaled_clips(f),
        )


@dataclass(frozen=True, kw_only=True)
class ShapeStack(Shape):
    """A union of convex pieces that do not overlap (e.g. a torso made of cylinders and frusta along z)."""

    pieces: tuple[Shape, ...]

    def contains(self, points_mm: np.ndarray) -> np.ndarray:
        p = np.atleast_2d(np.asarray(points_mm, dtype=float))
        inside = np.zeros(len(p), dtype=bool)
        for piece in self.pieces:
            inside |= piece.contains(p)
        return inside

    def chord_length_mm(self, origin_mm: np.ndarray, directions: np.ndarray) -> np.ndarray:
        return sum(piece.chord_length_mm(origin_mm, directions) for piece in self.pieces)

    def primitives(self) -> tuple[Shape, ...]:
        return self.pieces

    def _unclipped_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        boxes = [piece.bounds_mm() for piece in self.pieces]
        return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)

    def scaled(self, factors: Sequence[float]) -> ShapeStack:
        return replace(self, pieces=tuple(piece.scaled(factors) for piece in self.pieces))


def _quadric_intervals(
    a: np.ndarray, half_b: np.ndarray, c: float | np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The t where a t^2 + 2 half_b t + c <= 0, as up to two intervals (lo, hi) per ray (empty: lo > hi)."""
    disc = half_b * half_b - a * c
    root = np.sqrt(np.maximum(disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = (-half_b - root) / a
        r2 = (-half_b + root) / a
        t_lin = -0.5 * c / half_b
    small = np.abs(a) < 1e-12
    pos, neg = (a > 0) & ~small, (a < 0) & ~small
    real = disc >= 0.0
    lo_root, hi_root = np.minimum(r1, r2), np.maximum(r1, r2)
    # a > 0: [r1, r2]; a < 0: (-inf, lo_root] and [hi_root, inf), or everything without real roots
    lo1 = np.where(pos & real, lo_root, np.where(neg, -np.inf, _NO_HIT))
    hi1 = np.where(pos & real, hi_root, np.where(neg & real, lo_root, np.where(neg, np.inf, -_NO_HIT)))
    lo2 = np.where(neg & real, hi_root, _NO_HIT)
    hi2 = np.where(neg & real, np.inf, -_NO_HIT)
    # a ~ 0 (ray along the axis of a cylinder): 2 half_b t + c <= 0
    inside = np.broadcast_to(np.asarray(c) <= 0.0, np.shape(a))
    lin_lo = np.where(half_b > 0, -np.inf, np.where(half_b < 0, t_lin, np.where(inside, -np.inf, np.inf)))
    lin_hi = np.where(half_b > 0, t_lin, np.where(half_b < 0, np.inf, np.where(inside, np.inf, -np.inf)))
    lo1, hi1 = np.where(small, lin_lo, lo1), np.where(small, lin_hi, hi1)
    return [(lo1, hi1), (lo2, hi2)]


def _clip_intervals(
    clips: tuple[ClipPlane, ...], origin: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Intersect the intervals with each half-space dot(n, origin + t d) <= offset."""
    for normal, offset in clips:
        n = np.asarray(normal)
        nd = d @ n
        rhs = offset - float(n @ origin)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = rhs / nd
        hi = np.where(nd > 0, np.minimum(hi, t), hi)
        lo = np.where(nd < 0, np.maximum(lo, t), lo)
        lo = np.where((nd == 0) & (rhs < 0), np.inf, lo)
    return lo, hi


def _vec(v: Sequence[float]) -> Vec3:
    return (float(v[0]), float(v[1]), float(v[2]))


def _matrix(m: np.ndarray) -> tuple[Vec3, Vec3, Vec3]:
    return (_vec(m[0]), _vec(m[1]), _vec(m[2]))


def frame(first_axis: Sequence[float], second_hint: Sequence[float]) -> tuple[Vec3, Vec3, Vec3]:
    """Rotation whose first column is ``first_axis`` (normalised) and second is ``second_hint`` made orthogonal."""
    e1 = np.asarray(first_axis, dtype=float)
    e1 /= np.linalg.norm(e1)
    e2 = np.asarray(second_hint, dtype=float) - np.dot(second_hint, e1) * e1
    e2 /= np.linalg.norm(e2)
    return _matrix(np.stack([e1, e2, np.cross(e1, e2)], axis=1))


def half_space(normal: Sequence[float], point_mm: Sequence[float]) -> ClipPlane:
    """The half-space on the side of the plane through ``point_mm`` opposite to ``normal`` (n . (p - point) <= 0)."""
    n = np.asarray(normal, dtype=float)
    n /= np.linalg.norm(n)
    return _vec(n), float(n @ np.asarray(point_mm, dtype=float))


# ======================================================================================================= body
@dataclass(frozen=True)
class VoxelGrid:
    """Material index per voxel (nx, ny, nz); voxel (i, j, k) is centred at origin_mm + (i, j, k) * spacing_mm."""

    materials: np.ndarray
    origin_mm: np.ndarray
    spacing_mm: float


@dataclass(frozen=True)
class Body:
    """The patient: shapes listed containers-first. Immutable; all queries are vectorised."""

    shapes: tuple[Shape, ...]
    _by_name: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for i, shape in enumerate(self.shapes):
            if shape.container is not None and not 0 <= shape.container < i:
                raise ValueError(f"shape {shape.name!r}: its container must be listed before it")
        object.__setattr__(self, "_by_name", {s.name: i for i, s in enumerate(self.shapes)})
        if len(self._by_name) != len(self.shapes):
            raise ValueError("shape names must be unique")
        for shape in self.shapes:  # compute (and cache) every bounding box now, not during the first frame
            for piece in shape.primitives():
                piece.bounds_mm()

    def index(self, name: str) -> int:
        return self._by_name[name]

    def container_material(self, i: int) -> Material:
        container = self.shapes[i].container
        return Material.AIR if container is None else self.shapes[container].material

    @property
    def primitive_count(self) -> int:
        return sum(len(s.primitives()) for s in self.shapes)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        roots = [s.bounds_mm() for s in self.shapes if s.container is None]
        return np.min([b[0] for b in roots], axis=0), np.max([b[1] for b in roots], axis=0)

    def line_integral(
        self, origin_mm: np.ndarray, directions: np.ndarray, mu_per_mm: Mapping[Material, float] | np.ndarray
    ) -> np.ndarray:
        """float[N]: integral of mu (1/mm) along each ray origin + t d (t >= 0, d unit, (N, 3)): dimensionless.

        ``mu_per_mm`` maps each material of the body to its linear attenuation (a dict, or an array indexed by
        Material value); air may be omitted (0).
        """
        origin = np.asarray(origin_mm, dtype=float)
        d = np.atleast_2d(np.asarray(directions, dtype=float))
        rays = _RayIndex(origin, d)
        total = np.zeros(len(d))
        for i, shape in enumerate(self.shapes):
            delta = _mu(mu_per_mm, shape.material) - _mu(mu_per_mm, self.container_material(i))
            if delta == 0.0:
                continue
            for piece in shape.primitives():
                idx = rays.candidates(*piece.bounds_mm())
                if idx is None:
                    total += delta * piece.chord_length_mm(origin, d)
                elif len(idx):
                    total[idx] += delta * piece.chord_length_mm(origin, d[idx])
        return total

    def material_at(self, points_mm: np.ndarray) -> np.ndarray:
        """int[N]: the material (Material value) at each point; the innermost shape wins, air outside."""
        p = np.atleast_2d(np.asarray(points_mm, dtype=float))
        result = np.full(len(p), int(Material.AIR), dtype=np.int8)
        for shape in self.shapes:
            lo, hi = shape.bounds_mm()
            near = np.nonzero(np.all((p >= lo) & (p <= hi), axis=1))[0]
            if len(near):
                result[near[shape.contains(p[near])]] = int(shape.material)
        return result

    def thickness_mm(self, origin_mm: np.ndarray, directions: np.ndarray) -> np.ndarray | float:
        """Length (mm) of body outline crossed by ray(s) from ``origin_mm``; a float for a single direction."""
        d = np.asarray(directions, dtype=float)
        single = d.ndim == 1
        d2 = np.atleast_2d(d)
        total = sum(s.chord_length_mm(origin_mm, d2) for s in self.shapes if s.container is None)
        return float(total[0]) if single else total

    def rasterize(self, spacing_mm: float) -> VoxelGrid:
        """Coarse voxel grid of material indices over the body's bounding box (for debugging and tests)."""
        lo, hi = self.bounds_mm()
        axes = [np.arange(lo[i] + 0.5 * spacing_mm, hi[i], spacing_mm) for i in range(3)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
        materials = self.material_at(grid.reshape(-1, 3)).reshape(grid.shape[:3])
        return VoxelGrid(materials, np.array([a[0] for a in axes]), spacing_mm)


def _mu(mu_per_mm: Mapping[Material, float] | np.ndarray, material: Material) -> float:
    if isinstance(mu_per_mm, Mapping):
        if material == Material.AIR and material not in mu_per_mm:
            return 0.0
        return float(mu_per_mm[material])
    return float(mu_per_mm[int(material)])


class _RayIndex:
    """Rays from one origin binned by direction (gnomonic projection about their mean), to cull shapes fast."""

    def __init__(self, origin: np.ndarray, d: np.ndarray):
        self.origin = origin
        n = len(d)
        axis = d.mean(axis=0)
        norm = float(np.linalg.norm(axis))
        self.usable = n >= _BINNING_MIN_RAYS and norm > 0.0
        if not self.usable:
            return
        e0 = axis / norm
        cos = d @ e0
        if cos.min() < _MIN_COS_TO_AXIS:
            self.usable = False
            return
        helper = np.array([1.0, 0.0, 0.0]) if abs(e0[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        e1 = np.cross(e0, helper)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(e0, e1)
        self.basis = np.stack([e0, e1, e2])
        u, v = (d @ e1) / cos, (d @ e2) / cos
        self.bins = int(np.clip(np.sqrt(n) / _RAYS_PER_BIN_SIDE, 1, _MAX_BINS_PER_SIDE))
        self.u0, self.v0 = u.min(), v.min()
        self.du = max((u.max() - self.u0) / self.bins, 1e-12) * (1.0 + 1e-9)
        self.dv = max((v.max() - self.v0) / self.bins, 1e-12) * (1.0 + 1e-9)
        iu = np.minimum(((u - self.u0) / self.du).astype(np.int64), self.bins - 1)
        iv = np.minimum(((v - self.v0) / self.dv).astype(np.int64), self.bins - 1)
        bin_id = iu * self.bins + iv
        self.order = np.argsort(bin_id, kind="stable")
        self.starts = np.searchsorted(bin_id[self.order], np.arange(self.bins * self.bins + 1))

    def candidates(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
        """Indices of the rays that may cross the box [lo, hi] (None: all rays)."""
        if not self.usable:
            return None
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        rel = (corners - self.origin) @ self.basis.T
        if rel[:, 0].min() <= 1e-6:
            return None
        u, v = rel[:, 1] / rel[:, 0], rel[:, 2] / rel[:, 0]
        iu0, iu1 = (int(np.floor((x - self.u0) / self.du)) for x in (u.min(), u.max()))
        iv0, iv1 = (int(np.floor((x - self.v0) / self.dv)) for x in (v.min(), v.max()))
        iu0, iv0 = max(iu0, 0), max(iv0, 0)
        iu1, iv1 = min(iu1, self.bins - 1), min(iv1, self.bins - 1)
        if iu0 > iu1 or iv0 > iv1:
            return np.empty(0, dtype=np.int64)
        rows = np.arange(iu0, iu1 + 1) * self.bins
        first, last = self.starts[rows + iv0], self.starts[rows + iv1 + 1]
        counts = last - first
        total = int(counts.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64)
        shift = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        return self.order[shift + np.arange(total)]


# ==================================================================================================== builder
# Nominal adult (mm). Sizes and positions (est.) from standard adult CT / radiograph anatomy; frame as above.
NOMINAL_THICKNESS_AP_MM = 220.0
NOMINAL_WIDTH_MM = 340.0
THICKNESS_RANGE_MM = (170.0, 400.0)
WIDTH_RANGE_MM = (260.0, 560.0)
FAT_AP_MM = 8.0  # subcutaneous fat of the nominal patient, front and back (est.)
FAT_LATERAL_MM = 16.0  # at the flanks (est.)
CHEST_SCALE = 1.06  # chest size / abdomen size (est.)
# Torso outline along z: (z bottom, z top, size scale at bottom, at top, centre y at bottom, at top)
TORSO_PROFILE = (
    (-300.0, 90.0, 1.0, 1.0, 0.0, 0.0),  # upper thighs, pelvis, abdomen
    (90.0, 190.0, 1.0, CHEST_SCALE, 0.0, 0.0),  # lower rib cage widening into the chest
    (190.0, 450.0, CHEST_SCALE, CHEST_SCALE, 0.0, 0.0),  # chest
    (450.0, 490.0, CHEST_SCALE, 0.5, 0.0, 12.0),  # shoulders to the base of the neck
    (490.0, 600.0, 0.5, 0.5, 12.0, 12.0),  # neck
)
_NOMINAL_CORE_SEMI = (0.5 * NOMINAL_WIDTH_MM - FAT_LATERAL_MM, 0.5 * NOMINAL_THICKNESS_AP_MM - FAT_AP_MM)
CORTEX_MM = 1.5  # cortical shell of most bones (est.)
VERTEBRAL_CORTEX_MM = 0.8  # thin shell of the vertebral bodies (est.)
WING_CORTEX_MM = 2.5  # iliac wing: two cortical tables around little cancellous bone (est.)
SHAFT_CORTEX_MM = 6.0  # femoral shaft cortex (est.)

# Spine: (name, body width x, depth y, height z, disc below), L4 centred at z = 0 (the frame's origin)
VERTEBRAE = (
    ("L5", 50.0, 35.0, 27.0, 11.0),
    ("L4", 50.0, 35.0, 28.0, 10.0),
    ("L3", 49.0, 34.0, 28.0, 10.0),
    ("L2", 46.0, 33.0, 27.0, 10.0),
    ("L1", 44.0, 31.0, 26.0, 10.0),
    ("T12", 42.0, 30.0, 24.0, 8.0),
    ("T11", 38.0, 29.0, 23.0, 6.0),
    ("T10", 35.0, 28.0, 22.0, 6.0),
    ("T9", 33.0, 27.0, 21.0, 5.5),
    ("T8", 32.0, 26.0, 20.5, 5.0),
    ("T7", 31.0, 25.0, 20.0, 5.0),
    ("T6", 30.0, 24.0, 19.5, 5.0),
    ("T5", 29.0, 23.0, 19.0, 4.5),
    ("T4", 28.0, 22.0, 18.5, 4.5),
    ("T3", 28.0, 21.0, 18.0, 4.5),
    ("T2", 29.0, 20.0, 17.5, 4.0),
    ("T1", 30.0, 18.0, 17.0, 4.0),
    ("C7", 28.0, 16.0, 14.0, 5.0),
)
ORIGIN_VERTEBRA = "L4"
# Centre y of the vertebral bodies along z: lumbar lordosis, thoracic kyphosis
SPINE_Y_MM = ((-60.0, 33.0), (-37.0, 30.0), (0.0, 27.0), (40.0, 26.0), (110.0, 31.0), (150.0, 35.0),
              (200.0, 40.0), (260.0, 45.0), (320.0, 47.0), (380.0, 46.0), (420.0, 43.0), (445.0, 40.0))


@dataclass(frozen=True)
class _ArchDims:
    """Posterior elements of one spinal region (mm)."""

    canal_mm: float  # depth of the spinal canal behind the body
    interpedicular_mm: float  # inner distance between the pedicles
    pedicle_mm: Vec3  # width x, length y, height z
    spinous_mm: tuple[float, float, float]  # length, height, downward tilt (deg)
    transverse_mm: tuple[float, float]  # length, thickness
    pedicle_shell: bool  # cortical shell around a cancellous pedicle (seen as a ring end-on)


LUMBAR = _ArchDims(15.0, 24.0, (9.0, 14.0, 14.0), (26.0, 22.0, 0.0), (26.0, 9.0), True)
THORACIC = _ArchDims(15.0, 18.0, (6.0, 10.0, 12.0), (30.0, 16.0, 45.0), (18.0, 10.0), False)
CERVICAL = _ArchDims(14.0, 24.0, (5.0, 8.0, 8.0), (30.0, 12.0, 15.0), (16.0, 8.0), False)
LAMINA_THICKNESS_MM = 8.0
SPINOUS_WIDTH_MM = 8.0

# Ribs 1-12: ring half-width A, AP semi-axis B, ring centre y, drop (anterior end below the head), end angle
# (deg from the posterior midline around the side), section height. The ring is a superellipse.
RIBS = (
    (60.0, 62.0, -2.0, 30.0, 160.0, 8.0),
    (92.0, 78.0, 4.0, 55.0, 160.0, 7.0),
    (112.0, 88.0, 5.0, 75.0, 158.0, 6.5),
    (126.0, 94.0, 5.0, 90.0, 156.0, 6.5),
    (135.0, 97.0, 5.0, 98.0, 154.0, 6.5),
    (140.0, 98.0, 5.0, 102.0, 150.0, 6.5),
    (142.0, 98.0, 5.0, 102.0, 146.0, 6.5),
    (141.0, 97.0, 6.0, 98.0, 138.0, 6.0),
    (138.0, 95.0, 7.0, 90.0, 128.0, 6.0),
    (133.0, 92.0, 9.0, 78.0, 118.0, 5.5),
    (122.0, 88.0, 11.0, 55.0, 100.0, 5.0),
    (104.0, 84.0, 13.0, 35.0, 82.0, 4.5),
)
RIB_RING_EXPONENT = 2.4  # squarer than an ellipse: room for the lungs in the posterolateral corners
RIB_THICKNESS_MM = 6.4
RIB_ANGLE_OFFSET_MM = 15.0  # the rib reaches its ring this far lateral of the tubercle
RIB_DROP_EXPONENT = 1.3  # drop along the rib ~ fraction^1.3: flat near the spine, steeper laterally
RIB_SEGMENT_MM = 42.0
RIB_PATH_STRIDE = 20  # of 400 ring samples, every 20th becomes a path point
RIB_SEGMENT_OVERLAP = 4.0  # ellipsoid semi-length / half segment: tips cut by the joint planes
RIB_LUNG_GAP_MM = 5.0  # pleura and intercostal muscle between a rib and the lung (and chord sagitta)
RIB_SKIN_MARGIN_MM = 4.0  # at least this much soft tissue outside the ribs

# Thorax. Lungs: frusta through (z, centre x, centre y, semi-axis) levels (left; x mirrored), round section
LUNG_LEVELS = ((155.0, 55.0, 1.0, 77.0), (300.0, 55.0, 1.0, 77.0), (395.0, 48.0, 5.0, 28.0))
LUNG_APEX_HEIGHT_MM = 48.0
LUNG_MEDIAL_X_MM = 26.0  # mediastinal border
LUNG_PARAVERTEBRAL = ((-0.6, 0.8, 0.0), (26.0, 42.0, 0.0))  # plane (normal, point) behind which no lung (left)
HEART_CENTRE_MM = (26.0, -12.0, 242.0)
HEART_AXIS = (0.62, -0.45, -0.64)  # base -> apex
HEART_SEMI_AXES_MM = (78.0, 62.0, 52.0)  # along the axis, then the other two
DOMES = (  # centre, semi-axes (left, right): the right hemidiaphragm is higher
    ((75.0, 1.0, 150.0), (50.0, 70.0, 80.0)),
    ((-75.0, 1.0, 160.0), (50.0, 70.0, 88.0)),
)
HEART_DOME_NORMALS = ((-0.45, 0.0, 1.0), (-0.6, 0.0, 1.0))  # the heart sits on a plane tangent to each dome (left
# side; x mirrored): its inferior border follows the dome's medial slope
HEART_DOME_GAP_MM = 0.5
AORTIC_KNOB = ((34.0, 20.0, 338.0), (13.0, 13.0, 17.0))
RIGHT_MEDIASTINUM = ((-30.0, -22.0, 332.0), (14.0, 18.0, 40.0))  # SVC and ascending aorta border
GASTRIC_BUBBLE = ((80.0, 0.0, 176.0), (22.0, 18.0, 11.0))
TRACHEA = ((0.0, 20.0, 335.0), (0.0, -2.0, 560.0), (9.0, 8.0))  # carina, top, semi-axes

# Shoulder girdle and sternum
STERNUM = (  # centre, semi-axes
    ((0.0, -90.0, 405.0), (26.0, 7.0, 24.0)),  # manubrium
    ((0.0, -94.0, 326.0), (16.0, 7.0, 52.0)),  # body
    ((0.0, -94.0, 263.0), (8.0, 4.0, 9.0)),  # xiphoid
)
CLAVICLE_PATH_MM = ((24.0, -76.0, 420.0), (60.0, -84.0, 428.0), (100.0, -68.0, 434.0), (132.0, -40.0, 438.0))
CLAVICLE_SEMI_MM = (6.5, 6.0)

# Pelvis and femora (left side; x mirrored)
SACRUM_TOP_MM = (0.0, 38.0, -64.0)
SACRUM_AXIS = (0.0, 0.45, -0.89)  # down and back
SACRUM_SEGMENTS = ((36.0, 44.0, 15.0), (30.0, 32.0, 12.0), (24.0, 20.0, 9.0))  # length, half-width, half-thick
COCCYX = ((0.0, 80.0, -160.0), (7.0, 6.0, 10.0))
ILIAC_WING = ((80.0, -8.0, -38.0), (0.54, -0.84, 0.0), (74.0, 40.0, 6.5))  # centre, horizontal in-plane axis, semi
ILIAC_WING_TILT_DEG = 38.0  # the wing's long axis rises laterally: a fan from the acetabulum to the crest
FEMORAL_HEAD_MM = ((90.0, 2.0, -128.0), 24.0)  # centre, radius
ACETABULUM = ((-0.7, 0.15, 0.7), 4.0, 31.0, 26.5)  # cup axis (medial-up), cut offset, outer and joint radii
FEMORAL_NECK = ((0.72, 0.18, -0.67), 14.0, 46.0, 15.0)  # axis, start and end along it, radius
TROCHANTER = ((124.0, 10.0, -160.0), (18.0, 20.0, 26.0), -182.0)  # centre, semi-axes, bottom cut z
FEMORAL_SHAFT = ((118.0, 10.0, -182.0), (108.0, 12.0, -299.0), 14.0)  # top centre, bottom centre, radius
PUBIC_BODY = ((12.0, -58.0, -145.0), (9.0, 11.0, 20.0))
SUPERIOR_RAMUS = ((62.0, -35.0, -128.0), (21.0, -55.0, -139.0), 9.0)  # from, to, radius
INFERIOR_RAMUS = ((18.0, -48.0, -165.0), (55.0, 5.0, -188.0), 7.0)
ISCHIUM = ((72.0, 22.0, -172.0), (14.0, 16.0, 24.0))


class _Builder:
    """Collects shapes (containers first), scaling the internal anatomy of a smaller-than-nominal patient."""

    def __init__(self, factors: Sequence[float]):
        self.factors = np.asarray(factors, dtype=float)
        self.shapes: list[Shape] = []

    def add(self, shape: Shape, scale: bool = True) -> int:
        if scale and not np.allclose(self.factors, 1.0):
            shape = shape.scaled(self.factors)
        self.shapes.append(shape)
        return len(self.shapes) - 1

    def ellipsoid(
        self,
        name: str,
        material: Material,
        container: int,
        centre: Sequence[float],
        semi: Sequence[float],
        rotation: tuple[Vec3, Vec3, Vec3] | None = None,
        clips: tuple[ClipPlane, ...] = (),
    ) -> int:
        return self.add(
            Ellipsoid(
                name=name,
                material=material,
                container=container,
                centre_mm=_vec(centre),
                semi_axes_mm=_vec(semi),
                rotation=rotation,
                clips=clips,
            )
        )

    def bone(
        self,
        name: str,
        container: int,
        centre: Sequence[float],
        semi: Sequence[float],
        rotation: tuple[Vec3, Vec3, Vec3] | None = None,
        clips: tuple[ClipPlane, ...] = (),
        cortex_mm: float = CORTEX_MM,
    ) -> int:
        """A cortical ellipsoid filled with cancellous bone."""
        outer = self.ellipsoid(name, Material.CORTICAL_BONE, container, centre, semi, rotation, clips)
        inner = np.maximum(np.asarray(semi) - cortex_mm, 0.5)
        self.ellipsoid(f"{name}_cancellous", Material.TRABECULAR_BONE, outer, centre, inner, rotation, clips)
        return outer


def build_body(
    thickness_ap_mm: float = NOMINAL_THICKNESS_AP_MM, width_mm: float = NOMINAL_WIDTH_MM
) -> Body:
    """The patient: torso (fat over soft tissue), spine, ribs, sternum, clavicles, lungs, heart, diaphragm, pelvis
    and femora. ``thickness_ap_mm`` and ``width_mm`` are the abdomen's; the chest is 6 % larger. A patient
    bigger than nominal carries more fat; a smaller one has its anatomy shrunk in x and y."""
    if not THICKNESS_RANGE_MM[0] <= thickness_ap_mm <= THICKNESS_RANGE_MM[1]:
        raise ValueError(f"thickness_ap_mm {thickness_ap_mm} outside {THICKNESS_RANGE_MM}")
    if not WIDTH_RANGE_MM[0] <= width_mm <= WIDTH_RANGE_MM[1]:
        raise ValueError(f"width_mm {width_mm} outside {WIDTH_RANGE_MM}")
    sx = min(1.0, width_mm / NOMINAL_WIDTH_MM)
    sy = min(1.0, thickness_ap_mm / NOMINAL_THICKNESS_AP_MM)
    b = _Builder((sx, sy, 1.0))
    core_semi = (sx * _NOMINAL_CORE_SEMI[0], sy * _NOMINAL_CORE_SEMI[1])
    outline = b.add(_torso("outline", Material.ADIPOSE, None, (0.5 * width_mm, 0.5 * thickness_ap_mm)), False)
    core = b.add(_torso("trunk", Material.SOFT_TISSUE, outline, core_semi, sy), False)
    tubercles = _spine(b, core)
    _ribs(b, core, tubercles)
    _thorax(b, core)
    _shoulder_girdle(b, core)
    _pelvis(b, core)
    return Body(tuple(b.shapes))


def _torso(
    name: str, material: Material, container: int | None, semi: tuple[float, float], y_scale: float = 1.0
) -> ShapeStack:
    pieces = []
    for i, (z0, z1, s0, s1, y0, y1) in enumerate(TORSO_PROFILE):
        pieces.append(
            EllipticCylinder(
                name=f"{name}_{i}",
                material=material,
                container=container,
                bottom_centre_mm=(0.0, y0 * y_scale, z0),
                top_centre_mm=(0.0, y1 * y_scale, z1),
                semi_axes_mm=(semi[0] * s0, semi[1] * s0),
                top_scale=s1 / s0,
            )
        )
    return ShapeStack(name=name, material=material, container=container, pieces=tuple(pieces))


def _vertebra_centres() -> dict[str, tuple[float, float]]:
    """(z, y) of each vertebral body centre."""
    names = [v[0] for v in VERTEBRAE]
    z = {ORIGIN_VERTEBRA: 0.0}
    i0 = names.index(ORIGIN_VERTEBRA)
    for i in range(i0 + 1, len(VERTEBRAE)):
        below, here = VERTEBRAE[i - 1], VERTEBRAE[i]
        z[here[0]] = z[below[0]] + 0.5 * below[3] + here[4] + 0.5 * here[3]
    for i in range(i0 - 1, -1, -1):
        here, above = VERTEBRAE[i], VERTEBRAE[i + 1]
        z[here[0]] = z[above[0]] - 0.5 * above[3] - above[4] - 0.5 * here[3]
    zs, ys = zip(*SPINE_Y_MM, strict=True)
    return {n: (z[n], float(np.interp(z[n], zs, ys))) for n in names}


def vertebra_levels_mm() -> dict[str, float]:
    """Height z (mm) of each vertebral body's centre, L5 to C7, in the nominal patient."""
    return {name: zy[0] for name, zy in _vertebra_centres().items()}


def _spine(b: _Builder, core: int) -> dict[str, np.ndarray]:
    """Vertebral bodies (cortical shell over cancellous bone) and posterior elements; returns rib tubercles."""
    tubercles = {}
    for (name, width, depth, height, _), (zc, yc) in zip(VERTEBRAE, _vertebra_centres().values(), strict=True):
        dims = LUMBAR if name[0] == "L" else THORACIC if name[0] == "T" else CERVICAL
        half = 0.5 * height
        body = b.add(
            EllipticCylinder(
                name=f"{name}_body",
                material=Material.CORTICAL_BONE,
                container=core,
                bottom_centre_mm=(0.0, yc, zc - half),
                top_centre_mm=(0.0, yc, zc + half),
                semi_axes_mm=(0.5 * width, 0.5 * depth),
            )
        )
        b.add(
            EllipticCylinder(
                name=f"{name}_body_cancellous",
                material=Material.TRABECULAR_BONE,
                container=body,
                bottom_centre_mm=(0.0, yc, zc - half + VERTEBRAL_CORTEX_MM),
                top_centre_mm=(0.0, yc, zc + half - VERTEBRAL_CORTEX_MM),
                semi_axes_mm=(0.5 * width - VERTEBRAL_CORTEX_MM, 0.5 * depth - VERTEBRAL_CORTEX_MM),
            )
        )
        pw, plen, ph = dims.pedicle_mm
        x_ped = 0.5 * dims.interpedicular_mm + 0.5 * pw
        x_inner = x_ped - 0.5 * pw
        y_surface = yc + 0.5 * depth * np.sqrt(max(0.0, 1.0 - (x_inner / (0.5 * width)) ** 2))
        y_ped = y_surface + 0.5 * plen + 0.5
        back = yc + 0.5 * depth
        for side, label in ((1, "left"), (-1, "right")):
            centre = (side * x_ped, y_ped, zc + 0.1 * height)
            if dims.pedicle_shell:
                b.bone(f"{name}_{label}_pedicle", core, centre, (0.5 * pw, 0.5 * plen, 0.5 * ph))
            else:
                b.ellipsoid(f"{name}_{label}_pedicle", Material.TRABECULAR_BONE, core, centre,
                            (0.5 * pw, 0.5 * plen, 0.5 * ph))
            length, thick = dims.transverse_mm
            x_tp = x_ped + 0.5 * pw + 0.5 + 0.5 * length
            y_tp = y_ped + (0.0 if dims is LUMBAR else 5.0)
            b.ellipsoid(f"{name}_{label}_transverse", Material.TRABECULAR_BONE, core,
                        (side * x_tp, y_tp, zc), (0.5 * length, 0.5 * thick, 0.5 * thick))
            tubercles[f"{name}_{label}"] = np.array([side * (x_tp + 0.5 * length + 3.0), y_tp + 2.0, zc])
        y_lam = back + dims.canal_mm + 0.5 * LAMINA_THICKNESS_MM
        b.ellipsoid(f"{name}_lamina", Material.TRABECULAR_BONE, core, (0.0, y_lam, zc - 1.0),
                    (x_ped + 0.5 * pw, 0.5 * LAMINA_THICKNESS_MM, 0.42 * height))
        sp_len, sp_height, tilt_deg = dims.spinous_mm
        axis = np.array([0.0, np.cos(np.radians(tilt_deg)), -np.sin(np.radians(tilt_deg))])
        start = np.array([0.0, y_lam + 0.5 * LAMINA_THICKNESS_MM + 1.0, zc - 1.0])
        b.ellipsoid(f"{name}_spinous", Material.TRABECULAR_BONE, core, start + 0.5 * sp_len * axis,
                    (0.5 * sp_len, 0.5 * SPINOUS_WIDTH_MM, 0.5 * sp_height), frame(axis, (1.0, 0.0, 0.0)))
    return tubercles


def _ring_point(a: float, b: float, yc: float, psi: np.ndarray, side: int) -> np.ndarray:
    """Points of the superelliptic rib ring at angle psi (0 = posterior midline, pi = anterior), (N, 2)."""
    e = 2.0 / RIB_RING_EXPONENT
    s, c = np.sin(psi), np.cos(psi)
    return np.stack([side * a * np.abs(s) ** e, yc + b * np.sign(c) * np.abs(c) ** e], axis=-1)


def _ribs(b: _Builder, core: int, tubercles: dict[str, np.ndarray]) -> None:
    """Twelve pairs of ribs, each a chain of cortical ellipsoids cut at their joints (no overlaps).

    Each rib follows a superelliptic ring, pushed out to clear the lung and pulled in to stay under the skin."""
    for k, (ring_a, ring_b, ring_yc, drop, end_deg, height) in enumerate(RIBS, start=1):
        for side, label in ((1, "left"), (-1, "right")):
            tubercle = tubercles[f"T{k}_{label}"]
            psi = np.linspace(0.0, np.radians(end_deg), 400)
            ring = _ring_point(ring_a, ring_b, ring_yc, psi, side)
            start = int(np.argmax(np.abs(ring[:, 0]) >= abs(tubercle[0]) + RIB_ANGLE_OFFSET_MM))
            ring = ring[start:]
            fraction = np.linspace(0.0, 1.0, len(ring))
            z = tubercle[2] - drop * fraction**RIB_DROP_EXPONENT
            keep = np.unique(np.append(np.arange(0, len(ring), RIB_PATH_STRIDE), len(ring) - 1))
            ring = np.array([_conform(p, zi, height, side) for p, zi in zip(ring[keep], z[keep], strict=True)])
            path = np.vstack([tubercle, np.column_stack([ring, z[keep]])])
            path = path[np.concatenate([[True], np.linalg.norm(np.diff(path, axis=0), axis=1) > 1.0])]
            _chain(b, f"rib{k}_{label}", core, path, (0.5 * RIB_THICKNESS_MM, height), ring_yc)


def _lung_section(z_mm: float) -> tuple[float, float, float] | None:
    """(centre x, centre y, radius) of the nominal left lung's cross-section at height z (before its clips)."""
    levels = np.asarray(LUNG_LEVELS)
    if z_mm < levels[0, 0]:
        return None
    if z_mm <= levels[-1, 0]:
        return tuple(float(np.interp(z_mm, levels[:, 0], levels[:, i])) for i in (1, 2, 3))
    zt, xt, yt, rt = LUNG_LEVELS[-1]
    f = 1.0 - ((z_mm - zt) / LUNG_APEX_HEIGHT_MM) ** 2
    return (xt, yt, rt * np.sqrt(f)) if f > 0 else None


def _conform(point: np.ndarray, z_mm: float, height_mm: float, side: int) -> np.ndarray:
    """A rib point (x, y) moved out of the lung (plus a gap) and then into the trunk (minus a margin)."""
    x, y = point
    clearance = 0.5 * RIB_THICKNESS_MM + RIB_LUNG_GAP_MM
    for dz in np.linspace(-height_mm, height_mm, 5):  # the rib's whole height must clear the lung
        section = _lung_section(z_mm + dz)
        if section is None or side * x < LUNG_MEDIAL_X_MM - clearance:
            continue
        cx, cy, r = section
        offset = np.array([side * x - cx, y - cy])
        distance = float(np.linalg.norm(offset))
        if 0.0 < distance < r + clearance:
            x, y = np.array([cx, cy]) + offset * (r + clearance) / distance
            x *= side
    a, b = (semi * CHEST_SCALE - 0.5 * RIB_THICKNESS_MM - RIB_SKIN_MARGIN_MM for semi in _NOMINAL_CORE_SEMI)
    q = (x / a) ** 2 + (y / b) ** 2
    if q > 1.0:
        x, y = x / np.sqrt(q), y / np.sqrt(q)
    return np.array([x, y])


def _chain(b: _Builder, name: str, container: int, path: np.ndarray, semi: tuple[float, float],
           centre_y: float) -> None:
    """A curved bone along ``path``: straight ellipsoid segments cut by the bisector planes at their joints.

    ``semi`` = (half-thickness toward/away from the body axis, half-height); cortical bone."""
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    spline = CubicSpline(s, path, bc_type="natural")
    count = max(2, int(np.ceil(s[-1] / RIB_SEGMENT_MM)))
    joints = spline(np.linspace(0.0, s[-1], count + 1))
    directions = np.diff(joints, axis=0)
    lengths = np.linalg.norm(directions, axis=1)
    directions /= lengths[:, None]
    for i in range(count):
        p0, p1, d = joints[i], joints[i + 1], directions[i]
        n0 = d if i == 0 else directions[i - 1] + d
        n1 = d if i == count - 1 else d + directions[i + 1]
        clips = (half_space(-n0, p0), half_space(n1, p1))
        mid = 0.5 * (p0 + p1)
        outward = np.array([mid[0], mid[1] - centre_y, 0.0])
        rotation = frame(d, outward if np.linalg.norm(np.cross(d, outward)) > 1e-6 else (0.0, 0.0, 1.0))
        semi_axes = (0.5 * lengths[i] * RIB_SEGMENT_OVERLAP, semi[0], semi[1])
        b.ellipsoid(f"{name}_{i}", Material.CORTICAL_BONE, container, mid, semi_axes, rotation, clips)


def _lung_clips(side: int) -> tuple[ClipPlane, ...]:
    normal, point = LUNG_PARAVERTEBRAL
    return (
        half_space((-side, 0.0, 0.0), (side * LUNG_MEDIAL_X_MM, 0.0, 0.0)),
        half_space((side * normal[0], normal[1], normal[2]), (side * point[0], point[1], point[2])),
    )


def _dome_support_mm(centre: Sequence[float], semi: Sequence[float], normal: np.ndarray) -> float:
    """max of normal . p over an axis-aligned ellipsoid (its support function)."""
    return float(normal @ np.asarray(centre) + np.linalg.norm(normal * np.asarray(semi)))


def _thorax(b: _Builder, core: int) -> None:
    """Lungs (with the heart, hemidiaphragms and mediastinal borders inside them as soft tissue) and trachea."""
    heart_rotation = frame(HEART_AXIS, (0.0, 0.0, 1.0))
    for side, label in ((1, "left"), (-1, "right")):
        clips = _lung_clips(side)
        pieces: list[Shape] = []
        for i, ((z0, x0, y0, r0), (z1, x1, y1, r1)) in enumerate(itertools.pairwise(LUNG_LEVELS)):
            pieces.append(EllipticCylinder(
                name=f"{label}_lung_{i}", material=Material.LUNG, container=core, clips=clips,
                bottom_centre_mm=(side * x0, y0, z0), top_centre_mm=(side * x1, y1, z1),
                semi_axes_mm=(r0, r0), top_scale=r1 / r0))
        zt, xt, yt, rt = LUNG_LEVELS[-1]
        pieces.append(Ellipsoid(
            name=f"{label}_lung_apex", material=Material.LUNG, container=core,
            clips=(*clips, half_space((0.0, 0.0, -1.0), (0.0, 0.0, zt))),
            centre_mm=(side * xt, yt, zt), semi_axes_mm=(rt, rt, LUNG_APEX_HEIGHT_MM)))
        lung = b.add(ShapeStack(name=f"{label}_lung", material=Material.LUNG, container=core, pieces=tuple(pieces)))
        medial = clips[:1]
        centre, semi = DOMES[0 if side > 0 else 1]
        normal = np.asarray(HEART_DOME_NORMALS[0 if side > 0 else 1]) * np.array([side, 1.0, 1.0])
        normal = normal / np.linalg.norm(normal)
        above_dome = (_vec(-normal), -_dome_support_mm(centre, semi, normal) - HEART_DOME_GAP_MM)
        b.ellipsoid(f"heart_{label}", Material.SOFT_TISSUE, lung, HEART_CENTRE_MM, HEART_SEMI_AXES_MM,
                    heart_rotation, (*medial, above_dome))
        floor = half_space((0.0, 0.0, -1.0), (0.0, 0.0, LUNG_LEVELS[0][0]))
        dome = b.ellipsoid(f"{label}_hemidiaphragm", Material.SOFT_TISSUE, lung, centre, semi, clips=(*clips, floor))
        if side > 0:
            b.ellipsoid("gastric_bubble", Material.AIR, dome, *GASTRIC_BUBBLE)
            b.ellipsoid("aortic_knob", Material.SOFT_TISSUE, lung, *AORTIC_KNOB, clips=medial)
        else:
            b.ellipsoid("right_mediastinal_border", Material.SOFT_TISSUE, lung, *RIGHT_MEDIASTINUM, clips=medial)
    bottom, top, semi = TRACHEA
    b.add(EllipticCylinder(name="trachea", material=Material.AIR, container=core, bottom_centre_mm=bottom,
                           top_centre_mm=top, semi_axes_mm=semi))


def _shoulder_girdle(b: _Builder, core: int) -> None:
    for name, (centre, semi) in zip(("manubrium", "sternum", "xiphoid"), STERNUM, strict=True):
        b.ellipsoid(name, Material.TRABECULAR_BONE, core, centre, semi)
    path = np.asarray(CLAVICLE_PATH_MM)
    for side, label in ((1, "left"), (-1, "right")):
        _chain(b, f"{label}_clavicle", core, path * np.array([side, 1.0, 1.0]), CLAVICLE_SEMI_MM, 0.0)


def _pelvis(b: _Builder, core: int) -> None:
    """Sacrum, coccyx, and per side: iliac wing, acetabulum, femoral head/neck/trochanter/shaft, pubis, ischium."""
    axis = np.asarray(SACRUM_AXIS) / np.linalg.norm(SACRUM_AXIS)
    top = np.asarray(SACRUM_TOP_MM)
    rotation = frame(axis, (1.0, 0.0, 0.0))
    along = 0.0
    for i, (length, half_width, half_thick) in enumerate(SACRUM_SEGMENTS):
        p0, p1 = top + along * axis, top + (along + length) * axis
        clips = (half_space(-axis, p0), half_space(axis, p1))
        b.bone(f"sacrum_{i + 1}", core, 0.5 * (p0 + p1), (0.6 * length, half_width, half_thick), rotation, clips)
        along += length
    b.ellipsoid("coccyx", Material.TRABECULAR_BONE, core, *COCCYX)
    for side, label in ((1, "left"), (-1, "right")):
        m = np.array([side, 1.0, 1.0])
        centre, in_plane, semi = ILIAC_WING
        tilt = np.radians(ILIAC_WING_TILT_DEG)
        long_axis = np.cos(tilt) * m * np.asarray(in_plane) + np.sin(tilt) * np.array([0.0, 0.0, 1.0])
        wing_axes = frame(long_axis, (0.0, 0.0, 1.0))
        b.bone(f"{label}_iliac_wing", core, m * centre, semi, wing_axes, cortex_mm=WING_CORTEX_MM)
        head_centre, head_radius = FEMORAL_HEAD_MM
        h = m * head_centre
        cup_axis, cut, outer, joint = ACETABULUM
        n = m * np.asarray(cup_axis)
        n /= np.linalg.norm(n)
        in_cup = (half_space(-n, h - cut * n),)
        below_cup = half_space(n, h - cut * n)
        neck_axis, neck_start, neck_end, neck_radius = FEMORAL_NECK
        u = m * np.asarray(neck_axis)
        u /= np.linalg.norm(u)
        head_side = half_space(u, h + neck_start * u)
        cup = b.ellipsoid(f"{label}_acetabulum", Material.CORTICAL_BONE, core, h, (outer,) * 3, clips=in_cup)
        space = b.ellipsoid(f"{label}_hip_joint", Material.SOFT_TISSUE, cup, h, (joint,) * 3, clips=in_cup)
        b.ellipsoid(f"{label}_femoral_head_top", Material.TRABECULAR_BONE, space, h, (head_radius,) * 3,
                    clips=(*in_cup, head_side))
        b.ellipsoid(f"{label}_femoral_head", Material.TRABECULAR_BONE, core, h, (head_radius,) * 3,
                    clips=(below_cup, head_side))
        neck_mid = h + 0.5 * (neck_start + neck_end) * u
        neck_clips = (half_space(-u, h + neck_start * u), half_space(u, h + neck_end * u))
        b.bone(f"{label}_femoral_neck", core, neck_mid, (0.5 * (neck_end - neck_start) + 12.0, neck_radius,
               neck_radius), frame(u, (0.0, 0.0, 1.0)), neck_clips)
        t_centre, t_semi, t_bottom = TROCHANTER
        b.bone(f"{label}_trochanter", core, m * t_centre, t_semi,
               clips=(half_space(-u, h + neck_end * u), half_space((0.0, 0.0, -1.0), (0.0, 0.0, t_bottom))))
        shaft_top, shaft_bottom, shaft_radius = FEMORAL_SHAFT
        shaft = b.add(EllipticCylinder(name=f"{label}_femoral_shaft", material=Material.CORTICAL_BONE,
                                       container=core, bottom_centre_mm=_vec(m * shaft_bottom),
                                       top_centre_mm=_vec(m * shaft_top), semi_axes_mm=(shaft_radius,) * 2))
        b.add(EllipticCylinder(name=f"{label}_femoral_marrow", material=Material.ADIPOSE, container=shaft,
                               bottom_centre_mm=_vec(m * shaft_bottom), top_centre_mm=_vec(m * shaft_top),
                               semi_axes_mm=(shaft_radius - SHAFT_CORTEX_MM,) * 2))
        b.ellipsoid(f"{label}_pubic_body", Material.TRABECULAR_BONE, core, m * PUBIC_BODY[0], PUBIC_BODY[1])
        for ramus_name, (p0, p1, radius) in (("superior_ramus", SUPERIOR_RAMUS), ("inferior_ramus", INFERIOR_RAMUS)):
            a, c = m * np.asarray(p0), m * np.asarray(p1)
            d = c - a
            b.bone(f"{label}_{ramus_name}", core, 0.5 * (a + c), (0.5 * np.linalg.norm(d), radius, radius),
                   frame(d, (0.0, 0.0, 1.0)))
        b.bone(f"{label}_ischium", core, m * ISCHIUM[0], ISCHIUM[1])
