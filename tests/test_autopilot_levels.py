"""The autopilot on every shipped level: solvable in both styles, and careless habits cost dose and score.

One test per level plays it twice (expert, careless), so the suite spreads the levels over its workers.
"""

import pytest

from game.sim.level import load_level
from game.sim.level.library import level_files
from game.sim.runs import autoplay_level

SHIPPED = level_files()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_autopilot_solves_every_shipped_level_and_careless_habits_cost_dose_and_score(path):
    level = load_level(path)
    expert = autoplay_level(level, "expert", seed=0)
    careless = autoplay_level(level, "careless", seed=0)
    for result in (expert, careless):
        assert result["success"], (result["outcome"], result.get("autopilot_problem"), result["complications"])
    assert careless["air_kerma_mGy"] >= 2 * expert["air_kerma_mGy"]
    assert careless["fluoro_time_s"] > expert["fluoro_time_s"]
    assert careless["score"] < expert["score"]
    assert careless["stars"] <= expert["stars"]
