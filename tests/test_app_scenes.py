"""The front end, headless: every scene runs for a few hundred frames; a synthetic sequence of events, fed through
the real app loop, completes the first tutorial; the run is recorded, stored and replayable; bad input is a message.

Every test here points the data and configuration directories at its own temporary folder (never the user's).
"""

import json

import pygame
import pytest

from game.app.main import App, FixedClock
from game.app.scene import Scene, SceneStack
from game.sim.level import load_level
from game.sim.level.library import level_files

TRAINEE = "Test Trainee"


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LUMEN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("LUMEN_DB_URL", raising=False)
    return tmp_path


@pytest.fixture
def tutorial():
    return load_level(level_files()[0])


@pytest.fixture(scope="module")
def tutorial_replay(tmp_path_factory):
    """The autopilot's run of the tutorial, recorded (3 s of CPU)."""
    from game.sim.runs import autoplay_level

    path = tmp_path_factory.mktemp("replay") / "tutorial.jsonl"
    result = autoplay_level(load_level(level_files()[0]), "expert", replay_path=path)
    return path, result


def make_app(**kwargs) -> App:
    return App(clock=FixedClock(), **kwargs)


def key(kind, name):
    return pygame.event.Event(kind, key=pygame.key.key_code(name), mod=0, unicode="", scancode=0)


def press(name):
    return [key(pygame.KEYDOWN, name), key(pygame.KEYUP, name)]


# --- lifecycle ------------------------------------------------------------------------------------------------------
def test_scene_stack_lifecycle_hooks():
    calls = []

    class Probe(Scene):
        def __init__(self, name):
            self.name = name

        def on_enter(self):
            calls.append(f"{self.name}.enter")

        def on_exit(self):
            calls.append(f"{self.name}.exit")

        def on_pause(self):
            calls.append(f"{self.name}.pause")

        def on_resume(self):
            calls.append(f"{self.name}.resume")

    stack = SceneStack()
    a, b = Probe("a"), Probe("b")
    stack.push(a)
    stack.push(b)
    assert stack.below(b) is a and stack.below(a) is None
    stack.pop()
    stack.replace(Probe("c"))
    assert calls == ["a.enter", "a.pause", "b.enter", "b.exit", "a.resume", "a.exit", "c.enter"]


def test_fixed_steps_are_decoupled_from_frames_and_the_backlog_is_capped():
    class Counter(Scene):
        updates = 0
        alphas: list

        def on_enter(self):
            self.alphas = []

        def update(self, dt_s):
            Counter.updates += 1

        def draw(self, surface, alpha):
            self.alphas.append(alpha)

    app = App(clock=FixedClock(frame_ms=1000 / 120))  # a 120 Hz display: one step every other frame
    scene = Counter(app)
    app.run(scene, max_frames=240, close=False)
    assert Counter.updates == 119  # the first frame starts the clock
    assert sorted(set(round(a, 2) for a in scene.alphas)) == [0.0, 0.5]  # drawn between steps, interpolated
    Counter.updates = 0
    slow = App(clock=FixedClock(frame_ms=1000.0))  # a one-second hitch: at most 5 catch-up steps, not 60
    slow.run(Counter(slow), max_frames=3)
    assert Counter.updates == 10


# --- every scene headless -------------------------------------------------------------------------------------------
def test_every_scene_runs_headless_for_300_frames(tutorial, tutorial_replay):
    from game.app.playback import record_replay
    from game.app.scenes.briefing import BriefingScene
    from game.app.scenes.debrief import DebriefScene
    from game.app.scenes.level_select import LevelSelectScene
    from game.app.scenes.menu import MenuScene
    from game.app.scenes.pause import PauseScene
    from game.app.scenes.procedure import ProcedureScene
    from game.app.scenes.replay_list import ReplayListScene
    from game.app.scenes.replay_viewer import ReplayViewerScene
    from game.app.scenes.settings import SettingsScene
    from game.app.scenes.trainee import TraineeScene

    path, result = tutorial_replay
    recording = record_replay(path, lambda f, label: None)
    app = make_app(trainee=TRAINEE)
    room = ProcedureScene(app, tutorial)
    factories = {
        "menu": lambda: MenuScene(app),
        "trainee": lambda: TraineeScene(app),
        "level select": lambda: LevelSelectScene(app),
        "briefing": lambda: BriefingScene(app, tutorial),
        "procedure": lambda: room,
        "pause": lambda: PauseScene(app, room),
        "debrief": lambda: DebriefScene(app, tutorial, result, path, recording.timeline),
        "settings": lambda: SettingsScene(app),
        "replay list": lambda: ReplayListScene(app),
        "replay viewer": lambda: ReplayViewerScene(app, recording),
    }
    for name, make in factories.items():
        scene = make()
        app.scenes.push(scene)
        for frame in range(300):
            events = [pygame.event.Event(pygame.MOUSEMOTION, pos=(640, 400 + frame % 5), rel=(0, 1), buttons=(0, 0, 0))]
            app.frame(events, 1, 0.5)
        assert app.scenes.top is scene, f"{name} left the stack by itself"
        app.scenes.pop() if name != "procedure" else None
    app.close()


def test_menu_quits_on_escape():
    from game.app.scenes.menu import MenuScene

    app = make_app()
    events = [key(pygame.KEYDOWN, "down"), key(pygame.KEYDOWN, "escape")]
    assert app.run(MenuScene(app), max_frames=300, events=events) == 0
    assert app.frames < 300


# --- the whole game, through the real loop --------------------------------------------------------------------------
def test_synthetic_events_through_the_app_loop_complete_the_first_tutorial(private_dirs):
    """Menu -> Play -> type a name -> level select -> briefing -> the room: hold push, tap the pedal -> debrief.

    The events are posted into pygame's queue by a script that looks at the screen, as a player would, and the
    app's own loop (fixed clock: one step per frame) reads them.
    """
    from game.app.scenes.briefing import BriefingScene
    from game.app.scenes.debrief import DebriefScene
    from game.app.scenes.level_select import LevelSelectScene
    from game.app.scenes.menu import MenuScene
    from game.app.scenes.procedure import ProcedureScene
    from game.app.scenes.trainee import TraineeScene

    app = make_app()
    seen: list[str] = []
    room_frames = [0]

    def player(frame):
        top = app.scenes.top
        name = type(top).__name__
        if not seen or seen[-1] != name:
            seen.append(name)
            if isinstance(top, MenuScene | LevelSelectScene | BriefingScene):
                return press("return")
            if isinstance(top, TraineeScene):
                return [pygame.event.Event(pygame.TEXTINPUT, text=TRAINEE), *press("return")]
            if isinstance(top, ProcedureScene):
                return [key(pygame.KEYDOWN, "up")]
        if isinstance(top, ProcedureScene):
            room_frames[0] += 1
            if room_frames[0] % 120 == 1:
                return [key(pygame.KEYDOWN, "space")]
            if room_frames[0] % 120 == 16:
                return [key(pygame.KEYUP, "space")]
        if isinstance(top, DebriefScene):
            app.quit()
        return []

    def slow_enough(frame):
        pygame.time.wait(1) if not isinstance(app.scenes.top, ProcedureScene) else None  # loading runs in a thread
        return player(frame)

    app.run(MenuScene(app), max_frames=20000, script=slow_enough, close=False)
    debrief = app.scenes.top
    assert isinstance(debrief, DebriefScene), f"the run did not finish: scenes {seen}"
    assert seen[:6] == ["MenuScene", "TraineeScene", "LevelSelectScene", "LoadingScene", "BriefingScene",
                        "LoadingScene"]  # fmt: skip
    assert debrief.result["success"], debrief.result["outcome"]
    debrief.saving.wait(30)
    assert "saved" in debrief.saving.result
    replay_path = debrief.replay_path
    app.close()

    # The name is remembered, the run is kept for the level select, and its replay reproduces it exactly.
    settings = json.loads((private_dirs / "config" / "settings.json").read_text())
    assert settings["trainee"] == TRAINEE
    from game.records.store import RecordStore

    with RecordStore() as store:
        bests = {b.level_id: b for b in store.best_per_level(TRAINEE)}
    assert bests["pedal-and-hold"].stars == debrief.result["stars"]
    from game.sim.runs import load_replay_level, replay_run

    replay, level = load_replay_level(replay_path)
    assert replay.header.extra["player"] == TRAINEE
    assert replay_run(level, replay)["result_hash"] == debrief.result["result_hash"]


def test_level_select_shows_the_trainees_best_stars_and_score(tutorial_replay):
    from game.app.scenes.level_select import LevelSelectScene
    from game.records.store import RecordStore

    path, result = tutorial_replay
    with RecordStore() as store:
        store.add_run(result, path.read_text(), TRAINEE, None)
    app = make_app(trainee=TRAINEE)
    scene = LevelSelectScene(app)
    app.scenes.push(scene)
    scene.records.wait(30)
    app.frame([], 1, 0.0)
    assert scene.bests["pedal-and-hold"].score == result["score"]
    assert scene.bests["pedal-and-hold"].stars == result["stars"]
    app.close()


def test_leaderboard_link_is_guarded():
    from game.app.scenes import level_select

    board = level_select._level_board_scene()
    try:
        import game.app.scenes.leaderboard  # noqa: F401
    except ImportError:
        assert board is None
    else:
        assert board is not None


# --- pause, quit, restart ---------------------------------------------------------------------------------------------
def test_pause_menu_quit_still_records_and_stores_the_run(tutorial, private_dirs):
    from game.app.scenes.level_select import LevelSelectScene
    from game.app.scenes.menu import MenuScene
    from game.app.scenes.pause import QUIT, PauseScene
    from game.app.scenes.procedure import ProcedureScene

    app = make_app(trainee=TRAINEE)
    app.scenes.push(MenuScene(app))
    room = ProcedureScene(app, tutorial)
    app.scenes.push(room)
    app.frame([key(pygame.KEYDOWN, "up"), key(pygame.KEYDOWN, "space")], 30, 0.0)
    app.frame([key(pygame.KEYDOWN, "escape")], 1, 0.0)
    pause = app.scenes.top
    assert isinstance(pause, PauseScene)
    assert not room.procedure.fluoro  # a menu releases the pedal
    t = room.procedure.t_s
    app.frame([], 30, 0.0)
    assert room.procedure.t_s == t  # time stands still under the pause menu
    pause.choose(QUIT)
    assert isinstance(app.scenes.top, LevelSelectScene)
    assert isinstance(app.scenes.below(app.scenes.top), MenuScene)
    app.close()
    lines = room.replay_path.read_text().splitlines()
    assert json.loads(lines[-1])["action"] == "end"
    from game.records.store import RecordStore

    with RecordStore() as store:
        assert store.history(TRAINEE)[0].level_id == "pedal-and-hold"


def test_losing_window_focus_releases_the_pedal(tutorial):
    from game.app.scenes.procedure import ProcedureScene

    app = make_app()
    room = ProcedureScene(app, tutorial, record=False)
    app.scenes.push(room)
    app.frame([key(pygame.KEYDOWN, "space")], 2, 0.0)
    assert room.procedure.fluoro
    app.frame([pygame.event.Event(pygame.WINDOWFOCUSLOST)], 2, 0.0)
    assert not room.procedure.fluoro
    app.close()


# --- replay viewer ------------------------------------------------------------------------------------------------
def test_replay_viewer_plays_pauses_changes_speed_and_scrubs_to_the_same_state(tutorial_replay):
    from game.app.playback import record_replay
    from game.app.scenes.replay_viewer import ReplayViewerScene

    path, result = tutorial_replay
    recording = record_replay(path, lambda f, label: None)
    assert recording.result["result_hash"] == result["result_hash"]
    assert len(recording.keyframes) > 2
    app = make_app()
    viewer = ReplayViewerScene(app, recording)
    app.scenes.push(viewer)
    app.frame([], 60, 0.0)
    assert viewer.procedure.tick == 60
    app.frame(press("space"), 30, 0.0)  # pause
    assert viewer.procedure.tick == 60
    app.frame(press("space") + press("up"), 1, 0.0)  # play at twice the speed
    assert viewer.speed == 2.0 and viewer.procedure.tick == 62
    straight = recording.player_at(0)
    while straight.procedure.tick < 500:
        straight.step()
    viewer.seek(500 / 60)
    app.frame([], 1, 0.0)
    assert viewer.procedure.state_hash() == straight.procedure.state_hash()
    app.frame(press("home"), 1, 0.0)
    assert viewer.procedure.tick == 0
    app.frame(press("end"), 1, 0.0)
    assert viewer.procedure.state_hash() == result["result_hash"]
    viewer.draw(app.screen, 0.0)
    app.close()


def test_a_corrupt_replay_in_the_viewer_is_one_message_naming_the_file(tmp_path):
    from game.app.scenes.loading import LoadingScene
    from game.app.scenes.replay_viewer import ReplayLoadScene

    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"format": "lumen-replay", "version": 1\n')
    app = make_app()
    scene = ReplayLoadScene(app, bad)
    app.scenes.push(scene)
    scene.job.wait(10)
    app.frame([], 1, 0.0)
    assert isinstance(app.scenes.top, LoadingScene)
    assert str(bad) in scene.problem
    app.close()


def test_a_broken_level_is_one_message_naming_the_file(tmp_path):
    from game.app.scenes.loading import start_level
    from game.app.scenes.menu import MenuScene

    bad = tmp_path / "broken.toml"
    bad.write_text("format = 1\nid = 'x'\n")
    app = make_app()
    app.scenes.push(MenuScene(app))
    start_level(app, bad)
    scene = app.scenes.top
    scene.job.wait(10)
    app.frame([], 1, 0.0)
    assert str(bad) in scene.problem
    app.frame(press("escape"), 1, 0.0)
    assert isinstance(app.scenes.top, MenuScene)
    app.close()


# --- settings -------------------------------------------------------------------------------------------------------
def test_trainee_name_is_remembered_and_checked(private_dirs):
    from game.app.scenes.trainee import TraineeScene

    app = make_app()
    scene = TraineeScene(app)
    app.scenes.push(TraineeScene(app))
    app.scenes.push(scene)
    app.frame([pygame.event.Event(pygame.TEXTINPUT, text="<script>"), *press("return")], 1, 0.0)
    assert app.scenes.top is scene and "trainee name" in scene.problem  # refused, with the reason
    for _ in range(8):
        scene.fields[0].handle(key(pygame.KEYDOWN, "backspace"))
    app.frame([pygame.event.Event(pygame.TEXTINPUT, text="Dr Rossi"), *press("return")], 1, 0.0)
    assert app.scenes.top is not scene and app.trainee == "Dr Rossi"
    app.close()
    assert make_app().trainee == "Dr Rossi"


def test_settings_remap_a_key_and_set_the_volume(private_dirs, tutorial):
    from game.app.scenes.procedure import ProcedureScene
    from game.app.scenes.settings import FIXED_ROWS, MUTE, SettingsScene

    app = make_app()
    scene = SettingsScene(app)
    app.scenes.push(scene)
    app.frame(press("right") + press("right"), 1, 0.0)  # volume 70% -> 90%
    scene.activate(MUTE)
    scene.activate(FIXED_ROWS + scene.commands.index("fluoro"))
    app.frame([key(pygame.KEYDOWN, "f5")], 1, 0.0)  # the foot switch sends F5
    assert scene.capturing is None and "F5" in scene.note
    app.close()
    saved = json.loads((private_dirs / "config" / "settings.json").read_text())
    assert saved["volume"] == pytest.approx(0.9) and saved["muted"] is True
    app = make_app()
    assert app.sounds.muted and app.sounds.volume == pytest.approx(0.9)
    room = ProcedureScene(app, tutorial, record=False)
    app.scenes.push(room)
    app.frame([key(pygame.KEYDOWN, "f5")], 2, 0.0)
    assert room.procedure.fluoro  # the new pedal works in the room
    app.close()


def test_unreadable_settings_fall_back_with_a_warning(private_dirs):
    (private_dirs / "config").mkdir(parents=True)
    (private_dirs / "config" / "settings.json").write_text("{oops")
    app = make_app()
    assert app.settings.volume == 0.7 and "settings.json" in app.warnings[0]
    app.close()


def test_debrief_goes_on_even_when_the_game_was_opened_straight_at_a_level(tutorial, tutorial_replay):
    """``lumen play LEVEL`` has no menu below the debrief: "Main menu" and "Level select" still lead there."""
    from game.app.scenes.debrief import DebriefScene
    from game.app.scenes.level_select import LevelSelectScene
    from game.app.scenes.menu import MenuScene

    path, result = tutorial_replay
    app = make_app()
    app.scenes.push(DebriefScene(app, tutorial, result, path))
    app.scenes.top.choose(3)
    assert isinstance(app.scenes.top, MenuScene) and len(app.scenes) == 1
    app.scenes.replace(DebriefScene(app, tutorial, result, path))
    app.go_home(to_levels=True)
    assert isinstance(app.scenes.top, LevelSelectScene) and len(app.scenes) == 2
    app.close()


def test_the_room_plays_the_buzz_while_the_beam_is_on_and_the_five_minute_alarm(tutorial):
    from game.app.scenes.procedure import ProcedureScene

    class Sounds:
        def __init__(self):
            self.looping, self.played = set(), []

        def loop(self, name, on):
            (self.looping.add if on else self.looping.discard)(name)

        def play(self, name):
            self.played.append(name)

    app = make_app()
    app.sounds = Sounds()
    room = ProcedureScene(app, tutorial, record=False)
    app.scenes.push(room)
    app.frame([key(pygame.KEYDOWN, "space")], 2, 0.0)
    assert app.sounds.looping == {"buzz"}
    app.frame([key(pygame.KEYUP, "space")], 2, 0.0)
    assert app.sounds.looping == set()
    room.procedure.ledger.fluoro_time_s = 299.99  # just before the 5-minute alarm
    app.frame([key(pygame.KEYDOWN, "space")], 2, 0.0)
    assert app.sounds.played == ["alarm"]
    app.close()


def test_a_class_code_is_checked_before_it_is_remembered():
    from game.app.scenes.trainee import TraineeScene
    from game.records.store import RecordStore

    with RecordStore() as store:
        code = store.create_class("Week 1", ["pedal-and-hold"])
    app = make_app()
    app.scenes.push(TraineeScene(app))
    scene = TraineeScene(app)
    app.scenes.push(scene)
    scene.fields[0].text, scene.fields[1].text = TRAINEE, "ABCDEF" if code != "ABCDEF" else "ABCDEG"
    scene.confirm()
    scene.checking.wait(30)
    app.frame([], 1, 0.0)
    assert app.scenes.top is scene and scene.problem  # an unknown class: said so, nothing remembered
    assert app.class_code is None
    scene.fields[1].text = code.lower()
    scene.confirm()
    scene.checking.wait(30)
    app.frame([], 1, 0.0)
    assert app.scenes.top is not scene and app.class_code == code and app.trainee == TRAINEE
    app.close()
