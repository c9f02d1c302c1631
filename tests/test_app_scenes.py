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
