"""The pause menu, over the frozen procedure room: resume, the controls, settings, restart, end, quit."""

from __future__ import annotations

import pygame

from game.app.hud import draw_help
from game.app.scene import Scene
from game.app.widgets import Menu, draw_text, panel, shade

ITEMS = ("Resume", "Controls", "Settings", "Restart the level", "End procedure (debrief)", "Quit to the levels")
RESUME, CONTROLS, SETTINGS, RESTART, END, QUIT = range(len(ITEMS))


class PauseScene(Scene):
    def __init__(self, app, procedure_scene):
        super().__init__(app)
        self.procedure_scene = procedure_scene
        self.menu = Menu(list(ITEMS))
        self.help = False

    @property
    def selected(self) -> int:
        return self.menu.selected

    def handle_event(self, event: pygame.event.Event) -> None:
        if self.help:
            if event.type in (pygame.KEYDOWN, pygame.MOUSEBUTTONDOWN, pygame.JOYBUTTONDOWN):
                self.help = False
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.app.scenes.pop()
            return
        if event.type == pygame.JOYBUTTONDOWN and event.button == 7:
            self.app.scenes.pop()
            return
        chosen = self.menu.handle(event)
        if chosen is not None:
            self.choose(chosen)

    def choose(self, index: int) -> None:
        scene = self.procedure_scene
        if index == RESUME:
            self.app.scenes.pop()
        elif index == CONTROLS:
            self.help = True
        elif index == SETTINGS:
            from game.app.scenes.settings import SettingsScene

            self.app.scenes.push(SettingsScene(self.app))
        elif index == RESTART:
            from game.app.scenes.loading import procedure_loading

            self.app.scenes.pop()
            scene.abandon()
            self.app.scenes.replace(procedure_loading(self.app, scene.level, scene.seed))
        elif index == END:
            self.app.scenes.pop()
            scene.act("end")  # the next step finishes the run and opens the debrief
        elif index == QUIT:
            self.app.scenes.pop()
            scene.abandon()
            self.app.go_home(to_levels=True)

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        self.procedure_scene.draw(surface, 0.0)
        shade(surface)
        if self.help:
            draw_help(surface, self.procedure_scene.mapper.bindings)
            return
        width, height = surface.get_size()
        s = height / 800.0
        row = int(54 * s)
        box = pygame.Rect(0, 0, int(480 * s), int(100 * s) + row * len(ITEMS))
        box.center = (width // 2, height // 2)
        panel(surface, box)
        draw_text(surface, "Paused", (box.centerx, box.y + int(18 * s)), size=int(40 * s), bold=True,
                  anchor="midtop")  # fmt: skip
        self.menu.draw(surface, box.centerx, box.y + int(80 * s), box.width - int(60 * s), size=int(26 * s),
                       row_px=row)  # fmt: skip
