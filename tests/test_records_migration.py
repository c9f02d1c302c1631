"""Schema upgrades keep every trainee's history: a database made at revision 0001 opens with the current code."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from game.records import RecordError, RecordStore, migrate
from game.records.db import make_engine, resolve_url
from game.records.models import Base
from tests import records_support as support

# Revision 0001's tables as they were, written with Core (not today's ORM classes).
_meta = sa.MetaData()


def _table(table_name: str, /, **columns: type[sa.types.TypeEngine]) -> sa.Table:
    return sa.Table(
        table_name, _meta, sa.Column("id", sa.Integer, primary_key=True), *(sa.Column(c, t) for c, t in columns.items())
    )


_trainees = _table("trainees", name=sa.String, name_key=sa.String, created_at=sa.DateTime)
_classes = _table("class_sessions", code=sa.String, name=sa.String, created_at=sa.DateTime)
_class_levels = _table("class_levels", class_session_id=sa.Integer, level_id=sa.String, position=sa.Integer)
_runs = _table(
    "runs",
    **dict.fromkeys(("run_uuid", "level_id", "level_sha256", "app_version"), sa.String),
    **dict.fromkeys(("trainee_id", "class_session_id", "stars"), sa.Integer),
    **dict.fromkeys(("score", "fluoro_time_s", "air_kerma_mGy", "kap_Gycm2"), sa.Float),
    **dict.fromkeys(("started_at", "finished_at", "recorded_at"), sa.DateTime),
    success=sa.Boolean,
    result=sa.JSON,
    replay_zlib=sa.LargeBinary,
)

OLD_RESULT = support.result(score=812, result_hash="c0" * 32)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LUMEN_DB_URL", raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        with support.fresh_pg_schema() as url:
            yield url


def make_revision_1_database(url: str) -> None:
    engine = make_engine(resolve_url(url)[0])
    migrate.upgrade(engine, "0001")
    when = datetime(2025, 11, 3, 14, 0) if engine.dialect.name == "sqlite" else datetime(2025, 11, 3, 14, 0, tzinfo=UTC)
    with engine.begin() as connection:  # ids from the database's own sequences, as real data has them
        trainee = connection.execute(_trainees.insert().values(name="Anna", name_key="anna", created_at=when))
        klass = connection.execute(_classes.insert().values(code="K7QX2M", name="Autumn class", created_at=when))
        class_id = klass.inserted_primary_key[0]
        connection.execute(_class_levels.insert().values(class_session_id=class_id, level_id="renal-cobra", position=0))
        connection.execute(
            _runs.insert().values(
                run_uuid="0b4f1c1e-8d55-4bb5-9f61-6a0e2b1d1c01", trainee_id=trainee.inserted_primary_key[0],
                class_session_id=class_id, level_id="renal-cobra", level_sha256=support.SHA, app_version="0.0.9",
                stars=2, score=812, fluoro_time_s=31.2, air_kerma_mGy=12.5, kap_Gycm2=3.4, started_at=None,
                finished_at=when, recorded_at=when, success=True, result=OLD_RESULT, replay_zlib=None,
            )
        )  # fmt: skip
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == "0001"
        assert "result_hash" not in {c["name"] for c in sa.inspect(connection).get_columns("runs")}
    engine.dispose()


def test_a_revision_1_database_is_upgraded_on_open_and_keeps_its_history(db_url):
    make_revision_1_database(db_url)
    with RecordStore(db_url) as store:
        [run] = store.history("anna")
        assert (run.trainee, run.score, run.app_version, run.result) == ("Anna", 812, "0.0.9", OLD_RESULT)
        assert run.finished_at == datetime(2025, 11, 3, 14, 0, tzinfo=UTC)
        [row] = store.class_board("K7QX2M")
        assert (row.trainee, row.total_score) == ("Anna", 812)
        store.add_run(support.result(score=900), None, "Anna", "K7QX2M")  # and new runs join the old history
        assert [r.score for r in store.history("Anna")] == [900, 812]
        engine = store._engine
        with engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head_revision() == migrate.HEAD_REVISION == "0002"
            hashes = connection.execute(sa.text("SELECT result_hash FROM runs ORDER BY id")).scalars().all()
            assert hashes == ["c0" * 32, "ab" * 32]  # 0002 filled it in from the stored result
            indexes = {i["name"] for i in sa.inspect(connection).get_indexes("runs")}
            assert {"ix_runs_level_id_score", "ix_runs_result_hash"} <= indexes


def test_the_orm_models_match_the_head_migration(db_url):
    with RecordStore(db_url) as store:
        store.history("Anna")  # opens and migrates
        with store._engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_a_database_from_a_newer_lumen_is_refused_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    with RecordStore(url) as store:
        store.history("Anna")
        with store._engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    with RecordStore(url) as store, pytest.raises(RecordError, match="newer than this version of Lumen"):
        store.history("Anna")


def test_the_result_hash_backfill_reads_json_from_any_driver():
    from importlib import import_module

    module = import_module("game.records.migrations.versions.0002_result_hash")
    assert module._hash_of(json.dumps({"result_hash": "ff" * 32})) == "ff" * 32
    assert module._hash_of({"result_hash": None}) is None
    assert module._hash_of(None) is None
