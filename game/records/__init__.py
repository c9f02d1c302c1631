"""Records: trainees, runs and replays, class sessions; SQLite by default, PostgreSQL for a shared classroom.

Use :class:`RecordStore`; it hands out the plain dataclasses of :mod:`game.records.rows` and raises only
:class:`RecordError` and its subclasses. ``game.records.cli`` holds what the command line calls.
"""

from game.records.errors import InvalidInputError, RecordError, ServerUnreachableError, UnknownClassError
from game.records.rows import (
    BoardRow,
    ClassInfo,
    LeaderboardRow,
    LevelBest,
    RunRow,
    StatusKind,
    StoreStatus,
    SubmitOutcome,
    SubmitStatus,
)
from game.records.store import RecordStore

__all__ = [
    "BoardRow",
    "ClassInfo",
    "InvalidInputError",
    "LeaderboardRow",
    "LevelBest",
    "RecordError",
    "RecordStore",
    "RunRow",
    "ServerUnreachableError",
    "StatusKind",
    "StoreStatus",
    "SubmitOutcome",
    "SubmitStatus",
    "UnknownClassError",
]
