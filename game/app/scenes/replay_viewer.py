"""The replay viewer: a recorded run on the monitors again, with play, pause, speed and a scrub bar.

Space plays and pauses; Up/Down (or +/-) change the speed; Left/Right jump 5 s; Home/End go to the start and the
end; clicking or dragging on the dose chart at the bottom scrubs. Esc leaves.
"""

from __future__ import annotations

from pathlib import Path

import pygame

from game.app import theme
from game.app.chart import DoseChart
from game.app.hud import draw_status
from game.app.monitor import LiveMonitor, ReferenceMonitor, clock_text
from game.app.playback import Player, Recording, record_replay
from game.app.scene import Scene
from game.app.scenes.loading import LoadingScene
from game.app.scenes.procedure import room_layout
from game.app.widgets import draw_text, fit_size, panel
from game.sim.procedure import DT_S, Procedure

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
JUMP_S = 5.0
#: At most this many simulation steps per display frame (8x speed); more would make frames slow.
MAX_STEPS_PER_FRAME = 8


def ReplayLoadScene(app, path: Path | str) -> LoadingScene:
    """The replay viewer behind a progress bar while the replay is re-simulated once."""
    return LoadingScene(app, "Loading the replay", lambda progress: record_replay(path, progress),
                        lambda recording: ReplayViewerScene(app, recording), subtitle=str(path))  # fmt: skip


class ReplayViewerScene(Scene):
    def __init__(self, app, recording: Recording):
        super().__init__(app)
        self.recording = recording
        self.player: Player = recording.player_at(0)
        self.playing = True
        self.speed_index = SPEEDS.index(1.0)
        self._carry = 0.0
        self._scrub_to: int | None = None
        self._dragging = False
        self.chart = DoseChart(recording.timeline)
        self._chart_rect = pygame.Rect(0, 0, 0, 0)
        self.live = LiveMonitor()
        self.reference = ReferenceMonitor()

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_index]

    @property
    def procedure(self) -> Procedure:
        return self.player.procedure

    def seek(self, t_s: float) -> None:
        """Ask for the picture at ``t_s`` (done at the next update, once per frame however fast the mouse moves)."""
        self._scrub_to = max(0, min(self.recording.end_tick, Procedure.tick_of(t_s)))

    def handle_event(self, event: pygame.event.Event) -> None:
        t = self.procedure.t_s
        if event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
                self.app.scenes.pop() if len(self.app.scenes) > 1 else self.app.quit()
            elif key in (pygame.K_SPACE, pygame.K_k):
                if self.player.done and not self.playing:
                    self.seek(0.0)
                self.playing = not self.playing
            elif key in (pygame.K_UP, pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS):
                self.speed_index = min(len(SPEEDS) - 1, self.speed_index + 1)
            elif key in (pygame.K_DOWN, pygame.K_MINUS, pygame.K_KP_MINUS):
                self.speed_index = max(0, self.speed_index - 1)
            elif key in (pygame.K_RIGHT, pygame.K_l):
                self.seek(t + JUMP_S)
            elif key in (pygame.K_LEFT, pygame.K_j):
                self.seek(t - JUMP_S)
            elif key == pygame.K_HOME:
                self.seek(0.0)
            elif key == pygame.K_END:
                self.seek(self.recording.end_tick * DT_S)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self._chart_rect.collidepoint(event.pos):
            self._dragging = True
            self.seek(self.chart.time_at(self._chart_rect, event.pos[0]))
        elif event.type == pygame.MOUSEMOTION and self._dragging:
            self.seek(self.chart.time_at(self._chart_rect, event.pos[0]))
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self._dragging = False

    def update(self, dt_s: float) -> None:
        if self._scrub_to is not None:
            target, self._scrub_to = self._scrub_to, None
            if not (self.procedure.tick <= target <= self.procedure.tick + 120):
                self.player = self.recording.player_at(target)
            while self.procedure.tick < target and not self.player.done:
                self.player.step()
            return
        if not self.playing:
            return
        self._carry += self.speed
        steps = min(MAX_STEPS_PER_FRAME, int(self._carry))
        self._carry -= int(self._carry)
        for _ in range(steps):
            self.player.step()
        if self.player.done:
            self.playing = False

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        live, reference, status = room_layout((width, height))
        gap = reference.y - live.y + (status.y - reference.bottom)
        # The right column: a smaller reference monitor, the status panel, and the replay's controls and chart.
        reference.height = int(live.height * 0.36)
        status = pygame.Rect(status.x, reference.bottom + gap, status.width, int(live.height * 0.30))
        bottom = pygame.Rect(status.x, status.bottom + gap, status.width, live.bottom - status.bottom - gap)
        p = self.procedure
        self.live.draw(surface, live, p, 0.0)
        self.reference.draw(surface, reference, p)
        draw_status(surface, status, p, footer="Esc: leave the replay")
        panel(surface, bottom)
        controls_h = int(92 * s)
        self._chart_rect = pygame.Rect(bottom.x + 4, bottom.y + controls_h, bottom.width - 8,
                                       bottom.height - controls_h - 4)  # fmt: skip
        self.chart.draw(surface, self._chart_rect, cursor_s=p.t_s)
        x, y = bottom.x + int(16 * s), bottom.y + int(12 * s)
        r = self.recording
        state = "PLAYING" if self.playing else ("END" if self.player.done else "PAUSED")
        colour = theme.GOOD if self.playing else theme.WARNING
        y = draw_text(surface, f"REPLAY  {state}", (x, y), size=int(24 * s), colour=colour, bold=True).bottom + 4
        y = draw_text(surface, f"{clock_text(p.t_s)} / {clock_text(r.end_tick * DT_S)}   x{self.speed:g}", (x, y),
                      size=int(22 * s)).bottom + 4  # fmt: skip
        who = r.replay.header.extra.get("player", "")
        draw_text(surface, f"{r.level.id}  {who}", (bottom.right - int(16 * s), bottom.y + int(14 * s)),
                  size=fit_size(f"{r.level.id}  {who}", int(18 * s), bottom.width // 2), colour=theme.TEXT_DIM,
                  anchor="topright")  # fmt: skip
        hint = "Space play/pause   Up/Down speed   Left/Right 5 s   Home/End   click the chart to scrub"
        draw_text(surface, hint, (x, y + 2), size=fit_size(hint, int(16 * s), bottom.width - 32), colour=theme.TEXT_DIM)
