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
   (half-bandwidth 8) and a banded Cholesky factorisation solves it in O(N), tens of microseconds for a few
   hundred nodes (the solve is compiled: :mod:`.rod_kernel`). A direct solve moves every node consistently in one
   iteration: a push at the hub reaches the tip at once, long free spans (a Simmons loop in the arch) relax
   within a step, and static answers (a cantilever's ``F L^3 / 3EI``) come out to discretisation accuracy - none
   of which Jacobi-style position-based dynamics gives at 100+ nodes in a few iterations.
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

from dataclasses import dataclass

import numpy as np

from game.sim.mechanics import rod_kernel

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

    def kernel_arrays(self) -> tuple:
        """The walls as :func:`~game.sim.mechanics.rod_kernel.solve` takes them (contiguous, per node)."""
        c = np.ascontiguousarray
        length2 = np.maximum(row_dot(self.segment_mm, self.segment_mm), 1e-12)
        low, high = c(self.limits[:, 0], dtype=float), c(self.limits[:, 1], dtype=float)
        return (c(self.start_mm, dtype=float), c(self.segment_mm, dtype=float), length2, low, high,
                c(self.clearance_mm, dtype=float), True)  # fmt: skip


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
    """Banded Gauss-Newton solver for the energy in the module docstring (compiled: :mod:`.rod_kernel`)."""

    def __init__(
        self,
        stretch_N_per_mm: float = STRETCH_STIFFNESS_N_PER_MM,
        contact_N_per_mm: float = CONTACT_STIFFNESS_N_PER_MM,
    ):
        self.numbers = (
            float(stretch_N_per_mm), float(contact_N_per_mm), HOLD_GAP_MM, CONTACT_SLACK_N, ACTIVE_SET_PASSES,
            PENETRATION_TOLERANCE_MM, LINE_SEARCH_STEPS, ENERGY_TOLERANCE_N_MM, QUADRATIC_STOP, MAX_NODE_STEP_MM,
        )  # fmt: skip
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
        x = np.ascontiguousarray(x_mm, dtype=float)
        n = len(edge_mm)
        if n == 0:
            return SolveResult(x.copy(), np.zeros(1), np.zeros((1, 3)))
        size = (n + 1, 3)
        load = np.zeros(size) if force_N is None else np.ascontiguousarray(force_N, dtype=float)
        # With no anchor given, the drag holds the nodes where the solve finds them (after the retraction).
        anchor = np.full(size, np.nan) if anchor_mm is None else np.ascontiguousarray(anchor_mm, dtype=float)
        contact = np.zeros(n + 1) if contact_N is None else np.ascontiguousarray(contact_N, dtype=float)
        rows = [np.asarray(r, dtype=np.int64) for r, _ in watch]
        x_new, force, normal, at_rest, done, converged = rod_kernel.solve(
            x,
            np.ascontiguousarray(edge_mm, dtype=float),
            np.ascontiguousarray(joint_stiffness_N_mm2, dtype=float),
            np.ascontiguousarray(beta, dtype=float),
            np.ascontiguousarray(clamp.direction, dtype=float),
            _NO_WALLS if walls is None else walls.kernel_arrays(),
            load,
            anchor,
            float(drag_N_per_mm),
            contact,
            np.concatenate(rows) if rows else _NO_ROWS,
            np.cumsum([len(r) for r in rows], dtype=np.int64) if rows else _NO_ROWS,
            np.array([at_least for _, at_least in watch], dtype=float),
            int(iterations),
            float(tolerance_mm),
            int(settle_iterations),
            self.numbers,
        )
        self.last_iterations, self.last_converged = done, converged
        return SolveResult(x_new, force, normal, at_rest)


def reaction_N(force_N: np.ndarray, normal: np.ndarray, rows: np.ndarray) -> float:
    """Magnitude of the summed wall reaction (``force_N`` along the outward ``normal`` of each node) on ``rows``."""
    if not len(rows) or not force_N[rows].any():
        return 0.0
    total = (force_N[rows, None] * normal[rows]).sum(axis=0)
    return float(np.sqrt(total @ total))


_NO_WALLS = (np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), False)
_NO_ROWS = np.zeros(0, dtype=np.int64)


_NEXT, _AFTER = np.array([1, 2, 0]), np.array([2, 0, 1])  # cyclic index shifts for the cross product


def row_norm(v: np.ndarray) -> np.ndarray:
    """(n, 1) Euclidean norm of each row: what ``np.linalg.norm(v, axis=1, keepdims=True)`` computes, without its
    argument handling."""
    return np.sqrt(np.add.reduce(v * v, axis=1, keepdims=True))
