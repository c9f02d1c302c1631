"""The autopilot on every shipped level: solvable in both styles, and careless habits cost dose and score.

One test per level plays it twice (expert, careless), so the suite spreads the levels over its workers. By default
a quick set covering each technique (pedal, selective angiogram, stent, crossover, the arch) is played; with
``LUMEN_TEST_ALL_LEVELS=1`` (CI sets it) every shipped level is.
"""

import os

import pytest

from game.sim.level import load_level
from game.sim.level.library import level_files
from game.sim.runs import autoplay_level

SHIPPED = level_files()
QUICK = {"01_pedal_and_hold", "02_renal_cobra", "04_contrast_cine_roadmap", "05_renal_stent", "06_iliac_crossover",
         "08_arch_type1_lcca"}  # fmt: skip
ALL_LEVELS = os.environ.get("LUMEN_TEST_ALL_LEVELS") == "1"


def _cases() -> list:
    skip = pytest.mark.skipif(not ALL_LEVELS, reason="a long level: LUMEN_TEST_ALL_LEVELS=1 (as in CI) plays it")
    return [pytest.param(p, id=p.name, marks=() if p.stem in QUICK else skip) for p in SHIPPED]


@pytest.mark.parametrize("path", _cases())
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
