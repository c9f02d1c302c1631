"""Title screen and level select: the shipped levels in campaign order."""

from __future__ import annotations

import pygame

from game.app import theme
from game.app.scene import Scene
from game.app.widgets import draw_text, panel
from game.sim.level import LevelError, load_level
from game.sim.level.library import shipped_levels

ROW_HEIGHT_PX = 44


class MenuScene(Scene):
    def on_enter(self) -> None:
        self.levels, problems = shipped_levels()
        self.messages = [str(p) for p in problems]
        self.selected = 0

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_ESCAPE, pygame.K_q):
                self.app.quit()
            elif event.key in (pygame.K_DOWN, pygame.K_s):
                self.selected = min(self.selected + 1, len(self.levels) - 1)
            elif event.key in (pygame.K_UP, pygame.K_w):
                self.selected = max(self.selected - 1, 0)
            elif event.key in (pygame.K_RETURN, pygame.K_SPACE, pygame.K_KP_ENTER):
                self.open_selected()
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for i, rect in enumerate(self._rows(self.app.screen.get_size())):
                if rect.collidepoint(event.pos):
                    self.selected = i
                    self.open_selected()

    def open_selected(self) -> None:
        if not self.levels:
            return
        from game.app.scenes.briefing import BriefingScene

        info = self.levels[self.selected]
        try:
            level = load_level(info.path)
        except LevelError as exc:
            self.messages = [str(p) for p in exc.problems]
            return
        self.app.scenes.push(BriefingScene(self.app, level))

    def _rows(self, size: tuple[int, int]) -> list[pygame.Rect]:
        width, _ = size
        left = max(40, width // 2 - 420)
        return [
            pygame.Rect(left, 230 + i * ROW_HEIGHT_PX, min(840, width - 80), ROW_HEIGHT_PX - 6)
            for i in range(len(self.levels))
        ]

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        draw_text(surface, "LUMEN", (width // 2, 70), size=96, colour=theme.ACCENT, bold=True, anchor="midtop")
        draw_text(
            surface,
            "Fluoroscopy-guided procedures, scored on every milligray",
            (width // 2, 150),
            size=28,
            colour=theme.TEXT_DIM,
            anchor="midtop",
        )
        if not self.levels:
            draw_text(surface, "No levels found.", (width // 2, 260), anchor="midtop")
        for i, (info, rect) in enumerate(zip(self.levels, self._rows((width, height)), strict=True)):
            if i == self.selected:
                panel(surface, rect)
            colour = theme.TEXT if i == self.selected else theme.TEXT_DIM
            draw_text(
                surface,
                f"{i + 1:2d}  {info.title}",
                (rect.x + 14, rect.centery),
                colour=colour,
                size=28,
                anchor="midleft",
            )
            stars = "*" * info.difficulty
            draw_text(
                surface,
                f"{info.procedure.replace('_', ' ')}  {stars}",
                (rect.right - 14, rect.centery),
                colour=theme.TEXT_DIM,
                size=22,
                anchor="midright",
            )
        y = height - 40 - 22 * len(self.messages)
        for message in self.messages:
            draw_text(surface, message, (40, y), size=20, colour=theme.WARNING)
            y += 22
        draw_text(
            surface,
            "Up/Down: choose   Enter: open   Esc: quit",
            (width // 2, height - 30),
            size=22,
            colour=theme.TEXT_DIM,
            anchor="midbottom",
        )
