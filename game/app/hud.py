"""The procedure room's status panel and its help overlay: what the operator's hands hold and what it has cost.

The panel shows the selected instrument and every instrument's inserted length, the contrast used and left, the
time against the limit, the objective, dose figures against the level's reference and the dose alarms. No tip
position or branch name: a trainee knows where the tip is only from the images.
"""

from __future__ import annotations

import pygame

from game.app import theme
from game.app.controls import DESCRIPTIONS, MOUSE_HELP, Bindings, gamepad_help
from game.app.monitor import clock_text
from game.app.widgets import draw_text, fit_size, panel, shade, text_surface, wrap_cached
from game.sim.procedure import Procedure

#: Procedure messages and dose notifications stay on the panel for this long (s of procedure time).
NOTE_SHOW_S = 12.0


def _bar(surface, rect: pygame.Rect, fraction: float, colour, marker: float | None = None) -> None:
    """A thin gauge: filled to ``fraction`` (clipped at 1, red past it), with an optional reference marker."""
    pygame.draw.rect(surface, theme.BACKGROUND, rect, border_radius=3)
    filled = rect.copy()
    filled.width = int(rect.width * max(0.0, min(1.0, fraction)))
    pygame.draw.rect(surface, theme.DANGER if fraction > 1.0 else colour, filled, border_radius=3)
    if marker is not None and 0.0 < marker <= 1.0:
        x = rect.x + int(rect.width * marker)
        pygame.draw.line(surface, theme.TEXT, (x, rect.y - 2), (x, rect.bottom + 1), 2)


def draw_status(
    surface: pygame.Surface,
    rect: pygame.Rect,
    p: Procedure,
    warnings: list[str] = (),
    footer: str = "F1 controls   Esc pause",
    chrome: bool = True,
) -> None:
    """The status panel in ``rect`` (``chrome=False``: its background was already drawn from a cache)."""
    if chrome:
        panel(surface, rect)
    scale = rect.height / 380.0
    size = max(15, min(30, int(21 * scale)))
    small = max(14, size - 3)
    line = int(size * 1.2)
    x, y = rect.x + 14, rect.y + 10
    inner = rect.width - 28
    budget = p.level.definition.budget
    ref = p.level.definition.reference
    draw_text(surface, "INSTRUMENTS", (x, y), size=small, colour=theme.TEXT_DIM, bold=True)
    y += line
    for name in p.instruments.names:
        device = p.level.devices[name]
        chosen = name == p.selected
        row = pygame.Rect(x - 6, y - 2, inner + 12, line)
        if chosen:
            pygame.draw.rect(surface, theme.PANEL_HOT, row, border_radius=4)
            pygame.draw.rect(surface, theme.ACCENT, (row.x, row.y, 4, row.height))
        label = f"{name}  {device.title}"
        colour = theme.TEXT if chosen else theme.TEXT_DIM
        inserted = f"{p.instruments.inserted_mm(name):.0f} mm in"
        room = inner - text_surface(inserted, size, colour).get_width() - 16
        draw_text(surface, label, (x + 4, y), size=fit_size(label, size, room), colour=colour)
        draw_text(surface, inserted, (x + inner, y), size=size, colour=colour, anchor="topright")
        y += line
    y += line // 3
    # Contrast: used and left of the case's allowance.
    if budget.contrast_mL > 0:
        left = max(0.0, budget.contrast_mL - p.contrast_mL)
        draw_text(surface, f"Contrast {p.contrast_mL:.1f} mL used, {left:.0f} mL left", (x, y), size=size)
        y += line
        _bar(surface, pygame.Rect(x, y, inner, 6), p.contrast_mL / budget.contrast_mL, theme.CINE_BLUE)
        y += 12
    else:
        draw_text(surface, "No contrast in this case", (x, y), size=size, colour=theme.TEXT_DIM)
        y += line
    draw_text(surface, f"Time {clock_text(p.t_s)} of {budget.time_limit_s / 60:.0f}:00", (x, y), size=size,
              colour=theme.TEXT_DIM)  # fmt: skip
    y += line
    # Dose against the level's reference (what a competent operator uses), on a scale of twice the reference.
    ledger = p.ledger
    for label, value, reference, unit in (
        ("Fluoro", ledger.fluoro_time_s, ref.fluoro_time_s, "s"),
        ("Ka,r", ledger.air_kerma_mGy, ref.air_kerma_mGy, "mGy"),
    ):
        text = f"{label} {value:.1f} {unit}  (reference {reference:g})"
        draw_text(surface, text, (x, y), size=small, colour=theme.TEXT_DIM)
        y += int(small * 1.1)
        fraction = value / (2 * reference) if reference > 0 else 0.0
        _bar(surface, pygame.Rect(x, y, inner, 5), fraction, theme.WARNING if value > reference else theme.GOOD, 0.5)
        y += 10
    # The dose alarms so far: the 5-minute fluoroscopy alarm and the Ka,r notification levels.
    alarms = [n for n in ledger.notifications if n.kind == "fluoro_alarm"]
    kerma = [n for n in ledger.notifications if n.kind != "fluoro_alarm"]
    if alarms or kerma:
        parts = [f"{len(alarms) * 5} min fluoroscopy"] if alarms else []
        parts += [kerma[-1].message] if kerma else []
        draw_text(surface, "Dose alarms: " + "; ".join(parts), (x, y), size=fit_size("Dose alarms: " + "; ".join(
                  parts), small, inner), colour=theme.DANGER)  # fmt: skip
    else:
        draw_text(surface, "Dose alarms: none", (x, y), size=small, colour=theme.TEXT_DIM)
    y += int(small * 1.3)
    # The objective.
    objective = p.objective.status.message
    footer_y = rect.bottom - int(small * 1.4)
    for text in wrap_cached(objective, size, inner)[:3]:
        if y + size > footer_y:
            break
        if text:
            draw_text(surface, text, (x, y), size=size, colour=theme.ACCENT)
        y += line
    # Alarms and messages, newest first; the 5-minute alarm and Ka,r notifications in red.
    notes = [(n.t_s, n.message, theme.DANGER) for n in ledger.notifications]
    notes += [(t, m, theme.WARNING) for t, m in p.messages]
    recent = sorted((n for n in notes if p.t_s - n[0] <= NOTE_SHOW_S), key=lambda n: -n[0])
    for _t, message, colour in recent:
        for text in wrap_cached(message, small, inner - 8)[:2]:
            if y + small > footer_y - 4:
                break
            draw_text(surface, f"! {text}", (x, y), size=small, colour=colour)
            y += int(small * 1.1)
    for message in warnings:
        if y + small > footer_y - 4:
            break
        for text in wrap_cached(message, small - 1, inner)[:2]:
            draw_text(surface, text, (x, y), size=small - 1, colour=theme.WARNING)
            y += int(small * 1.05)
    draw_text(surface, footer, (rect.right - 12, rect.bottom - 8), size=small,
              colour=theme.TEXT_DIM, anchor="bottomright")  # fmt: skip


def key_label(names: list[str]) -> str:
    return " or ".join(n.upper() if len(n) == 1 else n.title() for n in names) or "(unbound)"


def draw_help(surface: pygame.Surface, bindings: Bindings) -> None:
    """The controls, as they are bound now (keyboard in two columns; mouse, gamepad and foot switch below)."""
    width, height = surface.get_size()
    box = pygame.Rect(0, 0, min(width - 40, int(height * 1.45)), height - 60)
    box.center = (width // 2, height // 2)
    shade(surface, 140)
    panel(surface, box)
    size = max(15, int(box.height / 31))
    line = int(size * 1.25)
    title = max(20, int(size * 1.5))
    draw_text(surface, "Controls", (box.x + 24, box.y + 14), size=title, bold=True)
    draw_text(surface, "F1 or Esc closes this   Settings remaps any key or button", (box.right - 24, box.y + 20),
              size=size - 1, colour=theme.TEXT_DIM, anchor="topright")  # fmt: skip
    items = list(DESCRIPTIONS.items())
    columns = 2
    per_column = (len(items) + columns - 1) // columns
    column_w = (box.width - 48) // columns
    key_w = int(column_w * 0.36)
    top = box.y + 24 + title
    for i, (command, text) in enumerate(items):
        col, row = divmod(i, per_column)
        px = box.x + 24 + col * column_w
        py = top + row * line
        keys = key_label(bindings.keys.get(command, []))
        draw_text(surface, keys, (px, py), size=fit_size(keys, size, key_w - 8), colour=theme.ACCENT)
        draw_text(surface, text, (px + key_w, py), size=fit_size(text, size, column_w - key_w - 8))
    y = top + per_column * line + line // 2
    pygame.draw.line(surface, theme.PANEL_EDGE, (box.x + 24, y - line // 4), (box.right - 24, y - line // 4))
    cell_w = (box.width - 48 - key_w) // 3
    for heading, rows in (("Mouse", MOUSE_HELP), ("Gamepad", gamepad_help(bindings.buttons))):
        draw_text(surface, heading, (box.x + 24, y), size=size, bold=True, colour=theme.TEXT_DIM)
        for i, text in enumerate(rows):
            col, row = i % 3, i // 3
            draw_text(surface, text, (box.x + 24 + key_w + col * cell_w, y + row * line),
                      size=fit_size(text, size - 1, cell_w - 10))  # fmt: skip
        y += line * ((len(rows) + 2) // 3) + line // 3
    draw_text(surface, "Foot switch", (box.x + 24, y), size=size, bold=True, colour=theme.TEXT_DIM)
    draw_text(surface, "a USB foot switch sends a key: bind it to the fluoroscopy (or cine) pedal in Settings",
              (box.x + 24 + key_w, y), size=fit_size("a USB foot switch sends a key: bind it to the fluoroscopy (or "
              "cine) pedal in Settings", size - 1, box.width - 48 - key_w))  # fmt: skip
