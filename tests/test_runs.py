"""Whole runs: determinism, autoplay = replay, the replay command's messages, the autopilot on shipped levels."""

import json
import subprocess
import sys

import pytest

from game.cli import main
from game.sim import actions as A
from game.sim.level import load_level
from game.sim.level.library import level_files
from game.sim.procedure import Procedure, run_actions
from game.sim.replay import Replay, write_replay
from game.sim.runs import autoplay_level, load_replay_level, replay_header, replay_run

SHIPPED = level_files()


@pytest.fixture(scope="module")
def tutorial():
    return load_level(SHIPPED[0])


def scripted(level):
    acts = [
        A.make(0.0, "select", "wire"),
        A.make(0.0, "advance", 30.0),
        A.make(0.0, "fluoro", True),
        A.make(0.5, "rotate", 90.0),
        A.make(1.0, "fluoro", False),
        A.make(1.2, "rotate", 0.0),
        A.make(2.0, "carm", {"lao": 20, "cra": 0}),
        A.make(2.0, "cine", True),
        A.make(2.5, "cine", False),
        A.make(3.0, "end"),
    ]
    return acts


def test_same_level_seed_and_actions_give_the_same_hash(tutorial):
    hashes = []
    for _ in range(2):
        p = Procedure(tutorial, seed=5)
        run_actions(p, scripted(tutorial))
        hashes.append(p.result()["result_hash"])
    assert hashes[0] == hashes[1]
    other = Procedure(tutorial, seed=6)
    run_actions(other, scripted(tutorial))
    assert other.result()["result_hash"] != hashes[0]  # the seed drives the image noise


def test_autoplay_and_its_replay_agree_bit_for_bit(tutorial, tmp_path):
    path = tmp_path / "run.jsonl"
    result = autoplay_level(tutorial, "expert", seed=3, replay_path=path)
    replay, level = load_replay_level(path)
    again = replay_run(level, replay)
    assert result["success"] and again["success"]
    assert again["result_hash"] == result["result_hash"]
    assert again["air_kerma_mGy"] == result["air_kerma_mGy"]


def test_result_object_has_the_contract_fields(tutorial):
    p = Procedure(tutorial, seed=0)
    run_actions(p, scripted(tutorial))
    result = p.result()
    for key in (
        "level",
        "success",
        "outcome",
        "sim_time_s",
        "fluoro_time_s",
        "cine_frames",
        "air_kerma_mGy",
        "kap_Gycm2",
        "peak_skin_dose_mGy",
        "operator_dose_uSv",
        "contrast_mL",
        "complications",
        "score",
        "stars",
        "feedback",
        "instruments",
        "result_hash",
    ):
        assert key in result, key
    assert result["outcome"] == "abandoned" and result["stars"] == 0
    assert set(result["instruments"][0]) >= {"name", "inserted_mm", "tip_branch", "tip_position_mm"}
    assert result["cine_frames"] > 0 and result["fluoro_time_s"] == pytest.approx(1.0, abs=0.02)
    json.dumps(result)


def test_replay_of_a_changed_level_is_refused(tutorial, tmp_path):
    level_path = tmp_path / "lvl.toml"
    original = SHIPPED[0].read_text().replace('id = "pedal-and-hold"', 'id = "my-copy"')
    level_path.write_text(original)
    level = load_level(level_path)
    replay_path = tmp_path / "r.jsonl"
    write_replay(replay_path, Replay(replay_header(level, 1), tuple(scripted(level))))
    level_path.write_text(original + "\n# edited\n")
    code = subprocess.run(
        [sys.executable, "-m", "game", "replay", str(replay_path)], capture_output=True, text=True, timeout=120
    )
    assert code.returncode == 1
    assert "has changed since this replay was recorded" in code.stderr and "Traceback" not in code.stderr


def test_replay_command_reports_corrupt_files(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"format": "lumen-replay", "version": 1, "level": "pedal-and-hold", '
        '"level_sha256": "' + "0" * 64 + '", "seed": 1}\n{"t": 0, "action": "warp"}\n'
    )
    assert main(["replay", str(path)]) == 1
    assert f"{path}:2: unknown action 'warp'" in capsys.readouterr().err
    missing = tmp_path / "missing.jsonl"
    assert main(["replay", str(missing)]) == 1
    assert "no such file" in capsys.readouterr().err
