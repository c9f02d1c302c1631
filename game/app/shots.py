"""``lumen shots DIR``: a screenshot of every scene, headless, at each asked-for window size.

The scenes are shown as a trainee sees them, with real data: the autopilot plays the tutorial and the renal
angiogram first (its results fill the level select and the debrief, its replay the replay viewer), and the
procedure room is the renal case at the moment the catheter sits in the renal artery with the pedal down and
contrast flowing, after a short cine run has filled the reference monitor. Every input goes through the real
input mapping as key events. Nothing is written to the user's own data or settings: a temporary directory stands
in for both.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

SHOT_TRAINEE = "A. Trainee"
SHOT_LEVEL = "renal-cobra"
TUTORIAL_LEVEL = "pedal-and-hold"
#: The room's shot is taken this long before the autopilot's selective injection: the catheter is in the aorta at
#: the renal arteries, where a hand injection visibly fills the aorta and both renal arteries.
AORTOGRAM_BEFORE_S = 20.0


class ShotError(Exception):
    """Screenshots that cannot be made: the message names the file or level."""


@contextlib.contextmanager
def _private_dirs() -> Iterator[Path]:
    """Point the data and configuration directories (and the database) at a temporary directory."""
    names = ("LUMEN_DATA_DIR", "LUMEN_CONFIG_DIR", "LUMEN_DB_URL", "SDL_VIDEODRIVER", "SDL_AUDIODRIVER")
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="lumen-shots-") as tmp:
        os.environ["LUMEN_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["LUMEN_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ.pop("LUMEN_DB_URL", None)
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ["SDL_AUDIODRIVER"] = "dummy"
        try:
            yield Path(tmp)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def render_shots(
    out_dir: str | Path,
    sizes: list[tuple[int, int]],
    progress: Callable[[str], None] = lambda message: None,
    level_id: str = SHOT_LEVEL,
) -> list[Path]:
    """Write one PNG per scene and size into ``out_dir``; return the files written. ``level_id`` is the level of
    the room, debrief and replay shots (the tests use the short tutorial)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ShotError(f"{out}: cannot create the directory ({exc.strerror or exc})") from None
    with _private_dirs() as tmp:
        data = _prepare(tmp, progress, level_id)
        written = []
        for size in sizes:
            progress(f"rendering the scenes at {size[0]}x{size[1]}")
            written += _render_size(out, size, data)
    return written


def _prepare(tmp: Path, progress: Callable[[str], None], shot_level: str) -> dict:
    """The autopilot's runs (stored under the shot trainee) and the renal replay re-simulated for the viewer."""
    from game.app.jobs import Job
    from game.app.playback import record_replay
    from game.records.store import RecordStore
    from game.sim.level import LevelError, load_level
    from game.sim.level.library import resolve_level
    from game.sim.runs import autoplay_level

    levels = {}
    try:
        for level_id in dict.fromkeys((TUTORIAL_LEVEL, shot_level)):
            levels[level_id] = load_level(resolve_level(level_id))
    except LevelError as exc:
        raise ShotError(str(exc.problems[0])) from None
    replays = {}
    with RecordStore() as store:
        for level_id, level in levels.items():
            progress(f"the autopilot plays {level_id}")
            path = tmp / f"{level_id}.jsonl"
            result = autoplay_level(level, "expert", replay_path=path)
            store.add_run(result, path.read_text(encoding="utf-8"), SHOT_TRAINEE, None)
            replays[level_id] = path
    progress(f"re-simulating the {shot_level} replay for the debrief and the viewer")
    job = Job(lambda p: record_replay(replays[shot_level], p))
    job.wait()
    if job.error is not None:
        raise ShotError(str(job.error))
    return {"level": levels[shot_level], "recording": job.result, "replay_path": replays[shot_level]}


def _render_size(out: Path, size: tuple[int, int], data: dict) -> list[Path]:
    import pygame

    from game.app.main import App, FixedClock
    from game.app.playback import Player
    from game.app.scenes.briefing import BriefingScene
    from game.app.scenes.debrief import DebriefScene
    from game.app.scenes.level_select import LevelSelectScene
    from game.app.scenes.loading import LoadingScene
    from game.app.scenes.menu import MenuScene
    from game.app.scenes.pause import PauseScene
    from game.app.scenes.procedure import ProcedureScene
    from game.app.scenes.replay_viewer import ReplayViewerScene
    from game.app.scenes.settings import SettingsScene
    from game.app.scenes.trainee import TraineeScene
    from game.sim.procedure import DT_S, Procedure

    app = App(size, clock=FixedClock(), trainee=SHOT_TRAINEE)
    level, recording = data["level"], data["recording"]
    written: list[Path] = []

    def key(kind: int, name: str) -> pygame.event.Event:
        return pygame.event.Event(kind, key=pygame.key.key_code(name), mod=0, unicode="", scancode=0)

    def run(frames: int, events=()) -> None:
        app.frame(list(events), 1, 0.0)
        for _ in range(frames - 1):
            app.frame([], 1, 0.0)

    def shot(number: int, name: str) -> None:
        app.scenes.top.draw(app.screen, 0.0)
        path = out / f"{number:02d}_{name}_{size[0]}x{size[1]}.png"
        try:
            pygame.image.save(app.screen, str(path))
        except (pygame.error, OSError) as exc:
            raise ShotError(f"{path}: cannot write ({exc})") from None
        written.append(path)

    try:
        app.scenes.push(MenuScene(app))
        run(30)
        shot(1, "menu")
        trainee = TraineeScene(app)
        app.scenes.push(trainee)
        run(20)
        shot(2, "trainee_name")
        app.scenes.pop()
        select = LevelSelectScene(app)
        app.scenes.push(select)
        select.records.wait(30.0)
        run(5, [key(pygame.KEYDOWN, "down")])
        shot(3, "level_select")
        app.scenes.push(BriefingScene(app, level))
        run(5)
        shot(4, "briefing")
        app.scenes.pop()
        reached, release = threading.Event(), threading.Event()

        def held_loading(progress) -> None:
            progress(0.45, "precomputing the X-ray background")
            reached.set()
            release.wait(10.0)

        loading = LoadingScene(app, "Preparing the room", held_loading, lambda _: MenuScene(app),
                               subtitle=level.definition.title)  # fmt: skip
        app.scenes.push(loading)
        reached.wait(10.0)
        shot(5, "loading")
        release.set()
        loading.job.wait()
        app.scenes.pop()
        # The room: the autopilot has brought the catheter up the aorta to the renal arteries; from here the hands
        # are the shot's: a short cine run while injecting, then live fluoroscopy with the contrast still flowing.
        injections = [a.t_s for a in recording.replay.actions if a.name == "inject" and a.value]
        end_s = recording.end_tick * DT_S
        inject_at = injections[0] if injections else end_s
        room_at = max(0.0, inject_at - AORTOGRAM_BEFORE_S) if injections else end_s / 2
        player = Player(level, recording.replay)
        while player.procedure.tick < Procedure.tick_of(room_at) and not player.done:
            player.step()
        room = ProcedureScene(app, level, procedure=player.procedure, record=False)
        app.scenes.push(room)
        run(1, [key(pygame.KEYUP, "space")])
        run(30, [key(pygame.KEYDOWN, "c"), key(pygame.KEYDOWN, "x")])
        run(30, [key(pygame.KEYUP, "c")])  # the reference monitor now holds the run
        run(45, [key(pygame.KEYDOWN, "space")])  # live fluoroscopy, contrast still flowing
        shot(6, "procedure")
        room.help = True
        shot(7, "help")
        room.help = False
        run(1, [key(pygame.KEYUP, "space"), key(pygame.KEYUP, "x")])
        app.scenes.push(PauseScene(app, room))
        shot(8, "pause")
        app.scenes.pop()
        app.scenes.pop()
        debrief = DebriefScene(app, level, recording.result, data["replay_path"], recording.timeline)
        app.scenes.push(debrief)
        run(3)
        shot(9, "debrief")
        app.scenes.pop()
        app.scenes.push(SettingsScene(app))
        run(3)
        shot(10, "settings")
        app.scenes.pop()
        viewer = ReplayViewerScene(app, recording)
        app.scenes.push(viewer)
        viewer.seek(min(inject_at + 0.6, end_s))
        run(2)
        viewer.playing = False
        run(2)
        shot(11, "replay_viewer")
        app.scenes.pop()
        _extra_shots(app, level, shot, run)
    finally:
        app.close()
    return written


def _extra_shots(app, level, shot, run) -> None:
    """The leaderboard, when that scene is part of this build (it is written separately)."""
    try:
        from game.app.scenes.leaderboard import LevelBoardScene
    except ImportError:
        return
    try:
        board = LevelBoardScene(app, level.id)
        app.scenes.push(board)
        run(60)
        shot(12, "leaderboard")
        app.scenes.pop()
    except Exception as exc:  # another engineer's scene: a failure there must not cost the other shots
        print(f"lumen shots: leaderboard not rendered: {type(exc).__name__}: {exc}", file=sys.stderr)
