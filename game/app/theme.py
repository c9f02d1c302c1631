"""Colours, sizes and fonts of the front end: the dim, high-contrast look of a cath-lab control room."""

from __future__ import annotations

from functools import cache

import pygame

WINDOW_SIZE = (1280, 800)
FPS_TARGET = 60
SIM_RATE_HZ = 60

BACKGROUND = (14, 17, 22)
PANEL = (26, 31, 40)
PANEL_HOT = (34, 46, 62)
PANEL_EDGE = (52, 62, 78)
MONITOR_BEZEL = (8, 9, 11)
TEXT = (222, 228, 236)
TEXT_DIM = (140, 150, 165)
ACCENT = (92, 186, 255)
WARNING = (255, 196, 64)
DANGER = (255, 92, 80)
GOOD = (110, 210, 130)
GOLD = (255, 200, 70)
VESSEL = (200, 70, 70)
#: Monitor overlay text: the pale green-white of medical displays.
OVERLAY = (214, 236, 220)
XRAY_RED = (255, 60, 40)
HOLD_AMBER = (255, 190, 60)
CINE_BLUE = (120, 170, 255)


@cache
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """pygame's bundled font at ``size`` px (cached)."""
    f = pygame.font.Font(None, size)
    f.set_bold(bold)
    return f
