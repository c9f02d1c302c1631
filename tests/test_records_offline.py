"""An unreachable server: runs wait in the local outbox, the status says so, and they are sent exactly once later.

Recovery goes to the real PostgreSQL test server when there is one, and to a SQLite file named by URL otherwise.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from game.records import RecordError, RecordStore, ServerUnreachableError, StatusKind, SubmitOutcome
from game.records import cli as records_cli
from game.records.outbox import Outbox
from game.records.submission import make_submission
from tests import records_support as support
from tests.records_support import result


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LUMEN_DB_URL", raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def server_url(request, tmp_path):
    """The database that comes back: PostgreSQL, or a SQLite file standing in for it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
    else:
        with support.fresh_pg_schema() as url:
            yield url


def test_runs_wait_in_the_outbox_while_the_server_is_down_and_are_sent_once(server_url):
    down_url = support.closed_port_url()
    with RecordStore(down_url) as down:
        first = down.add_run(result(score=500), support.replay(), "Anna", None)
        second = down.add_run(result(score=600), None, "Bob", None)
        assert first.outcome is second.outcome is SubmitOutcome.QUEUED
        assert (first.pending, second.pending) == (1, 2)
        assert "server unreachable" in str(second) and "2 results waiting" in str(second)
        status = down.status(refresh=True)
        assert status.kind is StatusKind.SERVER_UNREACHABLE
        assert str(status) == "server unreachable: 2 results waiting"
        assert status.detail  # the connection error, for a tooltip
        assert down.sync_pending() == 0  # still down: nothing sent, nothing lost
        with pytest.raises(ServerUnreachableError) as info:
            down.class_board("ABCDEF")
        assert "s3cret-pw" not in str(info.value) and "127.0.0.1" in str(info.value)

    with RecordStore(server_url) as back:
        # the first successful connection sends what waits
        assert [r.score for r in back.history("Anna")] == [500]
        assert back.replay_text(first.run_uuid) == support.replay()
        assert back.status().pending == 0
        assert back.sync_pending() == 0
        assert str(back.status(refresh=True)) in ("local", "server ok")
    with RecordStore(server_url) as again:
        assert len(again.history("Anna")) == 1 and len(again.history("Bob")) == 1


def test_a_run_already_on_the_server_is_not_stored_twice(server_url, tmp_path):
    """The window between the server's commit and the outbox's delete: the retry finds the UUID and skips it."""
    submission = make_submission(result(), None, "Anna", None)
    with RecordStore(server_url) as server:
        server.submit(submission)
    Outbox(tmp_path / "data" / "outbox.sqlite3").put(submission)
    with RecordStore(server_url) as server:
        assert server.sync_pending() == 0
        assert len(server.history("Anna")) == 1
        assert server.status().pending == 0


def test_the_default_local_store_never_takes_the_class_s_queued_runs(tmp_path):
    with RecordStore(support.closed_port_url()) as down:
        down.add_run(result(), None, "Anna", None)
    with RecordStore() as local:
        assert local.sync_pending() == 0
        assert local.history("Anna") == []
        assert str(local.status()) == "local: 1 result waiting"


def test_a_queued_run_with_a_class_unknown_on_the_server_is_kept_without_the_class(server_url):
    with RecordStore(support.closed_port_url()) as down:
        down.add_run(result(), None, "Anna", "ABCDEF")
    with RecordStore(server_url) as back:
        [row] = back.history("Anna")
        assert row.class_code is None


def test_the_command_line_says_the_run_waits(monkeypatch, tmp_path):
    monkeypatch.setenv("LUMEN_DB_URL", support.closed_port_url())
    line = records_cli.record_run(result(), None, "Anna", "ABCDEF")
    assert line.startswith("records: records server unreachable") and "1 result waiting" in line
    assert records_cli.check_run_target("Anna", "ABCDEF") is None  # cannot check now; the run will wait
    assert records_cli.cmd_class_board("ABCDEF", as_json=False) == 1


def test_one_session_rides_out_a_postgresql_server_that_goes_away_and_comes_back():
    """Down at start, up, down again mid-session, up again: every run lands once, the status follows."""
    with support.fresh_pg_schema() as real_url:
        real = make_url(real_url)
        relay = support.TcpRelay(support.free_port(), real.host or "127.0.0.1", real.port or 5432)
        url = real.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        store = RecordStore(url)
        try:
            assert store.add_run(result(score=1), None, "Anna", None).outcome is SubmitOutcome.QUEUED
            assert str(store.status()) == "server unreachable: 1 result waiting"
            relay.start()  # back: the next run goes through and takes the waiting one with it
            assert store.add_run(result(score=2), None, "Anna", None).outcome is SubmitOutcome.SAVED
            assert str(store.status()) == "server ok"
            relay.stop()  # gone mid-session, with connections in the pool
            assert store.add_run(result(score=3), None, "Anna", None).outcome is SubmitOutcome.QUEUED
            assert str(store.status()) == "server unreachable: 1 result waiting"
            relay.start()  # back: a read that gets through makes the status say so at once
            assert [r.score for r in store.history("Anna")] == [2, 1]
            assert str(store.status()) == "server ok: 1 result waiting"
            # and a status refresh (as the HUD does now and then) sends what waits
            assert str(store.status(refresh=True)) == "server ok"
            assert sorted(r.score for r in store.history("Anna")) == [1, 2, 3]
        finally:
            store.close()
            relay.stop()
        with RecordStore(real_url) as check:
            assert sorted(r.score for r in check.history("Anna")) == [1, 2, 3]


def test_a_run_the_server_refuses_waits_in_the_outbox_and_lands_once_it_is_accepted():
    """A server that answers but will not take the run (here: a newer Lumen migrated it) loses nothing."""
    with support.fresh_pg_schema() as url:
        with RecordStore(url) as first:
            first.history("Anna")  # migrate
            with first._engine.begin() as connection:
                connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
        with RecordStore(url) as station:
            status = station.add_run(result(score=640), support.replay(), "Anna", None)
            assert status.outcome is SubmitOutcome.QUEUED and status.pending == 1
            assert "newer than this version of Lumen" in status.refused
            assert str(status).startswith("records server did not take the run (")
            assert station.sync_pending() == 0  # still refused: kept
            assert "newer than this version" in station.status(refresh=True).detail
        [item] = Outbox(support_outbox_path()).items()
        assert item.submission.run_uuid == status.run_uuid
        with RecordStore(url) as admin, admin._engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0002'"))
        with RecordStore(url) as back:
            assert [r.score for r in back.history("Anna")] == [640]
            assert back.replay_text(status.run_uuid) == support.replay()
            assert back.status().pending == 0


def support_outbox_path():
    from game.paths import user_data_dir
    from game.records.outbox import OUTBOX_FILE_NAME

    return user_data_dir() / OUTBOX_FILE_NAME


def test_a_local_file_that_fails_is_an_error_not_a_queued_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    with RecordStore(url) as store:
        store.history("Anna")
        with store._engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    with RecordStore(url) as store, pytest.raises(RecordError, match="newer than this version"):
        store.add_run(result(), None, "Anna", None)
    assert Outbox(support_outbox_path()).count() == 0
