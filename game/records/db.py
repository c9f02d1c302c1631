"""Which database, and engines for it: SQLite (local file, WAL, busy timeout) or a PostgreSQL server.

The URL comes from the caller (a setting), else ``$LUMEN_DB_URL``, else ``user_data_dir()/lumen.sqlite3``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from game.paths import user_data_dir
from game.records.errors import RecordError

DB_URL_ENV = "LUMEN_DB_URL"
DB_FILE_NAME = "lumen.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 5
WRITE_ATTEMPTS = 6
READ_ONLY = {"lumen_read_only": True}  # execution option: a SQLite reader need not take the write lock

T = TypeVar("T")


def resolve_url(url: str | None) -> tuple[URL, bool]:
    """The database URL to use and whether it was named explicitly (argument or environment)."""
    text = url or os.environ.get(DB_URL_ENV) or ""
    if not text.strip():
        return make_url(f"sqlite:///{user_data_dir() / DB_FILE_NAME}"), False
    try:
        parsed = make_url(text.strip())
    except ArgumentError:
        raise RecordError(f"the records database URL is not valid: {_redact(text)!r}") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg"), True
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        return parsed.set(drivername="sqlite"), True
    raise RecordError(
        f"unsupported records database URL {_redact(text)!r}: use postgresql://USER:PASSWORD@HOST/DB or sqlite:///PATH"
    )


def describe(url: URL) -> str:
    """The URL for messages, without the password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def is_server(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def make_engine(url: URL) -> Engine:
    """An engine for ``url``; for SQLite the file's directory is created and WAL mode switched on."""
    if not is_server(url):
        return sqlite_engine(Path(str(url.database)))
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=2,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S, "application_name": "lumen"},
    )


def sqlite_engine(path: Path) -> Engine:
    """SQLite with real transactions: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` so writers queue up."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordError(f"cannot create the records directory {path.parent}: {exc.strerror or exc}") from None
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (pysqlite's own is too late)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("lumen_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def with_retry(engine: Engine, work: Callable[[], T]) -> T:
    """Run a write transaction, retrying while SQLite reports the database busy or locked."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return work()
        except OperationalError as exc:
            if engine.dialect.name != "sqlite" or not _is_busy(exc) or attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def is_unreachable(exc: BaseException) -> bool:
    """Whether a database error means the server could not be reached (or was lost), not bad data."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def error_text(exc: BaseException) -> str:
    """A one-line reason from a driver error, without SQL or parameters."""
    origin = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(origin).splitlines() if line.strip()]
    return lines[0] if lines else type(origin).__name__


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


def _redact(text: str) -> str:
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        return text.split("@")[-1][:80]
