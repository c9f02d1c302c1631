"""The elastic rod: an inextensible, pre-curved, twist-free rod solved quasi-statically by a banded Newton method.

Method, and why
---------------
Catheters and guidewires in blood are overdamped: inertia is negligible and the shape at any instant is the
equilibrium of bending, the vessel wall and the insertion imposed at the hub. So each fixed step solves that
equilibrium (quasi-static energy minimisation) instead of integrating dynamics, which also makes the result
independent of the timestep apart from how far the hub moved. The rod is a chain of nodes ``x_0 .. x_N`` (mm); ``x_0``
is clamped at the sheath, with the sheath's direction, and the step minimises

    E(x) = sum_k EI_k / (2 l_k) |e_k/h_k - e_(k-1)/h_(k-1) - beta_k|^2       bending (discrete Euler-Bernoulli)
         + sum_n k_c/2 max(0, -gap_n)^2                                        wall (one-sided stiff penalty)
         + sum_n mu/2 |x_n - x_n(previous step)|^2 - f_ext . x               drag and external loads

on the set of chains whose edges ``e_j = x_(j+1) - x_j`` keep their rest lengths ``h_j`` (inextensibility). ``l_k``
is the length a joint stands for and ``beta_k = 2 sin(alpha_k / 2) m_k`` the rest turn of joint ``k``: its rest
turning angle ``alpha_k`` toward the material normal ``m_k``. With exact edge lengths ``e_k/h_k - e_(k-1)/h_(k-1)``
is the difference of unit tangents, ``2 sin(theta / 2)`` toward the curve's normal, so bending energy is zero
exactly on the rest shape and tends to ``EI kappa^2 / 2`` per length. Which way round the rod ``m_k`` points
comes from the material frame (below); inside the energy each rest turn is kept perpendicular to its joint's
current bisector, so the energy does not care where a joint points - a curved tip swings into place within a step
- and the Gauss-Newton model uses the matching ``c_k (I - b_k b_k^T)`` bending blocks.

Each Newton iteration (a few per step, warm-started from the last step):

1. Assembles gradient and Hessian with a stiff stretch penalty ``k_s (|e| - h)^2 / 2`` standing in for the
   linearised length constraints (plus the geometric stiffness of edges in tension, estimated from the last solve).
   With each node's three coordinates interleaved, bending couples nodes two apart: the 3N x 3N matrix is banded
   (half-bandwidth 8) and LAPACK's banded Cholesky (``dpbtrf``/``dpbtrs``) solves it in O(N), about 40 us for 150
   nodes. A direct solve moves every node consistently in one iteration: a push at the hub reaches the tip at
   once, long free spans (a Simmons loop in the arch) relax within a step, and static answers (a cantilever's
   ``F L^3 / 3EI``) come out to discretisation accuracy - none of which Jacobi-style position-based dynamics gives
   at 100+ nodes in a few iterations.
2. Resolves wall contact with a primal working set: nodes on (or through) their wall's tangent plane get a stiff
   normal spring, the wall's curvature adds ``F / r`` of sideways stiffness, nodes the wall would have to pull are
   released, and a ratio test stops the step where the first free node reaches its wall.
3. Limits the step to :data:`MAX_NODE_STEP_MM` per node (a trust region: the linearisation holds for rotations of
   ~15 degrees per edge), *retracts* onto the inextensible chains (each edge keeps its new direction and its rest
   length, rebuilt from the clamp - exact inextensibility at every iterate) and backtracks until the energy
   decreases, so the iteration cannot diverge.

The wall forces a solve returns are the contact reactions of its last iterate, and are the rod's wall forces only
once the iteration has converged. A step's few iterations usually get there; when they do not, what is left
finishes over the next steps, which is invisible in the shape but not in the forces: a node that the tip's growth
put through the wall, pushed back onto it, loads the wall with whatever the rod's stiffness resists over a
fraction of a millimetre - newtons for a catheter - until the rod has turned to where the wall no longer needs to
push; and a floppy tip balanced on the lip of an ostium, or pressed end-on into a wall, creeps off sideways in
steps the Gauss-Newton model (which has no negative curvature) keeps small, so that the early stop for a short
step - meant for quadratic convergence - ends the solve while the rod is still far from equilibrium. So the caller
names the groups of nodes whose reaction it reads (``watch``: the devices' tip windows), each with the force from
which on a reading counts (what could start or escalate a complication). While one does, the solve does not stop
early: it goes on, up to ``settle_iterations`` beyond the budget, until the step is really converged, and lets
each step run on along its direction while the energy keeps falling (up to the trust region) - a tip pointed into
the wall deflects and slides, and only what the rod still presses at equilibrium is reported. Steps that read
nothing that counts - all of ordinary navigation - iterate exactly as before.

Twist: torque transmission along a short, torsionally stiff shaft is taken as 1:1 (no whip), and an isotropic
rod with no torque at its tip carries uniform (here: zero) twist, so the material frame is the Bishop
(parallel-transported) frame from the sheath, turned by the hub angle. It is computed in O(N) vectorised form
with reference frames and the discrete reference twist of Bergou et al. (discrete elastic rods, 2010).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

try:  # einsum's kernel without its Python wrapper (a third of its cost on the rod's small arrays)
    from numpy._core.multiarray import c_einsum
except ImportError:  # numpy < 2
    from numpy.core.multiarray import c_einsum

#: Axial penalty stiffness per edge, N/mm: 1 N of tension stretches an edge by 1e-7 mm, so rebuilding the chain from
#: the clamp (the retraction) moves the tip by well under a micrometre; the system stays solvable in double precision.
STRETCH_STIFFNESS_N_PER_MM = 1.0e7
#: Wall penalty stiffness per node, N/mm: 1 N of contact force leaves 1e-4 mm of penetration. The wall force on a
#: node is this stiffness times its penetration in the converged linear model, i.e. the constraint's reaction.
CONTACT_STIFFNESS_N_PER_MM = 1.0e4
#: A node of the contact working set stays in it only while it is on its wall, within this gap, mm.
HOLD_GAP_MM = 0.01
#: Backtracking halvings tried per Newton iteration before the step is taken as it is.
LINE_SEARCH_STEPS = 4
#: A solve also stops once a Newton step would gain less than this energy, N*mm (10 uN over 1 mm): what is left is
#: a floppy tip creeping along an almost flat valley, which the next steps finish.
ENERGY_TOLERANCE_N_MM = 1.0e-5
#: A full, unclipped Newton step shorter than this multiple of the tolerance (0.2 mm) ends the solve: what is left is
#: a small fraction of it, invisible, and the next step goes on from there; a confirming iteration would cost as much
#: as the step itself.
QUADRATIC_STOP = 20.0
#: Most solves per Newton iteration while nodes the wall would pull are released.
ACTIVE_SET_PASSES = 3
#: A node joins the contact set when the step would push it through its wall, and leaves it when the wall would
#: have to pull it, by more than this force, N (0.1 mN: no visible adhesion, no flip-flopping at zero force).
CONTACT_SLACK_N = 1e-4
#: Wall penetration (mm) left as it is at the end of a step: the penalty's own equilibrium penetration is F / k_c,
#: 1e-4 mm at 1 N. Deeper nodes (an unconverged step) are put back on the wall.
PENETRATION_TOLERANCE_MM = 0.02
#: Largest node displacement in one Newton iteration, mm; a larger step is scaled down as a whole (trust region).
MAX_NODE_STEP_MM = 0.5
#: Reference axes for the per-edge reference frames (any fixed, non-parallel pair works; see ``edge_frames``).
_REFERENCE_AXIS = np.array([0.0, 0.0, 1.0])
_FALLBACK_AXIS = np.array([1.0, 0.0, 0.0])
_PARALLEL_COS = 0.9
_BAND = 8  # half-bandwidth of the interleaved 3N system


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of (n, 3) arrays: ``np.einsum("ij,ij->i", a, b)``, the same kernel and so the same bits."""
    return c_einsum("ij,ij->i", a, b)


@dataclass(frozen=True)
class Clamp:
    """Where the rod leaves the sheath: position (mm), unit direction, and the unit normal that hub angle 0 bends to."""

    position_mm: np.ndarray
    direction: np.ndarray
    normal: np.ndarray


@dataclass(frozen=True)
class Walls:
    """A local lumen constraint per node: stay within ``clearance_mm`` of the centreline segment from
    ``start_mm`` to ``start_mm + segment_mm`` (extended along the vessel, capped where the vessel ends, as the
    tubes of the vessel tree). ``clearance_mm`` is the lumen radius minus the instrument's radius."""

    start_mm: np.ndarray  # (n, 3)
    segment_mm: np.ndarray  # (n, 3)
    clearance_mm: np.ndarray  # (n,)
    #: (n, 2) limits of the segment parameter: 0 and 1 where the segment ends its vessel (a spherical cap), -inf
    #: and +inf along the vessel (an open cylinder, so that a node sliding on needs no new segment at once).
    limits: np.ndarray

    def __post_init__(self) -> None:
        # Per-segment constants, and the last full evaluation (reused by wall_curvature at the same shape).
        length2 = row_dot(self.segment_mm, self.segment_mm)
        object.__setattr__(self, "_length2", np.maximum(length2, 1e-12))
        object.__setattr__(self, "_length", np.maximum(np.sqrt(length2), 1e-12))
        object.__setattr__(self, "_low", np.ascontiguousarray(self.limits[:, 0]))
        object.__setattr__(self, "_high", np.ascontiguousarray(self.limits[:, 1]))
        object.__setattr__(self, "_last", (None, None, None, None))

    def _radial(self, rows, x_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        seg = self.segment_mm[rows]
        rel = x_mm - self.start_mm[rows]
        t = row_dot(rel, seg) / self._length2[rows]
        clipped = np.minimum(np.maximum(t, self._low[rows]), self._high[rows])
        radial = rel - clipped[:, None] * seg
        return radial, np.sqrt(row_dot(radial, radial)), clipped == t

    def gaps(self, x_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Signed gap to the wall (mm, > 0 inside) and outward unit normal for each node."""
        radial, dist, beside = self._radial(slice(None), x_mm)
        object.__setattr__(self, "_last", (x_mm, radial, dist, beside))
        return self.clearance_mm - dist, radial / np.maximum(dist, 1e-12)[:, None]

    def wall_curvature(self, rows: np.ndarray, x_mm: np.ndarray) -> np.ndarray:
        """Curvature of the distance to the centreline, ``(I - a a^T - n n^T) / distance`` (``a`` the segment's
        direction beside it, none off its ends), at nodes ``rows``: (k, 6), the lower entries (00, 11, 22, 10, 21,
        20) of each symmetric 3x3 matrix."""
        last_x, radial, dist, beside = self._last
        if last_x is x_mm:  # the shape gaps() was last asked about (the same array object)
            radial, dist, beside = radial[rows], dist[rows], beside[rows]
        else:
            radial, dist, beside = self._radial(rows, x_mm[rows])
        dist = np.maximum(dist, 1e-9)
        n = radial / dist[:, None]
        a = self.segment_mm[rows] / self._length[rows, None] * beside[:, None]
        tangential = _EYE6 - _lower_outer(a) - _lower_outer(n)
        return tangential / dist[:, None]


@dataclass(frozen=True)
class SolveResult:
    x_mm: np.ndarray  # (N+1, 3) node positions
    normal_force_N: np.ndarray  # (N+1,) wall reaction on each node
    normal: np.ndarray  # (N+1, 3) outward wall normal at each node (meaningful where the force is > 0)
    at_rest: bool = False  # the start was already the equilibrium: nothing moved


# --- material frame -------------------------------------------------------------------------------------------
def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n, 3) arrays (``np.cross`` has ~20 us of overhead per call)."""
    return a[:, _NEXT] * b[:, _AFTER] - a[:, _AFTER] * b[:, _NEXT]


def edge_frames(x_mm: np.ndarray, clamp: Clamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit tangent ``t``, Bishop normal ``u`` and binormal ``w = t x u`` of the sheath edge and of every edge.

    Row 0 is the (virtual) edge inside the sheath, whose frame is the clamp's; row ``j + 1`` is edge ``j``.
    Each edge gets an arbitrary reference normal (a fixed axis projected onto its normal plane); the reference
    twist between neighbours (the angle between a reference transported across the joint and the next one) is
    summed from the sheath, which turns the references into the parallel-transported frame.
    """
    t = np.empty((len(x_mm), 3))
    t[0] = clamp.direction
    e = x_mm[1:] - x_mm[:-1]
    t[1:] = e / np.sqrt(row_dot(e, e))[:, None]
    near = np.abs(t[:, 2]) > _PARALLEL_COS  # reference: the z axis, or the x axis for edges nearly along z
    ref = np.where(near[:, None], _FALLBACK_AXIS, _REFERENCE_AXIS) - np.where(near, t[:, 0], t[:, 2])[:, None] * t
    ref /= np.sqrt(row_dot(ref, ref))[:, None]
    ref[0] = clamp.normal
    a, b = t[:-1], t[1:]
    k = cross(a, b)
    cos = row_dot(a, b)
    v = ref[:-1]
    kv = cross(k, v)
    moved = v + kv + cross(k, kv) / np.maximum(1.0 + cos, 1e-9)[:, None]
    twist = np.arctan2(row_dot(cross(moved, ref[1:]), b), row_dot(moved, ref[1:]))
    psi = np.concatenate([[0.0], -np.add.accumulate(twist)])
    w_ref = cross(t, ref)
    cos_psi, sin_psi = np.cos(psi)[:, None], np.sin(psi)[:, None]
    u = cos_psi * ref + sin_psi * w_ref
    w = cos_psi * w_ref - sin_psi * ref
    return t, u, w


def joint_frames(t: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal (normal, binormal) at each joint, perpendicular to the bisector of its two edges."""
    bisector = t[:-1] + t[1:]
    bisector /= np.maximum(row_norm(bisector), 1e-12)
    normal = u[:-1] + u[1:]
    normal -= row_dot(normal, bisector)[:, None] * bisector
    normal /= np.maximum(row_norm(normal), 1e-12)
    return normal, cross(bisector, normal)


def rest_turn(
    normal: np.ndarray, binormal: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray, float]]
) -> np.ndarray:
    """The combined rest turn vector ``beta`` (N, 3) of coaxial layers sharing one centreline.

    ``layers`` holds, per device, its stiffness at each joint (N*mm^2, zero where it is absent), its rest turning
    angle there (rad) and its hub angle (rad). Bending moments of coaxial layers add, so the combined rod has the
    summed stiffness and the stiffness-weighted mean of the rest curvature vectors: a stiff wire straightens a
    shaped catheter, and withdrawing it lets the catheter's shape return.
    """
    total = np.zeros(len(normal))
    beta = np.zeros_like(normal)
    for stiffness, turn, angle_rad in layers:
        direction = np.cos(angle_rad) * normal + np.sin(angle_rad) * binormal
        beta += (stiffness * 2.0 * np.sin(turn / 2.0))[:, None] * direction
        total += stiffness
    return beta / np.maximum(total, 1e-12)[:, None]


# --- the solver -----------------------------------------------------------------------------------------------
class RodSolver:
    """Banded Gauss-Newton solver for the energy in the module docstring. Holds only index caches (no state)."""

    def __init__(
        self,
        stretch_N_per_mm: float = STRETCH_STIFFNESS_N_PER_MM,
        contact_N_per_mm: float = CONTACT_STIFFNESS_N_PER_MM,
    ):
        self.stretch_N_per_mm = stretch_N_per_mm
        self.contact_N_per_mm = contact_N_per_mm
        self._patterns: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.last_iterations = 0  # diagnostics: Newton iterations of the last solve
        self.last_converged = True  # diagnostics: whether the last solve reached its tolerance

    def solve(
        self,
        x_mm: np.ndarray,
        edge_mm: np.ndarray,
        joint_stiffness_N_mm2: np.ndarray,
        beta: np.ndarray,
        clamp: Clamp,
        *,
        iterations: int,
        tolerance_mm: float = 0.0,
        settle_iterations: int = 0,
        watch: tuple[tuple[np.ndarray, float], ...] = (),
        contact_N: np.ndarray | None = None,
        walls: Walls | None = None,
        force_N: np.ndarray | None = None,
        anchor_mm: np.ndarray | None = None,
        drag_N_per_mm: float = 0.0,
    ) -> SolveResult:
        """Minimise the rod energy from ``x_mm`` (N+1, 3) with node 0 held; returns the new shape and wall forces.

        ``edge_mm`` (N,) are the rest lengths, ``joint_stiffness_N_mm2`` (N,) the bending stiffness at joints
        0..N-1 (joint 0 sits at the clamp), ``beta`` (N, 3) their rest turns (see :func:`rest_turn`).
        ``anchor_mm`` and ``drag_N_per_mm`` add the step's drag ``mu |x - anchor|^2 / 2`` per node; ``force_N``
        (N+1, 3) are external loads; ``contact_N`` (N+1,), the wall forces of the previous step, seeds the contact
        set. At most ``iterations`` Newton iterations (see the module docstring); stops early once no node would
        move more than ``tolerance_mm`` or the energy gain falls below :data:`ENERGY_TOLERANCE_N_MM`. ``watch``
        holds groups of nodes whose summed wall reaction the caller reads, each with the force from which on it
        counts: while one does, the solve runs on to convergence, up to ``settle_iterations`` more (module
        docstring).
        """
        x = np.array(x_mm, dtype=float)
        n = len(edge_mm)
        if n == 0:
            return SolveResult(x, np.zeros(1), np.zeros((1, 3)))
        moved_first = False
        if walls is not None:  # start from the wall where the tip's growth pushed nodes through it
            gap, nrm = walls.gaps(x)
            out = (gap[1:] < -PENETRATION_TOLERANCE_MM).nonzero()[0] + 1
            x[out] += gap[out, None] * nrm[out]
            moved_first = len(out) > 0
        x = _retract(x, edge_mm)
        model = _Energy(self, x, edge_mm, joint_stiffness_N_mm2, beta, clamp, walls, force_N, anchor_mm, drag_N_per_mm)
        energy = model.value(x)
        force = np.zeros(n + 1) if contact_N is None else np.array(contact_N, dtype=float)
        contact = force > 0.0
        normal = np.zeros((n + 1, 3))
        tension = np.zeros(n)
        at_rest = False
        self.last_iterations = 0
        self.last_converged = False
        counts = False  # the last iterate's reaction on a watched group counts
        for k in range(iterations + settle_iterations):
            if k >= iterations and not counts:
                break  # out of budget, and what is read from this solve does not depend on the rest
            self.last_iterations += 1
            grad, step, contact, force, normal, tension, fraction = model.newton_step(x, contact, tension, force)
            counts = any(reaction_N(force, normal, rows) >= at_least_N for rows, at_least_N in watch)
            largest = math.sqrt(row_dot(step, step).max())
            slope = float(c_einsum("ij,ij->", grad[1:], step))
            if fraction == 1.0 and (largest <= tolerance_mm or -slope < ENERGY_TOLERANCE_N_MM):
                # Converged. The remaining step is not taken: in a floppy tip's flat valley an untested step can
                # overshoot, and repeated every frame that shows as a tremor of the tip.
                at_rest = self.last_iterations == 1 and not moved_first
                self.last_converged = True
                break
            if largest > MAX_NODE_STEP_MM:
                step *= MAX_NODE_STEP_MM / largest
                slope *= MAX_NODE_STEP_MM / largest
                largest = MAX_NODE_STEP_MM
            alpha = 1.0
            for _ in range(LINE_SEARCH_STEPS):
                trial = _retract(x, edge_mm, alpha * step)
                trial_energy = model.value(trial)
                if trial_energy <= energy + 1e-4 * alpha * min(slope, 0.0):
                    break
                alpha *= 0.5
            if counts and alpha == 1.0 and fraction == 1.0:
                # Settling a reaction that counts: a rod balanced on a lip or pressed end-on creeps off it along
                # a direction the Gauss-Newton model (which has no negative curvature) takes for stiff, in steps
                # far inside the trust region. Go on along the step while the energy keeps falling.
                while alpha * largest < MAX_NODE_STEP_MM:
                    longer = min(2.0 * alpha, MAX_NODE_STEP_MM / largest)
                    further = _retract(x, edge_mm, longer * step)
                    further_energy = model.value(further)
                    if further_energy >= trial_energy:
                        break
                    alpha, trial, trial_energy = longer, further, further_energy
            x, energy = trial, trial_energy
            if not counts and alpha == 1.0 and fraction == 1.0 and largest <= QUADRATIC_STOP * tolerance_mm:
                self.last_converged = True
                break  # a full Newton step this small: the next one (quadratic convergence) would be negligible
        if walls is not None:
            gap, nrm = walls.gaps(x)
            deep = (gap[1:] < -PENETRATION_TOLERANCE_MM).nonzero()[0] + 1
            x[deep] += gap[deep, None] * nrm[deep]
        return SolveResult(x, force, normal, at_rest)

    def _pattern(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat indices into the (3n, 9) C-ordered band (= LAPACK's lower band storage transposed)."""
        if n not in self._patterns:
            width = _BAND + 1
            i = np.arange(n)[:, None]
            idx_d = (3 * i + _DIAG_COLS) * width + (_DIAG_ROWS - _DIAG_COLS)
            j = np.arange(max(n - 1, 0))[:, None]
            idx_o = (3 * j + _OFF_COLS) * width + (3 + _OFF_ROWS - _OFF_COLS)
            m = np.arange(max(n - 2, 0))[:, None]
            idx_2 = (3 * m + _OFF_COLS) * width + (6 + _OFF_ROWS - _OFF_COLS)
            self._patterns[n] = (idx_d.ravel(), idx_o.ravel(), idx_2.ravel())
        return self._patterns[n]


def reaction_N(force_N: np.ndarray, normal: np.ndarray, rows: np.ndarray) -> float:
    """Magnitude of the summed wall reaction (``force_N`` along the outward ``normal`` of each node) on ``rows``."""
    if not len(rows) or not force_N[rows].any():
        return 0.0
    total = (force_N[rows, None] * normal[rows]).sum(axis=0)
    return float(np.sqrt(total @ total))


def _banded_solve(band: np.ndarray, rhs: np.ndarray, n: int) -> np.ndarray:
    """Solve the SPD system in (3n, 9) band storage for ``rhs`` (n, 3)."""
    factor, info = lapack.dpbtrf(band.T, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"rod system not positive definite (info {info})")
    step, _ = lapack.dpbtrs(factor, rhs.reshape(-1), lower=1)
    return step.reshape(n, 3)


def _retract(x_mm: np.ndarray, edge_mm: np.ndarray, step: np.ndarray | None = None) -> np.ndarray:
    """The chain with each edge's direction kept and its length restored, rebuilt from node 0; with ``step`` (N, 3),
    that of ``x_mm`` with its free nodes moved by ``step`` (a new array: ``x_mm`` is left as it is)."""
    if len(edge_mm) == 0:
        return x_mm
    out = np.empty_like(x_mm)
    if step is not None:
        np.add(x_mm[1:], step, out=out[1:])
        out[0] = x_mm[0]
        x_mm = out
    e = x_mm[1:] - x_mm[:-1]
    e *= (edge_mm / np.sqrt(row_dot(e, e)))[:, None]
    out[0] = x_mm[0]
    np.add.accumulate(e, axis=0, out=out[1:])  # = np.cumsum(e, axis=0)
    out[1:] += out[0]
    return out


class _Energy:
    """The rod energy of one solve (rest turns fixed), its value and its Newton step."""

    def __init__(self, solver, x, edge_mm, stiffness, beta, clamp, walls, force_N, anchor_mm, drag_N_per_mm):
        n = len(edge_mm)
        self.n, self.edge, self.beta, self.clamp, self.walls = n, edge_mm, beta, clamp, walls
        self.beta_size = np.sqrt(row_dot(beta, beta))
        self.curved = (self.beta_size > 0.0).nonzero()[0]  # the joints with a rest turn
        self.curved_beta, self.curved_beta_size = beta[self.curved], self.beta_size[self.curved]
        self.ks, self.kc = solver.stretch_N_per_mm, solver.contact_N_per_mm
        self.drag = drag_N_per_mm
        self.drag_block = drag_N_per_mm * _EYE6
        self.anchor = x.copy() if anchor_mm is None else anchor_mm
        self.force = force_N
        # The gradient's constant part: the external loads.
        self.load_gradient = np.zeros((n + 1, 3)) if force_N is None else -np.array(force_N, dtype=float)
        inv_h = 1.0 / edge_mm
        cell = np.concatenate([[edge_mm[0] / 2.0], (edge_mm[1:] + edge_mm[:-1]) / 2.0])
        c = stiffness / cell
        self.inv_h_col, self.c, self.c_col = inv_h[:, None], c, c[:, None]
        self.inv_mid, self.inv_prev = (inv_h[1:] + inv_h[:-1])[:, None], inv_h[:-1, None]
        # Joint k's coefficients on nodes k-1, k, k+1 (joint 0's first neighbour is the fixed sheath edge), and the
        # products that weight its 3x3 stiffness in the blocks between those nodes.
        a = np.concatenate([[0.0], inv_h[:-1]])
        b = -(inv_h + a)
        self.weights = {
            "aa": (a * a)[:, None], "bb": (b * b)[:, None], "cc": (inv_h * inv_h)[:, None],
            "ab": (a * b)[:, None], "bc": (b * inv_h)[:, None], "ac": (a * inv_h)[:, None],
        }  # fmt: skip
        self.idx_d, self.idx_o, self.idx_2 = solver._pattern(n)
        self._cache: tuple = (None, None, None, None, None)

    def _bending_blocks(self, bisector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gauss-Newton bending blocks of the free nodes: node (N, 6), node-to-next (N-1, 9), node-to-second-next
        (N-2, 9). Joint k contributes ``c_k (I - b_k b_k^T)`` weighted by its coefficients: its residual lies across
        its bisector ``b_k``, so turning a joint as a whole (which moves the unit-tangent difference along ``b_k``)
        costs nothing, as it should for an energy that does not care where the joint points."""
        w, n = self.weights, self.n
        p9 = self.c_col * (_EYE9 - _outer(bisector))
        p6 = p9.take(_LOWER_OF_9, axis=1)
        # Node r (of the free nodes 1..N) collects joint r+1's "aa", joint r's "bb" and joint r-1's "cc" term, in
        # that order; node r to r+1 joint r+1's "ab" and joint r's "bc"; node r to r+2 joint r+1's "ac".
        diag = np.zeros((n, 6))
        diag[: n - 2] += w["aa"][2:] * p6[2:]
        diag[: n - 1] += w["bb"][1:] * p6[1:]
        diag += w["cc"] * p6
        off1 = np.zeros((n - 1, 9))
        off1[: n - 2] += w["ab"][2:] * p9[2:]
        off1 += w["bc"][1:] * p9[1:]
        return diag, off1, w["ac"][2:n] * p9[2:n]

    def _residual(self, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bending residual per joint: the turn of the unit tangents minus the rest turn.

        The rest turn keeps its size and its direction across the joint, but follows the joint as it rotates: it is
        taken perpendicular to the joint's current bisector. Without this the energy would pin each joint's
        absolute orientation for the whole step, and a curved tip would swing into place only over many steps.
        """
        eh = e * self.inv_h_col
        before = np.empty_like(eh)
        before[0] = self.clamp.direction
        before[1:] = eh[:-1]
        bisector = eh + before
        bisector /= np.maximum(np.sqrt(row_dot(bisector, bisector)), 1e-12)[:, None]
        q = eh - before
        curved = self.curved
        if len(curved):
            beta, across = self.curved_beta, bisector.take(curved, axis=0)
            turn = beta - row_dot(beta, across)[:, None] * across
            turn *= (self.curved_beta_size / np.maximum(np.sqrt(row_dot(turn, turn)), 1e-12))[:, None]
            q[curved] -= turn
        return q, bisector

    def value(self, x: np.ndarray) -> float:
        """The energy of a retracted shape (whose edges have their rest lengths, so no stretch energy)."""
        e = x[1:] - x[:-1]
        q, bisector = self._residual(e)
        total = 0.5 * float(self.c @ row_dot(q, q))
        gaps = None
        if self.walls is not None:
            gaps = self.walls.gaps(x)
            pen = np.minimum(gaps[0][1:], 0.0)
            total += 0.5 * self.kc * float(pen @ pen)
        self._cache = (x, e, q, bisector, gaps)  # newton_step at the accepted shape reuses them
        if self.drag:
            moved = x - self.anchor
            moved *= moved
            total += 0.5 * self.drag * float(moved.sum())
        if self.force is not None:
            total -= float((self.force * x).sum())
        return total

    def newton_step(self, x: np.ndarray, contact: np.ndarray, tension: np.ndarray, wall_N: np.ndarray):
        """Newton step (N, 3) of the free nodes from ``x`` with its wall contacts resolved.

        ``tension`` (N,) N are the edge tensions of the last iteration's solution (the stretch penalty's forces, i.e.
        the inextensibility constraint's multipliers): a chain in tension is stiffer sideways by ``T / h`` per edge,
        which the retraction hides from the stretch term itself. ``contact`` (N+1,) bool is the working set of wall
        contacts to start from and ``wall_N`` (N+1,) their last forces. A node's linearised wall is its tangent
        plane; nodes the wall would have to pull leave the set and nodes touching their wall that the step would push
        through it join (at most :data:`ACTIVE_SET_PASSES` solves); a ratio test then shortens the step to where
        the first other node reaches its wall. Returns gradient (N+1, 3), step, working set, wall force (N+1,) N,
        outward wall normals (N+1, 3), edge tensions (N,) and the fraction of the Newton step kept (1 = all).
        """
        n, ks, kc = self.n, self.ks, self.kc
        cached_x, e, q, bisector, gaps = self._cache
        if cached_x is not x:
            e = x[1:] - x[:-1]
            q, bisector = self._residual(e)
            gaps = None
        length = np.sqrt(row_dot(e, e))
        d = e / length[:, None]
        fs = (ks * (length - self.edge))[:, None] * d
        wq = self.c_col * q
        grad = self.load_gradient.copy()
        if self.drag:
            grad += self.drag * (x - self.anchor)
        grad[1:] += fs + wq * self.inv_h_col
        grad[:-1] -= fs
        wq_next = wq[1:]
        grad[1:n] -= wq_next * self.inv_mid
        grad[: n - 1] += wq_next * self.inv_prev
        # Gauss-Newton blocks plus the positive part of the geometric stiffness of edges in tension, packed:
        # the 6 lower entries of each node's 3x3 block and the 9 entries of each node-to-node block.
        taut = (np.maximum(tension, 0.0) / length)[:, None]
        axial = ks - taut
        dd = _outer(d)
        stretch_d = axial * dd.take(_LOWER_OF_9, axis=1) + taut * _EYE6
        bend_d, bend_o, bend_2 = self._bending_blocks(bisector)
        block_d = bend_d + stretch_d + self.drag_block
        block_d[:-1] += stretch_d[1:]
        block_o = bend_o - axial[1:] * dd[1:] - taut[1:] * _EYE9
        band = np.zeros((3 * n, _BAND + 1))
        flat = band.reshape(-1)
        flat[self.idx_o] = block_o.ravel()
        flat[self.idx_2] = bend_2.ravel()
        force = np.zeros(n + 1)
        normal = np.zeros((n + 1, 3))
        rhs = -grad[1:]
        if self.walls is None:
            flat[self.idx_d] = block_d.ravel()
            step = _banded_solve(band, rhs, n)
            return grad, step, np.zeros(n + 1, dtype=bool), force, normal, self._tension(length, d, step), 1.0
        gap, nrm = self.walls.gaps(x) if gaps is None else gaps
        gap = gap.copy()
        gap[0] = np.inf
        pen = np.maximum(-gap, 0.0)
        # Nodes already through the wall: the penalty's gradient and the wall's curvature (a penetrating node
        # sliding along a curved wall goes deeper) belong to the energy whatever the working set.
        through = pen > 0.0
        deep = through.nonzero()[0]
        if len(deep):
            grad[deep] += (kc * pen[deep])[:, None] * nrm[deep]
            rhs = -grad[1:]
        # Working set: nodes through their wall, and nodes resting on it that the wall pushed last time. Their
        # linearised wall is a plane the step may not cross (a stiff spring along the normal, with no pull).
        near = gap < HOLD_GAP_MM
        contact = (contact & near) | through
        contact[0] = False
        # The wall curves away from its tangent plane: a node pressed on it with force F that slides sideways goes
        # deeper, a stiffness F / r the plane does not have (F: the penalty's, or the wall's last reaction).
        pressed = contact.nonzero()[0]
        if len(pressed):
            push = np.maximum(kc * pen[pressed], wall_N[pressed])
            block_d[pressed - 1] += push[:, None] * self.walls.wall_curvature(pressed, x)
        slack = CONTACT_SLACK_N / kc
        plane = kc * _outer(nrm).take(_LOWER_OF_9, axis=1)  # each node's wall-plane spring block
        resting = pen == 0.0
        within = gap + slack
        moved_out = np.zeros(n + 1)
        for _ in range(ACTIVE_SET_PASSES):
            rows = contact.nonzero()[0]
            blocks = block_d.copy()
            blocks[rows - 1] += plane[rows]
            flat[self.idx_d] = blocks.ravel()
            step = _banded_solve(band, rhs, n)
            moved_out[1:] = row_dot(step, nrm[1:])
            # Release resting nodes the wall would have to pull back (they move inward); take in free nodes that
            # touch their wall and would be pushed through it.
            pulls = contact & resting & (moved_out < -slack)
            touching = ~contact & near & (moved_out > within)
            if not (pulls | touching).any():
                break
            contact = (contact & ~pulls) | touching
        wall_force = kc * np.maximum(moved_out - np.minimum(gap, 0.0), 0.0)
        # Ratio test: stop the step where the first free node reaches its wall; it joins the set.
        free_out = ~contact & (moved_out > np.maximum(gap, 0.0) + slack)
        free_out[0] = False
        fraction = 1.0
        if free_out.any():
            reach = np.maximum(gap[free_out], 0.0) / moved_out[free_out]
            fraction = float(reach.min())
            contact[free_out.nonzero()[0][reach <= fraction + 1e-9]] = True
            step *= fraction
        force[rows] = wall_force[rows]
        normal[rows] = nrm[rows]
        return grad, step, contact, force, normal, self._tension(length, d, step), fraction

    def _tension(self, length: np.ndarray, d: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Edge tensions (N) of the linearised solution: the stretch penalty's force after ``step``."""
        moved = np.empty_like(step)  # each edge's change: the step of its end minus that of its start
        moved[0] = step[0]
        np.subtract(step[1:], step[:-1], out=moved[1:])
        return self.ks * (length - self.edge + row_dot(d, moved))


# Lower-triangle entries of a node's 3x3 diagonal block, and all entries of the block coupling node i+1 to i.
_DIAG_ROWS = np.array([0, 1, 2, 1, 2, 2])
_DIAG_COLS = np.array([0, 1, 2, 0, 1, 0])
_OFF_ROWS = np.repeat(np.arange(3), 3)
_OFF_COLS = np.tile(np.arange(3), 3)
_NEXT, _AFTER = np.array([1, 2, 0]), np.array([2, 0, 1])  # cyclic index shifts for the cross product
_EYE6 = (_DIAG_ROWS == _DIAG_COLS).astype(float)
_EYE9 = (_OFF_ROWS == _OFF_COLS).astype(float)
_LOWER_OF_9 = 3 * _DIAG_ROWS + _DIAG_COLS  # where the lower entries sit among all nine


def _outer(v: np.ndarray) -> np.ndarray:
    """(n, 9) all entries ``v_r v_c`` of each row's outer product, in the order of :data:`_OFF_ROWS`/``_OFF_COLS``."""
    return v.take(_OFF_ROWS, axis=1) * v.take(_OFF_COLS, axis=1)


def _lower_outer(v: np.ndarray) -> np.ndarray:
    """(n, 6) the lower entries ``v_r v_c`` of each row's outer product, in the order of ``_DIAG_ROWS``/``_COLS``."""
    return v.take(_DIAG_ROWS, axis=1) * v.take(_DIAG_COLS, axis=1)


def row_norm(v: np.ndarray) -> np.ndarray:
    """(n, 1) Euclidean norm of each row: what ``np.linalg.norm(v, axis=1, keepdims=True)`` computes, without its
    argument handling."""
    return np.sqrt(np.add.reduce(v * v, axis=1, keepdims=True))
