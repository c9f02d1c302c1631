"""Plain, frozen dataclasses the records hand out: what history, leaderboards and the class board show."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RunRow:
    """One stored run (history, CSV export)."""

    run_uuid: str
    trainee: str | None
    class_code: str | None
    level_id: str
    level_sha256: str | None
    app_version: str
    started_at: datetime | None
    finished_at: datetime
    success: bool
    score: float
    stars: int
    fluoro_time_s: float
    air_kerma_mGy: float
    kap_Gycm2: float
    result: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class LevelBest:
    """A trainee's best run of one level, and how many runs of it they made."""

    level_id: str
    score: float
    stars: int
    success: bool
    fluoro_time_s: float
    air_kerma_mGy: float
    kap_Gycm2: float
    finished_at: datetime
    run_uuid: str
    attempts: int


@dataclass(frozen=True)
class LeaderboardRow:
    """One trainee's best run on a level, ranked (1 = best)."""

    rank: int
    trainee: str
    best: LevelBest


@dataclass(frozen=True)
class ClassInfo:
    code: str
    name: str
    created_at: datetime
    level_ids: tuple[str, ...]


@dataclass(frozen=True)
class BoardRow:
    """One trainee on a class board: best run per class level (missing = not played) and totals."""

    rank: int
    trainee: str
    total_score: float
    total_stars: int
    levels_completed: int  # levels with a successful run
    runs: int
    best: dict[str, LevelBest]  # by level id, in the class's level order


class SubmitOutcome(enum.Enum):
    SAVED = "saved"  # in the database (local file or server)
    QUEUED = "queued"  # the server was unreachable: kept in the local outbox


@dataclass(frozen=True)
class SubmitStatus:
    outcome: SubmitOutcome
    run_uuid: str
    pending: int  # runs waiting in the outbox after this one
    where: str  # the database, without password
    refused: str = ""  # why a server that answered did not take the run (it waits in the outbox all the same)

    def __str__(self) -> str:
        if self.outcome is SubmitOutcome.QUEUED and self.refused:
            return (
                f"records server did not take the run ({self.refused}): run kept on this computer, "
                f"{_results(self.pending)} waiting (sent again later)"
            )
        if self.outcome is SubmitOutcome.QUEUED:
            return (
                f"records server unreachable: run kept on this computer, {_results(self.pending)} waiting "
                "(sent when the server is back)"
            )
        return f"run saved to {self.where}"


class StatusKind(enum.Enum):
    LOCAL = "local"
    SERVER_OK = "server ok"
    SERVER_UNREACHABLE = "server unreachable"


@dataclass(frozen=True)
class StoreStatus:
    """What the HUD shows: ``local``, ``server ok`` or ``server unreachable: N results waiting``."""

    kind: StatusKind
    pending: int = 0
    detail: str = ""  # the last connection error, for a tooltip or a log

    def __str__(self) -> str:
        if self.kind is StatusKind.SERVER_UNREACHABLE:
            return f"server unreachable: {_results(self.pending)} waiting"
        if self.pending:
            return f"{self.kind.value}: {_results(self.pending)} waiting"
        return self.kind.value


def _results(count: int) -> str:
    return f"{count} result{'s' if count != 1 else ''}"
