"""Scenes and the scene stack: one screen of the game each, with clear lifecycle hooks.

The top scene receives events, updates at the fixed simulation rate and draws; scenes below it are paused.
Drawing reads state and never changes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pygame

    from game.app.main import App


class Scene:
    """Base class: override the hooks you need."""

    def __init__(self, app: App):
        self.app = app

    def on_enter(self) -> None:
        """Pushed onto the stack."""

    def on_exit(self) -> None:
        """Popped off the stack."""

    def on_pause(self) -> None:
        """Another scene was pushed on top of this one."""

    def on_resume(self) -> None:
        """The scene on top of this one was popped."""

    def handle_event(self, event: pygame.event.Event) -> None:
        """One input event."""

    def update(self, dt_s: float) -> None:
        """Advance by one fixed step."""

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        """Draw; ``alpha`` in [0, 1) is how far the clock is between two fixed steps (for interpolation)."""


class SceneStack:
    def __init__(self) -> None:
        self._scenes: list[Scene] = []

    @property
    def top(self) -> Scene | None:
        return self._scenes[-1] if self._scenes else None

    def __len__(self) -> int:
        return len(self._scenes)

    def below(self, scene: Scene) -> Scene | None:
        """The scene under ``scene`` (the one it was pushed over), or None."""
        for lower, upper in zip(self._scenes, self._scenes[1:], strict=False):
            if upper is scene:
                return lower
        return None

    def push(self, scene: Scene) -> None:
        if self.top is not None:
            self.top.on_pause()
        self._scenes.append(scene)
        scene.on_enter()

    def pop(self) -> Scene:
        scene = self._scenes.pop()
        scene.on_exit()
        if self.top is not None:
            self.top.on_resume()
        return scene

    def replace(self, scene: Scene) -> None:
        """Swap the top scene for ``scene`` without resuming the one below."""
        old = self._scenes.pop()
        old.on_exit()
        self._scenes.append(scene)
        scene.on_enter()
