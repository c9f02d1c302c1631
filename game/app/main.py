"""The game window and its loop: a fixed simulation timestep, drawing decoupled from it."""

from __future__ import annotations

import os

import pygame

from game.app import theme
from game.app.scene import Scene, SceneStack

#: At most this many fixed steps are run to catch up after a slow frame; the rest of the backlog is dropped.
MAX_CATCH_UP_STEPS = 5


class App:
    """Owns the window, the clock and the scene stack."""

    def __init__(self, size: tuple[int, int] = theme.WINDOW_SIZE):
        pygame.init()
        theme.font.cache_clear()  # fonts made before an earlier pygame.quit() are dead
        pygame.display.set_caption("Lumen: fluoroscopy training")
        self.screen = pygame.display.set_mode(size, pygame.RESIZABLE)
        self.clock = pygame.time.Clock()
        self.scenes = SceneStack()
        self.running = True
        self.frames = 0
        from game.app.sound import SoundBank

        self.sounds = SoundBank()

    def quit(self) -> None:
        self.running = False

    def run(self, first: Scene, max_frames: int | None = None, events: list | None = None) -> int:
        """Run until quit (or ``max_frames``); ``events`` are posted first (tests drive the app with them)."""
        self.scenes.push(first)
        for event in events or ():
            pygame.event.post(event)
        step_ms = 1000.0 / theme.SIM_RATE_HZ
        ticks = pygame.time.get_ticks()
        backlog_ms = 0.0
        while self.running and self.scenes.top is not None:
            now = pygame.time.get_ticks()
            backlog_ms += now - ticks
            ticks = now
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    self.quit()
                elif self.scenes.top is not None:
                    self.scenes.top.handle_event(event)
            steps = 0
            while backlog_ms >= step_ms and steps < MAX_CATCH_UP_STEPS and self.scenes.top is not None:
                self.scenes.top.update(step_ms / 1000.0)
                backlog_ms -= step_ms
                steps += 1
            if steps == MAX_CATCH_UP_STEPS:
                backlog_ms = 0.0
            if self.scenes.top is not None:
                self.scenes.top.draw(self.screen, backlog_ms / step_ms)
            pygame.display.flip()
            self.clock.tick(theme.FPS_TARGET)
            self.frames += 1
            if max_frames is not None and self.frames >= max_frames:
                break
        pygame.quit()
        return 0


def run_app(level=None, max_frames: int | None = None) -> int:
    """Open the game at the main menu, or straight at ``level``'s briefing."""
    from game.app.scenes.briefing import BriefingScene
    from game.app.scenes.menu import MenuScene

    if os.environ.get("SDL_VIDEODRIVER") == "dummy":
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    app = App()
    first: Scene = MenuScene(app) if level is None else BriefingScene(app, level)
    return app.run(first, max_frames=max_frames)
