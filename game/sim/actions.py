"""The actions a person, a replay or the autopilot applies to a procedure (PRODUCT.md), and their validation.

Every value is checked and normalised here, once, so the procedure's step can trust what it receives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from game.sim import constants as C

COLLIMATION_RANGE = (0.2, 1.0)  # open fraction of the field side
MAX_ADVANCE_MM_PER_S = 200.0  # faster than any hand pushes a catheter
MAX_ROTATE_DEG_PER_S = 720.0
MAX_INJECTION_ML_PER_S = 30.0  # power injectors top out at 25-30 mL/s
LAO_RANGE_DEG = (-120.0, 120.0)
CRA_RANGE_DEG = (-50.0, 50.0)
TABLE_RANGE_MM = (-1000.0, 1000.0)
FOV_RANGE_CM = (10.0, 48.0)


class ActionError(ValueError):
    """An action name or value that the procedure cannot accept."""


@dataclass(frozen=True)
class Action:
    """One timed action: applied at the first simulation step at or after ``t_s``."""

    t_s: float
    name: str
    value: Any = None

    def to_json(self) -> dict:
        return {"t": self.t_s, "action": self.name, "value": self.value}


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ActionError(f"{what} must be a number, not {_type(value)}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ActionError(f"{what} must be between {low:g} and {high:g}, not {value!r}")
    return float(value)


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ActionError(f"{what} must be true or false, not {_type(value)}")
    return value


def _type(value: Any) -> str:
    return {type(None): "null", bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _object(value: Any, what: str, keys: dict[str, tuple[float, float]]) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ActionError(f"{what} must be an object with keys {', '.join(keys)}, not {_type(value)}")
    unknown = set(value) - set(keys)
    if unknown:
        raise ActionError(f"{what} has unknown keys {', '.join(sorted(unknown))} (expected {', '.join(keys)})")
    missing = set(keys) - set(value)
    if missing:
        raise ActionError(f"{what} is missing {', '.join(sorted(missing))}")
    return {k: _number(value[k], f"{what}.{k}", *bounds) for k, bounds in keys.items()}


def _select(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ActionError(f"select needs an instrument name, not {_type(value)}")
    return value


def _pulse_rate(value: Any) -> float:
    rate = _number(value, "pulse_rate", 0.0, 1000.0)
    if rate not in C.PULSE_RATES_PER_S:
        raise ActionError(f"pulse_rate must be one of {', '.join(f'{r:g}' for r in C.PULSE_RATES_PER_S)}, not {rate:g}")
    return rate


_VALIDATORS = {
    "select": _select,
    "advance": lambda v: _number(v, "advance (mm/s)", -MAX_ADVANCE_MM_PER_S, MAX_ADVANCE_MM_PER_S),
    "rotate": lambda v: _number(v, "rotate (deg/s)", -MAX_ROTATE_DEG_PER_S, MAX_ROTATE_DEG_PER_S),
    "fluoro": lambda v: _flag(v, "fluoro"),
    "cine": lambda v: _flag(v, "cine"),
    "inject": lambda v: _number(v, "inject (mL/s)", 0.0, MAX_INJECTION_ML_PER_S),
    "pulse_rate": _pulse_rate,
    "fov_cm": lambda v: _number(v, "fov_cm", *FOV_RANGE_CM),
    "collimate": lambda v: _number(v, "collimate", *COLLIMATION_RANGE),
    "carm": lambda v: _object(v, "carm", {"lao": LAO_RANGE_DEG, "cra": CRA_RANGE_DEG}),
    "table": lambda v: _object(v, "table", {"x": TABLE_RANGE_MM, "z": TABLE_RANGE_MM}),
    "roadmap": lambda v: _flag(v, "roadmap"),
    "deploy": lambda v: _flag(v, "deploy"),
    "end": lambda v: True if v is None else _flag(v, "end"),
}

ACTION_NAMES: tuple[str, ...] = tuple(_VALIDATORS)


def validate(name: Any, value: Any) -> Any:
    """The normalised value of action ``name``; raises :class:`ActionError` naming the problem."""
    if name not in _VALIDATORS:
        raise ActionError(f"unknown action {name!r} (known: {', '.join(ACTION_NAMES)})")
    return _VALIDATORS[name](value)


def make(t_s: float, name: str, value: Any = None) -> Action:
    """A validated :class:`Action`."""
    return Action(_number(t_s, "t", 0.0, 1e7), name, validate(name, value))
