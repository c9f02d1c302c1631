"""The procedure room: the live monitor, the reference monitor and the status panel, driven by the player's hands.

Input becomes actions (the same ones replays hold), applied to the simulation at the fixed step and recorded to a
replay file as they happen. Drawing only reads the simulation; the fluoroscopy image changes only when an X-ray
pulse fires, so the monitor surface is rebuilt only then.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
import pygame

from game.app import theme
from game.app.controls import CARM_STEP_DEG, COLLIMATION_STEP, TABLE_STEP_MM, Bindings, InputMapper
from game.app.hud import draw_help, draw_status
from game.app.monitor import LiveMonitor, ReferenceMonitor, bezel
from game.app.scene import Scene
from game.app.settings import keys_path
from game.app.widgets import panel
from game.paths import user_data_dir
from game.sim import actions as A
from game.sim.constants import FLAT_PANEL_FOV_CM, PULSE_RATES_PER_S
from game.sim.level import Level
from game.sim.procedure import DT_S, Procedure
from game.sim.replay import ReplayWriter
from game.sim.runs import replay_header


def room_layout(size: tuple[int, int]) -> tuple[pygame.Rect, pygame.Rect, pygame.Rect]:
    """The live monitor (left, large), the reference monitor (top right) and the status panel (bottom right)."""
    width, height = size
    margin = max(8, height // 60)
    live_w = min(int(width * 0.6), height - 2 * margin + height // 16)
    live = pygame.Rect(margin, margin, live_w, height - 2 * margin)
    right = pygame.Rect(live.right + margin, margin, width - live.right - 2 * margin, height - 2 * margin)
    ref_h = min(right.height // 2, right.width)
    reference = pygame.Rect(right.x, right.y, right.width, ref_h)
    status = pygame.Rect(right.x, reference.bottom + margin, right.width, right.bottom - reference.bottom - margin)
    return live, reference, status


@lru_cache(maxsize=4)
def room_chrome(size: tuple[int, int]) -> pygame.Surface:
    """The room's static parts (background, monitor housings, the status panel), drawn once per window size:
    one blit a frame instead of a fill and a dozen rounded rectangles."""
    chrome = pygame.Surface(size).convert() if pygame.display.get_surface() else pygame.Surface(size)
    chrome.fill(theme.BACKGROUND)
    live, reference, status = room_layout(size)
    bezel(chrome, live)
    bezel(chrome, reference)
    panel(chrome, status)
    return chrome


class ProcedureScene(Scene):
    def __init__(self, app, level: Level, seed: int = 0, procedure: Procedure | None = None, record: bool = True):
        super().__init__(app)
        self.level = level
        self.seed = seed
        self.procedure = procedure
        self.record = record

    def on_enter(self) -> None:
        if self.procedure is None:
            self.procedure = Procedure(self.level, self.seed)
        bindings, warning = Bindings.load(keys_path())
        self.mapper = InputMapper(bindings)
        self.warnings = [warning] if warning else []
        self.help = False
        self.live_monitor = LiveMonitor()
        self.reference_monitor = ReferenceMonitor()
        self._notified = 0
        self.actions: list[A.Action] = []
        self.replay_path = None
        self.writer: ReplayWriter | None = None
        if self.record:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            self.replay_path = user_data_dir() / "replays" / f"{stamp}-{self.level.id}.jsonl"
            header = replay_header(self.level, self.seed, player=self.app.trainee or "anonymous",
                                   started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))  # fmt: skip
            try:
                self.writer = ReplayWriter(self.replay_path, header)
            except OSError as exc:
                self.warnings.append(f"not recording a replay: cannot write {self.replay_path} ({exc.strerror or exc})")
                self.replay_path = None

    def on_exit(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self._silence()

    def on_pause(self) -> None:
        self._let_go()
        self._silence()

    def _let_go(self) -> None:
        """Hands off and pedals up now (a menu opened, the window lost focus): no beam stays on by accident."""
        self.mapper.release_all()
        self._apply_changes()

    def _apply_changes(self) -> None:
        for name, value in self.mapper.changes(DT_S):
            if name == "deploy" and not value:
                continue
            self.act(name, value)

    def _silence(self) -> None:
        sounds = getattr(self.app, "sounds", None)
        if sounds is not None:
            sounds.loop("buzz", False)
            sounds.loop("injector", False)

    def reload_bindings(self) -> None:
        bindings, warning = Bindings.load(keys_path())
        self.mapper.bindings = bindings
        if warning:
            self.warnings.append(warning)

    # --- input ---------------------------------------------------------------------------------------------------
    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type in (pygame.WINDOWFOCUSLOST, pygame.WINDOWMINIMIZED):
            self._let_go()  # a pedal whose key-up went to another window must not keep the beam on
            return
        if self.help and event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.help = False
            return
        self.mapper.handle(event)

    def act(self, name: str, value=None) -> None:
        action = A.make(self.procedure.t_s, name, value)
        self.procedure.apply(action)
        self.actions.append(action)
        if self.writer is not None:
            try:
                self.writer.append(action)
            except OSError as exc:
                self.warnings.append(f"replay stopped: {exc.strerror or exc}")
                self.writer = None

    def _one_shot(self, command: str) -> None:
        p = self.procedure
        carm = p.carm
        if command == "next_instrument":
            names = list(p.instruments.names)
            self.act("select", names[(names.index(p.selected) + 1) % len(names)])
            self.mapper.resend("advance", "rotate")  # the procedure stopped the hands: keys still held act again
        elif command == "pulse_rate":
            rates = list(PULSE_RATES_PER_S)
            self.act("pulse_rate", rates[(rates.index(p.pulse_rate_per_s) + 1) % len(rates)])
        elif command in ("fov_smaller", "fov_larger"):
            sizes = sorted(FLAT_PANEL_FOV_CM)
            i = int(np.argmin([abs(s - carm.fov_cm) for s in sizes]))
            i = max(0, i - 1) if command == "fov_smaller" else min(len(sizes) - 1, i + 1)
            self.act("fov_cm", sizes[i])
        elif command in ("collimate_close", "collimate_open"):
            step = -COLLIMATION_STEP if command == "collimate_close" else COLLIMATION_STEP
            self.act("collimate", round(float(np.clip(carm.collimation[0] + step, 0.2, 1.0)), 2))
        elif command in ("lao", "rao", "cranial", "caudal"):
            lao = carm.lao_deg + {"lao": CARM_STEP_DEG, "rao": -CARM_STEP_DEG}.get(command, 0.0)
            cra = carm.cra_deg + {"cranial": CARM_STEP_DEG, "caudal": -CARM_STEP_DEG}.get(command, 0.0)
            self.act("carm", {"lao": float(np.clip(lao, -120, 120)), "cra": float(np.clip(cra, -50, 50))})
        elif command.startswith("table_"):
            dx = {"table_left": -TABLE_STEP_MM, "table_right": TABLE_STEP_MM}.get(command, 0.0)
            dz = {"table_head": TABLE_STEP_MM, "table_foot": -TABLE_STEP_MM}.get(command, 0.0)
            self.act("table", {"x": carm.table_x_mm + dx, "z": carm.table_z_mm + dz})
        elif command == "roadmap":
            self.act("roadmap", p.fluoroscope.chain.roadmap is None)
        elif command == "end":
            self.act("end")
        elif command == "help":
            self.help = not self.help
        elif command == "pause":
            from game.app.scenes.pause import PauseScene

            self.app.scenes.push(PauseScene(self.app, self))

    # --- time ----------------------------------------------------------------------------------------------------
    def update(self, dt_s: float) -> None:
        p = self.procedure
        self._apply_changes()
        pressed = self.mapper.take_pressed()
        for i, command in enumerate(pressed):
            self._one_shot(command)
            if self.app.scenes.top is not self:
                self.mapper.pressed[:0] = pressed[i + 1 :]  # the pause menu opened: the rest waits, and so does time
                return
        p.step()
        self._sound()
        if p.finished:
            self.finish()

    def finish(self) -> None:
        """The run is over: close the replay, keep the result, show the debrief."""
        from game.app.records import save_run
        from game.app.scenes.debrief import DebriefScene
        from game.app.timeline import DoseTimeline

        p = self.procedure
        if not p.ended:
            self.act("end")  # every recording ends with an end action, so a replay stops where the run did
        if self.writer is not None:
            self.writer.close()
        result = p.result()
        saving = save_run(result, self.replay_path, self.app.trainee, self.app.class_code) if self.record else None
        if saving is not None:
            self.app.keep(saving)
        timeline = DoseTimeline.from_run(p, self.actions)
        self.app.scenes.replace(DebriefScene(self.app, self.level, result, self.replay_path, timeline, saving))

    def abandon(self) -> None:
        """Leave without a debrief (quit, restart): the run is still ended, recorded and stored."""
        from game.app.records import save_run

        if not self.procedure.ended:
            self.act("end")
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.record:
            self.app.keep(save_run(self.procedure.result(), self.replay_path, self.app.trainee, self.app.class_code))

    def _sound(self) -> None:
        sounds = getattr(self.app, "sounds", None)
        if sounds is None:
            return
        p = self.procedure
        sounds.loop("buzz", p.fluoro or p.cine)
        sounds.loop("injector", p.contrast.injection is not None)  # silent once the allowed contrast is used up
        alarms = [n for n in p.ledger.notifications if n.kind == "fluoro_alarm"]
        if len(alarms) > self._notified:
            sounds.play("alarm")
            self._notified = len(alarms)

    # --- drawing -------------------------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        live, reference, status = room_layout(surface.get_size())
        surface.blit(room_chrome(surface.get_size()), (0, 0))
        p = self.procedure
        self.live_monitor.draw(surface, live, p, alpha, chrome=False)
        self.reference_monitor.draw(surface, reference, p, chrome=False)
        draw_status(surface, status, p, self.warnings, chrome=False)
        if self.help:
            draw_help(surface, self.mapper.bindings)
