"""Debrief: the outcome, every metric against the level's reference, stars, the score and the feedback."""

from __future__ import annotations

from pathlib import Path

import pygame

from game.app import theme
from game.app.scene import Scene
from game.app.widgets import draw_text, panel, wrap
from game.sim.level import Level


class DebriefScene(Scene):
    def __init__(self, app, level: Level, result: dict, replay_path: Path | None = None):
        super().__init__(app)
        self.level, self.result, self.replay_path = level, result, replay_path

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type != pygame.KEYDOWN:
            return
        if event.key == pygame.K_r:
            from game.app.scenes.procedure import ProcedureScene

            self.app.scenes.replace(ProcedureScene(self.app, self.level))
        elif event.key in (pygame.K_ESCAPE, pygame.K_RETURN, pygame.K_KP_ENTER):
            self.app.scenes.pop()

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        r, ref = self.result, self.level.definition.reference
        width, height = surface.get_size()
        box = pygame.Rect(40, 30, width - 80, height - 60)
        panel(surface, box)
        x, y = box.x + 24, box.y + 18
        colour = theme.ACCENT if r["success"] else theme.DANGER
        title = "Success" if r["success"] else r["outcome"].replace("_", " ").capitalize()
        y = draw_text(surface, f"{title}  {'*' * r['stars'] or '-'}", (x, y), size=44, colour=colour, bold=True).bottom
        y = draw_text(surface, r["message"], (x, y + 4), size=24, colour=theme.TEXT_DIM).bottom + 14
        rows = [
            ("Fluoroscopy time", f"{r['fluoro_time_s']:.1f} s", f"{ref.fluoro_time_s:g} s"),
            ("Reference air kerma Ka,r", f"{r['air_kerma_mGy']:.2f} mGy", f"{ref.air_kerma_mGy:g} mGy"),
            ("Kerma-area product", f"{r['kap_Gycm2']:.3f} Gy*cm2", f"{ref.kap_Gycm2:g} Gy*cm2"),
            ("Contrast", f"{r['contrast_mL']:.1f} mL", f"{ref.contrast_mL:g} mL"),
            ("Cine frames", f"{r['cine_frames']}", ""),
            ("Peak skin dose", f"{r['peak_skin_dose_mGy']:.2f} mGy", ""),
            ("Operator dose (eye)", f"{r['operator_dose_uSv']:.2f} uSv", ""),
            ("Procedure time", f"{r['sim_time_s']:.0f} s", ""),
        ]
        draw_text(surface, "this run", (x + 420, y), size=22, colour=theme.TEXT_DIM)
        y = draw_text(surface, "reference", (x + 620, y), size=22, colour=theme.TEXT_DIM).bottom + 4
        for label, value, reference in rows:
            draw_text(surface, label, (x, y), size=26)
            draw_text(surface, value, (x + 420, y), size=26)
            y = draw_text(surface, reference, (x + 620, y), size=26, colour=theme.TEXT_DIM).bottom + 4
        breakdown = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in r["score_breakdown"].items())
        y = draw_text(surface, f"Score {r['score']} / 1000", (x, y + 12), size=30, bold=True).bottom
        for line in wrap(breakdown, theme.font(22), box.width - 48):
            y = draw_text(surface, line, (x, y + 2), size=22, colour=theme.TEXT_DIM).bottom
        y += 12
        for sentence in r["feedback"]:
            for i, line in enumerate(wrap(sentence, theme.font(24), box.width - 70)):
                y = draw_text(surface, ("- " if i == 0 else "  ") + line, (x, y + 2), size=24).bottom
        draw_text(
            surface,
            "R: retry   Enter/Esc: back to the levels",
            (box.centerx, box.bottom - 12),
            size=22,
            colour=theme.TEXT_DIM,
            anchor="midbottom",
        )
