"""Where Lumen finds its shipped data (levels, assets) and keeps the user's files (settings, replays, records)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "lumen"
_PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(kind: str) -> Path:
    """``levels`` or ``assets``: from $LUMEN_<KIND>_DIR, a source checkout, or an installed wheel's share dir."""
    override = os.environ.get(f"LUMEN_{kind.upper()}_DIR")
    if override:
        return Path(override)
    checkout = _PACKAGE_DIR.parent / kind
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / APP_NAME / kind


def levels_dir() -> Path:
    return _data_dir("levels")


def assets_dir() -> Path:
    return _data_dir("assets")


def user_data_dir() -> Path:
    """Replays, records and the local database (created on first use)."""
    override = os.environ.get("LUMEN_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    """Settings and key bindings (created on first use)."""
    override = os.environ.get("LUMEN_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
