"""Whole runs, headless: the autopilot playing a level, and a replay re-simulated, both through the one step.

These are what ``lumen autoplay`` and ``lumen replay`` call; the tests call them too.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from game import __version__
from game.sim.autopilot.pilot import STYLES, autoplay
from game.sim.level import Level, LevelError, load_level
from game.sim.level.library import resolve_level
from game.sim.procedure import Procedure, run_actions
from game.sim.replay import Replay, ReplayError, ReplayHeader, ReplayWriter, read_replay


class RunError(Exception):
    """A run that cannot be made: the message names the file and the problem."""


def replay_header(level: Level, seed: int, **extra) -> ReplayHeader:
    info = {"app_version": __version__, **extra}
    if level.path is not None:
        info["level_path"] = str(level.path)
    return ReplayHeader(level.id, level.sha256, seed, info)


def autoplay_level(level: Level, style: str = "expert", seed: int = 0, replay_path: str | Path | None = None) -> dict:
    """Let the autopilot play ``level``; write the replay as it goes (if asked); return the result object."""
    procedure = Procedure(level, seed)
    writer = None
    if replay_path is not None:
        try:
            writer = ReplayWriter(replay_path, replay_header(level, seed, player=f"autopilot:{style}"))
        except OSError as exc:
            raise RunError(f"{replay_path}: cannot write the replay: {exc.strerror or exc}") from None
    try:
        pilot = autoplay(procedure, STYLES[style], on_action=writer.append if writer else None)
    except OSError as exc:
        raise RunError(f"{replay_path}: writing the replay failed: {exc.strerror or exc}") from None
    finally:
        if writer is not None:
            writer.close()
    result = procedure.result()
    result["player"] = f"autopilot:{style}"
    if pilot.failure:
        result["autopilot_problem"] = pilot.failure
    return result


def load_replay_level(path: str | Path) -> tuple[Replay, Level]:
    """Read a replay strictly and find its level (by the recorded path, else by id); the level must be unchanged."""
    replay = read_replay(path)
    header = replay.header
    candidates = []
    recorded = header.extra.get("level_path")
    if isinstance(recorded, str) and Path(recorded).is_file():
        candidates.append(Path(recorded))
    with contextlib.suppress(LevelError):
        candidates.append(resolve_level(header.level))
    if not candidates:
        raise RunError(f"{path}:1: the replay's level '{header.level}' was not found")
    for candidate in candidates:
        try:
            level = load_level(candidate)
        except LevelError as exc:
            raise RunError(f"{path}:1: the replay's level cannot be loaded: {exc.problems[0]}") from None
        if level.sha256 == header.level_sha256:
            return replay, level
    raise RunError(
        f"{path}:1: the level '{header.level}' has changed since this replay was recorded "
        f"(its sha256 differs), so the replay cannot be reproduced"
    )


def replay_run(level: Level, replay: Replay) -> dict:
    """Re-simulate ``replay`` on ``level``; the result equals the recorded run's, ``result_hash`` included."""
    procedure = Procedure(level, replay.header.seed)
    run_actions(procedure, replay.actions)
    result = procedure.result()
    player = replay.header.extra.get("player")
    if isinstance(player, str):
        result["player"] = player
    return result


__all__ = ["ReplayError", "RunError", "autoplay_level", "load_replay_level", "replay_run"]
