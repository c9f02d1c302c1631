"""Long work behind a progress bar: loading a level, building the procedure and its X-ray background.

The work runs in a :class:`~game.app.jobs.Job`; this scene draws the bar until it is done, then replaces itself
with the scene the work was for. A failure (a broken level file) shows its message, naming the file; Esc goes back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygame

from game.app import theme
from game.app.jobs import Job, Progress
from game.app.scene import Scene
from game.app.widgets import draw_text, fit_size, panel, wrap


class LoadingScene(Scene):
    def __init__(
        self, app, title: str, work: Callable[[Progress], Any], then: Callable[[Any], Scene], subtitle: str = ""
    ):
        super().__init__(app)
        self.title, self.subtitle, self.work, self.then = title, subtitle, work, then
        self.job: Job | None = None
        self.problem: str | None = None

    def on_enter(self) -> None:
        self.job = Job(self.work, name="lumen-loading")

    def handle_event(self, event: pygame.event.Event) -> None:
        keys = (pygame.K_ESCAPE, pygame.K_RETURN, pygame.K_BACKSPACE)
        if event.type == pygame.KEYDOWN and event.key in keys and (self.problem is not None or event.key == keys[0]):
            self._leave()

    def _leave(self) -> None:
        if len(self.app.scenes) > 1:
            self.app.scenes.pop()
        else:
            self.app.quit()

    def update(self, dt_s: float) -> None:
        job = self.job
        if job is None or not job.done or self.problem is not None:
            return
        if job.error is not None:
            self.problem = _message(job.error)
            return
        self.app.scenes.replace(self.then(job.result))

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        box = pygame.Rect(0, 0, int(min(width - 80, 760 * s)), int(220 * s))
        box.center = (width // 2, height // 2)
        panel(surface, box)
        inner = box.width - 40
        draw_text(surface, self.title, (box.centerx, box.y + int(22 * s)), size=fit_size(self.title, int(30 * s),
                  inner, bold=True), bold=True, anchor="midtop")  # fmt: skip
        if self.subtitle:
            draw_text(surface, self.subtitle, (box.centerx, box.y + int(60 * s)), colour=theme.TEXT_DIM,
                      size=fit_size(self.subtitle, int(22 * s), inner), anchor="midtop")  # fmt: skip
        if self.problem is not None:
            y = box.y + int(80 * s)
            for line in wrap(self.problem, theme.font(int(20 * s)), box.width - 40)[:5]:
                y = draw_text(surface, line, (box.x + 20, y), size=int(20 * s), colour=theme.DANGER).bottom + 2
            draw_text(surface, "Esc: back", (box.centerx, box.bottom - 12), size=int(20 * s), colour=theme.TEXT_DIM,
                      anchor="midbottom")  # fmt: skip
            return
        job = self.job
        fraction = job.fraction if job else 0.0
        bar = pygame.Rect(box.x + 30, box.y + int(100 * s), box.width - 60, int(22 * s))
        pygame.draw.rect(surface, theme.BACKGROUND, bar, border_radius=5)
        filled = bar.copy()
        filled.width = max(4, int(bar.width * fraction))
        pygame.draw.rect(surface, theme.ACCENT, filled, border_radius=5)
        pygame.draw.rect(surface, theme.PANEL_EDGE, bar, width=1, border_radius=5)
        label = (job.label if job else "") or "starting..."
        draw_text(surface, f"{label}  {fraction * 100:.0f}%", (box.centerx, bar.bottom + int(16 * s)),
                  size=int(22 * s), colour=theme.TEXT_DIM, anchor="midtop")  # fmt: skip


def _message(exc: BaseException) -> str:
    from game.sim.level import LevelError

    if isinstance(exc, LevelError):
        return "\n\n".join(str(p) for p in exc.problems[:4])
    return str(exc) or type(exc).__name__


def load_level_work(ref) -> Callable[[Progress], Any]:
    """Work that loads a level from a path or id (a :class:`Level` passes straight through)."""

    def work(progress: Progress):
        from game.sim.level import Level, load_level
        from game.sim.level.library import resolve_level

        if isinstance(ref, Level):
            return ref
        progress(0.1, "reading the level file")
        path = resolve_level(str(ref)) if not isinstance(ref, Path) else ref
        progress(0.3, "building the anatomy")
        level = load_level(path)
        progress(1.0, "ready")
        return level

    return work


def prepare_procedure_work(level, seed: int = 0) -> Callable[[Progress], Any]:
    """Work that builds a level's procedure and precomputes its X-ray background (the first image is instant)."""

    def work(progress: Progress):
        from game.sim.procedure import Procedure

        progress(0.15, "positioning the patient and the instruments")
        procedure = Procedure(level, seed)
        progress(0.5, "precomputing the X-ray background")
        procedure.fluoroscope.technique()
        progress(1.0, "ready")
        return procedure

    return work


def start_level(app, ref, replace: bool = False, straight: bool = False) -> None:
    """Load ``ref`` (a path, an id or a :class:`Level`) behind a progress bar, then show its briefing
    (``straight``: skip the briefing and prepare the procedure, as a retry does)."""
    from game.app.scenes.briefing import BriefingScene

    def then(level) -> Scene:
        if straight:
            return procedure_loading(app, level)
        return BriefingScene(app, level)

    scene = LoadingScene(app, "Loading the level", load_level_work(ref), then)
    (app.scenes.replace if replace else app.scenes.push)(scene)


def procedure_loading(app, level, seed: int = 0) -> LoadingScene:
    from game.app.scenes.procedure import ProcedureScene

    return LoadingScene(
        app,
        "Preparing the room",
        prepare_procedure_work(level, seed),
        lambda procedure: ProcedureScene(app, level, seed, procedure=procedure),
        subtitle=level.definition.title,
    )
