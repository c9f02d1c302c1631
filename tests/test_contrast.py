"""Contrast transport: arrival after distance / velocity, split by flow, dilution, reflux, wash-out, mass balance."""

import numpy as np
import pytest

from game.sim.anatomy.spec import LesionSpec, VesselSpec
from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.contrast import ContrastTransport, Injection

DT = 1.0 / 60.0


def straight(name, parent, start, end, radius, n=5, flow=None):
    points = tuple(tuple(float(v) for v in p) for p in np.linspace(start, end, n))
    return VesselSpec(name, parent, points, (radius,) * n, flow)


def y_tree(lesions=()):
    """A 200 mm trunk (r 5 mm, 600 mL/min) splitting into left (r 4) and right (r 3), plus a side branch."""
    end = np.array([0.0, 0.0, 200.0])
    d = 100.0 / np.sqrt(2.0)
    specs = [
        straight("trunk", None, (0, 0, 0), end, 5.0, flow=600.0),
        straight("left", "trunk", end, end + np.array([d, 0, d]), 4.0),
        straight("right", "trunk", end, end + np.array([-d, 0, d]), 3.0),
        straight("side", "trunk", (0, 0, 100), (60, 0, 100), 2.0),
    ]
    return VesselTree(specs, list(lesions))


def run(transport, seconds, record=None):
    for _ in range(round(seconds / DT)):
        transport.step(DT)
        if record is not None:
            record(transport)


def balance(t: ContrastTransport) -> float:
    return t.injected_mg - t.washed_out_mg - t.total_iodine_mg()


def test_contrast_reaches_a_downstream_point_after_distance_over_velocity():
    tree = y_tree()
    transport = ContrastTransport(tree)
    rate = 0.2  # mL/s, 2 % of the trunk's flow: the injection barely speeds the blood up
    transport.set_injection(Injection("trunk", 10.0, rate, 300.0))
    q = transport.flow_mL_per_s("trunk", 10.0)
    velocity = tree["trunk"].velocity_at(50.0) * (1.0 + rate / q)
    history = []
    run(transport, 1.5, lambda t: history.append(t.concentration_at("trunk", 90.0)))
    history = np.array(history)
    plateau = 300.0 * rate / (q + rate)
    assert history[-1] == pytest.approx(plateau, rel=1e-6)
    arrival = (np.argmax(history >= 0.5 * plateau) + 1) * DT
    assert arrival == pytest.approx(80.0 / velocity, abs=2 * DT)


def test_mixed_concentration_is_diluted_by_the_local_flow():
    transport = ContrastTransport(y_tree())
    transport.set_injection(Injection("trunk", 10.0, 4.0, 300.0))
    run(transport, 3.0)
    q = transport.flow_mL_per_s("trunk", 10.0)
    assert transport.concentration_at("trunk", 150.0) == pytest.approx(300.0 * 4.0 / (q + 4.0), rel=1e-3)


def test_a_bolus_splits_in_proportion_to_flow():
    """A short bolus passes a bifurcation and a side branch; the iodine in each child follows its flow share."""
    end = np.array([0.0, 0.0, 150.0])
    d = 250.0 / np.sqrt(2.0)
    tree = VesselTree(
        [
            straight("trunk", None, (0, 0, 0), end, 5.0, flow=600.0),
            straight("left", "trunk", end, end + np.array([d, 0, d]), 4.0),
            straight("right", "trunk", end, end + np.array([-d, 0, d]), 3.0),
            straight("side", "trunk", (0, 0, 60), (150, 0, 60), 2.0),
        ]
    )
    transport = ContrastTransport(tree)
    transport.set_injection(Injection("trunk", 5.0, 0.5, 300.0))
    run(transport, 0.1)
    transport.set_injection(None)
    run(transport, 1.6)  # the bolus has left the trunk, and no child's end has been reached

    def mass_in(name):
        b = tree[name]
        sl = slice(transport.cell_first[b.index], transport.cell_first[b.index] + transport.n_cells[b.index])
        return float(np.dot(transport.concentration[sl], transport.volume_mL[sl]))

    masses = {n: mass_in(n) for n in ("trunk", "left", "right", "side")}
    assert masses["trunk"] < 1e-3 * transport.injected_mg
    assert transport.washed_out_mg == 0.0
    assert sum(masses.values()) == pytest.approx(transport.injected_mg, rel=1e-9)
    flow = {n: transport._inlet_flow[tree[n].index] for n in ("trunk", "left", "right", "side")}
    assert masses["left"] / masses["right"] == pytest.approx(flow["left"] / flow["right"], rel=2e-3)
    assert masses["side"] / transport.injected_mg == pytest.approx(flow["side"] / flow["trunk"], rel=2e-3)


def test_steady_flux_into_children_matches_their_flow_share():
    tree = y_tree()
    transport = ContrastTransport(tree)
    transport.set_injection(Injection("trunk", 5.0, 1.0, 300.0))
    run(transport, 4.0)  # steady: every branch holds the same mixed concentration
    c = transport.concentration_at("trunk", 150.0)
    for name in ("left", "right", "side"):
        assert transport.concentration_at(name, 20.0) == pytest.approx(c, rel=1e-6)
    q_trunk = transport.flow_mL_per_s("trunk", 150.0)
    q_children = sum(transport._inlet_flow[tree[n].index] for n in ("left", "right"))
    assert q_children == pytest.approx(q_trunk)
    left, right = (tree[n] for n in ("left", "right"))
    ratio = transport._inlet_flow[left.index] / transport._inlet_flow[right.index]
    assert ratio == pytest.approx(4.0**3 / 3.0**3, rel=1e-6)  # Murray: flow ~ r^3


def test_iodine_is_conserved_until_it_leaves_and_then_washes_out():
    transport = ContrastTransport(y_tree())
    transport.set_injection(Injection("trunk", 10.0, 6.0, 350.0))
    errors = []
    run(transport, 1.0, lambda t: errors.append(balance(t)))
    injected = transport.injected_mg
    assert injected == pytest.approx(6.0 * 350.0 * 1.0, rel=1e-9)
    transport.set_injection(None)
    run(transport, 6.0, lambda t: errors.append(balance(t)))
    assert max(abs(e) for e in errors) < 1e-9 * injected
    assert transport.total_iodine_mg() < 1e-6 * injected  # washed out within seconds
    assert transport.washed_out_mg == pytest.approx(injected, rel=1e-9)


def test_no_iodine_is_made_or_lost_in_reflux_and_it_climbs_upstream():
    tree = y_tree()
    transport = ContrastTransport(tree)
    q_side = transport.flow_mL_per_s("side", 30.0)
    # Far faster than the side branch's flow, 10 mm from its origin: the reflux spills into the trunk.
    transport.set_injection(Injection("side", 10.0, q_side * 5.0, 300.0))
    errors = []
    run(transport, 1.0, lambda t: errors.append(balance(t)))
    assert max(abs(e) for e in errors) < 1e-9 * transport.injected_mg
    assert transport.concentration_at("side", 5.0) > 0.0  # upstream of the tip in the side branch
    assert transport.concentration_at("trunk", 150.0) > 0.0  # into the parent, carried down by its flow
    assert transport.concentration_at("trunk", 60.0) == 0.0  # but not far up the trunk against its strong flow
    assert transport.concentration.max() <= 300.0 + 1e-9


def test_no_reflux_beyond_the_jet_when_the_injection_is_slower_than_the_flow():
    transport = ContrastTransport(y_tree())
    q = transport.flow_mL_per_s("trunk", 100.0)
    transport.set_injection(Injection("trunk", 100.0, 0.5 * q, 300.0))
    run(transport, 1.0)
    assert transport.concentration_at("trunk", 95.0) > 0.0  # the jet mixes within a vessel diameter (10 mm)
    assert transport.concentration_at("trunk", 88.0) == 0.0


def test_reflux_reaches_further_with_a_faster_injection():
    def reach(rate_factor):
        transport = ContrastTransport(y_tree())
        q = transport.flow_mL_per_s("trunk", 150.0)
        transport.set_injection(Injection("trunk", 150.0, q * rate_factor, 300.0))
        run(transport, 0.5)
        b = transport.tree["trunk"]
        cells = transport.concentration[transport.cell_first[b.index] : transport.cell_first[b.index] + 150]
        wet = np.flatnonzero(cells > 1e-3)
        return 150 - wet.min() if len(wet) else 0

    assert 0 < reach(1.5) < reach(3.0)


def test_a_tight_stenosis_is_passed_without_instability():
    tree = y_tree([LesionSpec("trunk", 100.0, 10.0, 90.0)])  # 90 % diameter stenosis: 100x the velocity
    transport = ContrastTransport(tree)
    transport.set_injection(Injection("trunk", 10.0, 1.0, 300.0))
    errors = []
    run(transport, 2.0, lambda t: errors.append(balance(t)))
    assert max(abs(e) for e in errors) < 1e-9 * transport.injected_mg
    c = transport.concentration
    q = transport.flow_mL_per_s("trunk", 10.0)
    assert c.min() >= 0.0 and c.max() <= 300.0
    mixed = 300.0 * 1.0 / (q + 1.0)
    assert transport.concentration_at("trunk", 100.0) == pytest.approx(mixed, rel=1e-3)  # in the stenosis
    assert transport.concentration_at("trunk", 180.0) == pytest.approx(mixed, rel=1e-3)


def test_transport_is_deterministic_and_fill_feeds_the_renderer():
    a, b = ContrastTransport(y_tree()), ContrastTransport(y_tree())
    for t in (a, b):
        t.set_injection(Injection("left", 20.0, 2.0, 300.0))
        run(t, 0.7)
    np.testing.assert_array_equal(a.concentration, b.concentration)
    a.fill(150.0)
    samples = a.sample_concentration()
    assert samples.shape == (a.tree.sample_count,) and np.allclose(samples, 150.0)
