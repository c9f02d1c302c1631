"""The shipped level library: find levels by id or path, list them in campaign order."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from game.paths import levels_dir
from game.sim.level.loader import LevelError, LevelProblem


@dataclass(frozen=True)
class LevelInfo:
    """What a level list shows, read from the file's header fields without building the anatomy."""

    id: str
    title: str
    procedure: str
    difficulty: int
    path: str

    def to_dict(self) -> dict:
        return asdict(self)


def level_files(directory: Path | None = None) -> list[Path]:
    """Level files in campaign order (file names start with their position, e.g. ``01_pedal.toml``)."""
    directory = levels_dir() if directory is None else directory
    return sorted(directory.glob("*.toml")) if directory.is_dir() else []


def level_info(path: Path) -> LevelInfo:
    """Header fields of one level file; raises :class:`LevelError` if they cannot be read."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return LevelInfo(
            id=str(raw["id"]),
            title=str(raw["title"]),
            procedure=str(raw["procedure"]),
            difficulty=int(raw["difficulty"]),
            path=str(path),
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise LevelError([LevelProblem(str(path), None, f"cannot read the level header: {exc}")]) from None


def shipped_levels() -> tuple[list[LevelInfo], list[LevelProblem]]:
    """Every shipped level's header, and the problems of files that could not be read."""
    infos, problems = [], []
    for path in level_files():
        try:
            infos.append(level_info(path))
        except LevelError as exc:
            problems.extend(exc.problems)
    return infos, problems


def resolve_level(ref: str) -> Path:
    """A level file from a path or a shipped level's id; raises :class:`LevelError` naming what is missing."""
    candidate = Path(ref)
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.exists():
            raise LevelError([LevelProblem(ref, None, "no such file")])
        return candidate
    infos, _ = shipped_levels()
    for info in infos:
        if info.id == ref:
            return Path(info.path)
    known = ", ".join(i.id for i in infos) or "none found"
    raise LevelError([LevelProblem(ref, None, f"no level with this id or path (shipped levels: {known})")])
