"""The dose chart: cumulative Ka,r over the run against the level's reference, and a strip of when the beam was on
(fluoroscopy, cine, and beam on while nothing moved). Drawn once per size into a cached surface."""

from __future__ import annotations

import numpy as np
import pygame

from game.app import theme
from game.app.timeline import DoseTimeline
from game.app.widgets import draw_text

FLUORO_COLOUR = (210, 220, 230)
IDLE_COLOUR = theme.WARNING
CINE_COLOUR = theme.CINE_BLUE


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = max(span, 1e-9) / ticks
    power = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return float(m * power)
    return float(10 * power)


class DoseChart:
    def __init__(self, timeline: DoseTimeline):
        self.timeline = timeline
        self._cache: pygame.Surface | None = None
        self.plot = pygame.Rect(0, 0, 0, 0)  # the plot area inside the chart (for scrubbing by mouse)

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, cursor_s: float | None = None) -> None:
        if self._cache is None or self._cache.get_size() != rect.size:
            self._cache = self._render(rect.size)
        surface.blit(self._cache, rect)
        if cursor_s is not None and self.plot.width:
            x = rect.x + self.plot.x + int(self.plot.width * min(1.0, cursor_s / self.timeline.end_s))
            pygame.draw.line(surface, theme.ACCENT, (x, rect.y + self.plot.y), (x, rect.y + self.plot.bottom + 14), 2)

    def time_at(self, rect: pygame.Rect, x: int) -> float:
        """The run time under screen column ``x`` (for scrubbing)."""
        fraction = (x - rect.x - self.plot.x) / max(1, self.plot.width)
        return float(np.clip(fraction, 0.0, 1.0) * self.timeline.end_s)

    def _render(self, size: tuple[int, int]) -> pygame.Surface:
        tl = self.timeline
        chart = pygame.Surface(size)
        chart.fill(theme.PANEL)
        w, h = size
        text = max(14, min(22, h // 11))
        strip_h = max(8, text // 2 + 2)
        below = 6 + strip_h + 5 + text + 6 + text + 4  # the beam strip, the time labels, the legend
        plot = pygame.Rect(int(text * 2.8), int(text * 1.6), w - int(text * 3.6), max(10, h - int(text * 1.6) - below))
        self.plot = plot
        strip = pygame.Rect(plot.x, plot.bottom + 6, plot.width, strip_h)
        # The reference is drawn when it is within reach of the run's own dose; far above, it is only named, so a
        # frugal run's curve is not flattened against the floor.
        final = max(float(tl.air_kerma_mGy[-1]), 0.01)
        show_reference = tl.reference_air_kerma_mGy <= final * 3
        top_kerma = max(final, tl.reference_air_kerma_mGy if show_reference else 0.0) * 1.15
        pygame.draw.rect(chart, theme.BACKGROUND, plot)
        # Grid and axes.
        step = _nice_step(top_kerma, 4)
        value = 0.0
        while value <= top_kerma + 1e-9:
            y = plot.bottom - int(plot.height * value / top_kerma)
            pygame.draw.line(chart, theme.PANEL_EDGE, (plot.x, y), (plot.right, y))
            draw_text(chart, f"{value:g}", (plot.x - 6, y), size=text - 2, colour=theme.TEXT_DIM, anchor="midright")
            value += step
        t_step = _nice_step(tl.end_s, 6) if tl.end_s < 120 else max(30.0, 30.0 * round(tl.end_s / 6 / 30))
        t = 0.0
        while t <= tl.end_s + 1e-9:
            x = plot.x + int(plot.width * t / tl.end_s)
            pygame.draw.line(chart, theme.PANEL_EDGE, (x, strip.bottom), (x, strip.bottom + 4))
            label = f"{t:g} s" if tl.end_s < 120 else f"{int(t // 60)}:{int(t % 60):02d}"
            draw_text(chart, label, (x, strip.bottom + 5), size=text - 2, colour=theme.TEXT_DIM, anchor="midtop")
            t += t_step
        draw_text(chart, "Ka,r (mGy) over the run", (plot.x, 4), size=text, colour=theme.TEXT)
        # The reference: what a competent operator uses for the whole case.
        if show_reference:
            y = plot.bottom - int(plot.height * tl.reference_air_kerma_mGy / top_kerma)
            for x in range(plot.x, plot.right, 12):
                pygame.draw.line(chart, theme.TEXT_DIM, (x, y), (min(x + 6, plot.right), y))
            draw_text(chart, f"reference {tl.reference_air_kerma_mGy:g} mGy", (plot.right - 4, y - 2),
                      size=text - 2, colour=theme.TEXT_DIM, anchor="bottomright")  # fmt: skip
        else:
            note = f"reference {tl.reference_air_kerma_mGy:g} mGy: far above this run"
            draw_text(chart, note, (plot.right - 4, plot.y + 4), size=text - 2, colour=theme.GOOD, anchor="topright")
        # The beam strip: where, and how, the beam was on.
        pygame.draw.rect(chart, theme.BACKGROUND, strip)
        xs = plot.x + (tl.t_s / tl.end_s * plot.width).astype(int)
        colours = {1: FLUORO_COLOUR, 2: CINE_COLOUR}
        for i in np.flatnonzero(tl.beam):
            colour = IDLE_COLOUR if tl.idle[i] else colours[int(tl.beam[i])]
            x0 = xs[i]
            x1 = xs[i + 1] if i + 1 < len(xs) else plot.right
            pygame.draw.rect(chart, colour, (x0, strip.y, max(1, x1 - x0), strip.height))
        # Cumulative Ka,r.
        points = [
            (int(x), plot.bottom - int(plot.height * k / top_kerma))
            for x, k in zip(xs, tl.air_kerma_mGy, strict=True)
        ]
        if len(points) > 1:
            pygame.draw.lines(chart, theme.ACCENT, False, points, 2)
        # Legend.
        lx = plot.x
        ly = h - 4 - text // 2
        for label, colour in (("fluoroscopy", FLUORO_COLOUR), ("cine", CINE_COLOUR),
                              ("beam on, nothing moving", IDLE_COLOUR)):  # fmt: skip
            pygame.draw.rect(chart, colour, (lx, ly - text // 3, text // 1.5, text // 1.5))
            lx = draw_text(chart, label, (lx + text, ly), size=text - 2, colour=theme.TEXT_DIM, anchor="midleft").right
            lx += text
        return chart
