"""The procedure room: the live monitor, the reference monitor and the status panel, driven by the player's hands.

Input becomes actions (the same ones replays hold), applied to the simulation at the fixed step and recorded to a
replay file as they happen. Drawing only reads the simulation; the fluoroscopy image changes only when an X-ray
pulse fires, so the monitor surface is rebuilt only then.
"""

from __future__ import annotations

import time

import numpy as np
import pygame

from game.app import theme
from game.app.controls import CARM_STEP_DEG, COLLIMATION_STEP, TABLE_STEP_MM, Bindings, InputMapper
from game.app.scene import Scene
from game.app.widgets import draw_text, panel, wrap
from game.paths import user_config_dir, user_data_dir
from game.sim import actions as A
from game.sim.constants import FLAT_PANEL_FOV_CM, PULSE_RATES_PER_S
from game.sim.level import Level
from game.sim.procedure import DT_S, Procedure
from game.sim.replay import ReplayWriter
from game.sim.runs import replay_header

MONITOR_MARGIN_PX = 16
OVERLAY_TEXT_PX = 22
XRAY_RED = (255, 60, 40)
HOLD_AMBER = (255, 190, 60)


class ProcedureScene(Scene):
    def __init__(self, app, level: Level, seed: int = 0):
        super().__init__(app)
        self.level = level
        self.seed = seed

    def on_enter(self) -> None:
        self.procedure = Procedure(self.level, self.seed)
        bindings, warning = Bindings.load(user_config_dir() / "keys.json")
        self.mapper = InputMapper(bindings)
        self.warnings = [warning] if warning else []
        self.help = False
        self._live: pygame.Surface | None = None
        self._reference: pygame.Surface | None = None
        self._image_t: float | None = None
        self._notified = 0
        self.replay_path = user_data_dir() / "replays" / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.level.id}.jsonl"
        try:
            self.writer: ReplayWriter | None = ReplayWriter(self.replay_path, replay_header(self.level, self.seed))
        except OSError as exc:
            self.writer = None
            self.warnings.append(f"not recording a replay: cannot write {self.replay_path} ({exc.strerror or exc})")

    def on_exit(self) -> None:
        if self.writer is not None:
            self.writer.close()
        sounds = getattr(self.app, "sounds", None)
        if sounds is not None:
            sounds.loop("buzz", False)
            sounds.loop("injector", False)

    # --- input ---------------------------------------------------------------------------------------------------
    def handle_event(self, event: pygame.event.Event) -> None:
        self.mapper.handle(event)

    def act(self, name: str, value=None) -> None:
        action = A.make(self.procedure.t_s, name, value)
        self.procedure.apply(action)
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
        for command in self.mapper.take_pressed():
            self._one_shot(command)
        for name, value in self.mapper.changes(DT_S):
            if name == "deploy" and not value:
                continue
            self.act(name, value)
        p.step()
        self._sound()
        if p.finished:
            from game.app.scenes.debrief import DebriefScene

            if self.writer is not None and not p.ended:
                self.act("end")
            self.app.scenes.replace(DebriefScene(self.app, self.level, p.result(), self.replay_path))

    def _sound(self) -> None:
        sounds = getattr(self.app, "sounds", None)
        if sounds is None:
            return
        p = self.procedure
        sounds.loop("buzz", p.fluoro or p.cine)
        sounds.loop("injector", p.inject_mL_per_s > 0)
        alarms = [n for n in p.ledger.notifications if n.kind == "fluoro_alarm"]
        if len(alarms) > self._notified:
            sounds.play("alarm")
            self._notified = len(alarms)

    # --- drawing -------------------------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        side = min(height - 2 * MONITOR_MARGIN_PX, int(width * 0.62))
        live_rect = pygame.Rect(MONITOR_MARGIN_PX, MONITOR_MARGIN_PX, side, side)
        right = pygame.Rect(
            live_rect.right + MONITOR_MARGIN_PX,
            MONITOR_MARGIN_PX,
            width - live_rect.right - 2 * MONITOR_MARGIN_PX,
            height - 2 * MONITOR_MARGIN_PX,
        )
        ref_side = min(right.width, right.height // 2)
        ref_rect = pygame.Rect(right.x, right.y, ref_side, ref_side)
        status_rect = pygame.Rect(
            right.x,
            ref_rect.bottom + MONITOR_MARGIN_PX,
            right.width,
            right.bottom - ref_rect.bottom - MONITOR_MARGIN_PX,
        )
        self._refresh_images()
        for image, rect in ((self._live, live_rect), (self._reference, ref_rect)):
            pygame.draw.rect(surface, (0, 0, 0), rect)
            if image is not None:
                surface.blit(pygame.transform.smoothscale(image, rect.size), rect)
            pygame.draw.rect(surface, theme.PANEL_EDGE, rect, width=2)
        self._draw_overlay(surface, live_rect)
        draw_text(surface, "REF", (ref_rect.x + 8, ref_rect.y + 6), size=OVERLAY_TEXT_PX, colour=theme.TEXT_DIM)
        self._draw_status(surface, status_rect)
        if self.help:
            self._draw_help(surface)

    def _refresh_images(self) -> None:
        scope = self.procedure.fluoroscope
        stamp = self.procedure.last_image_t_s
        if stamp != self._image_t or self._live is None:
            self._image_t = stamp
            self._live = _grey_surface(scope.live_image)
            self._reference = _grey_surface(scope.reference_image)

    def _draw_overlay(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        p, ledger = self.procedure, self.procedure.ledger
        carm = p.carm
        primary = f"{'LAO' if carm.lao_deg >= 0 else 'RAO'} {abs(carm.lao_deg):.0f}"
        secondary = f"{'CRA' if carm.cra_deg >= 0 else 'CAU'} {abs(carm.cra_deg):.0f}"
        lines_left = [primary, secondary, f"FOV {carm.fov_cm:.0f} cm", f"{p.pulse_rate_per_s:g} p/s"]
        minutes, seconds = divmod(ledger.fluoro_time_s, 60)
        lines_right = [
            f"Fluoro {int(minutes)}:{seconds:04.1f}",
            f"Ka,r {ledger.air_kerma_mGy:.1f} mGy",
            f"KAP {ledger.kap_Gycm2:.2f} Gy*cm2",
            f"Cine {ledger.cine_frames} fr",
        ]
        for i, line in enumerate(lines_left):
            _overlay_text(surface, line, (rect.x + 10, rect.y + 8 + i * 22), size=OVERLAY_TEXT_PX, outline=True)
        for i, line in enumerate(lines_right):
            _overlay_text(
                surface,
                line,
                (rect.right - 10, rect.y + 8 + i * 22),
                size=OVERLAY_TEXT_PX,
                colour=theme.TEXT,
                anchor="topright",
            )
        if p.fluoro or p.cine:
            label = "CINE" if p.cine else "X-RAY ON"
            box = _overlay_text(
                surface,
                label,
                (rect.centerx, rect.bottom - 12),
                size=30,
                colour=XRAY_RED,
                bold=True,
                anchor="midbottom",
            )
            pygame.draw.rect(surface, XRAY_RED, box.inflate(14, 6), width=2)
        elif p.last_image_t_s is not None:
            _overlay_text(
                surface, "LIH", (rect.centerx, rect.bottom - 12), size=26, colour=HOLD_AMBER, anchor="midbottom"
            )
        if p.fluoroscope.chain.roadmap is not None:
            _overlay_text(
                surface, "ROADMAP", (rect.x + 10, rect.bottom - 12), size=22, colour=theme.ACCENT, anchor="bottomleft"
            )

    def _draw_status(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        panel(surface, rect)
        p = self.procedure
        x, y = rect.x + 14, rect.y + 10
        budget = self.level.definition.budget
        rows = []
        for name in p.instruments.names:
            marker = ">" if name == p.selected else " "
            rows.append((f"{marker} {name}: {p.instruments.inserted_mm(name):.0f} mm in", theme.TEXT))
        rows.append((f"Contrast {p.contrast_mL:.1f} of {budget.contrast_mL:.0f} mL", theme.TEXT_DIM))
        rows.append((f"Time {p.t_s / 60:.0f}:{p.t_s % 60:02.0f} of {budget.time_limit_s / 60:.0f} min", theme.TEXT_DIM))
        for text, colour in rows:
            y = draw_text(surface, text, (x, y), size=24, colour=colour).bottom + 3
        y += 6
        for line in wrap(p.objective.status.message, theme.font(22), rect.width - 28):
            y = draw_text(surface, line, (x, y), size=22, colour=theme.ACCENT).bottom + 2
        notes = [n.message for n in p.ledger.notifications[-2:]] + [m for _, m in p.messages[-2:]] + self.warnings
        for note in notes:
            y = draw_text(surface, note, (x, y + 4), size=20, colour=theme.WARNING).bottom
        draw_text(
            surface,
            "F1: controls",
            (rect.right - 10, rect.bottom - 8),
            size=20,
            colour=theme.TEXT_DIM,
            anchor="bottomright",
        )

    def _draw_help(self, surface: pygame.Surface) -> None:
        from game.app.controls import DESCRIPTIONS

        width, height = surface.get_size()
        box = pygame.Rect(width // 8, height // 10, width * 3 // 4, height * 4 // 5)
        panel(surface, box)
        keys = self.mapper.bindings.keys
        y = box.y + 16
        columns = 2
        items = list(DESCRIPTIONS.items())
        per_column = (len(items) + columns - 1) // columns
        for i, (command, text) in enumerate(items):
            col, row = divmod(i, per_column)
            px = box.x + 20 + col * box.width // columns
            py = y + row * 24
            draw_text(surface, " / ".join(keys.get(command, [])), (px, py), size=22, colour=theme.ACCENT)
            draw_text(surface, text, (px + 130, py), size=22)


def _overlay_text(*args, **kwargs) -> pygame.Rect:
    """Text on the live image: outlined, as monitor overlays are, to stay readable on any grey."""
    kwargs.pop("outline", None)
    return draw_text(*args, outline=True, **kwargs)


def _grey_surface(image: np.ndarray) -> pygame.Surface:
    """An 8-bit grey image (rows, cols) as a pygame surface (pygame indexes x first)."""
    rgb = np.repeat(np.ascontiguousarray(image.T)[:, :, None], 3, axis=2)
    return pygame.surfarray.make_surface(rgb)
