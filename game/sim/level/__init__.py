"""Level files: the schema, the loader with precise messages, and the built level."""

from game.sim.level.loader import Level, LevelError, LevelProblem, check_level, load_level, parse_level
from game.sim.level.schema import LEVEL_FORMAT, LevelFile

__all__ = [
    "LEVEL_FORMAT",
    "Level",
    "LevelError",
    "LevelFile",
    "LevelProblem",
    "check_level",
    "load_level",
    "parse_level",
]
