"""Small drawing helpers shared by the scenes: cached text, panels, a keyboard-and-mouse menu, a text field.

Rendering text is the costliest thing a HUD does, so every rendered line is cached by its text, size, colour and
outline; a frame that shows the same figures as the last one renders nothing.
"""

from __future__ import annotations

from functools import lru_cache

import pygame

from game.app import theme

OUTLINE_OFFSETS = ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1), (-1, -1), (1, -1), (-1, 1))


def wrap(text: str, font: pygame.font.Font, width_px: int) -> list[str]:
    """Split ``text`` into lines no wider than ``width_px``; blank lines separate paragraphs."""
    lines: list[str] = []
    for paragraph in text.strip().split("\n\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if font.size(trial)[0] <= width_px or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
        lines.append("")
    return lines[:-1]


@lru_cache(maxsize=512)
def wrap_cached(text: str, size: int, width_px: int, bold: bool = False) -> tuple[str, ...]:
    """:func:`wrap` at a font size, remembered (the HUD wraps the same objective every frame)."""
    return tuple(wrap(text, theme.font(size, bold), width_px))


@lru_cache(maxsize=4096)
def text_surface(text: str, size: int, colour: tuple, bold: bool = False, outline: bool = False) -> pygame.Surface:
    """``text`` rendered once (cached); ``outline`` rings it in black, as monitor overlays are."""
    font = theme.font(size, bold)
    image = font.render(text, True, colour)
    if outline:
        ringed = pygame.Surface((image.get_width() + 2, image.get_height() + 2), pygame.SRCALPHA)
        shadow = font.render(text, True, (0, 0, 0))
        for dx, dy in OUTLINE_OFFSETS:
            ringed.blit(shadow, (1 + dx, 1 + dy))
        ringed.blit(image, (1, 1))
        image = ringed
    # In the display's own pixel format, blitting is several times faster (once per text, then cached).
    return image.convert_alpha() if pygame.display.get_surface() is not None else image


def clear_caches() -> None:
    """Forget rendered text and cached surfaces (after ``pygame.quit()`` they are dead)."""
    from game.app.scenes.procedure import room_chrome

    room_chrome.cache_clear()
    text_surface.cache_clear()
    _veil.cache_clear()
    wrap_cached.cache_clear()
    fit_size.cache_clear()
    theme.font.cache_clear()


def draw_text(
    surface, text, pos, size=24, colour=theme.TEXT, bold=False, anchor="topleft", outline=False
) -> pygame.Rect:
    """Blit ``text`` at ``pos`` (by ``anchor``); return the rectangle it covers."""
    image = text_surface(str(text), size, tuple(colour), bold, outline)
    rect = image.get_rect(**{anchor: pos})
    surface.blit(image, rect)
    return rect


def text_width(text: str, size: int, bold: bool = False) -> int:
    return theme.font(size, bold).size(text)[0]


@lru_cache(maxsize=2048)
def fit_size(text: str, size: int, width_px: int, bold: bool = False, smallest: int = 14) -> int:
    """The largest font size up to ``size`` at which ``text`` fits in ``width_px``."""
    while size > smallest and text_width(text, size, bold) > width_px:
        size -= 1
    return size


def panel(surface: pygame.Surface, rect: pygame.Rect, colour=theme.PANEL, edge=theme.PANEL_EDGE) -> None:
    pygame.draw.rect(surface, colour, rect, border_radius=6)
    pygame.draw.rect(surface, edge, rect, width=1, border_radius=6)


def shade(surface: pygame.Surface, alpha: int = 160) -> None:
    """Darken what is already drawn (behind a modal box)."""
    surface.blit(_veil(surface.get_size(), alpha), (0, 0))


@lru_cache(maxsize=8)
def _veil(size: tuple[int, int], alpha: int) -> pygame.Surface:
    veil = pygame.Surface(size, pygame.SRCALPHA)
    veil.fill((0, 0, 0, alpha))
    return veil


def stars_text(count: int, out_of: int = 3) -> str:
    """Stars as drawn glyphs are not in the bundled font: filled and empty as * and ."""
    return "*" * count + "." * (out_of - count)


def draw_stars(
    surface, centre_left: tuple[int, int], count: int, radius: int = 9, out_of: int = 3, colour=theme.GOLD
) -> pygame.Rect:
    """Five-pointed stars, filled for those earned: readable at any size, independent of the font."""
    import math

    x, y = centre_left
    for i in range(out_of):
        cx = x + radius + i * (2 * radius + 6)
        points = []
        for k in range(10):
            r = radius if k % 2 == 0 else radius * 0.45
            a = -math.pi / 2 + k * math.pi / 5
            points.append((cx + r * math.cos(a), y + r * math.sin(a)))
        if i < count:
            pygame.draw.polygon(surface, colour, points)
        else:
            pygame.draw.polygon(surface, theme.PANEL_EDGE, points, width=2)
    return pygame.Rect(x, y - radius, out_of * (2 * radius + 6), 2 * radius)


class Menu:
    """A vertical list of choices: Up/Down (or W/S) and Enter, the mouse (hover and click), a gamepad's d-pad and A.

    ``rects`` is set by :meth:`draw`; :meth:`handle` returns the chosen index, or None.
    """

    def __init__(self, items: list[str], selected: int = 0):
        self.items = list(items)
        self.selected = selected
        self.rects: list[pygame.Rect] = []

    def handle(self, event: pygame.event.Event) -> int | None:
        n = len(self.items)
        if not n:
            return None
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_DOWN, pygame.K_s, pygame.K_TAB):
                self.selected = (self.selected + 1) % n
            elif event.key in (pygame.K_UP, pygame.K_w):
                self.selected = (self.selected - 1) % n
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
                return self.selected
        elif event.type == pygame.JOYHATMOTION and event.value[1]:
            self.selected = (self.selected - event.value[1]) % n
        elif event.type == pygame.JOYBUTTONDOWN and event.button == 0:
            return self.selected
        elif event.type == pygame.MOUSEMOTION:
            for i, rect in enumerate(self.rects):
                if rect.collidepoint(event.pos):
                    self.selected = i
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for i, rect in enumerate(self.rects):
                if rect.collidepoint(event.pos):
                    self.selected = i
                    return i
        return None

    def draw(self, surface, centre_x: int, top: int, width: int, size: int = 30, row_px: int = 52) -> int:
        """Draw the items as buttons centred on ``centre_x`` from ``top``; return the bottom."""
        self.rects = []
        for i, item in enumerate(self.items):
            rect = pygame.Rect(0, 0, width, row_px - 10)
            rect.midtop = (centre_x, top + i * row_px)
            chosen = i == self.selected
            edge = theme.ACCENT if chosen else theme.PANEL_EDGE
            panel(surface, rect, theme.PANEL_HOT if chosen else theme.PANEL, edge)
            label_size = fit_size(item, size, width - 24)
            draw_text(surface, item, rect.center, size=label_size, colour=theme.TEXT if chosen else theme.TEXT_DIM,
                      anchor="center")  # fmt: skip
            self.rects.append(rect)
        return top + len(self.items) * row_px


class TextField:
    """One line of typed text (pygame's TEXTINPUT events, so any keyboard layout and IME work)."""

    def __init__(self, text: str = "", max_chars: int = 40):
        self.text = text
        self.max_chars = max_chars

    def handle(self, event: pygame.event.Event) -> bool:
        """True if the event edited the text."""
        if event.type == pygame.TEXTINPUT:
            room = self.max_chars - len(self.text)
            if room > 0:
                self.text += event.text[:room]
                return True
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_BACKSPACE and self.text:
            self.text = self.text[:-1]
            return True
        return False

    def draw(self, surface, rect: pygame.Rect, focused: bool, blink_on: bool, placeholder: str = "") -> None:
        panel(surface, rect, theme.PANEL_HOT if focused else theme.PANEL, theme.ACCENT if focused else theme.PANEL_EDGE)
        shown = self.text or placeholder
        colour = theme.TEXT if self.text else theme.TEXT_DIM
        size = fit_size(shown, max(16, int(rect.height * 0.58)), rect.width - 28)
        label = draw_text(surface, shown, (rect.x + 14, rect.centery), size=size, colour=colour, anchor="midleft")
        if focused and blink_on:
            x = label.right + 2 if self.text else rect.x + 14
            pygame.draw.line(surface, theme.ACCENT, (x, rect.y + 10), (x, rect.bottom - 10), 2)
