"""Contact with the vessel: lumen tracking agrees with the tree, nodes stay in the lumen, tip force and injuries."""

import numpy as np
import pytest

from game.sim.anatomy.spec import LesionSpec
from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.devices.catalogue import CATALOGUE
from game.sim.mechanics import AccessSite
from game.sim.mechanics.contact import PERFORATION_FORCE_RATIO, LumenIndex, classify
from tests.mechanics_cases import (
    DT_S,
    advance_to,
    instruments,
    run,
    run_watching,
    side_branch_tree,
    side_by_side_tree,
    straight,
    tube,
    turn_tip_toward,
    winding_tree,
    y_tree,
)


@pytest.mark.parametrize("tree", [y_tree(30.0), y_tree(60.0), winding_tree()], ids=["y30", "y60", "winding"])
def test_lumen_index_finds_the_same_tube_as_the_tree_query(tree):
    rng = np.random.default_rng(3)
    lo, hi = tree.bounds_mm()
    points = rng.uniform(lo, hi, size=(4000, 3))
    exact = tree.query(points)
    near = exact.clearance_mm > -1.0  # inside, or just outside (where the wall constraint acts)
    points = points[near]
    exact = tree.query(points)
    index = LumenIndex(tree)
    # Seeds as a rod carries them: the sample found last step, up to a sample away from the nearest one now.
    nearest = np.array([index.seed(tree.branches[b].name, s) for b, s in zip(exact.branch, exact.s_mm, strict=True)])
    seeds = np.clip(
        nearest + rng.integers(-1, 2, size=len(points)), index.first_segment[nearest], index.last_segment[nearest] + 1
    )
    found = index.locate(points, seeds)
    np.testing.assert_allclose(found.clearance_mm, exact.clearance_mm, atol=1e-9)
    inside = exact.clearance_mm > 0.05  # a tie between two tubes may name either branch
    assert np.mean(found.branch[inside] == exact.branch[inside]) > 0.999


def test_nodes_stay_in_the_lumen_through_a_long_random_push_and_rotate_sequence():
    rng = np.random.default_rng(11)
    tree = winding_tree()
    instr = instruments(tree, AccessSite("main", 5.0, "antegrade"), wire="angled_hydrophilic_035", cath="berenstein_5f")
    advance_to(instr, "wire", 150.0)
    advance_to(instr, "cath", 100.0)
    worst = np.inf
    for _ in range(45):
        name = "wire" if rng.random() < 0.6 else "cath"
        controls = {name: (float(rng.uniform(-60.0, 60.0)), float(rng.uniform(-360.0, 360.0)))}
        for _ in range(int(rng.integers(5, 25))):
            instr.step(DT_S, controls)
            for device in ("wire", "cath"):
                nodes = instr.nodes_mm(device)
                if len(nodes) < 2:
                    continue
                radius = CATALOGUE[instr.devices[device].name].radius_mm
                # Centreline of the device at least its radius inside the wall (the tip point, interpolated on
                # the edge where the wider catheter ends, within a quarter of the radius step).
                clearance = tree.query(nodes).clearance_mm - radius
                clearance[-1] += 0.25 * radius
                worst = min(worst, clearance.min())
    assert worst > -0.05


def test_a_stenosis_narrows_the_room_for_the_device():
    lesion = LesionSpec("a", position_mm=80.0, length_mm=20.0, severity_pct=50.0)
    tree = VesselTree([straight("a", None, (0, 0, 0), (0, 0, 200), 3.0)], [lesion])
    instr = instruments(tree, AccessSite("a", 5.0, "antegrade"), cath="berenstein_5f")
    advance_to(instr, "cath", 120.0)
    nodes = instr.nodes_mm("cath")
    in_lesion = np.abs(nodes[:, 2] - 80.0) < 4.0
    radial = np.linalg.norm(nodes[in_lesion, :2], axis=1)
    room = np.array([tree["a"].radius_at(z) for z in nodes[in_lesion, 2]]) - CATALOGUE["berenstein_5f"].radius_mm
    assert room.min() < 0.75  # the lesion leaves the 5F catheter about 0.7 mm of play instead of 2.2 mm
    assert np.all(radial <= room + 0.05)


def test_normal_navigation_stays_well_below_the_force_limits():
    """Wire and catheter advanced, turned and exchanged in a Y, the tips never pushed into a dead end."""
    instr = instruments(
        y_tree(45.0), AccessSite("trunk", 5.0, "antegrade"), wire="angled_hydrophilic_035", cath="berenstein_5f"
    )
    peak = {"wire": 0.0, "cath": 0.0}
    for name, target in (("wire", 200.0), ("cath", 170.0), ("wire", 120.0), ("cath", 200.0), ("wire", 210.0)):
        for _ in range(2000):
            if abs(instr.inserted_mm(name) - target) < 1e-6:
                break
            instr.step(DT_S, {name: (float(np.clip((target - instr.inserted_mm(name)) / DT_S, -30, 30)), 90.0)})
            for device in peak:
                peak[device] = max(peak[device], instr.tip_force_N(device))
    assert instr.complications == []
    assert peak["wire"] < 0.5 * CATALOGUE["angled_hydrophilic_035"].max_tip_force_N
    assert peak["cath"] < 0.5 * CATALOGUE["berenstein_5f"].max_tip_force_N


def test_ramming_a_catheter_into_a_blind_end_injures_the_wall_there():
    tree = tube(radius_mm=4.0, length_mm=120.0)
    instr = instruments(tree, AccessSite("a", 5.0, "antegrade"), cath="berenstein_5f")
    events = run(instr, 5.0, {"cath": (30.0, 0.0)})
    assert events, "pushing on against the end of the vessel must injure it"
    first = events[0]
    assert first.kind in ("dissection", "perforation")
    assert first.instrument == "cath"
    assert first.branch == "a"
    assert first.position_mm > 105.0  # at the blind end
    assert 3.3 < first.t_s < 5.0  # once the tip had reached the end (115 mm at 30 mm/s)
    assert first.force_N > CATALOGUE["berenstein_5f"].max_tip_force_N
    assert instr.complications == events


@pytest.mark.parametrize(
    ("angle_deg", "trunk_radius_mm", "above_mm", "engaged"),
    [(85.0, 6.0, 25.0, True), (75.0, 5.0, 25.0, True), (85.0, 6.0, 20.0, False), (95.0, 6.0, 15.0, False)],
)
def test_a_wire_out_of_a_catheter_at_a_small_side_branch_and_back_injures_nothing(
    angle_deg, trunk_radius_mm, above_mm, engaged
):
    """The renal manoeuvre at hand speeds. A Cobra turned toward a 2.75 mm side branch is drawn down past the
    ostium and inched back up (6 mm/s), its tip ending in the branch or pointing into it; the wire is advanced out
    of it into the branch and pulled back (15 mm/s). Nothing here pushes a tip into a wall, and nothing is injured
    - where the rod's long last edge cut the corner of the ostium and the node that split it, the catheter's push
    on a wire's first millimetres out of it, or a tip balanced on the lip read as newtons (0.7 to 12 N:
    a dissection or perforation in each of these cases). Pushing the catheter on into the end of the branch
    still injures it."""
    cath_limit_N = CATALOGUE["cobra_c2_5f"].max_tip_force_N
    tree = side_branch_tree(angle_deg, trunk_radius_mm)
    instr = instruments(tree, AccessSite("trunk", 5.0, "antegrade"), wire="angled_hydrophilic_035", cath="cobra_c2_5f")
    advance_to(instr, "wire", 100.0)
    advance_to(instr, "cath", 110.0)
    advance_to(instr, "wire", 100.0)  # the wire's tip 10 mm inside the catheter
    advance_to(instr, "cath", 150.0 + above_mm, speed_mm_per_s=30.0)  # the catheter's tip above the ostium
    advance_to(instr, "wire", instr.inserted_mm("cath") - 10.0, speed_mm_per_s=30.0)
    turn_tip_toward(instr, "cath", np.array([1.0, 0.0, 0.0]))
    peak: dict[str, float] = {}
    run_watching(instr, 5.0, {"cath": (-6.0, 0.0)}, peak)  # drawn down past the ostium
    advance_to(instr, "wire", instr.inserted_mm("cath") - 10.0, speed_mm_per_s=15.0)
    run_watching(instr, 1.0, {"cath": (6.0, 0.0)}, peak)  # inched back up
    assert (instr.tip_branch("cath") == "side") == engaged
    run_watching(instr, 2.0, {"wire": (15.0, 0.0)}, peak)  # the wire 20 mm out, into the branch
    assert instr.tip_branch("wire") == "side"
    run_watching(instr, 40.0 / 15.0, {"wire": (-15.0, 0.0)}, peak)  # and back into the catheter
    assert instr.inserted_mm("wire") < instr.inserted_mm("cath")
    assert instr.complications == []
    assert peak["wire"] < CATALOGUE["angled_hydrophilic_035"].max_tip_force_N
    assert peak["cath"] < cath_limit_N
    for _ in range(round(5.0 / DT_S)):  # rammed on into the end of the branch
        events = instr.step(DT_S, {"cath": (30.0, 0.0)})
        if events:
            break
    assert events and events[0].instrument == "cath" and events[0].branch == "side"
    assert events[0].force_N > cath_limit_N


@pytest.mark.parametrize(("gap_mm", "speed_mm_per_s"), [(0.0, 12.0), (0.2, 15.0)])
def test_a_wire_slid_up_and_back_past_a_vessel_beside_its_own_injures_nothing(gap_mm, speed_mm_per_s):
    """A wire pushed up a vessel along the wall that a branch runs beside, its tip turned toward it, then pulled
    back, at hand speeds. A node a few tenths of a millimetre through that wall used to be found in the branch
    beyond it, the rod's edge then held across the wall from both sides, and the tip levered against it (1-1.3 N:
    a dissection or perforation); pulled back along that edge, the tip caught on the far side. Nodes now change
    vessel only through the lumen."""
    instr = instruments(side_by_side_tree(gap_mm), AccessSite("trunk", 5.0, "antegrade"), wire="angled_hydrophilic_035")
    advance_to(instr, "wire", 60.0)
    turn_tip_toward(instr, "wire", np.array([1.0, 0.0, 0.0]))
    peak: dict[str, float] = {}
    run_watching(instr, 120.0 / speed_mm_per_s, {"wire": (speed_mm_per_s, 0.0)}, peak)
    run_watching(instr, 120.0 / speed_mm_per_s, {"wire": (-speed_mm_per_s, 0.0)}, peak)
    assert instr.complications == []
    assert peak["wire"] < 0.5 * CATALOGUE["angled_hydrophilic_035"].max_tip_force_N
    assert instr.tip_branch("wire") == "trunk"


def test_a_floppy_wire_tip_folds_at_a_blind_end_instead_of_perforating():
    instr = instruments(tube(radius_mm=4.0, length_mm=120.0), AccessSite("a", 5.0, "antegrade"), w="j_tip_035")
    assert run(instr, 4.5, {"w": (30.0, 0.0)}) == []


def test_force_classification_escalates_once_and_rearms_after_relief():
    limit = 1.0
    assert classify(0.3, limit, 0) == (None, 0)
    assert classify(1.2, limit, 0) == ("dissection", 1)
    assert classify(1.5, limit, 1) == (None, 1)  # the same push: reported already
    assert classify(PERFORATION_FORCE_RATIO * limit + 0.1, limit, 1) == ("perforation", 2)
    assert classify(3.0, limit, 2) == (None, 2)
    assert classify(0.4, limit, 2) == (None, 0)  # relieved: a new push counts again
    assert classify(1.1, limit, 0) == ("dissection", 1)
