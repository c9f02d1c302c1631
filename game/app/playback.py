"""Playing a replay in the window: the recorded actions re-applied through the one step, with keyframes to scrub.

Loading simulates the whole replay once (behind a progress bar), keeping a copy of the procedure every few seconds.
Scrubbing restores the nearest earlier keyframe and steps forward to the asked-for moment, so any moment is at most
one keyframe interval of simulation away. The stepping is exactly :func:`game.sim.procedure.run_actions`'s, one
step at a time, so the picture at the end is the recorded run's (same ``result_hash``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from game.app.jobs import Progress
from game.app.timeline import DoseTimeline
from game.sim.level import Level
from game.sim.procedure import Procedure
from game.sim.replay import Replay

#: Keyframes at least this far apart (s of procedure time); longer runs space them out to bound memory.
KEYFRAME_MIN_S = 2.0
MAX_KEYFRAMES = 40


def snapshot(procedure: Procedure) -> Procedure:
    """A copy of the procedure's state; the static level and the renderer's pure caches are shared, not copied."""
    level = procedure.level
    memo = {id(level): level, id(level.tree): level.tree, id(level.body): level.body,
            id(procedure.fluoroscope.renderer): procedure.fluoroscope.renderer}  # fmt: skip
    return copy.deepcopy(procedure, memo)


class Player:
    """One procedure advanced through a replay's actions; ``step`` is run_actions' loop body."""

    def __init__(self, level: Level, replay: Replay, procedure: Procedure | None = None, index: int = 0):
        self.level, self.replay = level, replay
        self.actions = replay.actions
        self.procedure = procedure or Procedure(level, replay.header.seed)
        self.index = index
        self.last_tick = Procedure.tick_of(level.definition.budget.time_limit_s)

    @property
    def done(self) -> bool:
        return self.procedure.finished or self.procedure.tick > self.last_tick

    def step(self) -> None:
        p = self.procedure
        if self.done:
            return
        while self.index < len(self.actions) and Procedure.tick_of(self.actions[self.index].t_s) <= p.tick:
            p.apply(self.actions[self.index])
            self.index += 1
        if not p.finished:
            p.step()

    def copy(self) -> Player:
        return Player(self.level, self.replay, snapshot(self.procedure), self.index)


@dataclass
class Recording:
    """A replay simulated once: its keyframes, its result and its dose timeline."""

    path: Path
    level: Level
    replay: Replay
    keyframes: list[Player]  # by increasing tick, the first at tick 0
    result: dict
    timeline: DoseTimeline
    end_tick: int

    def player_at(self, tick: int) -> Player:
        """A fresh player at ``tick`` (from the nearest keyframe at or before it)."""
        base = self.keyframes[0]
        for frame in self.keyframes:
            if frame.procedure.tick <= tick:
                base = frame
        player = base.copy()
        while player.procedure.tick < tick and not player.done:
            player.step()
        return player


def record_replay(path: Path | str, progress: Progress) -> Recording:
    """Read ``path`` strictly, find its level, simulate it once keeping keyframes (raises RunError/ReplayError)."""
    from game.sim.runs import load_replay_level

    progress(0.02, "reading the replay")
    replay, level = load_replay_level(path)
    progress(0.08, "preparing the room")
    player = Player(level, replay)
    actions = replay.actions
    expected_s = max([a.t_s for a in actions] + [1.0])
    interval = max(KEYFRAME_MIN_S, expected_s / MAX_KEYFRAMES)
    interval_ticks = Procedure.tick_of(interval)
    keyframes = [player.copy()]
    while not player.done:
        player.step()
        if player.procedure.tick % interval_ticks == 0 and not player.done:
            keyframes.append(player.copy())
            progress(0.1 + 0.88 * min(1.0, player.procedure.t_s / expected_s), "re-simulating the run")
    p = player.procedure
    progress(0.99, "scoring")
    return Recording(Path(path), level, replay, keyframes, p.result(), DoseTimeline.from_run(p, actions), p.tick)
