"""The title screen and main menu: play, who is playing, watch a replay, the class board, settings, quit."""

from __future__ import annotations

import math

import pygame

from game.app import theme
from game.app.scene import Scene
from game.app.widgets import Menu, draw_text, fit_size

PLAY, TRAINEE, REPLAYS, CLASS_BOARD, SETTINGS, QUIT = range(6)


def _class_board_scene():
    """The projector class board, when that scene exists in this build (it is written separately)."""
    try:
        from game.app.scenes.leaderboard import ClassBoardScene
    except ImportError:
        return None
    return ClassBoardScene


class MenuScene(Scene):
    def on_enter(self) -> None:
        self.menu = Menu(self._items())
        self.t_s = 0.0

    def on_resume(self) -> None:
        self.menu.items = self._items()

    def _items(self) -> list[str]:
        who = self.app.trainee or "nobody yet"
        board = "Class board" + (f" ({self.app.class_code})" if self.app.class_code else "")
        return ["Play", f"Trainee: {who}", "Watch a replay", board, "Settings", "Quit"]

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q):
            self.app.quit()
            return
        chosen = self.menu.handle(event)
        if chosen is not None:
            self.choose(chosen)

    def choose(self, index: int) -> None:
        from game.app.scenes.level_select import LevelSelectScene
        from game.app.scenes.trainee import TraineeScene

        if index == PLAY:
            if self.app.trainee:
                self.app.scenes.push(LevelSelectScene(self.app))
            else:
                self.app.scenes.push(TraineeScene(self.app, then=lambda: LevelSelectScene(self.app)))
        elif index == TRAINEE:
            self.app.scenes.push(TraineeScene(self.app))
        elif index == REPLAYS:
            from game.app.scenes.replay_list import ReplayListScene

            self.app.scenes.push(ReplayListScene(self.app))
        elif index == CLASS_BOARD:
            board = _class_board_scene()
            if board is not None and self.app.class_code:
                self.app.scenes.push(board(self.app, self.app.class_code))
            elif board is None:
                self.note = "The class board is not part of this build."
            else:
                self.app.scenes.push(TraineeScene(self.app, focus_class=True))
        elif index == SETTINGS:
            from game.app.scenes.settings import SettingsScene

            self.app.scenes.push(SettingsScene(self.app))
        elif index == QUIT:
            self.app.quit()

    def update(self, dt_s: float) -> None:
        self.t_s += dt_s

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        _draw_backdrop(surface, self.t_s)
        title = draw_text(surface, "LUMEN", (width // 2, int(70 * s)), size=int(120 * s), colour=theme.ACCENT,
                          bold=True, anchor="midtop")  # fmt: skip
        tagline = "Fluoroscopy-guided procedures, scored on every milligray"
        draw_text(surface, tagline, (width // 2, title.bottom + int(8 * s)), size=fit_size(tagline, int(28 * s),
                  width - 40), colour=theme.TEXT_DIM, anchor="midtop")  # fmt: skip
        self.menu.draw(surface, width // 2, title.bottom + int(80 * s), int(420 * s), size=int(30 * s),
                       row_px=int(58 * s))  # fmt: skip
        notes = list(self.app.warnings) + ([self.note] if getattr(self, "note", None) else [])
        y = height - int(60 * s) - 22 * len(notes)
        for message in notes:
            draw_text(surface, message, (40, y), size=fit_size(message, int(20 * s), width - 80), colour=theme.WARNING)
            y += int(22 * s)
        hint = "Up/Down: choose   Enter: open   Esc: quit"
        draw_text(surface, hint, (width // 2, height - int(24 * s)), size=int(20 * s), colour=theme.TEXT_DIM,
                  anchor="midbottom")  # fmt: skip


def _draw_backdrop(surface: pygame.Surface, t_s: float) -> None:
    """A faint, slowly breathing vessel tree behind the title: the game's one decoration."""
    width, height = surface.get_size()
    colour = (24, 32, 44)
    base = (width // 2, height + 20)
    pulse = 1.0 + 0.02 * math.sin(t_s * 1.3)

    def branch(x, y, angle, length, thickness, depth):
        if depth == 0 or length < 8:
            return
        x2 = x + math.cos(angle) * length * pulse
        y2 = y - math.sin(angle) * length * pulse
        pygame.draw.line(surface, colour, (x, y), (x2, y2), max(1, int(thickness)))
        branch(x2, y2, angle + 0.42, length * 0.72, thickness * 0.7, depth - 1)
        branch(x2, y2, angle - 0.38, length * 0.68, thickness * 0.7, depth - 1)

    branch(base[0], base[1], math.pi / 2, height * 0.28, max(6, height // 60), 7)
