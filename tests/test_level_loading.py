"""Level files: a valid one loads; every kind of broken one is refused with one precise message and exit 1."""

import json
import subprocess
import sys

import pytest

from game.cli import main
from game.sim.level import LevelError, load_level

VALID = """\
format = 1
id = "test-y"
title = "A Y bifurcation"
procedure = "tutorial"
difficulty = 1
briefing = "Reach the left limb."

[patient]
thickness_ap_mm = 220

[anatomy]

[[anatomy.vessels]]
name = "trunk"
points_mm = [[0, 0, 0], [0, 0, 50], [0, 0, 100]]
radius_mm = 5.0
flow_mL_per_min = 1000

[[anatomy.vessels]]
name = "left"
parent = "trunk"
points_mm = [[0, 0, 100], [20, 0, 120], [40, 0, 140]]
radii_mm = [4.0, 4.0, 3.5]

[[anatomy.vessels]]
name = "right"
parent = "trunk"
points_mm = [[0, 0, 100], [-20, 0, 120], [-40, 0, 140]]
radius_mm = 4.0

[[lesions]]
branch = "left"
position_mm = 15
length_mm = 6
severity_pct = 60

[access]
branch = "trunk"
position_mm = 10
direction = "antegrade"

[[instruments]]
name = "wire"
device = "angled_hydrophilic_035"

[objective]
kind = "reach"
branch = "left"
depth_mm = 10

[reference]
fluoro_time_s = 30
air_kerma_mGy = 10
kap_Gycm2 = 2
"""


def write(tmp_path, text, name="level.toml"):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


def problems_of(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(LevelError) as info:
        load_level(path)
    return [str(p) for p in info.value.problems]


def test_valid_explicit_level_loads(tmp_path):
    level = load_level(write(tmp_path, VALID))
    assert level.id == "test-y"
    assert set(level.tree.by_name) == {"trunk", "left", "right"}
    assert level.tree["left"].radius_at(15.0) < 2.0
    assert level.devices["wire"].name == "angled_hydrophilic_035"
    assert len(level.sha256) == 64


def replace(old, new, text=VALID):
    assert old in text, old
    return text.replace(old, new, 1)


CASES = [
    ("invalid TOML", "id = \n" + VALID, "invalid TOML", "id = "),
    ("empty", "", "empty", None),
    ("whitespace only", "  \n\n", "empty", None),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", "binary", None),
    ("not utf-8", b'format = 1\nid = "\xff\xfe"\n', "UTF-8", "id = "),
    ("no format", replace("format = 1\n", ""), "format", None),
    ("future format", replace("format = 1", "format = 7"), "unsupported format 7", "format = 7"),
    ("missing field", replace('title = "A Y bifurcation"\n', ""), "missing required field 'title'", None),
    ("mistyped field", replace("difficulty = 1", 'difficulty = "easy"'), "difficulty", "difficulty ="),
    ("typo key", replace("severity_pct = 60", "severty_pct = 60"), "did you mean 'severity_pct'", "severty_pct"),
    ("unknown table", VALID + "\n[imagin]\nfov_cm = 20\n", "unknown key 'imagin'", None),
    ("missing parent", replace('parent = "trunk"', 'parent = "trunkk"'), "trunkk", "trunkk"),
    (
        "cycle",
        replace('name = "trunk"\n', 'name = "trunk"\nparent = "left"\n'),
        "cycle",
        None,
    ),
    ("radius negative", replace("radius_mm = 5.0", "radius_mm = -5.0"), "radius_mm", "radius_mm = "),
    ("radius absurd", replace("radius_mm = 5.0", "radius_mm = 150.0"), "radius_mm", "radius_mm = "),
    ("nan coordinate", replace("[0, 0, 50]", "[0, nan, 50]"), "finite", "points_mm = [[0, 0, 0]"),
    ("inf coordinate", replace("[0, 0, 50]", "[0, inf, 50]"), "finite", "points_mm = [[0, 0, 0]"),
    (
        "too short",
        replace("[[0, 0, 100], [20, 0, 120], [40, 0, 140]]", "[[0, 0, 100], [0.5, 0, 100.5], [1, 0, 101]]"),
        "too short",
        "[[0, 0, 100], [0.5",
    ),
    ("lesion outside", replace("position_mm = 15", "position_mm = 55"), "outside", "[[lesions]]"),
    (
        "lesion on missing branch",
        replace('branch = "left"\nposition_mm', 'branch = "leftt"\nposition_mm'),
        "leftt",
        "[[lesions]]",
    ),
    (
        "objective missing branch",
        replace('kind = "reach"\nbranch = "left"', 'kind = "reach"\nbranch = "middle"'),
        "objective branch 'middle'",
        "middle",
    ),
    (
        "unknown instrument",
        replace('device = "angled_hydrophilic_035"', 'device = "angled_hydrofilic_035"'),
        "did you mean 'angled_hydrophilic_035'",
        "hydrofilic",
    ),
    (
        "access missing branch",
        replace('branch = "trunk"\nposition_mm = 10', 'branch = "aorta"\nposition_mm = 10'),
        "access branch 'aorta'",
        "aorta",
    ),
    (
        "child outside parent",
        replace("[[0, 0, 100], [-20, 0, 120]", "[[30, 0, 100], [-20, 0, 120]"),
        "inside",
        "[[30, 0, 100]",
    ),
    (
        "both radius forms",
        replace("radius_mm = 4.0\n", "radius_mm = 4.0\nradii_mm = [1, 2, 3]\n"),
        "either",
        "[[anatomy.vessels]]",
        2,
    ),
]


def line_with(text, marker, occurrence=0):
    """1-based number of the line holding ``marker`` (its ``occurrence``-th appearance)."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_level_gets_one_precise_message(tmp_path, case):
    _, text, fragment, marker, *occurrence = case
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    assert fragment in problems[0]
    assert problems[0].startswith(str(tmp_path / "level.toml"))
    if marker is not None:
        source = text if isinstance(text, str) else text.decode("utf-8", "replace")
        expected = line_with(source, marker, *occurrence)
        assert problems[0].split(":")[1] == str(expected), problems[0]


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(LevelError, match="no such file"):
        load_level(tmp_path / "nope.toml")
    with pytest.raises(LevelError, match="directory"):
        load_level(tmp_path)


def test_huge_file_is_refused_quickly(tmp_path):
    path = write(tmp_path, VALID + "# " + "x" * 2_000_000 + "\n")
    with pytest.raises(LevelError, match="limit"):
        load_level(path)


def test_check_command_exit_codes_and_messages(tmp_path, capsys):
    good = write(tmp_path, VALID, "good.toml")
    bad = write(tmp_path, replace("severity_pct = 60", "severty_pct = 60"), "bad.toml")
    assert main(["check", str(good)]) == 0
    assert main(["check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith(f"{bad}:{line_with(VALID, 'severity_pct')}: unknown key 'severty_pct'")


def test_check_never_prints_a_traceback(tmp_path):
    bad = write(tmp_path, b"\x00\x01garbage", "bad.toml")
    result = subprocess.run(
        [sys.executable, "-m", "game", "check", str(bad), str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and "binary" in lines[0] and "no such file" in lines[1]


def test_check_json(tmp_path, capsys):
    good = write(tmp_path, VALID, "good.toml")
    assert main(["check", "--json", str(good)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True and data["levels"][0]["problems"] == []
