"""The objective tracker: depth along the route, selective angiogram conditions, stent margins, failures."""

import pytest

from game.sim.level import parse_level
from game.sim.objectives import ObjectiveTracker, StentPlacement, TipState
from tests.test_level_loading import VALID


def level(objective: str, access: str = 'branch = "trunk"\nposition_mm = 10\ndirection = "antegrade"'):
    text = VALID.replace('kind = "reach"\nbranch = "left"\ndepth_mm = 10', objective)
    text = text.replace('branch = "trunk"\nposition_mm = 10\ndirection = "antegrade"', access)
    text = text.replace(
        'device = "angled_hydrophilic_035"',
        'device = "angled_hydrophilic_035"\n\n[[instruments]]\nname = "stent"\ndevice = "stent_balloon_6x18"',
    )
    return parse_level(text.encode(), "objective test")


def update(tracker, t=1.0, tips=None, conc=None, cine=False, stents=(), complications=0):
    return tracker.update(t, tips or {}, conc or {}, cine, list(stents), complications)


def test_reach_needs_the_branch_and_the_depth():
    lv = level('kind = "reach"\nbranch = "left"\ndepth_mm = 10')
    tracker = ObjectiveTracker(lv)
    left = lv.tree["left"].index
    assert not update(tracker, tips={"wire": TipState(left, 6.0, 120.0)}).done
    assert update(tracker, tips={"wire": TipState(left, 11.0, 125.0)}).done
    assert tracker.status.outcome == "success"


def test_depth_counts_from_where_a_retrograde_route_enters():
    lv = level(
        'kind = "reach"\nbranch = "trunk"\ndepth_mm = 30',
        access='branch = "left"\nposition_mm = 40\ndirection = "retrograde"',
    )
    tracker = ObjectiveTracker(lv)
    trunk = lv.tree["trunk"].index
    # Climbing out of the left limb into the trunk enters it at its end (s = 100) and goes down.
    assert tracker.depth_mm(100.0) == pytest.approx(0.0)
    assert tracker.depth_mm(60.0) == pytest.approx(40.0)
    assert update(tracker, tips={"wire": TipState(trunk, 65.0, 80.0)}).done


def test_selective_angiogram_needs_cine_while_the_branch_is_opacified():
    lv = level('kind = "selective_angiogram"\nbranch = "left"\ndepth_mm = 5')
    tracker = ObjectiveTracker(lv)
    tip = {"wire": TipState(lv.tree["left"].index, 10.0, 120.0)}
    assert not update(tracker, t=1.0, tips=tip, conc={"wire": 200.0}, cine=False).done
    assert not update(tracker, t=1.5, tips=tip, conc={"wire": 5.0}, cine=True).done
    assert not update(tracker, t=2.0, tips=tip, conc={"wire": 200.0}, cine=True).done  # 0.5 s recorded
    assert update(tracker, t=2.5, tips=tip, conc={"wire": 200.0}, cine=True).done  # a 1 s run


def test_stent_must_cover_the_lesion_with_margins():
    # The lesion on "left" is centred at 15 mm and 6 mm long: it spans 12-18 mm.
    lv = level('kind = "stent"\nlesion = 1\nmargin_mm = 2')
    left = lv.tree["left"].index
    good = ObjectiveTracker(lv)
    assert update(good, stents=[StentPlacement(left, 6.0, 24.0)]).done
    assert good.status.details["position_error_mm"] == pytest.approx(0.0)
    short = ObjectiveTracker(lv)
    assert update(short, stents=[StentPlacement(left, 11.0, 29.0)]).failed
    assert short.status.details["margin_proximal_mm"] == pytest.approx(1.0)
    wrong = ObjectiveTracker(lv)
    assert update(wrong, stents=[StentPlacement(lv.tree["right"].index, 6.0, 24.0)]).failed


def test_complication_and_time_limit_fail_the_run():
    lv = level('kind = "reach"\nbranch = "left"\ndepth_mm = 10')
    assert update(ObjectiveTracker(lv), complications=1).outcome == "failed_complication"
    assert update(ObjectiveTracker(lv), t=lv.definition.budget.time_limit_s).outcome == "failed_time"
