"""The player's settings, remembered in the user's configuration directory: trainee name, class code, sound.

``settings.json`` beside ``keys.json``. Written atomically; an unreadable file falls back to the defaults with a
warning naming it, never a crash.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from game.paths import user_config_dir

SETTINGS_FILE = "settings.json"
KEYS_FILE = "keys.json"
SETTINGS_VERSION = 1


def settings_path() -> Path:
    return user_config_dir() / SETTINGS_FILE


def keys_path() -> Path:
    return user_config_dir() / KEYS_FILE


@dataclass
class Settings:
    trainee: str = ""
    class_code: str = ""
    volume: float = 0.7  # 0..1
    muted: bool = False

    def save(self, path: Path | None = None) -> str | None:
        """Write the settings; return a warning instead of raising if the disk refuses."""
        path = settings_path() if path is None else path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"version": SETTINGS_VERSION, **asdict(self)}, indent=1), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            return f"{path}: settings not saved ({exc.strerror or exc})"
        return None

    @classmethod
    def load(cls, path: Path | None = None) -> tuple[Settings, str | None]:
        """Settings from ``path`` (defaults for anything missing or wrong), and a warning if it was unusable."""
        path = settings_path() if path is None else path
        settings = cls()
        if not path.exists():
            return settings, None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            return settings, f"{path}: unreadable settings ({exc}); using the defaults"
        for f in fields(cls):
            value = data.get(f.name)
            default = getattr(settings, f.name)
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, float):
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            else:
                ok = isinstance(value, type(default))
            if ok:
                setattr(settings, f.name, value)
        settings.volume = max(0.0, min(1.0, float(settings.volume)))
        return settings, None
