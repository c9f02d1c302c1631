"""The recorded runs on this computer (the replays folder in the data directory), newest first."""

from __future__ import annotations

import time
from pathlib import Path

import pygame

from game.app import theme
from game.app.scene import Scene
from game.app.widgets import draw_text, fit_size, panel
from game.paths import user_data_dir

MAX_LISTED = 200


def recorded_replays() -> list[Path]:
    folder = user_data_dir() / "replays"
    try:
        files = [p for p in folder.glob("*.jsonl") if p.is_file()]
    except OSError:
        return []
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)[:MAX_LISTED]


class ReplayListScene(Scene):
    def on_enter(self) -> None:
        self.files = recorded_replays()
        self.selected = 0
        self._rows: list[pygame.Rect] = []

    def handle_event(self, event: pygame.event.Event) -> None:
        n = len(self.files)
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
                self.app.scenes.pop()
            elif event.key in (pygame.K_DOWN, pygame.K_s) and n:
                self.selected = (self.selected + 1) % n
            elif event.key in (pygame.K_UP, pygame.K_w) and n:
                self.selected = (self.selected - 1) % n
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE) and n:
                self.open(self.selected)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for i, rect in enumerate(self._rows):
                if rect.collidepoint(event.pos):
                    self.open(i)

    def open(self, index: int) -> None:
        from game.app.scenes.replay_viewer import ReplayLoadScene

        self.app.scenes.push(ReplayLoadScene(self.app, self.files[index]))

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        margin = int(40 * s)
        draw_text(surface, "Recorded runs", (margin, int(28 * s)), size=int(44 * s), bold=True)
        box = pygame.Rect(margin, int(96 * s), width - 2 * margin, height - int(160 * s))
        panel(surface, box)
        row_h = int(40 * s)
        visible = max(1, (box.height - 20) // row_h)
        first = max(0, min(self.selected - visible // 2, len(self.files) - visible))
        self._rows = [pygame.Rect(0, 0, 0, 0)] * len(self.files)
        y = box.y + 10
        if not self.files:
            draw_text(surface, "No runs recorded yet: every run you play is kept here.", box.center,
                      size=int(24 * s), colour=theme.TEXT_DIM, anchor="center")  # fmt: skip
        for i in range(first, min(len(self.files), first + visible)):
            path = self.files[i]
            rect = pygame.Rect(box.x + 6, y, box.width - 12, row_h - 4)
            self._rows[i] = rect
            chosen = i == self.selected
            if chosen:
                panel(surface, rect, theme.PANEL_HOT, theme.ACCENT)
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
            colour = theme.TEXT if chosen else theme.TEXT_DIM
            draw_text(surface, when, (rect.x + 12, rect.centery), size=int(22 * s), colour=colour, anchor="midleft")
            name = path.name
            draw_text(surface, name, (rect.x + int(220 * s), rect.centery), colour=colour, anchor="midleft",
                      size=fit_size(name, int(22 * s), rect.width - int(240 * s)))  # fmt: skip
            y += row_h
        hint = "Up/Down: choose   Enter: watch   Esc: back"
        draw_text(surface, hint, (width // 2, height - int(24 * s)), size=int(20 * s), colour=theme.TEXT_DIM,
                  anchor="midbottom")  # fmt: skip
