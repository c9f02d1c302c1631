"""Pause menu: resume, end the procedure, or leave to the level list."""

from __future__ import annotations

import pygame

from game.app import theme
from game.app.scene import Scene
from game.app.widgets import draw_text, panel

ITEMS = ("Resume", "End procedure (debrief)", "Quit to menu")


class PauseScene(Scene):
    def __init__(self, app, procedure_scene):
        super().__init__(app)
        self.procedure_scene = procedure_scene
        self.selected = 0

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type != pygame.KEYDOWN:
            return
        if event.key == pygame.K_ESCAPE:
            self.app.scenes.pop()
        elif event.key in (pygame.K_DOWN, pygame.K_s):
            self.selected = (self.selected + 1) % len(ITEMS)
        elif event.key in (pygame.K_UP, pygame.K_w):
            self.selected = (self.selected - 1) % len(ITEMS)
        elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
            self.choose(self.selected)

    def choose(self, index: int) -> None:
        self.app.scenes.pop()
        if index == 1:
            self.procedure_scene.act("end")
        elif index == 2:
            self.procedure_scene.act("end")
            self.app.scenes.pop()

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        self.procedure_scene.draw(surface, alpha)
        shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 150))
        surface.blit(shade, (0, 0))
        width, height = surface.get_size()
        box = pygame.Rect(0, 0, 460, 70 + 50 * len(ITEMS))
        box.center = (width // 2, height // 2)
        panel(surface, box)
        draw_text(surface, "Paused", (box.centerx, box.y + 16), size=36, bold=True, anchor="midtop")
        for i, item in enumerate(ITEMS):
            colour = theme.ACCENT if i == self.selected else theme.TEXT
            draw_text(surface, item, (box.centerx, box.y + 80 + 50 * i), size=28, colour=colour, anchor="midtop")
