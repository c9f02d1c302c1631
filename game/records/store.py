"""The records facade: one :class:`RecordStore` per database, used by the CLI and (later) the game's scenes.

By default the store is a SQLite file in the user's data directory, created and migrated on first use. With a
URL (an argument, a setting, or ``$LUMEN_DB_URL``) naming a PostgreSQL server it is shared by a classroom; when
that server cannot be reached, runs wait in the local outbox and are sent on the next successful connection.
Every method raises only :class:`RecordError` (and its subclasses), whose text is fit to show as is.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from game.paths import user_data_dir
from game.records import migrate, names, queries
from game.records.csv_export import write_runs
from game.records.db import (
    READ_ONLY,
    describe,
    error_text,
    is_server,
    is_unreachable,
    make_engine,
    resolve_url,
    with_retry,
)
from game.records.errors import InvalidInputError, RecordError, ServerUnreachableError, UnknownClassError
from game.records.models import ClassLevel, ClassSession, Run, Trainee
from game.records.outbox import OUTBOX_FILE_NAME, Outbox
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
from game.records.submission import Submission, make_submission

MAX_CLASS_LEVELS = 100
CODE_ATTEMPTS = 20


class RecordStore:
    """Trainees, runs and class sessions in one database (see the module docstring)."""

    def __init__(self, url: str | None = None, *, outbox_path: Path | None = None):
        self.url, explicit = resolve_url(url)
        self.where = describe(self.url)
        self.is_server = is_server(self.url)
        self.outbox = Outbox(outbox_path or user_data_dir() / OUTBOX_FILE_NAME)
        # Queued runs go to a database someone chose (a server, or a file named by URL), never to the
        # implicit local file: a station that is offline for a moment must not keep the class's results.
        self._drains_outbox = explicit
        self._engine = make_engine(self.url)
        self._read_engine = self._engine.execution_options(**READ_ONLY)
        self._ready = False
        self._reachable: bool | None = None
        self._last_error = ""
        self._pending: int | None = None

    # -- runs --------------------------------------------------------------------------------------------------

    def add_run(
        self,
        result: dict[str, Any],
        replay_text: str | None,
        trainee: str | None,
        class_code: str | None,
        *,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        run_uuid: str | None = None,
    ) -> SubmitStatus:
        """Store a finished run (in one transaction), or queue it locally if the server is unreachable.

        Raises :class:`InvalidInputError` for a bad name, code or result and :class:`UnknownClassError` for a code the
        database does not know; nothing is stored then.
        """
        return self.submit(
            make_submission(
                result,
                replay_text,
                trainee,
                class_code,
                started_at=started_at,
                finished_at=finished_at,
                run_uuid=run_uuid,
            )
        )

    def submit(self, submission: Submission) -> SubmitStatus:
        """Store a checked submission, or keep it in the outbox when the server cannot take it now.

        "Cannot take it now" is an unreachable server, and also a server that refuses the write for a reason that is
        not the run's fault (a newer schema, a lost permission, a full disk): the run waits, and every later sync
        tries again. An unknown class code or bad input raises; a local file that fails raises.
        """
        try:
            self._ensure_ready()
            self._store(submission, strict_class=True)
        except ServerUnreachableError:
            self._pending = self.outbox.put(submission)
            return SubmitStatus(SubmitOutcome.QUEUED, submission.run_uuid, self._pending, self.where)
        except (InvalidInputError, UnknownClassError):
            raise
        except RecordError as exc:
            if not self.is_server:
                raise
            self._last_error = str(exc)
            self._pending = self.outbox.put(submission)
            return SubmitStatus(SubmitOutcome.QUEUED, submission.run_uuid, self._pending, self.where, str(exc))
        self._reachable, self._last_error = True, ""
        if self._drains_outbox and self._pending_count(refresh=True):
            self._sync_quietly()  # the server is back: older runs follow this one
        return SubmitStatus(SubmitOutcome.SAVED, submission.run_uuid, self._pending_count(), self.where)

    def history(self, trainee: str, level_id: str | None = None, limit: int | None = None) -> list[RunRow]:
        """The trainee's runs, newest first (an unknown trainee has none)."""
        name = names.trainee_name(trainee)
        level = names.level_id(level_id) if level_id is not None else None
        with self._read() as session:
            found = queries.find_trainee(session, name)
            return queries.history(session, found, level, limit) if found else []

    def best_per_level(self, trainee: str) -> list[LevelBest]:
        """The trainee's best run of every level they played, by level id."""
        name = names.trainee_name(trainee)
        with self._read() as session:
            found = queries.find_trainee(session, name)
            return queries.best_per_level(session, found) if found else []

    def leaderboard(self, level_id: str, limit: int = 10) -> list[LeaderboardRow]:
        """The best trainees on a level, one row each (their best run), best first."""
        level = names.level_id(level_id)
        with self._read() as session:
            return queries.leaderboard(session, level, max(1, int(limit)))

    def replay_text(self, run_uuid: str) -> str | None:
        """The stored replay (JSON Lines) of a run, or None if it has none or no such run exists."""
        with self._read() as session:
            blob = session.scalar(select(Run.replay_zlib).where(Run.run_uuid == run_uuid))
        return zlib.decompress(blob).decode("utf-8") if blob else None

    # -- class sessions ----------------------------------------------------------------------------------------

    def create_class(self, name: str, level_ids: Sequence[str]) -> str:
        """Create a class session for the levels (in this order); return its new, unique code."""
        clean_name = names.class_name(name)
        levels = _class_levels(level_ids)
        self._ensure_ready()
        for _ in range(CODE_ATTEMPTS):
            code = names.new_class_code()
            try:
                with self._errors("creating the class"):
                    with_retry(self._engine, lambda code=code: self._insert_class(code, clean_name, levels))
                return code
            except RecordError as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise RecordError("could not find a free class code; try again")

    def class_info(self, code: str) -> ClassInfo:
        clean = names.class_code(code)
        with self._read() as session:
            return queries.class_info(self._class(session, clean))

    def class_board(self, code: str) -> list[BoardRow]:
        """The class leaderboard: per trainee, the best run of each class level and the totals."""
        clean = names.class_code(code)
        with self._read() as session:
            return queries.class_board(session, self._class(session, clean))

    def class_runs(self, code: str) -> list[RunRow]:
        clean = names.class_code(code)
        with self._read() as session:
            return queries.class_runs(session, self._class(session, clean))

    def export_class_csv(self, code: str, path: str | Path) -> int:
        """Write every run of the class to a spreadsheet-safe CSV file; return the number of runs."""
        runs = self.class_runs(code)
        try:
            return write_runs(Path(path), runs)
        except OSError as exc:
            raise RecordError(f"cannot write {path}: {exc.strerror or exc}") from None

    # -- server and outbox -------------------------------------------------------------------------------------

    def sync_pending(self) -> int:
        """Send the runs waiting in the outbox; return how many were stored (0 if the server is unreachable)."""
        if not self._drains_outbox:
            return 0
        try:
            self._ensure_ready(sync=False)
            return self._sync()
        except ServerUnreachableError:
            return 0
        except RecordError as exc:
            if not self.is_server:
                raise
            self._last_error = str(exc)  # it answered but cannot take runs now (e.g. a newer schema): they wait
            return 0

    def status(self, *, refresh: bool = False) -> StoreStatus:
        """``local``, ``server ok`` or ``server unreachable: N results waiting``.

        Cheap unless ``refresh`` is set or the server has not been tried yet: then it connects (and on success
        sends what waits). A HUD should call it with ``refresh=True`` only every few seconds, off the frame.
        """
        if self.is_server and (refresh or self._reachable is None):
            try:
                self._probe()
            except ServerUnreachableError:
                pass
            except RecordError as exc:
                self._reachable, self._last_error = False, str(exc)
        pending = self._pending_count(refresh=refresh)
        if not self.is_server:
            return StoreStatus(StatusKind.LOCAL, pending)
        kind = StatusKind.SERVER_OK if self._reachable else StatusKind.SERVER_UNREACHABLE
        return StoreStatus(kind, pending, "" if self._reachable else self._last_error)

    def close(self) -> None:
        self._engine.dispose()
        self.outbox.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------------

    def _ensure_ready(self, *, sync: bool = True) -> None:
        """Connect and migrate once; on the first success, send what waits in the outbox."""
        if not self._ready:
            with self._errors("opening the records database"):
                migrate.upgrade(self._engine)
            self._ready = True
            self._reachable, self._last_error = True, ""
            if sync and self._drains_outbox:
                self._sync_quietly()

    def _probe(self) -> None:
        if not self._ready:
            self._ensure_ready()
            return
        with self._errors("checking the records server"), self._engine.connect() as connection:
            connection.execute(select(1))
        self._reachable, self._last_error = True, ""
        if self._drains_outbox and self._pending_count(refresh=True):
            self._sync_quietly()

    def _sync_quietly(self) -> None:
        """Send what waits, as a side effect of another call: its failures must not fail that call."""
        try:
            self._sync()
        except RecordError as exc:
            self._last_error = str(exc)

    def _sync(self) -> int:
        sent = 0
        for item in self.outbox.items(limit=None):
            submission = item.submission
            try:
                stored = self._store(submission, strict_class=False)
            except ServerUnreachableError:
                break
            except RecordError as exc:  # refused by the database: keep it queued, say why, go on
                self.outbox.note_failure(submission.run_uuid, str(exc))
                continue
            self.outbox.remove(submission.run_uuid)  # also when it was there already (a retry)
            sent += stored
        self._pending = self.outbox.count()
        return sent

    def _store(self, submission: Submission, *, strict_class: bool) -> bool:
        """Insert the run unless its UUID is already stored; False if it was (a retry)."""
        try:
            with self._errors("storing the run"):
                return with_retry(self._engine, lambda: self._insert_run(submission, strict_class))
        except RecordError as exc:
            if isinstance(exc.__cause__, IntegrityError) and self._has_run(submission.run_uuid):
                return False  # a concurrent sender stored it first
            raise

    def _insert_run(self, s: Submission, strict_class: bool) -> bool:
        with Session(self._engine) as session, session.begin():
            if session.scalar(select(Run.id).where(Run.run_uuid == s.run_uuid)) is not None:
                return False
            class_row = None
            if s.class_code is not None:
                class_row = session.scalar(select(ClassSession).where(ClassSession.code == s.class_code))
                if class_row is None and strict_class:
                    raise self._unknown_class(s.class_code)
            session.add(
                Run(
                    run_uuid=s.run_uuid,
                    trainee=_trainee(session, s.trainee) if s.trainee else None,
                    class_session=class_row,
                    level_id=s.level_id,
                    level_sha256=s.level_sha256,
                    app_version=s.app_version[:32],
                    started_at=s.started_at,
                    finished_at=s.finished_at,
                    success=s.success,
                    score=s.figure("score"),
                    stars=int(s.result["stars"]),
                    fluoro_time_s=s.figure("fluoro_time_s"),
                    air_kerma_mGy=s.figure("air_kerma_mGy"),
                    kap_Gycm2=s.figure("kap_Gycm2"),
                    result_hash=_result_hash(s.result),
                    result=s.result,
                    replay_zlib=s.replay_zlib,
                )
            )
        return True

    def _insert_class(self, code: str, name: str, level_ids: list[str]) -> None:
        with Session(self._engine) as session, session.begin():
            row = ClassSession(code=code, name=name)
            row.levels = [ClassLevel(level_id=level, position=i) for i, level in enumerate(level_ids)]
            session.add(row)

    def _has_run(self, run_uuid: str) -> bool:
        with self._read() as session:
            return session.scalar(select(Run.id).where(Run.run_uuid == run_uuid)) is not None

    def _class(self, session: Session, code: str) -> ClassSession:
        found = queries.find_class(session, code)
        if found is None:
            raise self._unknown_class(code)
        return found

    def _unknown_class(self, code: str) -> UnknownClassError:
        return UnknownClassError(f"unknown class code {code}: no class session has it on {self.where}")

    @contextmanager
    def _read(self) -> Iterator[Session]:
        self._ensure_ready()
        with self._errors("reading the records"), Session(self._read_engine) as session:
            yield session
        if self.is_server and not self._reachable:  # it answered: the status must not keep saying it is down
            self._reachable, self._last_error = True, ""

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn driver and file-system errors into one-line :class:`RecordError` messages."""
        try:
            yield
        except RecordError:
            raise
        except SQLAlchemyError as exc:
            reason = error_text(exc)
            if self.is_server and is_unreachable(exc):
                self._reachable, self._last_error = False, reason
                raise ServerUnreachableError(f"cannot reach the records server {self.where}: {reason}") from exc
            raise RecordError(f"{doing} failed ({self.where}): {reason}") from exc
        except OSError as exc:
            raise RecordError(f"{doing} failed ({self.where}): {exc.strerror or exc}") from exc

    def _pending_count(self, *, refresh: bool = False) -> int:
        if self._pending is None or refresh:
            try:
                self._pending = self.outbox.count()
            except RecordError:
                self._pending = 0
        return self._pending


def _trainee(session: Session, name: str) -> Trainee:
    """The trainee with this name (any case), created if new; safe when several writers race."""
    key = names.name_key(name)
    found = session.scalar(select(Trainee).where(Trainee.name_key == key))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            trainee = Trainee(name=name, name_key=key)
            session.add(trainee)
        return trainee
    except IntegrityError:
        return session.scalars(select(Trainee).where(Trainee.name_key == key)).one()


def _class_levels(level_ids: Sequence[str]) -> list[str]:
    if isinstance(level_ids, str) or not level_ids:
        raise InvalidInputError("a class needs at least one level id")
    if len(level_ids) > MAX_CLASS_LEVELS:
        raise InvalidInputError(f"a class can have at most {MAX_CLASS_LEVELS} levels")
    levels = [names.level_id(level) for level in level_ids]
    repeated = sorted({level for level in levels if levels.count(level) > 1})
    if repeated:
        raise InvalidInputError(f"level {repeated[0]} is listed more than once")
    return levels


def _result_hash(result: dict[str, Any]) -> str | None:
    value = result.get("result_hash")
    return value[:64] if isinstance(value, str) and value else None
