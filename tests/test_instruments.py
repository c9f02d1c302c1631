"""Instruments: branch selection by mechanics, coaxial devices, the Simmons manoeuvre, insertion rules, stents,
determinism and the read-only views."""

import hashlib

import numpy as np
import pytest

from game.sim.anatomy.spec import LesionSpec
from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.devices.catalogue import CATALOGUE
from game.sim.mechanics import AccessSite, Instruments
from game.sim.mechanics.insertion import OUTSIDE_LENGTH_MM, insert, max_inserted_mm
from game.sim.mechanics.stent import held_open_radius_mm
from tests.mechanics_cases import (
    DT_S,
    advance_to,
    arch_tree,
    instruments,
    run,
    straight,
    tube,
    turn_tip_toward,
    winding_tree,
    y_tree,
)

SIDES = {"left": np.array([1.0, 0.0, 0.0]), "right": np.array([-1.0, 0.0, 0.0])}


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(
    ("device", "angle_deg"),
    [
        ("angled_hydrophilic_035", 30.0),
        ("angled_hydrophilic_035", 45.0),
        ("angled_hydrophilic_035", 60.0),
        ("berenstein_5f", 45.0),
    ],
)
def test_an_angled_tip_turned_toward_a_branch_enters_it_when_advanced(device, angle_deg, side):
    """A symmetric Y: nothing but the tip's curve, turned at the hub, decides which limb the tip enters."""
    instr = instruments(y_tree(angle_deg), AccessSite("trunk", 5.0, "antegrade"), d=device)
    advance_to(instr, "d", 125.0, speed_mm_per_s=50.0)  # the tip 20 mm below the fork
    assert instr.tip_branch("d") == "trunk"
    turn_tip_toward(instr, "d", SIDES[side])
    advance_to(instr, "d", 200.0, speed_mm_per_s=30.0)
    assert instr.tip_branch("d") == side
    assert instr.complications == []


def test_a_stiff_wire_straightens_a_curved_catheter_and_withdrawing_it_lets_the_curve_reform():
    instr = instruments(
        tube(radius_mm=15.0), AccessSite("a", 10.0, "antegrade"), wire="amplatz_stiff_035", cath="cobra_c2_5f"
    )

    def tip_angle_deg():  # between the catheter's tip and the vessel axis
        return np.degrees(np.arccos(instr.tip_direction("cath")[2]))

    advance_to(instr, "cath", 250.0)
    run(instr, 0.3, {})
    curved = tip_angle_deg()
    advance_to(instr, "wire", 330.0)  # the stiff shaft through the catheter's curves, the floppy end beyond
    run(instr, 0.3, {})
    straightened = tip_angle_deg()
    advance_to(instr, "wire", 120.0)  # the wire's tip 130 mm back inside the catheter
    run(instr, 0.3, {})
    reformed = tip_angle_deg()
    assert curved > 30.0
    assert straightened < 0.3 * curved
    assert reformed == pytest.approx(curved, abs=8.0)
    assert instr.complications == []


def test_the_wire_leads_out_of_the_catheter_and_either_can_move_while_the_other_is_held():
    instr = instruments(
        tube(radius_mm=10.0), AccessSite("a", 10.0, "antegrade"), wire="angled_hydrophilic_035", cath="berenstein_5f"
    )
    advance_to(instr, "cath", 100.0)
    advance_to(instr, "wire", 160.0)
    np.testing.assert_allclose(instr.nodes_mm("wire")[: len(instr.nodes_mm("cath")) - 1], instr.nodes_mm("cath")[:-1])
    assert instr.inserted_mm("cath") == pytest.approx(100.0)
    run(instr, 0.5, {"cath": (0.0, 180.0)})  # turn the catheter, wire held
    assert instr.hub_angle_deg("cath") == pytest.approx(90.0) and instr.hub_angle_deg("wire") == 0.0
    run(instr, 0.5, {"wire": (-20.0, 0.0)})
    assert instr.inserted_mm("wire") == pytest.approx(150.0) and instr.inserted_mm("cath") == pytest.approx(100.0)


def simmons_engagement_depth(branch_deg: float) -> tuple[float, float, list]:
    """The sidewinder manoeuvre in :func:`arch_tree`: returns the hook's tip direction (z) once re-formed, how deep
    (mm) the tip got into the branch while the catheter was pulled back, and the complications."""
    tree = arch_tree(branch_deg, descending_mm=120.0)
    instr = instruments(tree, AccessSite("aorta", 10.0, "antegrade"), wire="j_tip_035", cath="simmons_1_5f")
    run(instr, 0.5, {"cath": (0.0, -180.0)})  # -90 deg at the hub: the curve in the arch's plane, toward its inside
    advance_to(instr, "wire", 310.0)
    advance_to(instr, "cath", 290.0)  # over the wire, around the arch
    advance_to(instr, "wire", 60.0)  # withdrawing the wire lets the reverse curve re-form
    hook = float(instr.tip_direction("cath")[2])
    depth = 0.0
    while instr.inserted_mm("cath") > 160.0 and depth < 8.0:
        instr.step(DT_S, {"cath": (-10.0, 0.0)})  # pull back slowly
        q = tree.query(instr.tip_mm("cath"))
        if q.inside[0] and tree.branches[q.branch[0]].name == "branch":
            depth = float(q.s_mm[0])
    return hook, depth, instr.complications


def test_a_simmons_curve_reformed_over_the_arch_engages_an_upward_branch_when_pulled_back():
    """Over a wire the Simmons 1 follows the arch; withdrawing the wire lets its reverse curve re-form with the hook
    over the arch and the tip hanging down the ascending aorta. Pulling the catheter back then makes the tip ride
    up the outer wall and drop into a great vessel that leaves the arch upward - the sidewinder manoeuvre."""
    hook, depth, complications = simmons_engagement_depth(160.0)
    assert hook < -0.9  # the hook points back down
    assert depth >= 8.0, "the tip rode into the branch"
    assert complications == []


@pytest.mark.slow
@pytest.mark.parametrize("branch_deg", [125.0, 140.0, 150.0, 165.0])
def test_the_simmons_manoeuvre_works_wherever_the_branch_leaves_the_arch(branch_deg):
    hook, depth, complications = simmons_engagement_depth(branch_deg)
    assert hook < -0.9 and depth >= 8.0 and complications == []


def test_the_same_actions_give_bit_identical_states():
    def replay():
        rng = np.random.default_rng(5)
        instr = instruments(
            winding_tree(), AccessSite("main", 5.0, "antegrade"), wire="angled_hydrophilic_035", cath="cobra_c2_5f"
        )
        digest = hashlib.sha256()
        for _ in range(30):
            name = ["wire", "cath"][int(rng.integers(2))]
            controls = {name: (float(rng.uniform(-20.0, 60.0)), float(rng.uniform(-300.0, 300.0)))}
            for _ in range(int(rng.integers(3, 15))):
                instr.step(DT_S, controls)
            for key, value in sorted(instr.state_arrays().items()):
                digest.update(key.encode())
                digest.update(np.ascontiguousarray(value).tobytes())
        return digest.hexdigest(), instr.state_arrays()

    first, state_a = replay()
    second, state_b = replay()
    assert first == second
    assert state_a.keys() == state_b.keys()


# --- insertion rules ----------------------------------------------------------------------------------------
WIRE, CATH, STENT = CATALOGUE["angled_hydrophilic_035"], CATALOGUE["cobra_c2_5f"], CATALOGUE["stent_balloon_6x18"]


def test_inserted_length_is_bounded_by_the_device_and_the_access_point():
    assert insert([WIRE], np.array([0.0]), np.array([-5.0]), 6.0)[0] == 0.0
    assert insert([WIRE], np.array([100.0]), np.array([5000.0]), 6.0)[0] == WIRE.length_mm - OUTSIDE_LENGTH_MM
    assert max_inserted_mm(CATH) == CATH.length_mm - OUTSIDE_LENGTH_MM


def test_a_device_wider_than_the_sheath_cannot_enter():
    assert insert([STENT], np.array([0.0]), np.array([5.0]), 5.0)[0] == 0.0  # a 6F system, a 5F sheath
    assert insert([STENT], np.array([0.0]), np.array([5.0]), 6.0)[0] == 5.0


def test_devices_that_do_not_nest_cannot_be_in_together():
    assert not STENT.fits_over(CATH) and not CATH.fits_over(STENT)
    both = insert([CATH, STENT], np.array([100.0, 0.0]), np.array([100.0, 10.0]), 6.0)
    np.testing.assert_allclose(both, [100.0, 0.0])  # the stent system waits until the catheter is out
    after = insert([CATH, STENT], np.array([0.0, 0.0]), np.array([0.0, 10.0]), 6.0)
    np.testing.assert_allclose(after, [0.0, 10.0])


def test_a_wire_cannot_disappear_into_the_catheter_hub_nor_a_catheter_come_off_a_short_wire():
    spare = WIRE.length_mm - CATH.length_mm  # 850 mm: how far the wire may lead the catheter
    pushed = insert([WIRE, CATH], np.array([300.0, 100.0]), np.array([1200.0, 100.0]), 6.0)
    assert pushed[0] == pytest.approx(min(100.0 + spare, max_inserted_mm(WIRE)))
    long_catheter = CATALOGUE["berenstein_5f"]  # 1000 mm over a 1500 mm wire: 500 mm to spare
    pulled = insert([WIRE, long_catheter], np.array([600.0, 200.0]), np.array([600.0, 0.0]), 6.0)
    assert pulled[1] == pytest.approx(100.0)  # the catheter stops where the wire's end meets its hub


# --- stents -------------------------------------------------------------------------------------------------
def test_a_stent_deploys_between_its_markers_and_holds_the_lesion_open():
    lesion = LesionSpec("a", position_mm=100.0, length_mm=10.0, severity_pct=60.0)
    tree = VesselTree([straight("a", None, (0, 0, 0), (0, 0, 200), 3.0)], [lesion])
    instr = instruments(
        tree, AccessSite("a", 5.0, "antegrade"), wire="angled_hydrophilic_035", stent="stent_balloon_6x18"
    )
    advance_to(instr, "wire", 160.0)
    # The stent's middle over the lesion: distal marker 5 mm behind the tip, 18 mm stent, access at 5 mm.
    advance_to(instr, "stent", 100.0 - 5.0 + 5.0 + 9.0)
    markers = instr.markers_mm("stent")
    assert markers.shape == (2, 3)
    assert np.linalg.norm(markers[0] - markers[1]) == pytest.approx(18.0, abs=0.5)
    stent = instr.deploy_stent("stent")
    assert stent is not None and stent.branch == "a" and stent.diameter_mm == 6.0
    assert stent.s_start_mm == pytest.approx(91.0, abs=1.0) and stent.s_end_mm == pytest.approx(109.0, abs=1.0)
    assert stent.points_mm[0] == pytest.approx([0, 0, stent.s_start_mm], abs=0.5)
    assert instr.deploy_stent("stent") is None  # deployed once
    assert instr.deploy_stent("wire") is None  # not a stent
    index = instr._lumen
    radius = held_open_radius_mm(index.radius_mm, tree, index.branch, index.s_mm, stent)
    under = (index.s_mm > stent.s_start_mm) & (index.s_mm < stent.s_end_mm)
    assert radius[under].min() == pytest.approx(3.0) and index.radius_mm[under].min() < 1.3
    run(instr, 0.1, {})  # the mechanics now see the open lumen
    assert instr.state_arrays()["sample_radius_mm"][under].min() == pytest.approx(3.0)


def test_a_stent_outside_the_body_is_not_deployed():
    instr = instruments(tube(radius_mm=5.0), AccessSite("a", 5.0, "antegrade"), stent="stent_balloon_6x18")
    advance_to(instr, "stent", 15.0)  # the proximal marker still in the sheath
    assert instr.deploy_stent("stent") is None


# --- views --------------------------------------------------------------------------------------------------
def test_views_are_copies_with_the_tip_last_and_the_right_markers():
    instr = instruments(
        tube(radius_mm=10.0), AccessSite("a", 10.0, "antegrade"), wire="angled_hydrophilic_035", cath="berenstein_5f"
    )
    assert instr.nodes_mm("wire").shape == (1, 3) and instr.tip_branch("wire") is None
    advance_to(instr, "wire", 80.0)
    advance_to(instr, "cath", 50.0)
    nodes = instr.nodes_mm("wire")
    np.testing.assert_allclose(nodes[0], instr.clamp.position_mm)
    np.testing.assert_allclose(nodes[-1], instr.tip_mm("wire"))
    assert instr.tip_branch("wire") == "a"
    assert np.linalg.norm(instr.tip_direction("wire")) == pytest.approx(1.0)
    assert instr.markers_mm("wire").shape == (0, 3)
    np.testing.assert_allclose(instr.markers_mm("cath"), [instr.tip_mm("cath")])
    nodes[:] = 0.0
    state = instr.state_arrays()
    state["x_mm"][:] = 0.0
    assert np.abs(instr.nodes_mm("wire")).max() > 0.0
    with pytest.raises(KeyError, match="catheter"):
        instr.step(DT_S, {"catheter": (1.0, 0.0)})


def test_controls_beyond_a_hand_speed_are_limited():
    instr = instruments(tube(radius_mm=10.0), AccessSite("a", 10.0, "antegrade"), wire="angled_hydrophilic_035")
    instr.step(DT_S, {"wire": (10_000.0, 10_000.0)})
    assert instr.inserted_mm("wire") == pytest.approx(60.0 * DT_S)
    assert instr.hub_angle_deg("wire") == pytest.approx(360.0 * DT_S)


def test_instruments_reject_an_unknown_access_branch():
    with pytest.raises(ValueError, match="nowhere"):
        Instruments(tube(), AccessSite("nowhere", 5.0), {"wire": WIRE})
