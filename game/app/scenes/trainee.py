"""Who is playing: the trainee's name (remembered in the configuration directory) and, optionally, a class code."""

from __future__ import annotations

from collections.abc import Callable

import pygame

from game.app import theme
from game.app.jobs import Job
from game.app.scene import Scene
from game.app.widgets import TextField, draw_text, fit_size, panel


class TraineeScene(Scene):
    def __init__(self, app, then: Callable[[], Scene] | None = None, focus_class: bool = False):
        super().__init__(app)
        self.then = then
        self.fields = [TextField(app.trainee or "", 40), TextField(app.class_code or "", 6)]
        self.focus = 1 if focus_class else 0
        self.problem: str | None = None
        self.checking: Job | None = None  # the class code being looked up in the records
        self.t_s = 0.0

    def on_enter(self) -> None:
        pygame.key.start_text_input()

    def on_exit(self) -> None:
        pygame.key.stop_text_input()

    def handle_event(self, event: pygame.event.Event) -> None:
        if self.checking is not None:
            return  # the class code is being looked up
        if event.type == pygame.KEYDOWN:
            if event.key == pygame.K_ESCAPE:
                self.app.scenes.pop()
                return
            if event.key in (pygame.K_TAB, pygame.K_DOWN, pygame.K_UP):
                self.focus = 1 - self.focus
                return
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.confirm()
                return
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for i, rect in enumerate(getattr(self, "_rects", [])):
                if rect.collidepoint(event.pos):
                    self.focus = i
        if self.fields[self.focus].handle(event):
            self.problem = None

    def confirm(self) -> None:
        from game.records import names
        from game.records.errors import InvalidInputError

        name_raw, code_raw = (f.text.strip() for f in self.fields)
        try:
            name = names.trainee_name(name_raw)
            code = names.class_code(code_raw) if code_raw else None
        except InvalidInputError as exc:
            self.problem = str(exc)
            return
        if code is None:
            self._accept(name, None)
            return
        from game.records.cli import check_run_target

        self.checking = Job(lambda progress: check_run_target(name, code), name="lumen-check-class")
        self._pending = (name, code)

    def _accept(self, name: str, code: str | None) -> None:
        self.app.set_trainee(name, code)
        if self.then is not None:
            self.app.scenes.replace(self.then())
        else:
            self.app.scenes.pop()

    def update(self, dt_s: float) -> None:
        self.t_s += dt_s
        job = self.checking
        if job is not None and job.done:
            self.checking = None
            problem = job.result if job.error is None else str(job.error)
            if problem:
                self.problem = problem
            else:
                self._accept(*self._pending)

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        box = pygame.Rect(0, 0, int(min(width - 60, 720 * s)), int(420 * s))
        box.center = (width // 2, height // 2)
        panel(surface, box)
        x = box.x + int(36 * s)
        inner = box.width - int(72 * s)
        y = draw_text(surface, "Who is at the table?", (x, box.y + int(28 * s)), size=int(38 * s), bold=True).bottom
        note = "Your runs and best scores are kept under this name on this computer."
        y = draw_text(surface, note, (x, y + int(8 * s)), size=fit_size(note, int(20 * s), inner),
                      colour=theme.TEXT_DIM).bottom + int(26 * s)  # fmt: skip
        blink = int(self.t_s * 2) % 2 == 0
        self._rects = []
        for i, (label, placeholder) in enumerate(
            (("Trainee name", "e.g. Dr A. Rossi"), ("Class code (optional)", "6 letters from your instructor"))
        ):
            y = draw_text(surface, label, (x, y), size=int(22 * s), colour=theme.TEXT_DIM).bottom + 6
            rect = pygame.Rect(x, y, inner, int(54 * s))
            self.fields[i].draw(surface, rect, self.focus == i, blink, placeholder)
            self._rects.append(rect)
            y = rect.bottom + int(20 * s)
        if self.checking is not None:
            draw_text(surface, "looking up the class code...", (x, y), size=int(20 * s), colour=theme.TEXT_DIM)
        elif self.problem:
            draw_text(surface, self.problem, (x, y), size=fit_size(self.problem, int(20 * s), inner),
                      colour=theme.DANGER)  # fmt: skip
        hint = "Enter: confirm   Tab: next field   Esc: cancel"
        draw_text(surface, hint, (box.centerx, box.bottom - int(16 * s)), size=int(20 * s), colour=theme.TEXT_DIM,
                  anchor="midbottom")  # fmt: skip
