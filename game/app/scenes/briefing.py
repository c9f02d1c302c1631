"""Briefing: the case, the task, the instruments and the dose budget, beside a sketch of the anatomy."""

from __future__ import annotations

import numpy as np
import pygame

from game.app import theme
from game.app.scene import Scene
from game.app.widgets import draw_text, fit_size, panel, wrap
from game.sim.level import Level

#: The sketch shows the anatomy as a frontal (AP) view: the patient's left on the viewer's right.
SKETCH_MARGIN_PX = 24


class BriefingScene(Scene):
    def __init__(self, app, level: Level):
        super().__init__(app)
        self.level = level
        self._sketch: pygame.Surface | None = None

    def on_enter(self) -> None:
        from game.app.controls import Bindings
        from game.app.settings import keys_path

        self.bindings, _ = Bindings.load(keys_path())

    def handle_event(self, event: pygame.event.Event) -> None:
        start = event.type == pygame.KEYDOWN and event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE)
        start |= event.type == pygame.JOYBUTTONDOWN and event.button == 0
        start |= event.type == pygame.MOUSEBUTTONDOWN and event.button == 1
        if start:
            from game.app.scenes.loading import procedure_loading

            self.app.scenes.replace(procedure_loading(self.app, self.level))
            return
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
            if len(self.app.scenes) > 1:
                self.app.scenes.pop()
            else:
                self.app.quit()

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        from game.app.hud import key_label

        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        d = self.level.definition
        margin = int(30 * s)
        text_rect = pygame.Rect(margin, margin, int(width * 0.58) - margin, height - 2 * margin - int(24 * s))
        panel(surface, text_rect)
        x, y = text_rect.x + int(22 * s), text_rect.y + int(18 * s)
        width_px = text_rect.width - int(44 * s)

        def paragraph(text: str, size: int, colour=theme.TEXT, bold: bool = False, gap: int = 2) -> int:
            nonlocal y
            size = int(size * s)
            for line in wrap(text, theme.font(size, bold), width_px):
                y = draw_text(surface, line, (x, y), size=size, colour=colour, bold=bold).bottom + gap
            return y

        def heading(text: str) -> None:
            nonlocal y
            y += int(10 * s)
            y = draw_text(surface, text.upper(), (x, y), size=int(17 * s), colour=theme.TEXT_DIM, bold=True).bottom + 3

        paragraph(d.title, 34, bold=True)
        stars = "difficulty " + "*" * d.difficulty
        paragraph(f"{d.procedure.replace('_', ' ')}   {stars}", 20, theme.TEXT_DIM)
        heading("Patient")
        weight = f" ({d.patient.weight_kg:g} kg)" if d.patient.weight_kg and "kg" not in d.patient.description else ""
        paragraph(d.patient.description + weight, 22, theme.TEXT)
        heading("Case")
        paragraph(d.briefing, 22)
        heading("Task")
        paragraph(d.objective.description or d.objective.kind.value.replace("_", " "), 22, theme.ACCENT)
        heading("Instruments")
        for i in d.instruments:
            paragraph(f"{i.name}: {self.level.devices[i.name].title}", 21, theme.TEXT)
        r, b = d.reference, d.budget
        heading("Budget and reference")
        contrast = f"contrast {b.contrast_mL:g} mL allowed, " if b.contrast_mL > 0 else "no contrast, "
        paragraph(
            f"Time limit {b.time_limit_s / 60:.0f} min, {contrast}a competent run uses: fluoroscopy "
            f"{r.fluoro_time_s:g} s, Ka,r {r.air_kerma_mGy:g} mGy, KAP {r.kap_Gycm2:g} Gy·cm²"
            + (f", contrast {r.contrast_mL:g} mL." if r.contrast_mL else "."),
            21,
            theme.TEXT_DIM,
        )
        sketch_rect = pygame.Rect(text_rect.right + margin, margin, width - text_rect.right - 2 * margin,
                                  int((height - 2 * margin) * 0.58))  # fmt: skip
        panel(surface, sketch_rect)
        self._draw_anatomy(surface, sketch_rect.inflate(-2 * SKETCH_MARGIN_PX, -2 * SKETCH_MARGIN_PX))
        draw_text(surface, "anatomy (AP view)", (sketch_rect.x + 10, sketch_rect.y + 6), size=int(17 * s),
                  colour=theme.TEXT_DIM)  # fmt: skip
        keys_rect = pygame.Rect(sketch_rect.x, sketch_rect.bottom + int(14 * s), sketch_rect.width,
                                text_rect.bottom - sketch_rect.bottom - int(14 * s))  # fmt: skip
        panel(surface, keys_rect)
        kx, ky = keys_rect.x + int(14 * s), keys_rect.y + int(10 * s)
        draw_text(surface, "CONTROLS", (kx, ky), size=int(17 * s), colour=theme.TEXT_DIM, bold=True)
        ky += int(24 * s)
        keys = self.bindings.keys
        reminder = [
            ("fluoro", "X-rays (hold: the pedal)"),
            ("advance", "push"),
            ("retract", "pull"),
            ("rotate_ccw", "turn counter-clockwise"),
            ("rotate_cw", "turn clockwise"),
            ("next_instrument", "next instrument"),
            ("cine", "cine (hold)"),
            ("inject", "inject contrast (hold)"),
            ("help", "all the controls"),
        ]
        size = int(19 * s)
        for command, text in reminder:
            if ky + size > keys_rect.bottom - 6:
                break
            label = key_label(keys.get(command, []))
            draw_text(surface, label, (kx, ky), size=fit_size(label, size, int(keys_rect.width * 0.38)),
                      colour=theme.ACCENT)  # fmt: skip
            draw_text(surface, text, (kx + int(keys_rect.width * 0.42), ky), size=size)
            ky += int(size * 1.25)
        draw_text(
            surface,
            "Enter: start the procedure   Esc: back",
            (width // 2, height - int(10 * s)),
            size=int(20 * s),
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
