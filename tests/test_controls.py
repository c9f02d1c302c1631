"""Input mapping: keys, mouse and gamepad events become actions; remapping is saved and loaded."""

import pygame
import pytest

from game.app.controls import ADVANCE_MM_PER_S, INJECT_ML_PER_S, Bindings, InputMapper


@pytest.fixture(autouse=True)
def pygame_ready():
    pygame.init()
    yield


def key(kind, name):
    return pygame.event.Event(kind, key=pygame.key.key_code(name))


def test_held_keys_become_action_changes_only_when_they_change():
    mapper = InputMapper(Bindings())
    assert dict(mapper.changes(1 / 60))["advance"] == 0.0
    mapper.handle(key(pygame.KEYDOWN, "up"))
    mapper.handle(key(pygame.KEYDOWN, "space"))
    changes = dict(mapper.changes(1 / 60))
    assert changes == {"advance": ADVANCE_MM_PER_S, "fluoro": True}
    assert mapper.changes(1 / 60) == []  # nothing new while held
    mapper.handle(key(pygame.KEYUP, "space"))
    assert mapper.changes(1 / 60) == [("fluoro", False)]


def test_one_shot_commands():
    mapper = InputMapper(Bindings())
    mapper.handle(key(pygame.KEYDOWN, "tab"))
    mapper.handle(key(pygame.KEYUP, "tab"))
    mapper.handle(key(pygame.KEYDOWN, "p"))
    assert mapper.take_pressed() == ["next_instrument", "pulse_rate"]
    assert mapper.take_pressed() == []


def test_mouse_wheel_advances_and_drag_rotates():
    mapper = InputMapper(Bindings())
    mapper.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=3))
    mapper.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(0, 0)))
    mapper.handle(pygame.event.Event(pygame.MOUSEMOTION, rel=(20, 0), pos=(20, 0), buttons=(1, 0, 0)))
    values = mapper.continuous(0.1)
    assert values["advance"] == pytest.approx(3 * 2.0 / 0.1)
    assert values["rotate"] == pytest.approx(20 * 0.5 / 0.1)
    assert mapper.continuous(0.1)["advance"] == 0.0  # the notch is spent


def test_gamepad_trigger_stick_and_buttons():
    mapper = InputMapper(Bindings())
    mapper.handle(pygame.event.Event(pygame.JOYAXISMOTION, axis=5, value=1.0, joy=0, instance_id=0))
    mapper.handle(pygame.event.Event(pygame.JOYAXISMOTION, axis=0, value=-0.5, joy=0, instance_id=0))
    mapper.handle(pygame.event.Event(pygame.JOYBUTTONDOWN, button=2, joy=0, instance_id=0))
    values = mapper.continuous(1 / 60)
    assert values["advance"] > 0 and values["rotate"] < 0
    assert values["inject"] == INJECT_ML_PER_S


def test_remap_a_foot_switch_and_save_and_load(tmp_path):
    bindings = Bindings()
    bindings.rebind("fluoro", "f5")  # a USB foot switch that sends F5
    path = tmp_path / "keys.json"
    bindings.save(path)
    loaded, warning = Bindings.load(path)
    assert warning is None
    assert loaded.keys["fluoro"] == ["f5"]
    mapper = InputMapper(loaded)
    mapper.handle(key(pygame.KEYDOWN, "f5"))
    assert mapper.continuous(1 / 60)["fluoro"] is True
    mapper.handle(key(pygame.KEYDOWN, "space"))  # no longer the pedal
    mapper.handle(key(pygame.KEYUP, "f5"))
    assert mapper.continuous(1 / 60)["fluoro"] is False


def test_corrupt_bindings_file_falls_back_to_defaults_with_a_warning(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    bindings, warning = Bindings.load(path)
    assert bindings.keys["fluoro"] == ["space", "f"]
    assert str(path) in warning


def test_gamepad_buttons_follow_the_bindings_and_remapping_is_saved(tmp_path):
    bindings = Bindings()
    bindings.rebind_button("fluoro", 5)  # the right shoulder becomes the pedal
    assert bindings.buttons["lao"] == []  # taken from the command that had it
    path = tmp_path / "keys.json"
    bindings.save(path)
    loaded, warning = Bindings.load(path)
    assert warning is None and loaded.buttons["fluoro"] == [5]
    mapper = InputMapper(loaded)
    mapper.handle(pygame.event.Event(pygame.JOYBUTTONDOWN, button=5, joy=0, instance_id=0))
    assert mapper.continuous(1 / 60)["fluoro"] is True
    mapper.handle(pygame.event.Event(pygame.JOYBUTTONUP, button=5, joy=0, instance_id=0))
    mapper.handle(pygame.event.Event(pygame.JOYBUTTONDOWN, button=0, joy=0, instance_id=0))
    assert mapper.continuous(1 / 60)["fluoro"] is False


def test_gamepad_triggers_pull_and_the_dpad_swings_the_carm():
    mapper = InputMapper(Bindings())
    mapper.handle(pygame.event.Event(pygame.JOYAXISMOTION, axis=4, value=1.0, joy=0, instance_id=0))
    assert mapper.continuous(1 / 60)["advance"] < 0
    mapper.handle(pygame.event.Event(pygame.JOYAXISMOTION, axis=4, value=-1.0, joy=0, instance_id=0))
    assert mapper.continuous(1 / 60)["advance"] == 0.0  # a released trigger rests at -1
    mapper.handle(pygame.event.Event(pygame.JOYHATMOTION, value=(1, 0), hat=0, joy=0, instance_id=0))
    mapper.handle(pygame.event.Event(pygame.JOYHATMOTION, value=(0, 0), hat=0, joy=0, instance_id=0))
    mapper.handle(pygame.event.Event(pygame.JOYHATMOTION, value=(0, -1), hat=0, joy=0, instance_id=0))
    assert mapper.take_pressed() == ["lao", "caudal"]


def test_release_all_lets_go_of_pedals_and_resend_repeats_a_held_push():
    mapper = InputMapper(Bindings())
    mapper.handle(key(pygame.KEYDOWN, "up"))
    mapper.handle(key(pygame.KEYDOWN, "space"))
    mapper.changes(1 / 60)
    mapper.resend("advance")
    assert mapper.changes(1 / 60) == [("advance", ADVANCE_MM_PER_S)]
    mapper.release_all()
    assert dict(mapper.changes(1 / 60)) == {"advance": 0.0, "fluoro": False}


def test_bindings_with_bad_button_lists_keep_the_default_buttons(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"version": 1, "keys": {"fluoro": ["f9"]}, "buttons": {"fluoro": ["A"], "cine": [true]}}')
    loaded, warning = Bindings.load(path)
    assert warning is None
    assert loaded.keys["fluoro"] == ["f9"]
    assert loaded.buttons["fluoro"] == [0] and loaded.buttons["cine"] == [1]


def test_help_lists_the_gamepad_buttons_as_bound():
    from game.app.controls import gamepad_help

    bindings = Bindings()
    bindings.rebind_button("roadmap", 0)
    rows = gamepad_help(bindings.buttons)
    assert "A: roadmap" in rows and "A: fluoro pedal" not in rows


def test_mouse_and_gamepad_axes_are_remappable_in_the_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"version": 1, "keys": {}, "analog": {"wheel_mm_per_notch": -4, "rotate_axis": 2, "x": 1}}')
    loaded, warning = Bindings.load(path)
    assert warning is None
    mapper = InputMapper(loaded)
    mapper.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1))
    assert mapper.continuous(0.1)["advance"] == pytest.approx(-40.0)  # the wheel turned round
    mapper.handle(pygame.event.Event(pygame.JOYAXISMOTION, axis=0, value=1.0, joy=0, instance_id=0))
    assert mapper.continuous(0.1)["rotate"] == 0.0  # axis 0 no longer turns
    mapper.handle(pygame.event.Event(pygame.JOYAXISMOTION, axis=2, value=1.0, joy=0, instance_id=0))
    assert mapper.continuous(0.1)["rotate"] > 0
    loaded.save(path)
    assert Bindings.load(path)[0].analog == loaded.analog
