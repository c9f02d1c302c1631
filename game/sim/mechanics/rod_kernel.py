"""The rod solve of :mod:`.rod`, compiled: one banded Gauss-Newton solve as plain loops over the nodes.

:class:`~game.sim.mechanics.rod.RodSolver` documents the method (energy, Newton model, contact working set, trust
region, retraction, line search); this module is that method written node by node for numba, so that a step costs
what its arithmetic costs (tens of microseconds for a few hundred nodes) rather than a few hundred small numpy
calls. The arithmetic is IEEE double throughout (no fast-math), so a solve is deterministic, bit for bit, on a
machine. Compiled code is cached next to this file (or in numba's user cache when that is read-only).

Arrays: ``x`` (N+1, 3) nodes, node 0 clamped; edges ``j`` join nodes ``j`` and ``j+1``; joint ``k`` sits at node
``k`` between edge ``k-1`` (the sheath's direction for ``k = 0``) and edge ``k``. The 3N free coordinates of
nodes 1..N are interleaved; the symmetric system is stored as its lower band, ``band[i, d] = A[i, i - d]``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BAND = 8  # half-bandwidth of the interleaved 3N system: bending couples nodes two apart

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


# --- small vector helpers ---------------------------------------------------------------------------------------
@njit(**_JIT)
def _dot3(a, b, i, j):
    """Dot product of row ``i`` of ``a`` and row ``j`` of ``b`` ((n, 3) arrays)."""
    return a[i, 0] * b[j, 0] + a[i, 1] * b[j, 1] + a[i, 2] * b[j, 2]


@njit(**_JIT)
def retract(x, edge, step, alpha):
    """The chain with each edge's direction kept and its rest length restored, rebuilt from node 0, after moving
    the free nodes by ``alpha * step`` (``step`` (N, 3); alpha 0 retracts ``x`` itself). A new array."""
    n = len(edge)
    out = np.empty_like(x)
    px, py, pz = x[0, 0], x[0, 1], x[0, 2]
    ox, oy, oz = px, py, pz
    out[0, 0], out[0, 1], out[0, 2] = px, py, pz
    for j in range(n):
        mx = x[j + 1, 0] + alpha * step[j, 0]
        my = x[j + 1, 1] + alpha * step[j, 1]
        mz = x[j + 1, 2] + alpha * step[j, 2]
        ex, ey, ez = mx - px, my - py, mz - pz
        scale = edge[j] / math.sqrt(ex * ex + ey * ey + ez * ez)
        ox, oy, oz = ox + ex * scale, oy + ey * scale, oz + ez * scale
        out[j + 1, 0], out[j + 1, 1], out[j + 1, 2] = ox, oy, oz
        px, py, pz = mx, my, mz
    return out


@njit(**_JIT)
def gaps(x, start, segment, length2, low, high, clearance, gap, nrm, beside, dist):
    """Signed gap to the wall (mm, > 0 inside) and outward unit normal of every node (written into ``gap``,
    ``nrm``), with whether its nearest centreline point lies beside the segment (``beside``) and its distance."""
    for i in range(len(x)):
        rx, ry, rz = x[i, 0] - start[i, 0], x[i, 1] - start[i, 1], x[i, 2] - start[i, 2]
        sx, sy, sz = segment[i, 0], segment[i, 1], segment[i, 2]
        t = (rx * sx + ry * sy + rz * sz) / length2[i]
        clipped = min(max(t, low[i]), high[i])
        rx, ry, rz = rx - clipped * sx, ry - clipped * sy, rz - clipped * sz
        d = math.sqrt(rx * rx + ry * ry + rz * rz)
        dist[i] = d
        beside[i] = clipped == t
        gap[i] = clearance[i] - d
        inv = 1.0 / max(d, 1e-12)
        nrm[i, 0], nrm[i, 1], nrm[i, 2] = rx * inv, ry * inv, rz * inv


@njit(**_JIT)
def _residual(x, inv_h, clamp_dir, beta, beta_size, q, bisector):
    """Bending residual per joint (the turn of the unit tangents minus the rest turn, kept perpendicular to the
    joint's current bisector and at its size) and the joints' unit bisectors, into ``q`` and ``bisector``."""
    n = len(inv_h)
    fx, fy, fz = clamp_dir[0], clamp_dir[1], clamp_dir[2]  # the unit tangent before the joint
    for k in range(n):
        h = inv_h[k]
        tx, ty, tz = (x[k + 1, 0] - x[k, 0]) * h, (x[k + 1, 1] - x[k, 1]) * h, (x[k + 1, 2] - x[k, 2]) * h
        bx, by, bz = tx + fx, ty + fy, tz + fz
        inv = 1.0 / max(math.sqrt(bx * bx + by * by + bz * bz), 1e-12)
        bx, by, bz = bx * inv, by * inv, bz * inv
        bisector[k, 0], bisector[k, 1], bisector[k, 2] = bx, by, bz
        qx, qy, qz = tx - fx, ty - fy, tz - fz
        if beta_size[k] > 0.0:
            ax, ay, az = beta[k, 0], beta[k, 1], beta[k, 2]
            along = ax * bx + ay * by + az * bz
            ax, ay, az = ax - along * bx, ay - along * by, az - along * bz
            scale = beta_size[k] / max(math.sqrt(ax * ax + ay * ay + az * az), 1e-12)
            qx, qy, qz = qx - ax * scale, qy - ay * scale, qz - az * scale
        q[k, 0], q[k, 1], q[k, 2] = qx, qy, qz
        fx, fy, fz = tx, ty, tz


@njit(**_JIT)
def energy(x, inv_h, c, clamp_dir, beta, beta_size, walls, kc, anchor, drag, load, work):
    """The energy of a retracted shape (edges at their rest lengths, so no stretch energy), N*mm."""
    q, bisector, gap, nrm, beside, dist = work
    _residual(x, inv_h, clamp_dir, beta, beta_size, q, bisector)
    bend = 0.0
    for k in range(len(inv_h)):
        bend += c[k] * _dot3(q, q, k, k)
    total = 0.5 * bend
    start, segment, length2, low, high, clearance, has_walls = walls
    if has_walls:
        gaps(x, start, segment, length2, low, high, clearance, gap, nrm, beside, dist)
        wall = 0.0
        for i in range(1, len(x)):
            if gap[i] < 0.0:
                wall += gap[i] * gap[i]
        total += 0.5 * kc * wall
    if drag != 0.0:
        moved = 0.0
        for i in range(len(x)):
            for a in range(3):
                d = x[i, a] - anchor[i, a]
                moved += d * d
        total += 0.5 * drag * moved
    work_done = 0.0
    for i in range(len(x)):
        work_done += load[i, 0] * x[i, 0] + load[i, 1] * x[i, 1] + load[i, 2] * x[i, 2]
    return total - work_done


# --- the banded system ------------------------------------------------------------------------------------------
@njit(**_JIT)
def _add_block(band, row_node, col_node, block, scale):
    """Add ``scale * block`` (3x3) as the block of free nodes ``row_node >= col_node`` (lower part only)."""
    for r in range(3):
        i = 3 * row_node + r
        for s in range(3):
            j = 3 * col_node + s
            if i >= j:
                band[i, i - j] += scale * block[r, s]


@njit(**_JIT)
def _cholesky_solve(band, rhs):
    """Solve the SPD banded system in place of a copy (banded Cholesky, ``A = L L^T``); None if not definite."""
    m = len(rhs)
    low = band.copy()
    for i in range(m):
        first = max(0, i - BAND)
        for j in range(first, i + 1):
            s = low[i, i - j]
            for k in range(max(first, j - BAND), j):
                s -= low[i, i - k] * low[j, j - k]
            if j == i:
                if s <= 0.0:
                    return np.empty(0), False
                low[i, 0] = math.sqrt(s)
            else:
                low[i, i - j] = s / low[j, 0]
    y = rhs.copy()
    for i in range(m):
        s = y[i]
        for k in range(max(0, i - BAND), i):
            s -= low[i, i - k] * y[k]
        y[i] = s / low[i, 0]
    for i in range(m - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, min(m, i + BAND + 1)):
            s -= low[k, k - i] * y[k]
        y[i] = s / low[i, 0]
    return y, True


@njit(**_JIT)
def _projector(out, scale, ax, ay, az, bx, by, bz):
    """``out = scale * (I - a a^T - b b^T)`` (3x3, in place)."""
    a = (ax, ay, az)
    b = (bx, by, bz)
    for r in range(3):
        for s in range(3):
            out[r, s] = scale * ((1.0 if r == s else 0.0) - a[r] * a[s] - b[r] * b[s])


@njit(**_JIT)
def newton_step(x, edge, inv_h, c, clamp_dir, beta, beta_size, walls, ks, kc, anchor, drag, load, contact, tension,
                wall_N, constants, work):  # fmt: skip
    """Newton step (N, 3) of the free nodes from ``x`` with its wall contacts resolved (RodSolver's docstring).
    Returns gradient (N+1, 3), step, working set, wall force (N+1,), outward normals, edge tensions, fraction."""
    hold_gap, slack_N, passes = constants
    q, bisector, gap, nrm, beside, dist = work
    n = len(edge)
    _residual(x, inv_h, clamp_dir, beta, beta_size, q, bisector)
    # Gradient: external loads, drag, stretch penalty, bending.
    grad = np.empty((n + 1, 3))
    for i in range(n + 1):
        for a in range(3):
            grad[i, a] = -load[i, a] + (drag * (x[i, a] - anchor[i, a]) if drag != 0.0 else 0.0)
    d = np.empty((n, 3))
    length = np.empty(n)
    for j in range(n):
        ex, ey, ez = x[j + 1, 0] - x[j, 0], x[j + 1, 1] - x[j, 1], x[j + 1, 2] - x[j, 2]
        size = math.sqrt(ex * ex + ey * ey + ez * ez)
        length[j] = size
        d[j, 0], d[j, 1], d[j, 2] = ex / size, ey / size, ez / size
        pull = ks * (size - edge[j])
        for a in range(3):
            grad[j + 1, a] += pull * d[j, a]
            grad[j, a] -= pull * d[j, a]
    for k in range(n):
        for a in range(3):
            wq = c[k] * q[k, a]
            grad[k + 1, a] += wq * inv_h[k]
            if k >= 1:
                grad[k, a] -= wq * (inv_h[k] + inv_h[k - 1])
                grad[k - 1, a] += wq * inv_h[k - 1]
    # Gauss-Newton band: bending blocks c_k (I - b b^T) weighted by joint k's coefficients on nodes k-1, k, k+1
    # (free node r is band node r - 1), then stretch blocks with the geometric stiffness of edges in tension.
    band = np.zeros((3 * n, BAND + 1))
    block = np.empty((3, 3))
    for k in range(n):
        _projector(block, c[k], bisector[k, 0], bisector[k, 1], bisector[k, 2], 0.0, 0.0, 0.0)
        wa = inv_h[k - 1] if k >= 1 else 0.0
        wc = inv_h[k]
        wb = -(wc + wa)
        nodes = (k - 1, k, k + 1)
        weights = (wa, wb, wc)
        for u in range(3):
            if nodes[u] < 1 or nodes[u] > n:
                continue
            for v in range(u + 1):
                if nodes[v] >= 1:
                    _add_block(band, nodes[u] - 1, nodes[v] - 1, block, weights[u] * weights[v])
    for j in range(n):
        taut = max(tension[j], 0.0) / length[j]
        axial = ks - taut  # (ks - T/h) d d^T + (T/h) I: stiff along the edge, the tension's stiffness across it
        for r in range(3):
            for s in range(3):
                block[r, s] = axial * d[j, r] * d[j, s] + (taut if r == s else 0.0)
        if j >= 1:  # edge j joins free nodes j and j + 1
            _add_block(band, j - 1, j - 1, block, 1.0)
            _add_block(band, j, j - 1, block, -1.0)
        _add_block(band, j, j, block, 1.0)
    if drag != 0.0:
        for i in range(3 * n):
            band[i, 0] += drag
    force = np.zeros(n + 1)
    normal = np.zeros((n + 1, 3))
    start, segment, length2, low, high, clearance, has_walls = walls
    if not has_walls:
        free, ok = _cholesky_solve(band, -grad[1:].copy().reshape(-1))
        if not ok:
            raise np.linalg.LinAlgError("rod system not positive definite")
        step = free.reshape(n, 3)
        return grad, step, np.zeros(n + 1, dtype=np.bool_), force, normal, _tension(ks, length, edge, d, step), 1.0
    gaps(x, start, segment, length2, low, high, clearance, gap, nrm, beside, dist)
    gap0 = gap.copy()
    gap0[0] = np.inf
    pen = np.maximum(-gap0, 0.0)
    for i in range(1, n + 1):  # nodes through the wall: the penalty's gradient belongs to the energy
        if pen[i] > 0.0:
            for a in range(3):
                grad[i, a] += kc * pen[i] * nrm[i, a]
    rhs = -grad[1:].copy().reshape(-1)
    near = gap0 < hold_gap
    contact = (contact & near) | (pen > 0.0)
    contact[0] = False
    for i in range(1, n + 1):
        if contact[i]:
            # The wall curves away from its tangent plane: a node pressed on it with force F that slides sideways
            # goes deeper, a stiffness F / r, r its distance from the centreline: (I - a a^T - n n^T) F / r with
            # ``a`` the segment's direction beside it (none off its ends).
            push = max(kc * pen[i], wall_N[i])
            ax = ay = az = 0.0
            if beside[i]:
                inv = 1.0 / max(math.sqrt(length2[i]), 1e-12)
                ax, ay, az = segment[i, 0] * inv, segment[i, 1] * inv, segment[i, 2] * inv
            _projector(block, push / max(dist[i], 1e-9), ax, ay, az, nrm[i, 0], nrm[i, 1], nrm[i, 2])
            _add_block(band, i - 1, i - 1, block, 1.0)
    slack = slack_N / kc
    moved_out = np.zeros(n + 1)
    used = contact.copy()
    step = np.zeros((n, 3))
    for _ in range(passes):
        used = contact.copy()
        blocks = band.copy()
        for i in range(1, n + 1):
            if used[i]:  # a stiff spring across the wall's tangent plane
                for r in range(3):
                    for s in range(r + 1):
                        blocks[3 * (i - 1) + r, r - s] += kc * nrm[i, r] * nrm[i, s]
        flat, ok = _cholesky_solve(blocks, rhs)
        if not ok:
            raise np.linalg.LinAlgError("rod system not positive definite")
        step = flat.reshape(n, 3)
        changed = False
        for i in range(1, n + 1):
            moved_out[i] = _dot3(step, nrm, i - 1, i)
            pulls = contact[i] and pen[i] == 0.0 and moved_out[i] < -slack
            touching = (not contact[i]) and near[i] and moved_out[i] > gap0[i] + slack
            if pulls:
                contact[i] = False
                changed = True
            elif touching:
                contact[i] = True
                changed = True
        if not changed:
            break
    # Ratio test: stop the step where the first free node reaches its wall; it joins the set.
    fraction = 1.0
    for i in range(1, n + 1):
        if not contact[i] and moved_out[i] > max(gap0[i], 0.0) + slack:
            fraction = min(fraction, max(gap0[i], 0.0) / moved_out[i])
    if fraction < 1.0:
        for i in range(1, n + 1):
            reaches = not contact[i] and moved_out[i] > max(gap0[i], 0.0) + slack
            if reaches and max(gap0[i], 0.0) / moved_out[i] <= fraction + 1e-9:
                contact[i] = True
        step = step * fraction
    for i in range(1, n + 1):
        if used[i]:
            force[i] = kc * max(moved_out[i] - min(gap0[i], 0.0), 0.0)
            normal[i, 0], normal[i, 1], normal[i, 2] = nrm[i, 0], nrm[i, 1], nrm[i, 2]
    return grad, step, contact, force, normal, _tension(ks, length, edge, d, step), fraction


@njit(**_JIT)
def _tension(ks, length, edge, d, step):
    """Edge tensions (N) of the linearised solution: the stretch penalty's force after ``step``."""
    n = len(edge)
    out = np.empty(n)
    for j in range(n):
        along = 0.0
        for a in range(3):
            along += d[j, a] * (step[j, a] - step[j - 1, a] if j >= 1 else step[j, a])
        out[j] = ks * (length[j] - edge[j] + along)
    return out


@njit(**_JIT)
def reaction(force, normal, rows, first, last):
    """Magnitude of the summed wall reaction on ``rows[first:last]``, N."""
    tx = ty = tz = 0.0
    for r in range(first, last):
        i = rows[r]
        tx, ty, tz = tx + force[i] * normal[i, 0], ty + force[i] * normal[i, 1], tz + force[i] * normal[i, 2]
    return math.sqrt(tx * tx + ty * ty + tz * tz)


@njit(**_JIT)
def solve(x0, edge, stiffness, beta, clamp_dir, walls, load, anchor, drag, contact_N, watch_rows, watch_ends,
          watch_N, iterations, tolerance_mm, settle_iterations, numbers):  # fmt: skip
    """One quasi-static solve from ``x0`` (RodSolver.solve's docstring). ``watch_rows`` holds the watched groups
    one after another, group ``g`` ending at ``watch_ends[g]``, counting from ``watch_N[g]`` newtons.
    ``numbers``: the solver's stiffnesses and tolerances (see :func:`solver_numbers`).
    Returns nodes, wall forces, normals, at rest, Newton iterations, converged."""
    ks, kc, hold_gap, slack_N, passes, pen_tol, line_steps, e_tol, quad_stop, max_step = numbers
    n = len(edge)
    x = x0.copy()
    start, segment, length2, low, high, clearance, has_walls = walls
    work = (np.empty((n, 3)), np.empty((n, 3)), np.empty(n + 1), np.empty((n + 1, 3)),
            np.empty(n + 1, dtype=np.bool_), np.empty(n + 1))  # fmt: skip
    _, _, gap, nrm, beside, dist = work
    moved_first = False
    if has_walls:  # start from the wall where the tip's growth pushed nodes through it
        gaps(x, start, segment, length2, low, high, clearance, gap, nrm, beside, dist)
        for i in range(1, n + 1):
            if gap[i] < -pen_tol:
                x[i] += gap[i] * nrm[i]
                moved_first = True
    no_step = np.zeros((n, 3))
    x = retract(x, edge, no_step, 0.0)
    if np.isnan(anchor[0, 0]):  # no anchor given: the drag holds the nodes where the solve starts
        anchor = x.copy()
    inv_h = 1.0 / edge
    c = np.empty(n)
    for k in range(n):
        cell = edge[0] / 2.0 if k == 0 else (edge[k] + edge[k - 1]) / 2.0
        c[k] = stiffness[k] / cell
    beta_size = np.empty(n)
    for k in range(n):
        beta_size[k] = math.sqrt(_dot3(beta, beta, k, k))
    constants = (hold_gap, slack_N, passes)
    value = energy(x, inv_h, c, clamp_dir, beta, beta_size, walls, kc, anchor, drag, load, work)
    force = contact_N.copy()
    contact = force > 0.0
    normal = np.zeros((n + 1, 3))
    tension = np.zeros(n)
    at_rest = False
    converged = False
    counts = False
    done = 0
    for k in range(iterations + settle_iterations):
        if k >= iterations and not counts:
            break  # out of budget, and what is read from this solve does not depend on the rest
        done += 1
        grad, step, contact, force, normal, tension, fraction = newton_step(
            x, edge, inv_h, c, clamp_dir, beta, beta_size, walls, ks, kc, anchor, drag, load, contact, tension,
            force, constants, work)  # fmt: skip
        counts = False
        first = 0
        for g in range(len(watch_ends)):
            if reaction(force, normal, watch_rows, first, watch_ends[g]) >= watch_N[g]:
                counts = True
            first = watch_ends[g]
        largest2 = 0.0
        slope = 0.0
        for i in range(n):
            largest2 = max(largest2, _dot3(step, step, i, i))
            slope += _dot3(grad, step, i + 1, i)
        largest = math.sqrt(largest2)
        if fraction == 1.0 and (largest <= tolerance_mm or -slope < e_tol):
            # Converged. The remaining step is not taken (an untested step can overshoot in a floppy tip's flat
            # valley, and repeated every frame that shows as a tremor of the tip).
            at_rest = done == 1 and not moved_first
            converged = True
            break
        if largest > max_step:
            step = step * (max_step / largest)
            slope *= max_step / largest
            largest = max_step
        alpha = 1.0
        trial = x
        trial_value = value
        for _ in range(line_steps):
            trial = retract(x, edge, step, alpha)
            trial_value = energy(trial, inv_h, c, clamp_dir, beta, beta_size, walls, kc, anchor, drag, load, work)
            if trial_value <= value + 1e-4 * alpha * min(slope, 0.0):
                break
            alpha *= 0.5
        if counts and alpha == 1.0 and fraction == 1.0:
            # Settling a reaction that counts: go on along the step while the energy keeps falling.
            while alpha * largest < max_step:
                longer = min(2.0 * alpha, max_step / largest)
                further = retract(x, edge, step, longer)
                further_value = energy(further, inv_h, c, clamp_dir, beta, beta_size, walls, kc, anchor, drag, load,
                                       work)  # fmt: skip
                if further_value >= trial_value:
                    break
                alpha, trial, trial_value = longer, further, further_value
        x, value = trial, trial_value
        if not counts and alpha == 1.0 and fraction == 1.0 and largest <= quad_stop * tolerance_mm:
            converged = True
            break  # a full Newton step this small: the next one (quadratic convergence) would be negligible
    if has_walls:
        gaps(x, start, segment, length2, low, high, clearance, gap, nrm, beside, dist)
        for i in range(1, n + 1):
            if gap[i] < -pen_tol:
                x[i] += gap[i] * nrm[i]
    return x, force, normal, at_rest, done, converged
