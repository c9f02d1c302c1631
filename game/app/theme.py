"""Colours, sizes and fonts of the front end: the dim, high-contrast look of a cath-lab control room."""

from __future__ import annotations

from functools import cache

import pygame

WINDOW_SIZE = (1280, 800)
FPS_TARGET = 60
SIM_RATE_HZ = 60

BACKGROUND = (14, 17, 22)
PANEL = (26, 31, 40)
PANEL_EDGE = (52, 62, 78)
TEXT = (222, 228, 236)
TEXT_DIM = (140, 150, 165)
ACCENT = (92, 186, 255)
WARNING = (255, 196, 64)
DANGER = (255, 92, 80)
VESSEL = (200, 70, 70)


@cache
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """pygame's bundled font at ``size`` px (cached)."""
    f = pygame.font.Font(None, size)
    f.set_bold(bold)
    return f
