"""Image formation: the noise-free attenuation ``-ln(I/I0)`` on every detector pixel (Beer-Lambert).

Three layers are added in the log domain:

1. **Body background** (:class:`Background`): ``Body.line_integral`` along the ray to each pixel of a coarser grid
   (3/8 of the image side), once per geometry, smoothed slightly and upsampled (Catmull-Rom). When another kVp is
   needed the body is traced once more and each ray's attenuation split into a soft-tissue and a bone mass path
   (g/cm^2), so the background at any kVp is a weighted sum of two maps.
2. **Iodine** (:class:`VesselProjector`): a tube of radius r holding iodine at concentration c adds an areal
   density ``c * chord`` with ``chord = 2 sqrt(r^2 - d^2)`` at projected distance d from its centreline, and
   ``1 / sin(angle between ray and vessel)`` more where the vessel runs along the ray. Per geometry, each pixel
   near a vessel is tied to the nearest point of each branch's projected centreline (a distance transform per
   branch), giving a sparse matrix: pixels x centreline samples -> mm of vessel. Per pulse the iodine image is one
   sparse product with the samples' concentrations. Where a child branch starts inside its parent, its samples
   inside the parent's lumen are left out (the parent's tube already holds that iodine) and branch ends are round,
   so bifurcations close smoothly; elsewhere branches overlapping in projection add up, as they do on film. The
   chord profile is averaged over each pixel's width, so a vessel thinner than a pixel keeps its iodine mass.
3. **Instruments** (:func:`add_tubes`): each tube (:mod:`.shapes`) is projected segment by segment and drawn
   column by column along each segment's major axis, every pixel of its band getting the pixel-averaged chord
   at its distance from the centreline (an annulus for a catheter wall or a marker band), lengthened where the
   device runs along the ray. Metal attenuates in excess of the tissue it displaces.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage, sparse

from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.imaging import attenuation as A
from game.sim.imaging.carm import CArm
from game.sim.imaging.shapes import Radiopacity, Tube
from game.sim.imaging.tubes_kernel import draw_segments, pixel_chord
from game.sim.materials import (
    CORTICAL_BONE_DENSITY_G_PER_CM3,
    SOFT_TISSUE_DENSITY_G_PER_CM3,
    Material,
    linear_attenuation_per_mm,
)

#: Rays per side of the body background's grid, as a fraction of the image side (192 for 512: the body's edges are
#: smooth enough that a finer grid shows no difference once upsampled).
BACKGROUND_GRID_FRACTION = 0.375
#: Gaussian blur (in grid steps) of the coarse background before upsampling: hides the staircase of point-sampled
#: bone edges; about the unsharpness of a real chain (focal spot, detector) at a narrow field.
BACKGROUND_SMOOTHING_PX = 0.6
MIN_BACKGROUND_GRID_PX = 64
#: The two tube voltages whose backgrounds define the soft-tissue / bone split.
BASIS_KVP = (70.0, 90.0)
#: Side of the AEC's central measuring field, as a fraction of the image side.
AEC_FIELD_FRACTION = 0.4
#: Cap on the 1 / sin(angle) lengthening of a vessel or device seen nearly end-on.
MAX_OBLIQUITY = 4.0
#: Spacing (px) of the points that trace projected centrelines.
TRACE_STEP_PX = 0.5
#: Geometries kept in each cache.
CACHE_SIZE = 6
#: mgI/mL x mm -> mgI/cm^2.
MG_PER_CM2_PER_MG_PER_ML_MM = 0.1


# ===================================================================================================== body
class Background:
    """The body's attenuation at one geometry, for any kVp.

    The body is traced at 70 kVp when the geometry is new; the first request for another kVp traces it once
    more at 90 kVp, which splits every ray's attenuation into a soft-tissue and a bone mass path (g/cm^2): from
    then on any kVp is a weighted sum of the two, with no further tracing.
    """

    def __init__(self, body, carm: CArm, size_px: int, grid_px: int):
        self.key = carm.geometry_key()
        self.size_px = size_px
        self.grid_px = grid_px
        self._body = body
        self._source = carm.source_mm
        self._directions = carm.ray_directions(size_px, grid_px).reshape(-1, 3)
        self._coarse: dict[float, np.ndarray] = {BASIS_KVP[0]: self._trace(BASIS_KVP[0])}
        self._basis: tuple[np.ndarray, np.ndarray] | None = None
        self._full: dict[float, np.ndarray] = {}
        self._measuring: dict[float, float] = {}

    def _trace(self, kvp: float) -> np.ndarray:
        values = self._body.line_integral(self._source, self._directions, A.body_mu_per_mm(kvp))
        return np.asarray(values, dtype=np.float32).reshape(self.grid_px, self.grid_px)

    def coarse(self, kvp: float) -> np.ndarray:
        """-ln(I/I0) of the body on the coarse ray grid (G, G) at ``kvp``."""
        k = round(float(kvp), 3)
        if k not in self._coarse:
            if self._basis is None:
                self._basis = _split_basis(self._coarse[BASIS_KVP[0]], self._trace(BASIS_KVP[1]))
            if len(self._coarse) > 8:
                self._coarse = {BASIS_KVP[0]: self._coarse[BASIS_KVP[0]]}
            self._coarse[k] = _combine(*self._basis, k)
        return self._coarse[k]

    def line_integral(self, kvp: float) -> np.ndarray:
        """-ln(I/I0) of the body (S, S) float32 at ``kvp`` (cached, read-only)."""
        k = round(float(kvp), 3)
        if k not in self._full:
            if len(self._full) > 4:
                self._full.clear()
            coarse = self.coarse(k)
            if self.grid_px < self.size_px:  # soften point-sampled edges before upsampling (anti-aliasing)
                coarse = ndimage.gaussian_filter(coarse, BACKGROUND_SMOOTHING_PX, mode="nearest")
            full = upsample(coarse, self.size_px)
            full.flags.writeable = False
            self._full[k] = full
        return self._full[k]

    def measuring_log(self, kvp: float) -> float:
        """-ln of the mean transmission over the AEC's central measuring field at ``kvp``."""
        k = round(float(kvp), 3)
        if k not in self._measuring:
            field_ = _central(self.coarse(k), AEC_FIELD_FRACTION).astype(np.float64)
            self._measuring[k] = float(-np.log(np.mean(np.exp(-field_))))
        return self._measuring[k]

    def water_path_mm(self) -> float:
        """Water-equivalent path length (mm) on the measuring field, at 70 kVp: what the AEC reads."""
        return self.measuring_log(BASIS_KVP[0]) / A.water_mu_per_mm(BASIS_KVP[0])


@lru_cache(maxsize=1024)
def _basis_mass_attenuation(kvp: float) -> tuple[float, float]:
    """mu/rho (cm^2/g) of soft tissue and cortical bone at the mean energy of ``kvp``."""
    e = A.mean_energy_keV(kvp)
    soft = linear_attenuation_per_mm(Material.SOFT_TISSUE, e) * 10.0 / SOFT_TISSUE_DENSITY_G_PER_CM3
    bone = linear_attenuation_per_mm(Material.CORTICAL_BONE, e) * 10.0 / CORTICAL_BONE_DENSITY_G_PER_CM3
    return soft, bone


def _split_basis(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft-tissue and bone mass paths (g/cm^2) from the attenuation at the two basis kVps."""
    (s1, b1), (s2, b2) = (_basis_mass_attenuation(k) for k in BASIS_KVP)
    det = s1 * b2 - s2 * b1
    soft = (b2 * low - b1 * high) / det
    bone = (s1 * high - s2 * low) / det
    return soft.astype(np.float32), bone.astype(np.float32)


def _combine(soft: np.ndarray, bone: np.ndarray, kvp: float) -> np.ndarray:
    ms, mb = _basis_mass_attenuation(kvp)
    return (np.float32(ms) * soft + np.float32(mb) * bone).astype(np.float32)


@lru_cache(maxsize=8)
def _catmull_rom_matrix(grid_px: int, size_px: int) -> np.ndarray:
    """(S, G) weights that resample G samples spanning [0, S-1] onto the S pixel centres (Catmull-Rom)."""
    x = np.arange(size_px) * (grid_px - 1) / max(size_px - 1, 1)
    i0 = np.floor(x).astype(int)
    t = x - i0
    weights = np.stack(
        [
            0.5 * (-(t**3) + 2 * t**2 - t),
            0.5 * (3 * t**3 - 5 * t**2 + 2),
            0.5 * (-3 * t**3 + 4 * t**2 + t),
            0.5 * (t**3 - t**2),
        ],
        axis=1,
    )
    matrix = np.zeros((size_px, grid_px), dtype=np.float64)
    for k in range(4):
        np.add.at(matrix, (np.arange(size_px), np.clip(i0 + k - 1, 0, grid_px - 1)), weights[:, k])
    return matrix.astype(np.float32)


def upsample(coarse: np.ndarray, size_px: int) -> np.ndarray:
    """Smooth (Catmull-Rom) upsampling of a G x G map to S x S, corners on corners."""
    if coarse.shape[0] == size_px:
        return coarse.astype(np.float32, copy=True)
    w = _catmull_rom_matrix(coarse.shape[0], size_px)
    return (w @ coarse.astype(np.float32) @ w.T).astype(np.float32, copy=False)


def _central(image: np.ndarray, fraction: float) -> np.ndarray:
    n = image.shape[0]
    half = max(round(n * fraction / 2.0), 1)
    c = n // 2
    return image[c - half : c + half, c - half : c + half]


def compute_background(body, carm: CArm, size_px: int, grid_px: int | None = None) -> Background:
    """Trace the body at ``carm`` on a G x G ray grid (G defaults to 3/8 of the image side)."""
    if grid_px is None:
        grid_px = max(round(size_px * BACKGROUND_GRID_FRACTION), MIN_BACKGROUND_GRID_PX)
    return Background(body, carm, size_px, min(grid_px, size_px))


# =================================================================================================== vessels
@dataclass(frozen=True, eq=False)
class IodineFootprint:
    """Which pixels each vessel sample covers at one geometry: ``matrix`` (P, samples) holds mm of vessel."""

    rows: np.ndarray  # (P,) flat pixel indices
    matrix: sparse.csr_matrix  # (P, n_samples) float32

    def areal_density_mg_per_cm2(self, concentration_mg_per_mL: np.ndarray) -> np.ndarray:
        """Iodine areal density (P,) on :attr:`rows` for per-sample concentrations (mgI/mL)."""
        c = np.asarray(concentration_mg_per_mL, dtype=np.float32)
        return (self.matrix @ c) * np.float32(MG_PER_CM2_PER_MG_PER_ML_MM)


class VesselProjector:
    """Projects a vessel tree's lumens to the detector (cached per geometry)."""

    def __init__(self, tree: VesselTree):
        self.tree = tree
        self.points = np.concatenate([b.points_mm for b in tree.branches])
        self.radii = np.concatenate([b.radii_mm for b in tree.branches])
        self.tangents = np.concatenate([b.tangents for b in tree.branches])
        self.n_samples = len(self.points)
        self.polylines = [_visible_samples(tree, b) for b in tree.branches]
        self._cache: OrderedDict[tuple, IodineFootprint] = OrderedDict()

    def footprint(self, carm: CArm, size_px: int) -> IodineFootprint:
        key = (*carm.geometry_key(), size_px)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        fp = self._compute(carm, size_px)
        self._cache[key] = fp
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return fp

    def _compute(self, carm: CArm, size_px: int) -> IodineFootprint:
        pix, depth = carm.project(self.points, size_px)
        mag = carm.sid_mm / depth
        pixel_mm = carm.pixel_mm(size_px)
        radius_px = self.radii * mag / pixel_mm
        rays = self.points - carm.source_mm
        rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        sin_angle = np.linalg.norm(np.cross(self.tangents, rays), axis=1)
        obliquity = 1.0 / np.maximum(sin_angle, 1.0 / MAX_OBLIQUITY)
        mm_per_px = pixel_mm / mag  # at the vessel
        rows_all, cols_all, vals_all = [], [], []
        for samples in self.polylines:
            if len(samples) < 2:
                continue
            out = _branch_footprint(
                pix[samples], radius_px[samples], (obliquity * mm_per_px)[samples], samples, size_px
            )
            if out is not None:
                rows_all.append(out[0])
                cols_all.append(out[1])
                vals_all.append(out[2])
        if not rows_all:
            empty = sparse.csr_matrix((0, self.n_samples), dtype=np.float32)
            return IodineFootprint(np.zeros(0, dtype=np.int64), empty)
        rows = np.concatenate(rows_all)
        cols = np.concatenate(cols_all)
        vals = np.concatenate(vals_all).astype(np.float32)
        unique_rows, compact = np.unique(rows, return_inverse=True)
        matrix = sparse.csr_matrix((vals, (compact, cols)), shape=(len(unique_rows), self.n_samples))
        matrix.sum_duplicates()
        return IodineFootprint(unique_rows, matrix.astype(np.float32))


def _visible_samples(tree: VesselTree, branch) -> np.ndarray:
    """Global sample indices of a branch, less its leading samples that lie inside the parent's lumen."""
    first = branch.first_sample
    idx = np.arange(first, first + len(branch.s_mm))
    if branch.parent is None:
        return idx
    parent = tree.branches[branch.parent]
    near = np.abs(parent.s_mm - branch.parent_s_mm) <= 4.0 * float(parent.radii_mm.max()) + 10.0
    pp, pr = parent.points_mm[near], parent.radii_mm[near]
    if len(pp) == 0:
        return idx
    d = np.linalg.norm(branch.points_mm[:, None, :] - pp[None, :, :], axis=2)
    inside = np.any(d < pr[None, :] - 0.25, axis=1)
    outside = np.flatnonzero(~inside)
    if len(outside) == 0:
        return idx[:0]
    start = max(int(outside[0]) - 1, 0)  # keep one sample inside so the tube meets the parent's wall
    return idx[start:]


def _branch_footprint(
    pix: np.ndarray, radius_px: np.ndarray, mm_per_px: np.ndarray, samples: np.ndarray, size_px: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Pixels near one projected centreline, the sample pair each lies between, and mm of vessel per sample."""
    if not np.all(np.isfinite(pix)):
        keep = np.all(np.isfinite(pix), axis=1)
        if keep.sum() < 2:
            return None
        pix, radius_px, mm_per_px, samples = pix[keep], radius_px[keep], mm_per_px[keep], samples[keep]
    reach = float(radius_px.max()) + 2.0
    lo = np.floor(pix.min(axis=0) - reach).astype(int)
    hi = np.ceil(pix.max(axis=0) + reach).astype(int)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, size_px - 1)
    if np.any(hi < lo):
        return None
    # Trace the polyline every half pixel; f is the fractional index into the branch's samples.
    seg = np.diff(pix, axis=0)
    seg_len = np.linalg.norm(seg, axis=1)
    steps = np.maximum(np.ceil(seg_len / TRACE_STEP_PX).astype(int), 1)
    seg_of = np.repeat(np.arange(len(seg)), steps)
    within = np.arange(len(seg_of)) - np.repeat(np.cumsum(steps) - steps, steps)
    f = np.concatenate([seg_of + within / steps[seg_of], [len(pix) - 1.0]])
    trace = _lerp_rows(pix, f)
    # Rasterise the trace into the crop and find every crop pixel's nearest trace point.
    shape = (hi[1] - lo[1] + 1, hi[0] - lo[0] + 1)
    ij = np.rint(trace[:, ::-1] - lo[::-1]).astype(int)  # (row, col) in the crop
    ok = (ij[:, 0] >= 0) & (ij[:, 0] < shape[0]) & (ij[:, 1] >= 0) & (ij[:, 1] < shape[1])
    if not ok.any():
        return None
    label = np.full(shape, -1, dtype=np.int64)
    label[ij[ok, 0], ij[ok, 1]] = np.flatnonzero(ok)
    dist, nearest = ndimage.distance_transform_edt(label < 0, return_distances=True, return_indices=True)
    candidate = dist <= reach
    rr, cc = np.nonzero(candidate)
    which = label[nearest[0][rr, cc], nearest[1][rr, cc]]
    fj = f[which]
    q = np.stack([cc + lo[0], rr + lo[1]], axis=1).astype(np.float64)
    # Local tangent of the projected centreline at fj.
    k0 = np.minimum(np.floor(fj).astype(int), len(pix) - 2)
    tangent = seg[k0] / np.maximum(seg_len[k0], 1e-9)[:, None]
    rel = q - trace[which]
    along = rel[:, 0] * tangent[:, 0] + rel[:, 1] * tangent[:, 1]
    perp = np.abs(rel[:, 0] * tangent[:, 1] - rel[:, 1] * tangent[:, 0])
    frac = fj - k0
    r = radius_px[k0] + frac * (radius_px[k0 + 1] - radius_px[k0])
    scale = mm_per_px[k0] + frac * (mm_per_px[k0 + 1] - mm_per_px[k0])
    # Round ends: beyond the first and last samples the lumen is closed by a hemisphere (a disc in projection),
    # so that a child's start and its parent's end overlap into one smooth lumen at a bifurcation.
    beyond = np.where(fj >= len(pix) - 1.0 - 1e-9, along, np.where(fj <= 1e-9, -along, 0.0))
    distance = np.where(beyond > 0.0, np.hypot(perp, beyond), perp)
    mm = pixel_chord(distance, r) * scale
    keep = mm > 1e-6
    if not keep.any():
        return None
    rows = (q[keep, 1].astype(np.int64)) * size_px + q[keep, 0].astype(np.int64)
    k0, frac, mm = k0[keep], frac[keep], mm[keep]
    rows2 = np.concatenate([rows, rows])
    cols2 = np.concatenate([samples[k0], samples[k0 + 1]])
    vals2 = np.concatenate([mm * (1.0 - frac), mm * frac])
    return rows2, cols2, vals2


def _lerp_rows(values: np.ndarray, f: np.ndarray) -> np.ndarray:
    k = np.minimum(np.floor(f).astype(int), len(values) - 2)
    t = (f - k)[:, None]
    return values[k] * (1.0 - t) + values[k + 1] * t


# ================================================================================================ instruments
@lru_cache(maxsize=1024)
def tube_mu_per_mm(material: Radiopacity, kvp: float) -> float:
    """Excess linear attenuation (1/mm) of a tube's material over the tissue it displaces."""
    if material == Radiopacity.CATHETER_WALL:
        mu0, _ = A.iodine_coefficients(kvp)  # cm^2/g
        return mu0 * A.CATHETER_WALL_IODINE_EQUIVALENT_MG_PER_ML * 1e-3 / 10.0
    return A.metal_mu_per_mm(str(material), kvp)


def add_tubes(image: np.ndarray, tubes: list[Tube], carm: CArm, kvp: float) -> np.ndarray | None:
    """Add the attenuation of ``tubes`` to ``image`` (S, S) float32 -ln(I/I0), in place. Returns the flat indices
    of the pixels changed (with repeats), or None when no tube is in view.

    Each projected segment is drawn column by column along its major axis (as in Wu's anti-aliased lines): in
    every column it crosses, the pixels within its band get the pixel-averaged chord at their perpendicular
    distance from its centreline. Consecutive segments share no column, so a polyline is drawn once; crossing
    parts add up. All segments are drawn at once: a column runs along x or y by the segment's major axis, and
    its pixels' flat indices follow from per-segment strides.
    """
    segments = _tube_segments(tubes, carm, image.shape[0], kvp)
    if segments is None:
        return None
    changed = draw_segments(image, *segments)
    return changed if len(changed) else None


def _tube_segments(tubes: list[Tube], carm: CArm, size_px: int, kvp: float):
    """Projected segments of every tube: ends (M, 2) px, outer and inner radius px, and the exponent per px of
    chord (mu x mm per px at the device x obliquity), or None when nothing is in view. A tube with a point
    behind the focal spot (or not projectable) is left out. All tubes are projected at once."""
    tubes = [tube for tube in tubes if len(tube.points_mm) >= 2]
    if not tubes:
        return None
    p3 = np.concatenate([np.asarray(tube.points_mm, dtype=float) for tube in tubes])
    n_points = np.array([len(tube.points_mm) for tube in tubes])
    outer = np.array([tube.outer_radius_mm for tube in tubes], dtype=float)
    inner = np.array([tube.inner_radius_mm for tube in tubes], dtype=float)
    mu = np.array([tube_mu_per_mm(tube.material, kvp) for tube in tubes])
    pix, depth = carm.project(p3, size_px)
    starts = np.cumsum(n_points) - n_points
    bad_point = ~(np.isfinite(pix).all(axis=1) & (depth > 0))
    bad_tube = np.add.reduceat(bad_point.astype(np.int64), starts) > 0
    # Segment k joins points k and k + 1; a tube's last point starts none.
    tube_of = np.repeat(np.arange(len(tubes)), n_points)[:-1]
    joins = np.ones(len(p3) - 1, dtype=bool)
    joins[starts[1:] - 1] = False
    a, b = pix[:-1], pix[1:]
    margin = (2.0 + 4.0 * outer[tube_of])[:, None]
    with np.errstate(invalid="ignore"):
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        visible = np.all((hi > -margin) & (lo < size_px + margin), axis=1)
    k = np.flatnonzero(joins & visible & ~bad_tube[tube_of])
    if len(k) == 0:
        return None
    t = tube_of[k]
    a, b = a[k], b[k]
    mm_per_px = carm.pixel_mm(size_px) * (0.5 * (depth[k] + depth[k + 1])) / carm.sid_mm
    len2 = np.linalg.norm(b - a, axis=1)
    len3 = np.linalg.norm(p3[k + 1] - p3[k], axis=1)
    obliquity = np.minimum(np.maximum(len3 / np.maximum(len2 * mm_per_px, 1e-9), 1.0), MAX_OBLIQUITY)
    return a, b, outer[t] / mm_per_px, inner[t] / mm_per_px, mu[t] * mm_per_px * obliquity


# =================================================================================================== renderer
class Renderer:
    """Forms the noise-free log image of body, iodine and instruments at a C-arm geometry (caches per geometry)."""

    def __init__(self, body, tree: VesselTree | None, size_px: int = 512, grid_px: int | None = None):
        self.body = body
        self.tree = tree
        self.size_px = size_px
        self.grid_px = grid_px
        self.vessels = VesselProjector(tree) if tree is not None else None
        self._backgrounds: OrderedDict[tuple, Background] = OrderedDict()
        self._last: tuple[CArm, Background] | None = None

    def background(self, carm: CArm) -> Background:
        if self._last is not None and self._last[0] is carm:  # the same (immutable) C-arm as last time
            return self._last[1]
        bg = self._background(carm)
        self._last = (carm, bg)
        return bg

    def _background(self, carm: CArm) -> Background:
        key = carm.geometry_key()
        if key in self._backgrounds:
            self._backgrounds.move_to_end(key)
            return self._backgrounds[key]
        bg = compute_background(self.body, carm, self.size_px, self.grid_px)
        self._backgrounds[key] = bg
        if len(self._backgrounds) > CACHE_SIZE:
            self._backgrounds.popitem(last=False)
        return bg

    def iodine_exponent(
        self, carm: CArm, kvp: float, concentration_mg_per_mL: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(flat pixel indices, -ln(I/I0) of iodine there), or None without iodine."""
        if self.vessels is None or concentration_mg_per_mL is None:
            return None
        c = np.asarray(concentration_mg_per_mL, dtype=np.float32)
        if not np.any(c > 0):
            return None
        fp = self.vessels.footprint(carm, self.size_px)
        if len(fp.rows) == 0:
            return None
        return fp.rows, A.iodine_exponent(fp.areal_density_mg_per_cm2(c), kvp).astype(np.float32)

    def render(
        self,
        carm: CArm,
        kvp: float,
        concentration_mg_per_mL: np.ndarray | None = None,
        tubes: list[Tube] = (),
        include_body: bool = True,
        stats: dict | None = None,
        changed: list[np.ndarray] | None = None,
    ) -> np.ndarray:
        """-ln(I/I0) (S, S) float32: body at ``kvp`` + iodine at the per-sample concentrations + instruments.

        ``stats``, if given, receives ``"iodine"``: the summed iodine attenuation of the image (how opacified).
        ``changed``, if given, receives arrays of the flat indices (repeats allowed) of every pixel where iodine
        or an instrument was added: elsewhere the image is the body's background."""
        if include_body:
            image = self.background(carm).line_integral(kvp).copy()
        else:
            image = np.zeros((self.size_px, self.size_px), dtype=np.float32)
        iodine = self.iodine_exponent(carm, kvp, concentration_mg_per_mL)
        if iodine is not None:
            rows, values = iodine
            image.reshape(-1)[rows] += values
            if stats is not None:
                stats["iodine"] = float(values.sum())
            if changed is not None:
                changed.append(rows)
        touched = add_tubes(image, list(tubes), carm, kvp)
        if touched is not None and changed is not None:
            changed.append(touched)
        return image
