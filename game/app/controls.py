"""Input mapping: keys, mouse, gamepad and USB foot switches turned into the procedure's actions.

Bindings are named commands (``advance``, ``fluoro``...) bound to key names; they are remappable and saved in the
user's configuration directory. Foot switches send key presses, so a pedal is just a key bound to ``fluoro`` or
``cine``. Held commands (push, pull, rotate, pedals, inject, deploy) act while held; the others fire once per press.
The mapper emits an action only when a value changes, so a replay records intent, not key repeat.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pygame

#: Speeds a held key produces at the hub (a firm, controlled push), and the injection rate of a hand injection.
ADVANCE_MM_PER_S = 25.0
FAST_FACTOR = 3.0  # with Shift held
ROTATE_DEG_PER_S = 90.0
INJECT_ML_PER_S = 3.0
CARM_STEP_DEG = 5.0
TABLE_STEP_MM = 10.0
COLLIMATION_STEP = 0.1
MOUSE_WHEEL_MM = 2.0  # advance per wheel notch
MOUSE_DRAG_DEG_PER_PX = 0.5
GAMEPAD_DEADZONE = 0.15

HELD = ("advance", "retract", "rotate_ccw", "rotate_cw", "fluoro", "cine", "inject", "deploy", "fast")
PRESSED = (
    "next_instrument", "pulse_rate", "fov_smaller", "fov_larger", "collimate_close", "collimate_open",
    "lao", "rao", "cranial", "caudal", "table_head", "table_foot", "table_left", "table_right",
    "roadmap", "end", "pause", "help",
)  # fmt: skip

DEFAULT_KEYS: dict[str, list[str]] = {
    "advance": ["up", "w"],
    "retract": ["down", "s"],
    "rotate_ccw": ["left", "a"],
    "rotate_cw": ["right", "d"],
    "fast": ["left shift", "right shift"],
    "fluoro": ["space", "f"],
    "cine": ["c"],
    "inject": ["x"],
    "deploy": ["b"],
    "next_instrument": ["tab"],
    "pulse_rate": ["p"],
    "fov_smaller": ["="],
    "fov_larger": ["-"],
    "collimate_close": ["["],
    "collimate_open": ["]"],
    "lao": ["l"],
    "rao": ["j"],
    "cranial": ["i"],
    "caudal": ["k"],
    "table_head": ["t"],
    "table_foot": ["g"],
    "table_left": ["h"],
    "table_right": ["y"],
    "roadmap": ["r"],
    "end": ["e"],
    "pause": ["escape"],
    "help": ["f1", "/"],
}

DESCRIPTIONS = {
    "advance": "push the selected instrument",
    "retract": "pull it back",
    "rotate_ccw": "turn it counter-clockwise at the hub",
    "rotate_cw": "turn it clockwise",
    "fast": "hold for faster moves",
    "fluoro": "fluoroscopy pedal (X-rays while held)",
    "cine": "cine pedal (record while held)",
    "inject": "inject contrast while held",
    "deploy": "inflate the balloon / deploy the stent",
    "next_instrument": "select the next instrument",
    "pulse_rate": "pulse rate 7.5 / 15 / 30 per s",
    "fov_smaller": "magnify (smaller field of view)",
    "fov_larger": "larger field of view",
    "collimate_close": "close the collimator",
    "collimate_open": "open the collimator",
    "lao": "C-arm toward LAO",
    "rao": "C-arm toward RAO",
    "cranial": "C-arm cranial",
    "caudal": "C-arm caudal",
    "table_head": "move the table: view toward the head",
    "table_foot": "view toward the feet",
    "table_left": "view toward the patient's right",
    "table_right": "view toward the patient's left",
    "roadmap": "store / clear a roadmap",
    "end": "declare the procedure finished",
    "pause": "pause menu",
    "help": "show the controls",
}

# Gamepad (SDL game-controller layout): triggers push/pull, left stick turns, buttons for the pedals and the
# injector, the d-pad swings the C-arm. Buttons are remappable like keys ("buttons" in keys.json).
DEFAULT_BUTTONS: dict[str, list[int]] = {
    "fluoro": [0],  # A
    "cine": [1],  # B
    "inject": [2],  # X
    "next_instrument": [3],  # Y
    "rao": [4],  # left shoulder
    "lao": [5],  # right shoulder
    "roadmap": [6],  # back
    "pause": [7],  # start
}
GAMEPAD_AXIS_ROTATE = 0
GAMEPAD_AXIS_PULL = 4  # left trigger
GAMEPAD_AXIS_PUSH = 5  # right trigger
#: The analogue controls, remappable in keys.json too: which gamepad axis does what, and the mouse's feel.
DEFAULT_ANALOG: dict[str, float] = {
    "push_axis": GAMEPAD_AXIS_PUSH,
    "pull_axis": GAMEPAD_AXIS_PULL,
    "rotate_axis": GAMEPAD_AXIS_ROTATE,
    "wheel_mm_per_notch": MOUSE_WHEEL_MM,  # negative: the wheel the other way round
    "drag_deg_per_px": MOUSE_DRAG_DEG_PER_PX,
}
#: The d-pad (hat 0): left/right swing the C-arm RAO/LAO, up/down cranial/caudal.
HAT_COMMANDS = {(-1, 0): "rao", (1, 0): "lao", (0, 1): "cranial", (0, -1): "caudal"}

MOUSE_HELP = ("wheel: push / pull", "drag with the left button: turn")
GAMEPAD_AXES_HELP = ("right / left trigger: push / pull", "left stick: turn", "d-pad: C-arm RAO/LAO, CRA/CAU")
#: Names of the SDL game-controller buttons, as printed on an Xbox-style pad.
BUTTON_NAMES = {0: "A", 1: "B", 2: "X", 3: "Y", 4: "LB", 5: "RB", 6: "Back", 7: "Start", 8: "Guide", 9: "LS", 10: "RS"}
SHORT = {
    "fluoro": "fluoro pedal", "cine": "cine", "inject": "inject", "next_instrument": "next instrument",
    "rao": "C-arm RAO", "lao": "C-arm LAO", "roadmap": "roadmap", "pause": "pause", "deploy": "deploy",
}  # fmt: skip


def gamepad_help(buttons: dict[str, list[int]]) -> list[str]:
    """The gamepad's controls as bound now: sticks and triggers, then each bound button."""
    rows = list(GAMEPAD_AXES_HELP)
    for command, numbers in buttons.items():
        for number in numbers:
            rows.append(f"{BUTTON_NAMES.get(number, f'button {number}')}: {SHORT.get(command, DESCRIPTIONS[command])}")
    return rows


@dataclass
class Bindings:
    """Command -> key names (pygame.key.name spelling) and gamepad button numbers."""

    keys: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_KEYS.items()})
    buttons: dict[str, list[int]] = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_BUTTONS.items()})
    analog: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ANALOG))

    def command_for(self, key_name: str) -> list[str]:
        return [command for command, names in self.keys.items() if key_name in names]

    def command_for_button(self, button: int) -> list[str]:
        return [command for command, numbers in self.buttons.items() if button in numbers]

    def rebind(self, command: str, key_name: str) -> None:
        """Bind ``key_name`` to ``command`` alone, taking it away from any other command."""
        if command not in DEFAULT_KEYS:
            raise KeyError(command)
        for names in self.keys.values():
            if key_name in names:
                names.remove(key_name)
        self.keys[command] = [key_name]

    def rebind_button(self, command: str, button: int) -> None:
        """Bind gamepad ``button`` to ``command`` alone."""
        if command not in DEFAULT_KEYS:
            raise KeyError(command)
        for numbers in self.buttons.values():
            if button in numbers:
                numbers.remove(button)
        self.buttons[command] = [button]

    def save(self, path: Path) -> None:
        """Write atomically, so a crash or a full disk never leaves a half-written file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        data = {"version": 1, "keys": self.keys, "buttons": self.buttons, "analog": self.analog}
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> tuple[Bindings, str | None]:
        """Bindings from ``path`` (defaults for anything missing), and a warning if the file was unusable."""
        bindings = cls()
        if not path.exists():
            return bindings, None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            keys = data["keys"]
            if not isinstance(keys, dict):
                raise ValueError("'keys' is not an object")
            buttons = data.get("buttons", {})
            analog = data.get("analog", {})
            if not isinstance(buttons, dict) or not isinstance(analog, dict):
                raise ValueError("'buttons' and 'analog' must be objects")
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            return bindings, f"{path}: unreadable key bindings ({exc}); using the defaults"
        for command, names in keys.items():
            if command in DEFAULT_KEYS and isinstance(names, list) and all(isinstance(n, str) for n in names):
                bindings.keys[command] = list(names)
        for command, numbers in buttons.items():
            ints = isinstance(numbers, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
            if command in DEFAULT_KEYS and ints:
                bindings.buttons[command] = list(numbers)
        for name, value in analog.items():
            number = isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1000
            if name in DEFAULT_ANALOG and number:
                bindings.analog[name] = int(value) if name.endswith("_axis") else float(value)
        return bindings, None


class InputMapper:
    """Tracks held commands from events and turns them into action values, emitting only changes."""

    def __init__(self, bindings: Bindings):
        self.bindings = bindings
        self.held: set[str] = set()
        self.pressed: list[str] = []  # one-shot commands since the last poll
        self._wheel_mm = 0.0
        self._drag_deg = 0.0
        self._axes: dict[int, float] = {}
        self._dragging = False
        self._last: dict[str, object] = {}

    def handle(self, event: pygame.event.Event) -> None:
        if event.type in (pygame.KEYDOWN, pygame.KEYUP):
            for command in self.bindings.command_for(pygame.key.name(event.key)):
                self._command(command, event.type == pygame.KEYDOWN)
        elif event.type == pygame.MOUSEWHEEL:
            self._wheel_mm += event.y * self.bindings.analog["wheel_mm_per_notch"]
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._dragging = True
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self._dragging = False
        elif event.type == pygame.MOUSEMOTION and self._dragging:
            self._drag_deg += event.rel[0] * self.bindings.analog["drag_deg_per_px"]
        elif event.type in (pygame.JOYBUTTONDOWN, pygame.JOYBUTTONUP):
            for command in self.bindings.command_for_button(event.button):
                self._command(command, event.type == pygame.JOYBUTTONDOWN)
        elif event.type == pygame.JOYAXISMOTION:
            self._axes[event.axis] = event.value
        elif event.type == pygame.JOYHATMOTION:
            command = HAT_COMMANDS.get(tuple(event.value))
            if command:
                self._command(command, True)

    def _command(self, command: str, down: bool) -> None:
        if command in HELD:
            (self.held.add if down else self.held.discard)(command)
        elif down:
            self.pressed.append(command)

    def resend(self, *names: str) -> None:
        """Emit these actions again at the next poll (the procedure reset them, e.g. on a change of instrument)."""
        for name in names:
            self._last.pop(name, None)

    def release_all(self) -> None:
        """Let go of everything (the window lost focus, a menu opened): no pedal stays down by accident."""
        self.held.clear()
        self._axes.clear()
        self._dragging = False

    def take_pressed(self) -> list[str]:
        pressed, self.pressed = self.pressed, []
        return pressed

    def continuous(self, dt_s: float) -> dict[str, object]:
        """Current values of the continuous actions: advance (mm/s), rotate (deg/s), fluoro, cine, inject, deploy.

        Mouse wheel notches and drags are spread over this step as a speed.
        """
        fast = FAST_FACTOR if "fast" in self.held else 1.0
        advance = ADVANCE_MM_PER_S * fast * (("advance" in self.held) - ("retract" in self.held))
        rotate = ROTATE_DEG_PER_S * fast * (("rotate_cw" in self.held) - ("rotate_ccw" in self.held))
        analog = self.bindings.analog
        push = (self._axes.get(int(analog["push_axis"]), -1.0) + 1.0) / 2.0
        pull = (self._axes.get(int(analog["pull_axis"]), -1.0) + 1.0) / 2.0
        if push > GAMEPAD_DEADZONE or pull > GAMEPAD_DEADZONE:
            advance = ADVANCE_MM_PER_S * FAST_FACTOR * (push - pull)
        stick = self._axes.get(int(analog["rotate_axis"]), 0.0)
        if abs(stick) > GAMEPAD_DEADZONE:
            rotate = ROTATE_DEG_PER_S * FAST_FACTOR * stick
        if self._wheel_mm and dt_s > 0:
            advance, self._wheel_mm = self._wheel_mm / dt_s, 0.0
        if self._drag_deg and dt_s > 0:
            rotate, self._drag_deg = self._drag_deg / dt_s, 0.0
        return {
            "advance": round(advance, 3),
            "rotate": round(rotate, 3),
            "fluoro": "fluoro" in self.held,
            "cine": "cine" in self.held,
            "inject": INJECT_ML_PER_S if "inject" in self.held else 0.0,
            "deploy": "deploy" in self.held,
        }

    def changes(self, dt_s: float) -> list[tuple[str, object]]:
        """The continuous actions whose value changed since the last call, as (action, value) pairs."""
        out = []
        for name, value in self.continuous(dt_s).items():
            if self._last.get(name) != value:
                out.append((name, value))
                self._last[name] = value
        return out
