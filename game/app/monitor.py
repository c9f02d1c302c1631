"""The cath-lab monitors: the live fluoroscopy image and the reference image, with the overlay a real monitor shows.

The images come from the simulation as 8-bit grey numpy arrays; they are turned into surfaces (an 8-bit paletted
view of the bytes, converted and smooth-scaled once) only when the simulation made a new one, i.e. at the pulse
rate. The overlay is cached text; the drawing reads the procedure and never changes it.
"""

from __future__ import annotations

import numpy as np
import pygame

from game.app import theme
from game.app.widgets import draw_text, fit_size, text_surface, text_width
from game.sim.procedure import DT_S, Procedure

GREY_PALETTE = [(i, i, i) for i in range(256)]
#: Overlay text height as a fraction of the monitor's image side.
OVERLAY_FRACTION = 0.032
#: The fluoroscopy-time alarm stays on the monitor this long after it sounded (s of procedure time).
ALARM_SHOW_S = 10.0


def grey_surface(image: np.ndarray) -> pygame.Surface:
    """An 8-bit grey image (rows, cols) as a display-format surface (rows are y, as pygame's buffer expects)."""
    rows, cols = image.shape
    surface = pygame.image.frombuffer(np.ascontiguousarray(image, dtype=np.uint8).tobytes(), (cols, rows), "P")
    surface.set_palette(GREY_PALETTE)
    return surface.convert() if pygame.display.get_surface() is not None else surface.convert(24)


class ImageCache:
    """One monitor's picture: rebuilt only when the simulation hands over a new array, scaled once per size."""

    def __init__(self) -> None:
        self._array: np.ndarray | None = None
        self._surface: pygame.Surface | None = None
        self._scaled: pygame.Surface | None = None

    def surface(self, array: np.ndarray, side: int) -> pygame.Surface:
        if array is not self._array or self._surface is None:
            self._array = array
            self._surface = grey_surface(array)
            self._scaled = None
        if self._scaled is None or self._scaled.get_width() != side:
            self._scaled = pygame.transform.smoothscale(self._surface, (side, side))
        return self._scaled


def image_rect(screen: pygame.Rect, band_px: int) -> pygame.Rect:
    """The square image inside a monitor's screen, leaving a text band above and below."""
    side = max(8, min(screen.width - band_px, screen.height - 2 * band_px))
    rect = pygame.Rect(0, 0, side, side)
    rect.center = screen.center
    return rect


def bezel(surface: pygame.Surface, rect: pygame.Rect, chrome: bool = True) -> pygame.Rect:
    """A monitor's housing (a dark bezel round a black screen); returns the screen. ``chrome=False``: the caller
    has already drawn the housing (from a cached surface), only the screen's rectangle is wanted."""
    screen = rect.inflate(-10, -10)
    if chrome:
        pygame.draw.rect(surface, theme.MONITOR_BEZEL, rect, border_radius=8)
        pygame.draw.rect(surface, theme.PANEL_EDGE, rect, width=1, border_radius=8)
        pygame.draw.rect(surface, (0, 0, 0), screen)
    return screen


def carm_text(procedure: Procedure) -> tuple[str, str]:
    carm = procedure.carm
    primary = f"{'LAO' if carm.lao_deg >= 0 else 'RAO'} {abs(carm.lao_deg):.0f}°"
    secondary = f"{'CRA' if carm.cra_deg >= 0 else 'CAU'} {abs(carm.cra_deg):.0f}°"
    return primary, secondary


def clock_text(seconds: float, tenths: bool = False) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}" if tenths else f"{int(minutes)}:{int(rest):02d}"


class LiveMonitor:
    """The live monitor: the last pulse's image (held after the pedal), its overlay and the beam indicators."""

    def __init__(self) -> None:
        self.image = ImageCache()

    def draw(
        self, surface: pygame.Surface, rect: pygame.Rect, p: Procedure, alpha: float = 0.0, chrome: bool = True
    ) -> None:
        size = max(15, int(rect.height * OVERLAY_FRACTION))
        band = int(size * 1.5)
        screen = bezel(surface, rect, chrome)
        img = image_rect(screen, band)
        if p.last_image_t_s is not None:
            surface.blit(self.image.surface(p.fluoroscope.live_image, img.width), img)
        else:
            draw_text(surface, "No image yet: press the fluoroscopy pedal", img.center, size=size,
                      colour=theme.TEXT_DIM, anchor="center")  # fmt: skip
        self._overlay(surface, screen, img, p, alpha, size)

    def _overlay(self, surface, screen, img, p: Procedure, alpha: float, size: int) -> None:
        ledger, carm = p.ledger, p.carm
        line = int(size * 1.15)
        pad = max(6, size // 2)
        primary, secondary = carm_text(p)
        technique = p.fluoroscope.last_technique
        rate = f"CINE {p.fluoroscope.cine_rate_per_s:g} f/s" if p.cine else f"FL {p.pulse_rate_per_s:g} p/s"
        left = [primary, secondary, f"FOV {carm.fov_cm:.0f} cm", rate]
        if carm.collimation[0] < 0.999:
            left.append(f"Coll {carm.collimation[0] * 100:.0f}%")
        fluoro_s = ledger.fluoro_time_s + (alpha * DT_S if p.fluoro and not p.finished else 0.0)
        right = [
            f"Fluoro {clock_text(fluoro_s, tenths=True)}",
            f"Ka,r {ledger.air_kerma_mGy:.2f} mGy",
            f"KAP {ledger.kap_Gycm2:.3f} Gy·cm²",
            f"Cine {ledger.cine_frames} fr",
        ]
        if technique is not None:
            right.append(f"{technique.kvp:.0f} kV  {technique.mA:.1f} mA")
            if p.fluoro or p.cine:  # the dose rate at the reference point, as the monitor shows it while the beam is on
                rate = technique.air_kerma_irp_mGy * technique.pulse_rate_per_s * 60.0
                right.append(f"{rate:.1f} mGy/min")
        for i, text in enumerate(left):
            draw_text(surface, text, (img.x + pad, img.y + pad + i * line), size=size, colour=theme.OVERLAY,
                      outline=True)  # fmt: skip
        for i, text in enumerate(right):
            draw_text(surface, text, (img.right - pad, img.y + pad + i * line), size=size, colour=theme.OVERLAY,
                      anchor="topright", outline=True)  # fmt: skip
        # The bands above and below the image: the patient, the procedure clock, the room's state.
        top_y = (screen.y + img.y) // 2
        level = p.level.definition
        alarm = next((n for n in reversed(ledger.notifications) if n.kind == "fluoro_alarm"), None)
        if alarm is not None and p.t_s - alarm.t_s <= ALARM_SHOW_S:  # the fluoroscopy-time alarm, as it sounds
            draw_text(surface, f"FLUORO TIME ALARM  {alarm.message}", (screen.x + pad, top_y), size=size,
                      colour=theme.XRAY_RED, bold=True, anchor="midleft")  # fmt: skip
        else:
            banner = f"LIVE  {level.patient.description}"
            room = screen.width - 2 * pad - text_width("T 00:00", size - 2) - 3 * pad
            draw_text(surface, banner, (screen.x + pad, top_y), size=fit_size(banner, size - 2, room, smallest=12),
                      colour=theme.TEXT_DIM, anchor="midleft")  # fmt: skip
        t_s = p.t_s + (0.0 if p.finished else alpha * DT_S)
        draw_text(surface, f"T {clock_text(t_s)}", (screen.right - pad, top_y), size=size - 2,
                  colour=theme.TEXT_DIM, anchor="midright")  # fmt: skip
        bottom_y = (img.bottom + screen.bottom) // 2
        if p.fluoro or p.cine:
            label = "CINE" if p.cine else "X-RAY ON"
            badge = text_surface(label, int(size * 1.3), theme.XRAY_RED, True)
            box = badge.get_rect(center=(img.centerx, bottom_y))
            pygame.draw.rect(surface, (60, 0, 0), box.inflate(18, 6))
            pygame.draw.rect(surface, theme.XRAY_RED, box.inflate(18, 6), width=2)
            surface.blit(badge, box)
            pygame.draw.circle(surface, theme.XRAY_RED, (box.x - 24, bottom_y), max(5, size // 3))
        elif p.last_image_t_s is not None:
            badge = text_surface("LIH", int(size * 1.2), theme.HOLD_AMBER, True)
            box = badge.get_rect(center=(img.centerx, bottom_y))
            pygame.draw.rect(surface, theme.HOLD_AMBER, box.inflate(16, 4), width=2)
            surface.blit(badge, box)
            draw_text(surface, "last image hold", (box.right + 18, bottom_y), size=size - 3, colour=theme.HOLD_AMBER,
                      anchor="midleft")  # fmt: skip
        if p.fluoroscope.chain.roadmap is not None:
            draw_text(surface, "ROADMAP", (screen.x + pad, bottom_y), size=size, colour=theme.ACCENT, bold=True,
                      anchor="midleft")  # fmt: skip
        if p.inject_mL_per_s > 0:
            draw_text(surface, f"INJECT {p.inject_mL_per_s:g} mL/s", (screen.right - pad, bottom_y), size=size,
                      colour=theme.CINE_BLUE, bold=True, anchor="midright")  # fmt: skip


class ReferenceMonitor:
    """The reference monitor: the best frame of the last cine run, or the roadmap mask."""

    def __init__(self) -> None:
        self.image = ImageCache()

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, p: Procedure, chrome: bool = True) -> None:
        size = max(14, int(rect.height * OVERLAY_FRACTION * 1.6))
        band = int(size * 1.5)
        screen = bezel(surface, rect, chrome)
        img = image_rect(screen, band)
        chain = p.fluoroscope.chain
        if chain.roadmap is not None:
            what = "ROADMAP"
        elif p.telemetry.cine_runs and np.any(p.fluoroscope.reference_image):
            what = f"CINE RUN {p.telemetry.cine_runs}"
        else:
            what = None
        if what is not None:
            surface.blit(self.image.surface(p.fluoroscope.reference_image, img.width), img)
        else:
            draw_text(surface, "no stored image", img.center, size=size, colour=theme.TEXT_DIM, anchor="center")
            draw_text(surface, "(cine or roadmap shows here)", (img.centerx, img.centery + size + 4), size=size - 3,
                      colour=theme.TEXT_DIM, anchor="center")  # fmt: skip
        pad = max(6, size // 2)
        top_y = (screen.y + img.y) // 2
        draw_text(surface, "REF", (screen.x + pad, top_y), size=size, colour=theme.TEXT_DIM, bold=True,
                  anchor="midleft")  # fmt: skip
        if what:
            draw_text(surface, what, (screen.right - pad, top_y), size=size, colour=theme.ACCENT, anchor="midright")
