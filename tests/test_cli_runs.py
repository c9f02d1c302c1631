"""The run commands end to end: autoplay writes a replay, replay reproduces it, bench prints its figures."""

import json

from game.cli import main


def test_autoplay_then_replay_through_the_command_line(tmp_path, capsys):
    replay = tmp_path / "run.jsonl"
    assert main(["autoplay", "pedal-and-hold", "--out", str(replay), "--json"]) == 0
    played = json.loads(capsys.readouterr().out)
    assert main(["replay", str(replay), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert played["success"] and replayed["result_hash"] == played["result_hash"]
    lines = replay.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "lumen-replay" and json.loads(lines[-1])["action"] == "end"


def test_autoplay_into_an_unwritable_place_is_one_clear_message(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["autoplay", "pedal-and-hold", "--out", str(blocker / "run.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "cannot write the replay" in err and "Traceback" not in err


def test_bench_json_has_the_contract_figures(capsys, monkeypatch):
    import game.benchmarks.run as bench

    monkeypatch.setattr(
        bench,
        "run_all",
        lambda quick=False: {
            "physics_step_ms": 1.0,
            "image_ms": 5.0,
            "background_ms": 40.0,
            "frame_ms_median": 3.0,
            "frame_ms_p95": 9.0,
            "fps_median": 333.0,
            "details": {},
        },
    )
    assert main(["bench", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert {"physics_step_ms", "image_ms", "frame_ms_median", "frame_ms_p95", "fps_median"} <= set(figures)
