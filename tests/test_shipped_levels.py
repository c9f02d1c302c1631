"""Every shipped level loads and validates; the level guide is in step with the code."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from game.cli import main
from game.paths import levels_dir
from game.sim.level import load_level, parse_level
from game.sim.level.library import level_files, resolve_level

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = level_files()


def test_there_are_shipped_levels():
    assert len(SHIPPED) >= 2
    assert levels_dir() == ROOT / "levels"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_level_loads(path):
    level = load_level(path)
    assert level.tree.sample_count > 100
    assert resolve_level(level.id) == path
    assert level.definition.objective.branch is None or level.definition.objective.branch in level.tree


def test_level_ids_are_unique():
    ids = [load_level(p).id for p in SHIPPED]
    assert len(ids) == len(set(ids))


def test_levels_json_lists_every_shipped_level(capsys):
    assert main(["levels", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [entry["path"] for entry in data["levels"]] == [str(p) for p in SHIPPED]
    assert set(data["levels"][0]) == {"id", "title", "procedure", "difficulty", "path"}


def test_check_all_shipped_levels_via_the_console_script():
    result = subprocess.run(
        [sys.executable, "-m", "game", "check", *map(str, SHIPPED)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok") == len(SHIPPED)


def test_the_annotated_example_in_the_level_guide_is_valid():
    guide = (ROOT / "docs" / "levels.md").read_text()
    example = re.search(r"## A complete, annotated example\s+```toml\n(.*?)```", guide, re.S).group(1)
    level = parse_level(example.encode(), "docs/levels.md example")
    assert level.id == "renal-stent-demo"
    assert "accessory_right_renal" in level.tree


def test_the_level_guide_reference_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_level_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
