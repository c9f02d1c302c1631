"""Small drawing helpers shared by the scenes."""

from __future__ import annotations

import pygame

from game.app import theme


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


def draw_text(
    surface, text, pos, size=24, colour=theme.TEXT, bold=False, anchor="topleft", outline=False
) -> pygame.Rect:
    """Blit ``text``; ``outline`` rings it in black so it stays readable over a bright X-ray image."""
    font = theme.font(size, bold)
    image = font.render(text, True, colour)
    rect = image.get_rect(**{anchor: pos})
    if outline:
        shadow = font.render(text, True, (0, 0, 0))
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)):
            surface.blit(shadow, rect.move(dx, dy))
    surface.blit(image, rect)
    return rect


def panel(surface: pygame.Surface, rect: pygame.Rect) -> None:
    pygame.draw.rect(surface, theme.PANEL, rect, border_radius=6)
    pygame.draw.rect(surface, theme.PANEL_EDGE, rect, width=1, border_radius=6)
