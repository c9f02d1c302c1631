"""Replay files (JSON Lines, PRODUCT.md): written as the run goes, read back strictly.

The first line is the header ``{"format": "lumen-replay", "version": 1, "level": ID, "level_sha256": HEX,
"seed": INT, ...}``; every further line is one timed action ``{"t": S, "action": NAME, "value": V}`` with
non-decreasing ``t``. The writer flushes every line, so a crash loses at most the line being written. The reader
names the file, the line and the problem for every fault; it never lets a traceback through.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from game.sim import actions
from game.sim.actions import Action, ActionError

REPLAY_FORMAT = "lumen-replay"
REPLAY_VERSION = 1
MAX_REPLAY_BYTES = 64_000_000  # ~1 M actions; a real run records a few thousand
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ReplayError(Exception):
    """A replay that cannot be used: ``str()`` is ``PATH:LINE: message``."""

    def __init__(self, path: str, line: int | None, message: str):
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class ReplayHeader:
    level: str
    level_sha256: str
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)  # app version, trainee, level path, start time...

    def to_json(self) -> dict:
        return {
            "format": REPLAY_FORMAT,
            "version": REPLAY_VERSION,
            "level": self.level,
            "level_sha256": self.level_sha256,
            "seed": self.seed,
            **self.extra,
        }


@dataclass(frozen=True)
class Replay:
    header: ReplayHeader
    actions: tuple[Action, ...]


class ReplayWriter:
    """Appends actions to a replay file as they happen; use as a context manager."""

    def __init__(self, path: str | Path, header: ReplayHeader):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        self._write(header.to_json())

    def append(self, action: Action) -> None:
        self._write(action.to_json())

    def _write(self, obj: dict) -> None:
        self._file.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> ReplayWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_replay(path: str | Path, replay: Replay) -> None:
    with ReplayWriter(path, replay.header) as writer:
        for action in replay.actions:
            writer.append(action)


def read_replay(path: str | Path) -> Replay:
    """Parse and validate a replay file; raise :class:`ReplayError` on the first problem."""
    name = str(path)
    text = _read_text(Path(path), name)
    lines = text.split("\n")
    truncated = not text.endswith("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ReplayError(name, None, "file is empty")
    header = _header(_json_line(name, 1, lines[0], truncated and len(lines) == 1), name)
    parsed: list[Action] = []
    last_t = 0.0
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            raise ReplayError(name, number, "blank line (every line after the header is one action)")
        obj = _json_line(name, number, line, truncated and number == len(lines))
        action = _action(obj, name, number)
        if action.t_s < last_t:
            raise ReplayError(name, number, f"time goes backwards ({action.t_s:g} s after {last_t:g} s)")
        last_t = action.t_s
        parsed.append(action)
    return Replay(header, tuple(parsed))


def _read_text(path: Path, name: str) -> str:
    try:
        if path.is_dir():
            raise ReplayError(name, None, "is a directory, not a replay file")
        if path.stat().st_size > MAX_REPLAY_BYTES:
            raise ReplayError(name, None, f"file is over the {MAX_REPLAY_BYTES // 1_000_000} MB limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReplayError(name, None, "no such file") from None
    except OSError as exc:
        raise ReplayError(name, None, f"cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise ReplayError(name, None, "file is binary, not a JSON Lines replay")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReplayError(name, data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None


def _json_line(name: str, number: int, line: str, last_and_unterminated: bool) -> Any:
    try:
        return json.loads(line, parse_constant=_no_constants)
    except ValueError as exc:
        if last_and_unterminated:
            raise ReplayError(name, number, "the file ends in the middle of a line (truncated replay)") from None
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ReplayError(name, number, f"not valid JSON: {reason}") from None


def _no_constants(token: str) -> float:
    raise ValueError(f"{token} is not allowed")


def _header(obj: Any, name: str) -> ReplayHeader:
    if not isinstance(obj, dict):
        raise ReplayError(name, 1, "the first line must be the replay header object")
    if obj.get("format") != REPLAY_FORMAT:
        raise ReplayError(name, 1, f"not a Lumen replay (format is {obj.get('format')!r}, expected {REPLAY_FORMAT!r})")
    version = obj.get("version")
    if version != REPLAY_VERSION or isinstance(version, bool):
        raise ReplayError(name, 1, f"unsupported replay version {version!r}: this Lumen reads {REPLAY_VERSION}")
    level = obj.get("level")
    if not isinstance(level, str) or not level:
        raise ReplayError(name, 1, "header 'level' must be the level's id")
    sha = obj.get("level_sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise ReplayError(name, 1, "header 'level_sha256' must be 64 lowercase hex digits")
    seed = obj.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ReplayError(name, 1, f"header 'seed' must be a non-negative integer, not {seed!r}")
    known = {"format", "version", "level", "level_sha256", "seed"}
    return ReplayHeader(level, sha, seed, {k: v for k, v in obj.items() if k not in known})


def _action(obj: Any, name: str, number: int) -> Action:
    if not isinstance(obj, dict):
        raise ReplayError(name, number, 'an action line must be an object {"t": ..., "action": ..., "value": ...}')
    unknown = set(obj) - {"t", "action", "value"}
    if unknown:
        raise ReplayError(name, number, f"unknown keys {', '.join(sorted(unknown))} in an action")
    for key in ("t", "action"):
        if key not in obj:
            raise ReplayError(name, number, f"action is missing '{key}'")
    t = obj["t"]
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
        raise ReplayError(name, number, f"'t' must be a non-negative number of seconds, not {t!r}")
    try:
        return actions.make(float(t), obj["action"], obj.get("value"))
    except ActionError as exc:
        raise ReplayError(name, number, str(exc)) from None
