"""The vessel tree: resampling, topology, Murray flow, lesions and lumen queries against hand-computed cases."""

import numpy as np
import pytest

from game.sim.anatomy.spec import LesionSpec, VesselSpec
from game.sim.anatomy.vessel_tree import AnatomyError, VesselTree


def straight(name, parent, start, end, radius, n=5, flow=None):
    points = tuple(tuple(float(v) for v in p) for p in np.linspace(start, end, n))
    return VesselSpec(name, parent, points, (radius,) * n, flow)


def y_tree(flow=None):
    """A trunk along +z (100 mm, r 5) splitting at its end into left (+x) and right (-x) limbs at 45 degrees."""
    end = np.array([0.0, 0.0, 100.0])
    d = 60.0 / np.sqrt(2.0)
    return [
        straight("trunk", None, (0, 0, 0), end, 5.0, flow=flow),
        straight("left", "trunk", end, end + np.array([d, 0, d]), 4.0),
        straight("right", "trunk", end, end + np.array([-d, 0, d]), 3.0),
    ]


def test_straight_branch_is_resampled_at_one_mm_and_keeps_its_ends():
    tree = VesselTree([straight("a", None, (0, 0, 0), (0, 0, 50.5), 4.0)])
    b = tree["a"]
    assert b.length_mm == pytest.approx(50.5)
    assert np.all(np.diff(b.s_mm) <= 1.0 + 1e-9)
    np.testing.assert_allclose(b.points_mm[0], [0, 0, 0])
    np.testing.assert_allclose(b.points_mm[-1], [0, 0, 50.5])
    np.testing.assert_allclose(b.tangents, np.tile([0, 0, 1.0], (len(b.s_mm), 1)), atol=1e-9)


def test_curved_centreline_length_matches_the_arc():
    angles = np.linspace(0, np.pi / 2, 7)
    radius = 80.0
    points = tuple((radius * np.cos(a), radius * np.sin(a), 0.0) for a in angles)
    tree = VesselTree([VesselSpec("arc", None, points, (3.0,) * 7)])
    assert tree["arc"].length_mm == pytest.approx(radius * np.pi / 2, rel=2e-3)
    spacing = np.linalg.norm(np.diff(tree["arc"].points_mm, axis=0), axis=1)
    assert spacing.max() - spacing.min() < 0.02


def test_query_in_a_straight_tube_matches_hand_computed_distances():
    tree = VesselTree([straight("a", None, (0, 0, 0), (0, 0, 100), 4.0)])
    q = tree.query(np.array([[0, 0, 30.2], [3, 0, 50.0], [0, 5, 70.0], [1, 1, 10.0]]))
    np.testing.assert_allclose(q.s_mm, [30.2, 50.0, 70.0, 10.0], atol=1e-9)
    np.testing.assert_allclose(q.distance_mm, [0.0, 3.0, 5.0, np.sqrt(2)], atol=1e-9)
    np.testing.assert_allclose(q.clearance_mm, [4.0, 1.0, -1.0, 4 - np.sqrt(2)], atol=1e-9)
    assert list(q.inside) == [True, True, False, True]
    np.testing.assert_allclose(q.closest_mm[1], [0, 0, 50.0], atol=1e-9)


def test_which_branch_at_a_bifurcation():
    tree = VesselTree(y_tree())
    assert tree.branch_of(np.array([0, 0, 50.0])) == "trunk"
    assert tree.branch_of(np.array([20.0, 0, 120.0])) == "left"
    assert tree.branch_of(np.array([-20.0, 0, 120.0])) == "right"
    assert tree.branch_of(np.array([0.0, 0, 130.0])) is None  # in the crotch, between the limbs
    assert tree.branch_of(np.array([0.0, 20, 50.0])) is None


def test_large_vessel_is_found_even_with_a_small_vessel_close_by():
    """Points near an aorta's wall next to a small side branch still lie in the aorta."""
    aorta = straight("aorta", None, (0, 0, 0), (0, 0, 200), 15.0)
    side = straight("side", "aorta", (0, 0, 100), (60, 0, 100), 2.0, n=13)
    tree = VesselTree([aorta, side])
    q = tree.query(np.array([[13.5, 0, 104.0], [14.0, 0.0, 96.0], [0, 13.0, 100.0]]))
    assert list(tree.branches[b].name for b in q.branch) == ["aorta", "aorta", "aorta"]
    assert np.all(q.inside)
    assert tree.branch_of(np.array([30.0, 0.5, 100.0])) == "side"


def test_topology_and_path():
    tree = VesselTree(y_tree())
    trunk, left, right = (tree[n].index for n in ("trunk", "left", "right"))
    assert tree.root.name == "trunk"
    assert tree["trunk"].children == (left, right)
    assert tree["left"].parent_s_mm == pytest.approx(100.0)
    assert tree.path(left, right) == [left, trunk, right]
    assert tree.path(trunk, left) == [trunk, left]


def test_murray_split_at_the_end_of_a_branch():
    tree = VesselTree(y_tree(flow=910.0))
    q_left, q_right = tree["left"].flow_mL_per_min, tree["right"].flow_mL_per_min
    assert q_left + q_right == pytest.approx(910.0)
    assert q_left / q_right == pytest.approx(4.0**3 / 3.0**3)


def test_side_branch_takes_its_murray_share_and_the_parent_carries_the_rest():
    aorta = straight("aorta", None, (0, 0, 0), (0, 0, 200), 10.0, flow=3000.0)
    side = straight("side", "aorta", (0, 0, 100), (50, 0, 100), 5.0)
    tree = VesselTree([aorta, side])
    share = 5.0**3 / (5.0**3 + 10.0**3)
    assert tree["side"].flow_mL_per_min == pytest.approx(3000.0 * share)
    assert tree["aorta"].flow_at(50.0) == pytest.approx(3000.0)
    assert tree["aorta"].flow_at(150.0) == pytest.approx(3000.0 * (1 - share))
    # velocity = Q / (pi r^2): 3000 mL/min = 50 000 mm^3/s over 314 mm^2
    assert tree["aorta"].velocity_at(50.0) == pytest.approx(50000.0 / (np.pi * 100.0))


def test_lesion_narrows_the_lumen_by_its_severity():
    tree = VesselTree(y_tree(), [LesionSpec("left", position_mm=30.0, length_mm=10.0, severity_pct=70.0)])
    left = tree["left"]
    assert left.radius_at(30.0) == pytest.approx(4.0 * 0.3)
    assert left.radius_at(20.0) == pytest.approx(4.0)
    assert left.healthy_radii_mm.min() == pytest.approx(4.0)
    centre = left.point_at(30.0)
    normal = np.array([0.0, 1.0, 0.0])
    assert tree.branch_of(centre + 2.0 * normal) is None  # inside the healthy wall, outside the narrowed lumen
    assert tree.branch_of(left.point_at(20.0) + 2.0 * normal) == "left"


@pytest.mark.parametrize(
    ("specs", "lesions", "message"),
    [
        ([straight("a", None, (0, 0, 0), (0, 0, 50), 4), straight("a", None, (0, 0, 0), (0, 0, 9), 4)], [], "two"),
        ([straight("a", None, (0, 0, 0), (0, 0, 50), 4), straight("b", "zz", (0, 0, 0), (9, 0, 0), 4)], [], "zz"),
        ([straight("a", "b", (0, 0, 0), (0, 0, 50), 4), straight("b", "a", (0, 0, 0), (9, 0, 0), 4)], [], "cycle"),
        ([straight("a", None, (0, 0, 0), (0, 0, 50), 4), straight("b", None, (0, 0, 0), (9, 0, 0), 4)], [], "roots"),
        ([straight("a", None, (0, 0, 0), (0, 0, 50), 140)], [], "radius"),
        ([straight("a", None, (0, 0, 0), (0, 0, 50), -1)], [], "radius"),
        ([straight("a", None, (0, 0, 0), (0, 0, np.nan), 4)], [], "finite"),
        ([straight("a", None, (0, 0, 0), (0, 0, 1), 4)], [], "too short"),
        ([straight("a", None, (0, 0, 0), (0, 0, 50), 4), straight("b", "a", (30, 0, 0), (60, 0, 0), 2)], [], "inside"),
        ([straight("a", None, (0, 0, 0), (0, 0, 50), 4)], [LesionSpec("a", 48.0, 10.0, 50.0)], "outside"),
        ([straight("a", None, (0, 0, 0), (0, 0, 50), 4)], [LesionSpec("q", 20.0, 10.0, 50.0)], "does not exist"),
    ],
)
def test_invalid_anatomy_is_rejected_with_a_precise_message(specs, lesions, message):
    with pytest.raises(AnatomyError, match=message):
        VesselTree(specs, lesions)


def test_queries_are_vectorised_and_consistent_with_single_queries():
    tree = VesselTree(y_tree())
    rng = np.random.default_rng(1)
    points = rng.uniform([-50, -10, -5], [50, 10, 150], size=(500, 3))
    batch = tree.query(points)
    for i in range(0, 500, 50):
        single = tree.query(points[i])
        assert single.branch[0] == batch.branch[i]
        assert single.clearance_mm[0] == pytest.approx(batch.clearance_mm[i])


def test_scan_of_a_few_points_finds_the_same_nearest_samples_as_the_kd_trees():
    """The compiled scan used for one or a few points (the tips) and the k-d trees used for many find the same
    neighbours per radius class: the same distances, nearest first (samples exactly as far may swap)."""
    from game.sim.anatomy.nearest_kernel import nearest_by_class
    from game.sim.level import load_level
    from game.sim.level.library import level_files

    tree = load_level(next(p for p in level_files() if "coronary" in p.name)).tree
    rng = np.random.default_rng(7)
    low, high = tree.bounds_mm()
    picks = tree.branches[0].points_mm[rng.integers(0, len(tree.branches[0].s_mm), 100)]
    points = np.concatenate([rng.uniform(low, high, (100, 3)), picks + rng.normal(0.0, 2.0, (100, 3))])
    scanned = np.concatenate(
        [nearest_by_class(p[None], tree._points, tree._class_members, tree._class_ends, tree._class_k) for p in points]
    )
    by_tree = np.concatenate(
        [members[np.reshape(kd.query(points, k=min(5, len(members)))[1], (len(points), -1))]
         for members, kd in tree._classes], axis=1)  # fmt: skip
    assert scanned.shape == by_tree.shape
    distance = lambda idx: np.linalg.norm(tree._points[idx] - points[:, None, :], axis=2)  # noqa: E731
    np.testing.assert_allclose(distance(scanned), distance(by_tree), rtol=0, atol=1e-12)
    assert (scanned == by_tree).mean() > 0.99
    # And the location each path then chooses: one point at a time (scan) and all at once (k-d trees) agree.
    one_by_one = [tree.query(p[None]) for p in points]
    at_once = tree.query(points)
    same = [q.branch[0] == at_once.branch[i] for i, q in enumerate(one_by_one)]
    assert np.mean(same) > 0.98
    clearance = np.array([q.clearance_mm[0] for q in one_by_one])
    np.testing.assert_allclose(clearance[same], at_once.clearance_mm[same], rtol=0, atol=1e-9)
