"""Briefing: the case, the task, the instruments and the dose budget, beside a sketch of the anatomy."""

from __future__ import annotations

import numpy as np
import pygame

from game.app import theme
from game.app.scene import Scene
from game.app.widgets import draw_text, panel, wrap
from game.sim.level import Level

#: The sketch shows the anatomy as a frontal (AP) view: the patient's left on the viewer's right.
SKETCH_MARGIN_PX = 24


class BriefingScene(Scene):
    def __init__(self, app, level: Level):
        super().__init__(app)
        self.level = level
        self._sketch: pygame.Surface | None = None

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
            from game.app.scenes.procedure import ProcedureScene

            self.app.scenes.replace(ProcedureScene(self.app, self.level))
            return
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
            if len(self.app.scenes) > 1:
                self.app.scenes.pop()
            else:
                self.app.quit()

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        d = self.level.definition
        text_rect = pygame.Rect(40, 40, int(width * 0.55) - 60, height - 80)
        panel(surface, text_rect)
        x, y = text_rect.x + 20, text_rect.y + 18
        width_px = text_rect.width - 40

        def paragraph(text: str, size: int, colour=theme.TEXT, bold: bool = False, gap: int = 2) -> int:
            nonlocal y
            for line in wrap(text, theme.font(size, bold), width_px):
                y = draw_text(surface, line, (x, y), size=size, colour=colour, bold=bold).bottom + gap
            return y

        paragraph(d.title, 34, bold=True)
        paragraph(d.patient.description, 24, theme.TEXT_DIM)
        y += 10
        paragraph(d.briefing, 24)
        y += 12
        paragraph(f"Objective: {d.objective.description or d.objective.kind.value}", 24, theme.ACCENT)
        y += 6
        instruments = ", ".join(f"{i.name} ({self.level.devices[i.name].title})" for i in d.instruments)
        paragraph(f"Instruments: {instruments}", 22, theme.TEXT_DIM)
        r = d.reference
        y += 6
        paragraph(
            f"Reference: fluoroscopy {r.fluoro_time_s / 60:.1f} min, Ka,r {r.air_kerma_mGy:g} mGy, "
            f"KAP {r.kap_Gycm2:g} Gy*cm2, contrast {r.contrast_mL:g} mL. "
            f"Time limit {d.budget.time_limit_s / 60:.0f} min.",
            22,
            theme.TEXT_DIM,
        )

        sketch_rect = pygame.Rect(text_rect.right + 20, 40, width - text_rect.right - 60, height - 80)
        panel(surface, sketch_rect)
        self._draw_anatomy(surface, sketch_rect.inflate(-2 * SKETCH_MARGIN_PX, -2 * SKETCH_MARGIN_PX))
        draw_text(
            surface,
            "Enter: start the procedure   Esc: back",
            (width // 2, height - 12),
            size=20,
            colour=theme.TEXT_DIM,
            anchor="midbottom",
        )

    def _draw_anatomy(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        if self._sketch is None or self._sketch.get_size() != rect.size:
            self._sketch = anatomy_sketch(self.level, rect.size)
        surface.blit(self._sketch, rect)


def anatomy_sketch(level: Level, size: tuple[int, int]) -> pygame.Surface:
    """The vessel tree seen from the front (AP), to scale: targets and lesions highlighted, the access marked."""
    sketch = pygame.Surface(size, pygame.SRCALPHA)
    tree = level.tree
    lo, hi = tree.bounds_mm()
    scale = min(size[0] / (hi[0] - lo[0]), size[1] / (hi[2] - lo[2]))
    centre = (lo + hi) / 2

    def to_screen(p: np.ndarray) -> tuple[int, int]:
        return (int(size[0] / 2 + (p[0] - centre[0]) * scale), int(size[1] / 2 - (p[2] - centre[2]) * scale))

    d = level.definition
    targets = {d.objective.branch} | {le.branch for le in d.lesions}
    step = max(1, int(0.5 / scale))  # about one disc every half pixel
    for branch in tree.branches:
        colour = theme.ACCENT if branch.name in targets else theme.VESSEL
        for p, r in zip(branch.points_mm[::step], branch.radii_mm[::step], strict=True):
            pygame.draw.circle(sketch, colour, to_screen(p), max(1.0, r * scale))
    access = tree[d.access.branch].point_at(d.access.position_mm)
    pygame.draw.circle(sketch, theme.WARNING, to_screen(access), 7, width=2)
    draw_text(
        sketch, "access", to_screen(access + np.array([12.0, 0, 0])), size=20, colour=theme.WARNING, anchor="midleft"
    )
    return sketch
