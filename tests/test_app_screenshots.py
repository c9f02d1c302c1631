"""Screenshot tests of the monitor and the HUD, the ``lumen shots`` command, and the front end's command line.

The monitor and status-panel renders are compared with the PNGs in ``tests/screenshots/`` (mean and 99th-percentile
difference per channel). On a mismatch they write reference | actual | difference side by side into a temporary
folder and fail with its path. After an intended change to the look, regenerate the references with
``LUMEN_UPDATE_SCREENSHOTS=1 python -m pytest tests/test_app_screenshots.py`` and look at them before committing.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pygame
import pytest

from game.pngio import read_png, write_png
from game.sim import actions as A
from game.sim.level import load_level
from game.sim.level.library import level_files
from game.sim.procedure import Procedure

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
MAX_MEAN_DIFFERENCE = 2.0
MAX_P99_DIFFERENCE = 30


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LUMEN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("LUMEN_DB_URL", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def running_procedure():
    """The tutorial 1.5 s in: wire pushed, pedal held at 15 p/s (seeded, so every pixel is reproducible)."""
    p = Procedure(load_level(level_files()[0]), seed=5)
    for action in (A.make(0.0, "advance", 25.0), A.make(0.0, "fluoro", True)):
        p.apply(action)
    for _ in range(90):
        p.step()
    return p


def _rgb(surface: pygame.Surface) -> np.ndarray:
    return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))


def _compare(name: str, image: np.ndarray) -> None:
    reference_path = SCREENSHOTS / f"{name}.png"
    if os.environ.get("LUMEN_UPDATE_SCREENSHOTS"):
        write_png(reference_path, image)
        pytest.skip(f"wrote {reference_path}")
    assert reference_path.exists(), f"no reference {reference_path}: run with LUMEN_UPDATE_SCREENSHOTS=1"
    reference = read_png(reference_path)
    same_shape = reference.shape == image.shape
    difference = np.abs(image.astype(int) - reference.astype(int)) if same_shape else np.full(image.shape, 255)
    mean, p99 = float(difference.mean()), float(np.percentile(difference, 99))
    if not same_shape or mean > MAX_MEAN_DIFFERENCE or p99 > MAX_P99_DIFFERENCE:
        out = Path(tempfile.gettempdir()) / "lumen-screenshots"
        out.mkdir(exist_ok=True)
        if same_shape:
            image_out = np.concatenate([reference, image, np.clip(difference * 4, 0, 255).astype(np.uint8)], axis=1)
        else:
            image_out = image
        write_png(out / f"{name}_reference_actual_diff.png", image_out)
        pytest.fail(f"{name} differs from its reference (mean {mean:.2f}, p99 {p99:.0f}): see {out}")


def _surface(size):
    pygame.init()
    if pygame.display.get_surface() is None:
        pygame.display.set_mode((64, 64))
    from game.app.widgets import clear_caches

    clear_caches()
    return pygame.Surface(size)


def test_live_monitor_screenshot(running_procedure):
    from game.app.monitor import LiveMonitor

    surface = _surface((560, 560))
    LiveMonitor().draw(surface, surface.get_rect(), running_procedure, 0.0)
    _compare("app_live_monitor", _rgb(surface))


def test_status_panel_screenshot(running_procedure):
    from game.app.hud import draw_status

    surface = _surface((480, 380))
    surface.fill((14, 17, 22))
    draw_status(surface, surface.get_rect(), running_procedure)
    _compare("app_status_panel", _rgb(surface))


def test_monitor_overlay_reads_the_simulation(running_procedure):
    """The figures on the monitor are the ledger's, and the beam indicator follows the pedal."""
    from game.app.monitor import LiveMonitor

    p = running_procedure
    drawn: list[str] = []
    import game.app.monitor as monitor

    real = monitor.draw_text
    monitor.draw_text = lambda surface, text, *a, **k: drawn.append(text) or real(surface, text, *a, **k)
    try:
        LiveMonitor().draw(_surface((560, 560)), pygame.Rect(0, 0, 560, 560), p, 0.0)
    finally:
        monitor.draw_text = real
    assert f"Ka,r {p.ledger.air_kerma_mGy:.2f} mGy" in drawn
    assert "LAO 0°" in drawn and "FL 15 p/s" in drawn
    assert any(text.startswith("Fluoro 0:01.") for text in drawn)


def test_monitor_surface_is_rebuilt_only_when_a_pulse_made_a_new_image(running_procedure):
    from game.app.monitor import ImageCache

    cache = ImageCache()
    _surface((8, 8))
    first = cache.surface(running_procedure.fluoroscope.live_image, 300)
    assert cache.surface(running_procedure.fluoroscope.live_image, 300) is first
    assert cache.surface(np.zeros((512, 512), np.uint8), 300) is not first


# --- lumen shots ------------------------------------------------------------------------------------------------------
def test_shots_render_every_scene_headless(tmp_path):
    from game.app.shots import render_shots

    written = render_shots(tmp_path / "shots", [(1280, 800)], level_id="pedal-and-hold")
    names = {p.name.split("_", 1)[1].rsplit("_", 1)[0] for p in written}
    expected = {"menu", "trainee_name", "level_select", "briefing", "loading", "procedure", "help", "pause",
                "debrief", "settings", "replay_viewer"}  # fmt: skip
    assert expected <= names
    for path in written:
        image = read_png(path)
        assert image.shape[:2] == (800, 1280)
        assert image.std() > 5, f"{path.name} is blank"
    assert not (Path(os.environ["LUMEN_DATA_DIR"]) / "lumen.sqlite3").exists()  # nothing kept in the user's data


# --- the command line ---------------------------------------------------------------------------------------------
def _lumen(*args, env_dirs: Path):
    env = dict(os.environ, LUMEN_DATA_DIR=str(env_dirs / "data"), LUMEN_CONFIG_DIR=str(env_dirs / "config"))
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    return subprocess.run([sys.executable, "-m", "game", *args], capture_output=True, text=True, env=env, timeout=300)


def test_replay_watch_with_a_corrupt_replay_is_one_message(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    done = _lumen("replay", str(bad), "--watch", env_dirs=tmp_path)
    assert done.returncode == 1
    assert str(bad) in done.stderr and "Traceback" not in done.stderr


def test_play_refuses_a_bad_trainee_name_or_class(tmp_path):
    done = _lumen("play", "pedal-and-hold", "--trainee", "x" * 80, env_dirs=tmp_path)
    assert done.returncode == 1 and "trainee name" in done.stderr and "Traceback" not in done.stderr
    done = _lumen("play", "pedal-and-hold", "--class", "ZZZZZZ", env_dirs=tmp_path)
    assert done.returncode == 1 and "ZZZZZZ" in done.stderr and "Traceback" not in done.stderr


def test_shots_refuses_a_bad_size(tmp_path):
    done = _lumen("shots", str(tmp_path / "out"), "--size", "big", env_dirs=tmp_path)
    assert done.returncode == 1 and "--size" in done.stderr


def test_play_and_watch_open_the_window_with_the_trainee(tmp_path, monkeypatch):
    """``lumen play --trainee`` opens the game with that trainee; ``replay --watch`` opens the viewer."""
    import game.app.main as main
    from game.cli import main as lumen

    opened = {}
    monkeypatch.setattr(main, "run_app", lambda level, **kw: opened.update(level=level.id, **kw) or 0)
    assert lumen(["play", "pedal-and-hold", "--trainee", "Dr Rossi"]) == 0
    assert opened == {"level": "pedal-and-hold", "trainee": "Dr Rossi", "class_code": None}
    from game.sim.runs import autoplay_level

    replay = tmp_path / "r.jsonl"
    autoplay_level(load_level(level_files()[0]), replay_path=replay)
    watched = {}
    monkeypatch.setattr(main, "watch_replay", lambda path: watched.update(path=path) or 0)
    assert lumen(["replay", str(replay), "--watch"]) == 0
    assert watched == {"path": str(replay)}


def test_full_frame_benchmark_reports_the_contract_keys():
    from game.benchmarks.frame import full_frame_ms

    figures = full_frame_ms(frames=20)
    assert figures["size"] == "1280x800" and figures["fluoro"] and figures["contrast_mL"] > 0
    assert figures["median"] > 0 and figures["p95"] >= figures["median"] and figures["fps_median"] > 0
    json.dumps(figures)


def test_bench_json_is_exactly_one_json_object_on_stdout(tmp_path):
    done = _lumen("bench", "--json", "--quick", env_dirs=tmp_path)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    for key in ("physics_step_ms", "image_ms", "frame_ms_median", "frame_ms_p95", "fps_median"):
        assert figures[key] > 0


def test_no_display_is_one_message_not_a_traceback(tmp_path):
    env_dirs = tmp_path
    env = dict(os.environ, LUMEN_DATA_DIR=str(env_dirs / "d"), LUMEN_CONFIG_DIR=str(env_dirs / "c"))
    env.update(SDL_VIDEODRIVER="no-such-driver", SDL_AUDIODRIVER="dummy")
    done = subprocess.run([sys.executable, "-m", "game", "play", "pedal-and-hold"], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert "cannot open the game window" in done.stderr and "Traceback" not in done.stderr
