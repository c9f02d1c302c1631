"""Settings: sound volume and mute, and every control remapped by pressing the new key or gamepad button.

Sound settings go to ``settings.json`` and key bindings to ``keys.json``, both in the configuration directory, as
soon as they change.
"""

from __future__ import annotations

import pygame

from game.app import theme
from game.app.controls import BUTTON_NAMES, DEFAULT_KEYS, DESCRIPTIONS, Bindings
from game.app.hud import key_label
from game.app.scene import Scene
from game.app.settings import keys_path
from game.app.widgets import draw_text, fit_size, panel

VOLUME, MUTE, RESET, BACK = range(4)
FIXED_ROWS = 4
VOLUME_STEP = 0.1


class SettingsScene(Scene):
    def on_enter(self) -> None:
        self.bindings, warning = Bindings.load(keys_path())
        self.commands = list(DEFAULT_KEYS)
        self.selected = 0
        self.capturing: str | None = None  # the command waiting for its new key
        self.note = warning or ""
        self._rects: list[tuple[int, pygame.Rect]] = []

    @property
    def rows(self) -> int:
        return FIXED_ROWS + len(self.commands)

    def handle_event(self, event: pygame.event.Event) -> None:
        if self.capturing is not None:
            self._capture(event)
            return
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
                self.app.scenes.pop()
            elif event.key in (pygame.K_DOWN, pygame.K_s):
                self.selected = (self.selected + 1) % self.rows
            elif event.key in (pygame.K_UP, pygame.K_w):
                self.selected = (self.selected - 1) % self.rows
            elif event.key in (pygame.K_LEFT, pygame.K_a, pygame.K_RIGHT, pygame.K_d) and self.selected == VOLUME:
                step = VOLUME_STEP if event.key in (pygame.K_RIGHT, pygame.K_d) else -VOLUME_STEP
                self.set_volume(self.app.settings.volume + step)
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
                self.activate(self.selected)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for index, rect in self._rects:
                if rect.collidepoint(event.pos):
                    self.selected = index
                    self.activate(index)
        elif event.type == pygame.JOYHATMOTION:
            dx, dy = event.value
            if dy:
                self.selected = (self.selected - dy) % self.rows
            elif dx and self.selected == VOLUME:
                self.set_volume(self.app.settings.volume + dx * VOLUME_STEP)
        elif event.type == pygame.JOYBUTTONDOWN and event.button in (0, 1):
            self.activate(self.selected) if event.button == 0 else self.app.scenes.pop()
        elif event.type == pygame.MOUSEWHEEL:
            self.selected = max(0, min(self.rows - 1, self.selected - event.y))

    def activate(self, index: int) -> None:
        if index == VOLUME:
            self.set_volume(self.app.settings.volume + VOLUME_STEP if self.app.settings.volume < 1 else 0.0)
        elif index == MUTE:
            self.app.settings.muted = not self.app.settings.muted
            self.app.save_settings()
        elif index == RESET:
            self.bindings = Bindings()
            self._save_bindings("controls reset to the defaults")
        elif index == BACK:
            self.app.scenes.pop()
        else:
            self.capturing = self.commands[index - FIXED_ROWS]
            self.note = ""

    def set_volume(self, volume: float) -> None:
        self.app.settings.volume = round(max(0.0, min(1.0, volume)), 2)
        self.app.save_settings()

    def _capture(self, event: pygame.event.Event) -> None:
        command = self.capturing
        if event.type == pygame.KEYDOWN:
            if event.key == pygame.K_ESCAPE:
                self.capturing = None
                self.note = "unchanged"
                return
            name = pygame.key.name(event.key)
            self.bindings.rebind(command, name)
            self.capturing = None
            self._save_bindings(f"{DESCRIPTIONS[command]}: {key_label([name])}")
        elif event.type == pygame.JOYBUTTONDOWN:
            self.bindings.rebind_button(command, event.button)
            self.capturing = None
            self._save_bindings(f"{DESCRIPTIONS[command]}: gamepad button {event.button}")

    def _save_bindings(self, note: str) -> None:
        try:
            self.bindings.save(keys_path())
            self.note = f"saved: {note}"
        except OSError as exc:
            self.note = f"{keys_path()}: not saved ({exc.strerror or exc})"
        below = self.app.scenes.below(self)
        if hasattr(below, "procedure_scene"):  # opened from the pause menu: the room uses the new keys at once
            below.procedure_scene.reload_bindings()

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        margin = int(40 * s)
        draw_text(surface, "Settings", (margin, int(28 * s)), size=int(44 * s), bold=True)
        box = pygame.Rect(margin, int(96 * s), width - 2 * margin, height - int(160 * s))
        panel(surface, box)
        size = int(22 * s)
        row_h = int(size * 1.45)
        visible = max(4, (box.height - int(20 * s)) // row_h)
        first = max(0, min(self.selected - visible // 2, self.rows - visible))
        settings = self.app.settings
        x = box.x + int(20 * s)
        col_keys = box.x + int(box.width * 0.50)
        col_pad = box.x + int(box.width * 0.80)
        y = box.y + int(10 * s)
        self._rects = []
        for index in range(first, min(self.rows, first + visible)):
            rect = pygame.Rect(box.x + 6, y, box.width - 12, row_h - 4)
            self._rects.append((index, rect))
            chosen = index == self.selected
            if chosen:
                panel(surface, rect, theme.PANEL_HOT, theme.ACCENT)
            colour = theme.TEXT if chosen else theme.TEXT_DIM
            ty = rect.centery
            if index == VOLUME:
                draw_text(surface, "Volume (Left/Right)", (x, ty), size=size, colour=colour, anchor="midleft")
                bar = pygame.Rect(col_keys, ty - 6, int(box.width * 0.25), 12)
                pygame.draw.rect(surface, theme.BACKGROUND, bar, border_radius=4)
                pygame.draw.rect(surface, theme.ACCENT, (bar.x, bar.y, int(bar.width * settings.volume), bar.height),
                                 border_radius=4)  # fmt: skip
                draw_text(surface, f"{settings.volume * 100:.0f}%", (bar.right + 14, ty), size=size, anchor="midleft")
            elif index == MUTE:
                draw_text(surface, "Sound", (x, ty), size=size, colour=colour, anchor="midleft")
                state = "muted" if settings.muted else "on"
                draw_text(surface, state, (col_keys, ty), size=size, anchor="midleft",
                          colour=theme.WARNING if settings.muted else theme.GOOD)  # fmt: skip
                if not self.app.sounds.available:
                    draw_text(surface, "(no audio device)", (col_pad, ty), size=size - 4, colour=theme.TEXT_DIM,
                              anchor="midleft")  # fmt: skip
            elif index == RESET:
                draw_text(surface, "Reset all controls to the defaults", (x, ty), size=size, colour=colour,
                          anchor="midleft")  # fmt: skip
            elif index == BACK:
                draw_text(surface, "Back", (x, ty), size=size, colour=colour, anchor="midleft")
                draw_text(surface, "key", (col_keys, ty), size=size - 4, colour=theme.TEXT_DIM, bold=True,
                          anchor="midleft")  # fmt: skip
                draw_text(surface, "gamepad", (col_pad, ty), size=size - 4, colour=theme.TEXT_DIM, bold=True,
                          anchor="midleft")  # fmt: skip
            else:
                command = self.commands[index - FIXED_ROWS]
                text = DESCRIPTIONS[command]
                draw_text(surface, text, (x, ty), size=fit_size(text, size, col_keys - x - 10), colour=colour,
                          anchor="midleft")  # fmt: skip
                if self.capturing == command:
                    keys = "press a key or button... (Esc: cancel)"
                    draw_text(surface, keys, (col_keys, ty), size=fit_size(keys, size, box.right - col_keys - 10),
                              colour=theme.WARNING, anchor="midleft")  # fmt: skip
                else:
                    keys = key_label(self.bindings.keys.get(command, []))
                    draw_text(surface, keys, (col_keys, ty), size=fit_size(keys, size, col_pad - col_keys - 10),
                              colour=theme.ACCENT, anchor="midleft")  # fmt: skip
                    buttons = self.bindings.buttons.get(command, [])
                    label = ", ".join(BUTTON_NAMES.get(b, f"button {b}") for b in buttons) or "-"
                    draw_text(surface, label, (col_pad, ty), size=size - 2, colour=theme.TEXT_DIM, anchor="midleft")
            y += row_h
        if first + visible < self.rows:
            draw_text(surface, "more below", (box.right - 16, box.bottom - 8), size=int(16 * s),
                      colour=theme.TEXT_DIM, anchor="bottomright")  # fmt: skip
        footer = self.note or f"Saved in {keys_path().parent}"
        draw_text(surface, footer, (margin, height - int(52 * s)), size=fit_size(footer, int(18 * s), width - 80),
                  colour=theme.TEXT_DIM)  # fmt: skip
        hint = "Up/Down: choose   Enter: change (then press the new key)   Esc: back"
        draw_text(surface, hint, (width // 2, height - int(20 * s)), size=int(20 * s), colour=theme.TEXT_DIM,
                  anchor="midbottom")  # fmt: skip
