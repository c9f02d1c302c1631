"""The offline queue: runs that could not reach the shared server wait here, in a local SQLite file.

Each queued run is one row written in one transaction (all or nothing), keyed by its client-made UUID, so
sending it twice stores it once: the server side checks the UUID before inserting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, LargeBinary, String, Text, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from game.records.db import error_text, sqlite_engine, with_retry
from game.records.errors import RecordError
from game.records.models import UTCDateTime, utc_now
from game.records.submission import Submission

OUTBOX_FILE_NAME = "outbox.sqlite3"

T = TypeVar("T")


class _OutboxBase(DeclarativeBase):
    pass


class QueuedRun(_OutboxBase):
    __tablename__ = "queued_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    payload_json: Mapped[str] = mapped_column(Text)
    replay_zlib: Mapped[bytes | None] = mapped_column(LargeBinary)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class QueuedItem:
    submission: Submission
    attempts: int
    last_error: str | None


class Outbox:
    """A local queue of submissions; the file is created only when the first run is queued."""

    def __init__(self, path: Path):
        self.path = path
        self._engine: Engine | None = None

    def put(self, submission: Submission) -> int:
        """Queue a submission (again: no duplicate); return how many runs wait."""
        engine = self._open(create=True)
        assert engine is not None

        def write() -> None:
            with Session(engine) as session, session.begin():
                if session.scalar(select(QueuedRun.id).where(QueuedRun.run_uuid == submission.run_uuid)) is None:
                    session.add(
                        QueuedRun(
                            run_uuid=submission.run_uuid,
                            payload_json=json.dumps(submission.payload(), allow_nan=False),
                            replay_zlib=submission.replay_zlib,
                        )
                    )

        self._guard(lambda: with_retry(engine, write), "cannot keep the run in the outbox")
        return self.count()

    def count(self) -> int:
        engine = self._open(create=False)
        if engine is None:
            return 0
        with Session(engine) as session:
            return self._guard(lambda: session.scalar(select(func.count(QueuedRun.id))) or 0, "cannot read the outbox")

    def items(self, limit: int | None = None) -> list[QueuedItem]:
        """The oldest queued runs first."""
        engine = self._open(create=False)
        if engine is None:
            return []
        with Session(engine) as session:
            rows = self._guard(
                lambda: session.scalars(select(QueuedRun).order_by(QueuedRun.id).limit(limit)).all(), "cannot read"
            )
            items = []
            for row in rows:
                try:
                    submission = Submission.from_payload(json.loads(row.payload_json), row.replay_zlib)
                except (ValueError, KeyError, TypeError):
                    continue  # unreadable: left in the file for a person to look at, never dropped
                items.append(QueuedItem(submission, row.attempts, row.last_error))
            return items

    def remove(self, run_uuid: str) -> None:
        """Drop a run the server has stored."""
        engine = self._open(create=False)
        if engine is None:
            return

        def write() -> None:
            with Session(engine) as session, session.begin():
                session.execute(delete(QueuedRun).where(QueuedRun.run_uuid == run_uuid))

        self._guard(lambda: with_retry(engine, write), "cannot update the outbox")

    def note_failure(self, run_uuid: str, reason: str) -> None:
        """Remember why a queued run was refused (it stays queued: nothing is dropped)."""
        engine = self._open(create=False)
        if engine is None:
            return

        def write() -> None:
            with Session(engine) as session, session.begin():
                session.execute(
                    update(QueuedRun)
                    .where(QueuedRun.run_uuid == run_uuid)
                    .values(attempts=QueuedRun.attempts + 1, last_error=reason[:500])
                )

        self._guard(lambda: with_retry(engine, write), "cannot update the outbox")

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _open(self, *, create: bool) -> Engine | None:
        if self._engine is None:
            if not create and not self.path.exists():
                return None
            engine = sqlite_engine(self.path)
            self._guard(lambda: _OutboxBase.metadata.create_all(engine), "cannot open the outbox")
            self._engine = engine
        return self._engine

    def _guard(self, work: Callable[[], T], what: str) -> T:
        try:
            return work()
        except (SQLAlchemyError, OSError) as exc:
            raise RecordError(f"{what} {self.path}: {error_text(exc)}") from None
