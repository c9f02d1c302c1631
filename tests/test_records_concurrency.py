"""Eight processes submit runs at the same moment, to a fresh database (the first open migrates): all land."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue

import pytest

from game.records import RecordStore
from game.records.outbox import OUTBOX_FILE_NAME, Outbox
from tests import records_support as support

PROCESSES = 8


def submit_from_processes(url: str, data_dir: str) -> list[tuple[int, str, str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    report = ctx.Queue()
    workers = [
        ctx.Process(target=support.submit_worker, args=(url, data_dir, i, barrier, report)) for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    reports = []
    try:
        for _ in workers:
            reports.append(report.get(timeout=90))
    except queue.Empty:
        pass
    for worker in workers:
        worker.join(timeout=30)
        if worker.is_alive():
            worker.terminate()
    errors = [r for r in reports if r[1] == "error"]
    assert not errors, errors
    assert len(reports) == PROCESSES, f"only {len(reports)} of {PROCESSES} processes reported"
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    return reports


def check_all_landed(url: str, reports: list[tuple[int, str, str]]) -> None:
    assert {outcome for _, outcome, _ in reports} == {"saved"}
    with RecordStore(url) as store:
        stored = [row for name in range(4) for row in store.history(f"trainee {name}")]
        assert sorted(r.run_uuid for r in stored) == sorted(uuid for _, _, uuid in reports)
        assert sorted(r.score for r in stored) == [100 + i for i in range(PROCESSES)]
        # four trainees, each created once although two processes raced to create each of them
        assert sorted(len(store.history(f"Trainee {i}")) for i in range(4)) == [2, 2, 2, 2]
        assert len(store.leaderboard("renal-cobra", limit=100)) == 4


def test_eight_processes_submitting_at_once_all_land_in_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    reports = submit_from_processes(url, str(tmp_path / "data"))
    check_all_landed(url, reports)


def test_eight_processes_submitting_at_once_all_land_in_postgresql(tmp_path):
    with support.fresh_pg_schema() as url:
        reports = submit_from_processes(url, str(tmp_path / "data"))
        check_all_landed(url, reports)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LUMEN_DB_URL", raising=False)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eight_processes_queueing_at_once_while_the_server_is_down_all_land_when_it_is_back(tmp_path, backend):
    """One computer's outbox takes eight runs at the same moment; the first connection afterwards sends them all."""
    data_dir = str(tmp_path / "data")
    reports = submit_from_processes(support.closed_port_url(), data_dir)
    assert {outcome for _, outcome, _ in reports} == {"queued"}
    outbox = Outbox(tmp_path / "data" / OUTBOX_FILE_NAME)
    try:
        assert outbox.count() == PROCESSES
    finally:
        outbox.close()
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
        else:
            url = stack.enter_context(support.fresh_pg_schema())
        with RecordStore(url, outbox_path=tmp_path / "data" / OUTBOX_FILE_NAME) as back:
            assert back.sync_pending() == PROCESSES
            assert back.status().pending == 0
        reports = [(i, "saved", run_uuid) for i, _, run_uuid in reports]
        check_all_landed(url, reports)
