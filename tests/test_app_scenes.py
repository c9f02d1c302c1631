"""Every scene of the front end runs headless for a few hundred frames without error."""

import pygame
import pytest

from game.app.main import App
from game.app.scenes.briefing import BriefingScene
from game.app.scenes.menu import MenuScene
from game.sim.level import load_level
from tests.test_level_loading import VALID


@pytest.fixture
def level(tmp_path):
    path = tmp_path / "y.toml"
    path.write_text(VALID)
    return load_level(path)


def test_menu_runs_and_quits_on_escape():
    app = App()
    events = [
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_DOWN),
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE),
    ]
    assert app.run(MenuScene(app), max_frames=300, events=events) == 0
    assert app.frames < 300  # escape quit the loop


def test_briefing_runs_for_200_frames(level):
    app = App()
    app.run(BriefingScene(app, level), max_frames=200)
    assert app.frames == 200


def test_scene_stack_lifecycle_hooks():
    from game.app.scene import Scene, SceneStack

    calls = []

    class Probe(Scene):
        def __init__(self, name):
            self.name = name

        def on_enter(self):
            calls.append(f"{self.name}.enter")

        def on_exit(self):
            calls.append(f"{self.name}.exit")

        def on_pause(self):
            calls.append(f"{self.name}.pause")

        def on_resume(self):
            calls.append(f"{self.name}.resume")

    stack = SceneStack()
    stack.push(Probe("a"))
    stack.push(Probe("b"))
    stack.pop()
    stack.replace(Probe("c"))
    assert calls == ["a.enter", "a.pause", "b.enter", "b.exit", "a.resume", "a.exit", "c.enter"]


def test_procedure_scene_pause_and_debrief_run_headless(tmp_path, monkeypatch):
    from game.app.scenes.procedure import ProcedureScene
    from game.sim.level.library import level_files

    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LUMEN_CONFIG_DIR", str(tmp_path / "config"))
    app = App()
    level = load_level(level_files()[0])
    key = pygame.key.key_code
    events = [
        pygame.event.Event(pygame.KEYDOWN, key=key("up")),
        pygame.event.Event(pygame.KEYDOWN, key=key("space")),
        pygame.event.Event(pygame.KEYDOWN, key=key("escape")),
        pygame.event.Event(pygame.KEYDOWN, key=key("escape")),
        pygame.event.Event(pygame.KEYDOWN, key=key("f1")),
    ]
    app.run(ProcedureScene(app, level), max_frames=300, events=events)
    assert app.frames == 300
    replays = list((tmp_path / "replays").glob("*.jsonl"))
    assert len(replays) == 1 and "fluoro" in replays[0].read_text()


def test_synthetic_key_presses_complete_the_first_tutorial(tmp_path, monkeypatch):
    """Hold the push key, tap the pedal now and then: the wire reaches the aorta and the debrief shows success."""
    from game.app.scenes.debrief import DebriefScene
    from game.app.scenes.procedure import ProcedureScene
    from game.sim.level.library import level_files

    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LUMEN_CONFIG_DIR", str(tmp_path / "config"))
    app = App()
    scene = ProcedureScene(app, load_level(level_files()[0]))
    app.scenes.push(scene)
    key = pygame.key.key_code
    scene.handle_event(pygame.event.Event(pygame.KEYDOWN, key=key("up")))
    for frame in range(60 * 40):
        if frame % 120 == 0:
            scene.handle_event(pygame.event.Event(pygame.KEYDOWN, key=key("space")))
        if frame % 120 == 15:
            scene.handle_event(pygame.event.Event(pygame.KEYUP, key=key("space")))
        app.scenes.top.update(1 / 60)
        if isinstance(app.scenes.top, DebriefScene):
            break
    debrief = app.scenes.top
    assert isinstance(debrief, DebriefScene), "the run did not finish"
    assert debrief.result["success"], debrief.result["outcome"]
    debrief.draw(app.screen, 0.0)
