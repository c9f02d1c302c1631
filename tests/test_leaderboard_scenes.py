"""The leaderboard scenes run headless against a temporary store: the level board with a trainee's runs, and the
projector class board, which picks up new results while open, says when the server is offline, and survives a
failing store. Every scene is rendered to PNG (set LUMEN_TEST_SHOTS_DIR to keep the images)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pygame
import pytest

from game.app import theme
from game.app.main import App
from game.app.scenes import leaderboard
from game.app.scenes.leaderboard import (
    ClassBoardScene,
    LevelBoardScene,
    draw_level_best,
    footer_line,
    level_bests,
    status_line,
)
from game.records import RecordStore, ServerUnreachableError, StatusKind, StoreStatus, SubmitOutcome
from tests import records_support as support
from tests.records_support import result

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FRAME_S = 1 / 60
LEVELS = ["pedal-and-hold", "renal-cobra"]
UNTIL_FRAMES = 10**6  # waiting for the board to show something is bounded by drive()'s wall-clock timeout


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LUMEN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("LUMEN_DB_URL", raising=False)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LUMEN_TEST_SHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def opened():
    """Scenes a test opened: their feeds are closed (and their workers waited for) before the tmp dir goes."""
    scenes: list = []
    yield scenes
    for scene in scenes:
        scene.feed.close(wait_s=10)
    pygame.quit()


@pytest.fixture
def database(request, monkeypatch):
    """The default local SQLite store; parametrized with "postgresql", a schema on the test server instead."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield "sqlite"
        return
    with support.fresh_pg_schema() as url:
        monkeypatch.setenv("LUMEN_DB_URL", url)
        yield "postgresql"


@pytest.fixture
def code(database):
    """A class of two levels in the store, with runs by three trainees."""
    with RecordStore() as store:
        klass = store.create_class("Radiology residents, March", LEVELS)
        add = store.add_run
        add(result("pedal-and-hold", 640, stars=3), support.replay("pedal-and-hold"), "Anna", klass, finished_at=T0)
        add(result("renal-cobra", 500, stars=1), None, "Anna", klass, finished_at=T0 + timedelta(minutes=5))
        add(result("renal-cobra", 810, stars=3), None, "Anna", klass, finished_at=T0 + timedelta(minutes=9))
        add(result("renal-cobra", 905, stars=3, fluoro_time_s=22.0), None, "Bob", klass, finished_at=T0)
        failed = result("pedal-and-hold", 90, stars=0, success=False, outcome="abandoned")
        add(failed, None, "Cleo", klass, finished_at=T0)
    return klass


def open_scene(app, scene, opened):
    opened.append(scene)
    app.scenes.push(scene)
    return scene


def drive(app, frames: int, until=None, timeout_s: float = 30.0, events=None) -> int:
    """The app's loop without its clock: events, one fixed step, one draw, a flip per frame, as fast as it goes.

    Stops early when the stack is empty or ``until()`` holds; returns the frames run.
    """
    deadline = time.monotonic() + timeout_s
    for frame in range(frames):
        if app.scenes.top is None or (until is not None and until()):
            return frame
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {frame} frames ({timeout_s} s)")
        for event in (events or {}).get(frame, ()):
            pygame.event.post(event)
        for event in pygame.event.get():
            if app.scenes.top is not None:
                app.scenes.top.handle_event(event)
        if app.scenes.top is not None:
            app.scenes.top.update(FRAME_S)
            app.scenes.top.draw(app.screen, 0.0)
        pygame.display.flip()
        time.sleep(0.0005)  # let the feed's worker run, as a real frame's wait does
    return frames


def settle(app, scene) -> None:
    """Let a query that is still running (a loaded machine) finish, and the scene take and draw its answer."""
    assert scene.feed.wait_idle(30)
    drive(app, 2)


def save(surface, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    pygame.image.save(surface, str(path))
    assert path.stat().st_size > 1000
    return path


def key(name: str) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=getattr(pygame, f"K_{name}"), mod=0, unicode="")


def distinct_colours(surface) -> int:
    small = pygame.transform.scale(surface, (160, 100))
    return len({small.get_at((x, y))[:3] for x in range(160) for y in range(100)})


# -- the level board ---------------------------------------------------------------------------------------------


def test_level_board_shows_the_leaderboard_and_the_trainee_s_runs(code, shots, opened):
    app = App()
    scene = open_scene(app, LevelBoardScene(app, "renal-cobra", "anna"), opened)
    assert drive(app, 300) == 300
    settle(app, scene)
    data = scene.snapshot.data
    assert data is not None and scene.snapshot.error is None
    assert data.level_title.startswith("Selective left renal angiogram")
    assert [(r.rank, r.trainee, r.best.score) for r in data.leaderboard] == [(1, "Bob", 905), (2, "Anna", 810)]
    assert [r.score for r in data.history] == [810, 500]  # Anna's runs of this level, newest first
    assert str(footer_line(scene.snapshot)[0]) == "Records on this computer"
    save(app.screen, shots, "level_board_1280x800")
    assert distinct_colours(app.screen) > 20
    drive(app, 10, events={0: [key("ESCAPE")]})
    assert app.scenes.top is None  # Esc went back


def test_level_board_without_a_trainee_uses_the_app_s_and_handles_an_empty_level(code, shots, opened):
    app = App(size=(1920, 1080))
    app.trainee = "Cleo"
    scene = open_scene(app, LevelBoardScene(app, "renal-stent"), opened)
    drive(app, 300)
    settle(app, scene)
    assert scene.trainee == "Cleo"
    assert scene.snapshot.data is not None and scene.snapshot.data.leaderboard == []
    save(app.screen, shots, "level_board_empty_1920x1080")


def test_level_board_runs_in_the_app_s_own_loop_and_esc_leaves_it(code):
    app = App()
    scene = LevelBoardScene(app, "renal-cobra")
    try:
        assert app.run(scene, max_frames=120, events=[key("r"), key("ESCAPE")]) == 0
    finally:
        scene.feed.close(wait_s=10)
    assert app.frames < 120  # Esc popped the only scene: the loop ended


# -- the class board ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_class_board_runs_for_hundreds_of_frames_and_is_drawn_big(code, shots, opened, size):
    app = App(size=size)
    scene = open_scene(app, ClassBoardScene(app, code.lower()), opened)
    assert drive(app, 400) == 400
    settle(app, scene)
    data = scene.snapshot.data
    assert data is not None and scene.snapshot.error is None
    assert (data.info.name, data.info.level_ids) == ("Radiology residents, March", tuple(LEVELS))
    assert [(r.rank, r.trainee, r.levels_completed, r.total_score, r.total_stars) for r in data.rows] == [
        (1, "Anna", 2, 1450, 6),
        (2, "Bob", 1, 905, 3),
        (3, "Cleo", 0, 90, 0),
    ]
    save(app.screen, shots, f"class_board_{size[0]}x{size[1]}")
    assert distinct_colours(app.screen) > 20
    # big type: the trainee rows' text is at least 5% of the screen height (readable from the back of a room)
    assert int(44 * leaderboard._scale(app.screen)) >= 0.05 * size[1]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_class_board_picks_up_a_run_added_while_it_is_open(database, code, shots, opened):
    app = App()
    scene = open_scene(app, ClassBoardScene(app, code, refresh_s=1.0), opened)
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.data is not None)
    assert "Dev" not in {row.trainee for row in scene.snapshot.data.rows}
    with RecordStore() as station:  # another station finishes a run
        station.add_run(result("renal-cobra", 990, stars=3), None, "Dev", code)

    def dev_is_on_the_board() -> bool:
        data = scene.snapshot.data
        return data is not None and any(row.trainee == "Dev" for row in data.rows)

    drive(app, UNTIL_FRAMES, until=dev_is_on_the_board)
    drive(app, 2)  # the update after the new answer
    assert [(r.rank, r.trainee, r.total_score) for r in scene.snapshot.data.rows[:2]] == [
        (1, "Anna", 1450),
        (2, "Dev", 990),
    ]
    assert set(scene.flash_s) == {"Dev"}  # highlighted as new; the others did not change
    expected = "Records server: connected" if database == "postgresql" else "Records on this computer"
    assert footer_line(scene.snapshot)[0] == expected
    save(app.screen, shots, f"class_board_new_result_{database}")


def test_class_board_does_not_ask_the_store_every_frame(code, opened, monkeypatch):
    calls = []
    real = RecordStore.class_board
    monkeypatch.setattr(RecordStore, "class_board", lambda self, c: calls.append(c) or real(self, c))
    app = App()
    scene = open_scene(app, ClassBoardScene(app, code), opened)
    assert drive(app, 600) == 600  # 10 s of scene time at 60 frames per second
    assert 1 <= len(calls) <= 10 / leaderboard.CLASS_REFRESH_S + 1
    # and it does keep asking: once the worker is free, the next interval brings the next query
    scene.feed.wait_idle(10)
    before = len(calls)
    drive(app, int(leaderboard.CLASS_REFRESH_S / FRAME_S) + 2)
    scene.feed.wait_idle(10)
    assert before + 1 <= len(calls) <= before + 2


def test_class_board_says_offline_and_how_many_results_wait_when_the_server_is_unreachable(shots, opened, monkeypatch):
    url = support.closed_port_url()
    monkeypatch.setenv("LUMEN_DB_URL", url)
    with RecordStore() as station:  # this computer already holds a run the server has not got
        assert station.add_run(result(), None, "Anna", None).outcome is SubmitOutcome.QUEUED
    app = App()
    scene = open_scene(app, ClassBoardScene(app, "K7QX2M"), opened)
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.status is not None)
    drive(app, 200)  # and it keeps running, retrying
    snapshot = scene.snapshot
    assert snapshot.status.kind is StatusKind.SERVER_UNREACHABLE and snapshot.data is None
    assert snapshot.error.startswith("Cannot reach the records server 127.0.0.1:")
    assert "s3cret" not in snapshot.error
    text, _ = footer_line(snapshot)
    assert text == "OFFLINE: records server unreachable, 1 result waiting to be sent"
    save(app.screen, shots, "class_board_offline")


def test_class_board_keeps_the_last_results_up_when_the_server_goes_away(code, shots, opened, monkeypatch):
    app = App()
    scene = open_scene(app, ClassBoardScene(app, code, refresh_s=0.5), opened)
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.data is not None)
    good = scene.snapshot

    def unreachable(self, c):
        self._reachable = False
        raise ServerUnreachableError("cannot reach the records server db.example:5432: timeout")

    monkeypatch.setattr(RecordStore, "class_board", unreachable)
    monkeypatch.setattr(
        RecordStore, "status", lambda self, refresh=False: StoreStatus(StatusKind.SERVER_UNREACHABLE, 2)
    )
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.error is not None)
    drive(app, 2)
    assert scene.snapshot.data == good.data  # the old board stays up
    text, _ = footer_line(scene.snapshot)
    assert text.startswith("OFFLINE: records server unreachable, 2 results waiting to be sent")
    assert "(showing results from " in text
    save(app.screen, shots, "class_board_stale")


def test_class_board_survives_a_failing_store_and_recovers(code, opened, monkeypatch):
    real = RecordStore.class_board

    def broken(self, c):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(RecordStore, "class_board", broken)
    app = App()
    scene = open_scene(app, ClassBoardScene(app, code, refresh_s=0.5), opened)
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.error is not None)
    assert scene.snapshot.error == "RuntimeError: disk on fire" and scene.snapshot.data is None
    drive(app, 100)  # drawn with the message, no crash
    monkeypatch.setattr(RecordStore, "class_board", real)
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.data is not None)
    assert scene.snapshot.error is None


@pytest.mark.parametrize(
    ("class_code", "db_url", "message"),
    [
        ("ZZZZZZ", None, "No class session has the code ZZZZZZ"),
        ("hello", None, "invalid class code 'HELLO'"),
        ("K7QX2M", "mysql://somewhere/db", "unsupported records database URL"),
    ],
)
def test_class_board_shows_what_is_wrong_with_the_code_or_the_database(
    shots, opened, monkeypatch, class_code, db_url, message
):
    if db_url:
        monkeypatch.setenv("LUMEN_DB_URL", db_url)
    app = App()
    scene = open_scene(app, ClassBoardScene(app, class_code, refresh_s=0.5), opened)
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.error is not None)
    drive(app, 60)
    assert scene.snapshot.error.startswith(message)
    save(app.screen, shots, f"class_board_error_{class_code}")


def test_a_long_class_turns_pages(opened):
    with RecordStore() as store:
        klass = store.create_class("Big class", ["renal-cobra"])
        for i in range(20):
            store.add_run(result(score=100 + i), None, f"Trainee {i:02d}", klass)
    app = App()
    scene = open_scene(app, ClassBoardScene(app, klass), opened)
    drive(app, UNTIL_FRAMES, until=lambda: scene.snapshot.data is not None)
    drive(app, 2)
    assert scene.pages >= 2 and scene.page == 0
    drive(app, int(leaderboard.PAGE_TURN_S / FRAME_S) + 5)
    assert scene.page == 1
    drive(app, 2, events={0: [key("LEFT")]})
    assert scene.page == 0


# -- helpers for the level select and the footer -----------------------------------------------------------------


def test_level_bests_and_their_summary_for_the_level_select(code, shots):
    with RecordStore() as store:
        bests = level_bests(store, "Anna")
        assert level_bests(store, None) == {}
    assert set(bests) == set(LEVELS)
    assert (bests["renal-cobra"].score, bests["renal-cobra"].attempts) == (810, 2)
    pygame.init()
    theme.font.cache_clear()  # fonts made before an earlier pygame.quit() are dead (App() does this too)
    try:
        surface = pygame.Surface((600, 120))
        surface.fill((0, 0, 0))
        drawn = draw_level_best(surface, bests["renal-cobra"], (590, 30), size=22)
        assert drawn.right == 590 and drawn.width > 100
        empty = draw_level_best(surface, None, (10, 90), size=22, anchor="midleft")
        assert empty.left == 10
        save(surface, shots, "level_best_summary")
    finally:
        pygame.quit()


def test_status_lines_say_plainly_where_the_results_are():
    assert status_line(StoreStatus(StatusKind.LOCAL))[0] == "Records on this computer"
    assert status_line(StoreStatus(StatusKind.SERVER_OK))[0] == "Records server: connected"
    assert (
        status_line(StoreStatus(StatusKind.SERVER_OK, 2))[0]
        == "Records server: connected, 2 results waiting to be sent"
    )
    assert status_line(StoreStatus(StatusKind.SERVER_UNREACHABLE, 3))[0] == (
        "OFFLINE: records server unreachable, 3 results waiting to be sent"
    )
    assert status_line(None)[0] == "Records: connecting..."


# -- lumen class board CODE --window -----------------------------------------------------------------------------


def test_class_board_window_command_opens_the_board(code, monkeypatch):
    from game import cli

    opened_codes = []
    monkeypatch.setattr(leaderboard, "open_class_board", lambda c: opened_codes.append(c) or 0)
    assert cli.main(["class", "board", code.lower(), "--window"]) == 0
    assert opened_codes == [code]


def test_class_board_window_command_refuses_an_unknown_code_without_a_window(capsys, monkeypatch):
    from game import cli

    monkeypatch.setattr(leaderboard, "open_class_board", lambda c: pytest.fail("a window was opened"))
    assert cli.main(["class", "board", "ZZZZZZ", "--window"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown class code ZZZZZZ" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as info:
        cli.main(["class", "board", "ZZZZZZ", "--window", "--json"])
    assert info.value.code == 2


def test_class_board_window_command_opens_offline_when_the_server_is_unreachable(capsys, monkeypatch):
    from game import cli

    monkeypatch.setenv("LUMEN_DB_URL", support.closed_port_url())
    opened_codes = []
    monkeypatch.setattr(leaderboard, "open_class_board", lambda c: opened_codes.append(c) or 0)
    assert cli.main(["class", "board", "k7qx2m", "--window"]) == 0
    assert opened_codes == ["K7QX2M"]
    assert "will keep trying" in capsys.readouterr().err


def test_open_class_board_runs_the_window_until_closed(code):
    assert leaderboard.open_class_board(code, max_frames=30) == 0
