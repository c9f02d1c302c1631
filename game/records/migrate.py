"""Bring a database's schema to the head revision, safely when several processes open it at once.

Opening an up-to-date database reads ``alembic_version`` with plain SQLAlchemy; Alembic itself is imported only
when there is something to migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, column, func, inspect, select, table

from game.records.errors import RecordError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0002"  # the newest file in migrations/versions (a test checks they agree)
_PG_LOCK_KEY = 0x4C554D454E  # "LUMEN": one advisory lock serialises migrations on a shared server
_VERSION_TABLE = table("alembic_version", column("version_num"))


def head_revision() -> str:
    """The head revision as Alembic finds it in the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision, or None for an empty database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(select(_VERSION_TABLE.c.version_num)).scalar()


def upgrade(engine: Engine, revision: str = HEAD_REVISION) -> None:
    """Migrate to ``revision`` in one transaction; concurrent openers wait and then find nothing to do.

    SQLite's write lock (``BEGIN IMMEDIATE``, see :mod:`game.records.db`) or PostgreSQL's advisory lock is held
    for the whole check-and-upgrade, and both databases roll back DDL with the transaction.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
        current = current_revision(connection)
        if current == revision:
            return
        _refuse_unknown(current, engine)
        from alembic import command

        command.upgrade(_config(connection), revision)


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _refuse_unknown(current: str | None, engine: Engine) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if current is None:
        return
    try:
        ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(current)
    except CommandError:
        where = engine.url.render_as_string(hide_password=True)
        raise RecordError(
            f"the records database {where} has schema revision {current!r}, newer than this version of Lumen "
            "knows: update Lumen to use it"
        ) from None
