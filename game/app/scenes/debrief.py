"""Debrief: the outcome, every metric against the level's reference, stars, the score breakdown, a chart of dose
and beam-on over time, the feedback sentences, and buttons to retry, watch the replay or go on."""

from __future__ import annotations

from pathlib import Path

import pygame

from game.app import theme
from game.app.chart import DoseChart
from game.app.jobs import Job
from game.app.scene import Scene
from game.app.timeline import DoseTimeline
from game.app.widgets import Menu, draw_stars, draw_text, fit_size, panel, wrap
from game.sim.level import Level
from game.sim.scoring import SUCCESS_POINTS, WEIGHTS

PART_NAMES = {
    "success": "objective met",
    "fluoro_time": "fluoroscopy time",
    "air_kerma": "Ka,r",
    "kap": "KAP",
    "safety": "no complication",
    "time": "procedure time",
    "contrast": "contrast",
}


def _verdict(value: float, reference: float) -> tuple[str, tuple]:
    if reference <= 0:
        return ("", theme.TEXT_DIM)
    ratio = value / reference
    if ratio <= 1.0:
        return (f"{ratio * 100:.0f}%", theme.GOOD)
    if ratio <= 1.5:
        return (f"{ratio * 100:.0f}%", theme.WARNING)
    return (f"{ratio * 100:.0f}%", theme.DANGER)


class DebriefScene(Scene):
    def __init__(
        self,
        app,
        level: Level,
        result: dict,
        replay_path: Path | None = None,
        timeline: DoseTimeline | None = None,
        saving: Job | None = None,
    ):
        super().__init__(app)
        self.level, self.result, self.replay_path = level, result, replay_path
        self.timeline, self.saving = timeline, saving
        self.chart = DoseChart(timeline) if timeline is not None else None
        self.next_level = _next_level(level.id)
        items = ["Retry", "Watch the replay" if replay_path else "(no replay recorded)"]
        items += ["Next level" if self.next_level else "Level select", "Main menu"]
        self.menu = Menu(items)

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            shortcuts = {pygame.K_r: 0, pygame.K_v: 1, pygame.K_n: 2, pygame.K_ESCAPE: 3}
            if event.key in shortcuts:
                self.choose(shortcuts[event.key])
                return
        chosen = self.menu.handle(event)
        if chosen is not None:
            self.choose(chosen)

    def choose(self, index: int) -> None:
        from game.app.scenes.loading import procedure_loading, start_level

        if index == 0:
            self.app.scenes.replace(procedure_loading(self.app, self.level))
        elif index == 1 and self.replay_path is not None:
            from game.app.scenes.replay_viewer import ReplayLoadScene

            self.app.scenes.push(ReplayLoadScene(self.app, self.replay_path))
        elif index == 2 and self.next_level is not None:
            start_level(self.app, self.next_level, replace=True)
        elif index == 2:
            self.app.go_home(to_levels=True)
        elif index == 3:
            self.app.go_home()

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        r, ref = self.result, self.level.definition.reference
        width, height = surface.get_size()
        s = height / 800.0
        margin = int(24 * s)
        left = pygame.Rect(margin, margin, int(width * 0.52) - margin, height - 2 * margin)
        right = pygame.Rect(left.right + margin, margin, width - left.right - 2 * margin, height - 2 * margin)
        panel(surface, left)
        panel(surface, right)
        x, y = left.x + int(20 * s), left.y + int(16 * s)
        inner = left.width - int(40 * s)
        colour = theme.GOOD if r["success"] else theme.DANGER
        title = "Success" if r["success"] else r["outcome"].replace("_", " ").capitalize()
        head = draw_text(surface, title, (x, y), size=int(46 * s), colour=colour, bold=True)
        draw_stars(surface, (head.right + int(20 * s), head.centery), r["stars"], radius=int(15 * s))
        draw_text(surface, self.level.definition.title, (x, head.bottom + 4), size=fit_size(
            self.level.definition.title, int(22 * s), inner), colour=theme.TEXT_DIM)  # fmt: skip
        y = head.bottom + int(30 * s)
        for line in wrap(r["message"], theme.font(int(22 * s)), inner)[:2]:
            y = draw_text(surface, line, (x, y), size=int(22 * s), colour=theme.TEXT).bottom + 2
        y += int(10 * s)
        size = int(22 * s)
        value_x, ref_x, ratio_x = x + int(inner * 0.66), x + int(inner * 0.86), x + inner
        for name, px in (("this run", value_x), ("reference", ref_x), ("of ref", ratio_x)):
            draw_text(surface, name, (px, y), size=size - 3, colour=theme.TEXT_DIM, anchor="topright")
        y += int(size * 1.1)
        rows = [
            ("Fluoroscopy time", r["fluoro_time_s"], ref.fluoro_time_s, "s", 1),
            ("Reference air kerma Ka,r", r["air_kerma_mGy"], ref.air_kerma_mGy, "mGy", 2),
            ("Kerma-area product KAP", r["kap_Gycm2"], ref.kap_Gycm2, "Gy·cm²", 3),
            ("Contrast", r["contrast_mL"], ref.contrast_mL, "mL", 1),
            ("Procedure time", r["sim_time_s"], None, "s", 0),
            ("Cine frames", r["cine_frames"], None, "", 0),
            ("Peak skin dose", r["peak_skin_dose_mGy"], None, "mGy", 2),
            ("Operator dose (eye)", r["operator_dose_uSv"], None, "µSv", 2),
            ("Complications", len(r["complications"]), 0, "", 0),
        ]
        for label, value, reference, unit, digits in rows:
            draw_text(surface, label, (x, y), size=fit_size(label, size, int(inner * 0.42)))
            draw_text(surface, f"{value:.{digits}f} {unit}".strip(), (value_x, y), size=size, anchor="topright")
            if label == "Complications":
                text, vcolour = ("none", theme.GOOD) if value == 0 else ("see above", theme.DANGER)
                draw_text(surface, text, (ratio_x, y), size=size, colour=vcolour, anchor="topright")
            elif reference is not None:
                draw_text(surface, f"{reference:g}", (ref_x, y), size=size, colour=theme.TEXT_DIM, anchor="topright")
                verdict, vcolour = _verdict(value, reference)
                draw_text(surface, verdict, (ratio_x, y), size=size, colour=vcolour, anchor="topright")
            y += int(size * 1.18)
        y += int(8 * s)
        # The score and where it came from.
        draw_text(surface, f"Score {r['score']} / 1000", (x, y), size=int(30 * s), bold=True)
        y += int(34 * s)
        parts = r.get("score_breakdown", {})
        maxima = {"success": SUCCESS_POINTS, **WEIGHTS}
        for name, points in parts.items():
            top = maxima.get(name, max(points, 1.0))
            label = f"{PART_NAMES.get(name, name)}"
            draw_text(surface, label, (x, y), size=size - 3, colour=theme.TEXT_DIM)
            bar = pygame.Rect(x + int(inner * 0.40), y + 3, int(inner * 0.42), max(6, int(10 * s)))
            pygame.draw.rect(surface, theme.BACKGROUND, bar, border_radius=3)
            filled = bar.copy()
            filled.width = int(bar.width * max(0.0, min(1.0, points / top)))
            pygame.draw.rect(surface, theme.ACCENT, filled, border_radius=3)
            draw_text(surface, f"{points:g} / {top:g}", (x + inner, y), size=size - 3, colour=theme.TEXT_DIM,
                      anchor="topright")  # fmt: skip
            y += int((size - 3) * 1.12)
        complications = r.get("complications") or []
        if complications:
            y += int(10 * s)
            draw_text(surface, "Complications", (x, y), size=size, bold=True, colour=theme.DANGER)
            y += int(size * 1.2)
            for c in complications[:3]:
                where = c.get("branch") or "the vessel"
                text = f"{c['kind']} at {c['t_s']:.0f} s: {c['instrument']} in {where.replace('_', ' ')}, " \
                       f"{c['force_N']:.2f} N"  # fmt: skip
                draw_text(surface, text, (x, y), size=fit_size(text, size - 2, inner), colour=theme.DANGER)
                y += int(size * 1.1)
        # Right: the chart, the feedback, the buttons.
        rx, ry = right.x + int(16 * s), right.y + int(14 * s)
        rinner = right.width - int(32 * s)
        chart_rect = pygame.Rect(rx, ry, rinner, int(right.height * 0.36))
        if self.chart is not None:
            self.chart.draw(surface, chart_rect)
            tl = self.timeline
            summary = f"Beam on {tl.beam_on_s:.1f} s, of which {tl.idle_s:.1f} s while nothing moved"
            ry = chart_rect.bottom + int(6 * s)
            ry = draw_text(surface, summary, (rx, ry), size=fit_size(summary, size - 2, rinner),
                           colour=theme.TEXT_DIM).bottom  # fmt: skip
        ry += int(12 * s)
        draw_text(surface, "What to work on", (rx, ry), size=size, bold=True)
        ry += int(size * 1.3)
        menu_top = right.bottom - int(4 * 48 * s) - int(36 * s)
        clean = "A clean run: nothing to add." if r["success"] else "The objective was not met: see the task above."
        feedback = r["feedback"] or [clean]
        fsize = size - 1
        for sentence in feedback:
            for i, line in enumerate(wrap(sentence, theme.font(fsize), rinner - int(18 * s))):
                if ry + fsize > menu_top - 6:
                    break
                draw_text(surface, ("• " if i == 0 else "  ") + line, (rx, ry), size=fsize)
                ry += int(fsize * 1.15)
            ry += int(4 * s)
        self.menu.draw(surface, right.centerx, menu_top, int(rinner * 0.8), size=int(26 * s), row_px=int(48 * s))
        status = self._status()
        if status:
            size = fit_size(status, int(18 * s), rinner)
            draw_text(surface, status, (right.centerx, right.bottom - int(10 * s)), size=size, colour=theme.TEXT_DIM,
                      anchor="midbottom")  # fmt: skip

    def _status(self) -> str:
        if self.saving is None:
            return ""
        if not self.saving.done:
            return "saving the run..."
        if self.saving.error is not None:
            return f"run not saved: {self.saving.error}"
        return str(self.saving.result)


def _next_level(level_id: str):
    """The path of the shipped level after ``level_id`` in campaign order, or None."""
    from game.sim.level.library import shipped_levels

    infos, _ = shipped_levels()
    ids = [i.id for i in infos]
    if level_id in ids and ids.index(level_id) + 1 < len(ids):
        return infos[ids.index(level_id) + 1].path
    return None
