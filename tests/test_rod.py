"""The elastic rod against beam theory and its rest shape; inextensibility through long push/pull sequences."""

import numpy as np
import pytest

from game.sim.mechanics import NODE_SPACING_MM, AccessSite
from game.sim.mechanics.rod import Clamp, RodSolver, cross, edge_frames
from tests.mechanics_cases import (
    DT_S,
    advance_to,
    instruments,
    polyline_length,
    run,
    tube,
    turn_tip_toward,
    turning_deg,
    winding_tree,
)


@pytest.mark.parametrize(
    ("ei_N_mm2", "length_mm", "force_N"),
    [(500.0, 60.0, 0.01), (120.0, 100.0, 0.001), (1849.0, 80.0, 0.04)],
)
def test_clamped_rod_under_a_small_tip_load_deflects_as_a_cantilever(ei_N_mm2, length_mm, force_N):
    spacing = 2.0
    n = int(length_mm / spacing)
    x = np.zeros((n + 1, 3))
    x[:, 2] = np.arange(n + 1) * spacing
    clamp = Clamp(np.zeros(3), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    load = np.zeros((n + 1, 3))
    load[-1, 0] = force_N
    result = RodSolver().solve(
        x, np.full(n, spacing), np.full(n, ei_N_mm2), np.zeros((n, 3)), clamp, iterations=30, force_N=load
    )
    expected = force_N * length_mm**3 / (3.0 * ei_N_mm2)
    assert 0.01 < expected / length_mm < 0.05  # a small deflection: linear theory applies
    assert result.x_mm[-1, 0] == pytest.approx(expected, rel=0.05)
    assert polyline_length(result.x_mm) == pytest.approx(length_mm, rel=1e-9)


def test_bishop_frames_are_orthonormal_and_twist_free_along_a_planar_bend():
    a = np.linspace(0, np.pi / 2, 20)
    x = np.stack([30 * (1 - np.cos(a)), np.zeros_like(a), 30 * np.sin(a)], axis=1)
    clamp = Clamp(x[0], np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]))
    t, u, w = edge_frames(x, clamp)
    np.testing.assert_allclose(np.einsum("ij,ij->i", t, u), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0)
    np.testing.assert_allclose(w, cross(t, u))
    # Bending in the x-z plane transports a normal out of that plane unchanged.
    np.testing.assert_allclose(u, np.tile([0.0, 1.0, 0.0], (len(u), 1)), atol=1e-12)


def test_free_precurved_catheter_tip_rests_at_its_rest_curvature():
    """Cobra C2 (from the tip: 10 mm straight, 25 mm turning 70 deg, 20 mm straight, 30 mm turning -35 deg) free in
    a wide vessel: its curves take their rest turning per length and their angles."""
    instr = instruments(tube(radius_mm=40.0), AccessSite("a", 10.0, "antegrade"), cath="cobra_c2_5f")
    advance_to(instr, "cath", 160.0)
    run(instr, 0.5, {})
    nodes = instr.nodes_mm("cath")
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(nodes, axis=0), axis=1))])
    from_tip = s[-1] - s[1:-1]  # distance of each interior node from the tip
    turn = turning_deg(nodes)
    inside_primary = (from_tip > 13.0) & (from_tip < 32.0)
    inside_secondary = (from_tip > 58.0) & (from_tip < 82.0)
    straight_parts = ((from_tip > 38.0) & (from_tip < 52.0)) | (from_tip > 90.0)
    per_node = NODE_SPACING_MM  # turning per joint = curvature x spacing
    assert np.median(turn[inside_primary]) == pytest.approx(70.0 / 25.0 * per_node, rel=0.03)
    assert np.median(turn[inside_secondary]) == pytest.approx(35.0 / 30.0 * per_node, rel=0.03)
    assert turn[straight_parts].max() < 0.3

    def direction(a, b):
        d = nodes[b] - nodes[a]
        return d / np.linalg.norm(d)

    shaft = direction(0, 10)
    middle = direction(np.argmin(np.abs(from_tip - 52.0)) + 1, np.argmin(np.abs(from_tip - 38.0)) + 1)
    tip = instr.tip_direction("cath")
    angle = lambda a, b: np.degrees(np.arccos(np.clip(a @ b, -1.0, 1.0)))  # noqa: E731
    assert angle(shaft, middle) == pytest.approx(35.0, abs=1.5)
    assert angle(middle, tip) == pytest.approx(70.0, abs=1.5)
    assert angle(shaft, tip) == pytest.approx(35.0, abs=1.5)  # the two curves turn opposite ways in one plane


def test_reverse_curve_forms_its_hook_when_free():
    """A Simmons 1 free in a wide vessel: after its 180 degree primary curve the limb runs back along the shaft."""
    instr = instruments(tube(radius_mm=40.0), AccessSite("a", 10.0, "antegrade"), cath="simmons_1_5f")
    advance_to(instr, "cath", 200.0)
    run(instr, 0.5, {})
    nodes = instr.nodes_mm("cath")
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(nodes, axis=0), axis=1))])
    from_tip = s[-1] - s

    def at(distance_mm):
        return nodes[np.argmin(np.abs(from_tip - distance_mm))]

    shaft = at(120.0) - at(140.0)
    limb = at(22.0) - at(44.0)  # within the straight 30 mm limb (18-48 mm from the tip)
    cos = shaft @ limb / np.linalg.norm(shaft) / np.linalg.norm(limb)
    assert np.degrees(np.arccos(cos)) == pytest.approx(180.0, abs=3.0)
    assert instr.tip_force_N("cath") == 0.0  # free: touching no wall


def test_rotating_the_hub_turns_the_plane_of_the_tip_curve():
    instr = instruments(tube(radius_mm=40.0), AccessSite("a", 10.0, "antegrade"), cath="berenstein_5f")
    advance_to(instr, "cath", 120.0)
    run(instr, 0.3, {})
    before = instr.tip_direction("cath")
    run(instr, 0.5, {"cath": (0.0, 180.0)})  # +90 degrees at the hub
    run(instr, 0.3, {})
    after = instr.tip_direction("cath")
    side_before = np.arctan2(before[1], before[0])
    side_after = np.arctan2(after[1], after[0])
    turned = (np.degrees(side_after - side_before) + 180.0) % 360.0 - 180.0
    assert abs(turned) == pytest.approx(90.0, abs=3.0)
    assert before[2] == pytest.approx(after[2], abs=0.01)  # the same curve, turned about the vessel axis
    assert instr.hub_angle_deg("cath") == pytest.approx(90.0)


def test_turning_toward_a_direction_is_one_to_one():
    instr = instruments(tube(radius_mm=40.0), AccessSite("a", 10.0, "antegrade"), cath="berenstein_5f")
    advance_to(instr, "cath", 120.0)
    turn_tip_toward(instr, "cath", np.array([1.0, 1.0, 0.0]))
    run(instr, 0.3, {})
    tip = instr.tip_direction("cath")
    assert np.degrees(np.arctan2(tip[1], tip[0])) == pytest.approx(45.0, abs=3.0)


def test_length_is_conserved_through_long_push_pull_sequences_in_curved_vessels():
    rng = np.random.default_rng(7)
    instr = instruments(
        winding_tree(), AccessSite("main", 5.0, "antegrade"), wire="angled_hydrophilic_035", cath="cobra_c2_5f"
    )
    advance_to(instr, "wire", 200.0)
    advance_to(instr, "cath", 150.0)
    worst = 0.0
    for _ in range(40):
        name = "wire" if rng.random() < 0.5 else "cath"
        controls = {name: (float(rng.uniform(-50.0, 50.0)), float(rng.uniform(-200.0, 200.0)))}
        for _ in range(int(rng.integers(5, 30))):
            instr.step(DT_S, controls)
            for device in ("wire", "cath"):
                inserted = instr.inserted_mm(device)
                if inserted > 20.0:
                    error = abs(polyline_length(instr.nodes_mm(device)) - inserted) / inserted
                    worst = max(worst, error)
    assert worst < 0.005


def test_banded_cholesky_of_the_compiled_solve_matches_a_dense_solve():
    from game.sim.mechanics.rod_kernel import BAND, _cholesky_solve

    rng = np.random.default_rng(3)
    m = 60
    dense = np.zeros((m, m))
    for i in range(m):
        for j in range(max(0, i - BAND), i):
            dense[i, j] = dense[j, i] = rng.normal()
    dense += np.diag(np.abs(dense).sum(axis=1) + 1.0)  # diagonally dominant: positive definite
    band = np.array([[dense[i, i - d] if i - d >= 0 else 0.0 for d in range(BAND + 1)] for i in range(m)])
    rhs = rng.normal(size=m)
    solution, ok = _cholesky_solve(band, rhs)
    assert ok
    np.testing.assert_allclose(solution, np.linalg.solve(dense, rhs), rtol=1e-10, atol=1e-12)
    band[5, 0] = -1.0  # no longer positive definite
    assert not _cholesky_solve(band, rhs)[1]
