"""What the ``lumen class ...`` commands and ``--trainee``/``--class`` do; ``game/cli.py`` parses and calls these.

Each command prints one JSON object on stdout with ``--json`` (``{"error": ...}`` on failure, the message also on
stderr), or readable text; every expected failure is one line naming the problem, never a traceback; the return
value is the exit code (0 ok, 1 failed).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from game.records import names
from game.records.errors import InvalidInputError, RecordError, ServerUnreachableError
from game.records.rows import BoardRow, ClassInfo, LevelBest, SubmitOutcome
from game.records.store import RecordStore

EXIT_OK = 0
EXIT_FAILED = 1
MAX_REPLAY_BYTES = 64_000_000  # as game.sim.replay
_FAILURES = (RecordError, SQLAlchemyError, OSError, UnicodeDecodeError)


def cmd_class_create(name: str, levels: str | Sequence[str], as_json: bool = False) -> int:
    """``lumen class create NAME --levels ID,ID [--json]``: create a class session and print its code."""
    try:
        level_ids = resolve_class_levels(levels)
        with RecordStore() as store:
            code = store.create_class(name, level_ids)
            info = store.class_info(code)
    except _FAILURES as exc:
        return _fail("lumen class create", exc, as_json)
    if as_json:
        _print_json(_class_json(info))
    else:
        print(f"class {info.name!r} created: code {info.code}")
        print(f"levels: {', '.join(info.level_ids)}")
        print(f"trainees join with: lumen play LEVEL --trainee NAME --class {info.code}")
    return EXIT_OK


def cmd_class_board(code: str, as_json: bool = False, *, window: bool = False) -> int:
    """``lumen class board CODE [--json | --window]``: the class leaderboard, printed or in the game window.

    With ``window`` the code is checked first (an unknown or malformed code is one message, no window); a server
    that does not answer is not an error then: the board opens, says it is offline and keeps trying.
    """
    try:
        with RecordStore() as store:
            info = store.class_info(code)
            rows = store.class_board(info.code)
    except ServerUnreachableError as exc:
        if not window:
            return _fail("lumen class board", exc, as_json)
        print(f"lumen class board: {_message(exc)}; the board will keep trying", file=sys.stderr)
        return _open_board_window(names.class_code(code))
    except _FAILURES as exc:
        return _fail("lumen class board", exc, as_json)
    if window:
        return _open_board_window(info.code)
    if as_json:
        _print_json({**_class_json(info), "rows": [_board_row_json(row) for row in rows]})
    else:
        print(board_text(info, rows))
    return EXIT_OK


def cmd_class_export(code: str, csv_path: str | Path) -> int:
    """``lumen class export CODE --csv FILE``: every run of the class as a spreadsheet-safe CSV file."""
    try:
        with RecordStore() as store:
            clean = names.class_code(code)
            count = store.export_class_csv(clean, csv_path)
    except _FAILURES as exc:
        return _fail("lumen class export", exc, False)
    print(f"wrote {count} run{'s' if count != 1 else ''} of class {clean} to {csv_path}")
    return EXIT_OK


def _open_board_window(code: str) -> int:
    from game.app.scenes.leaderboard import open_class_board  # pygame only when a window is wanted

    return open_class_board(code)


def check_run_target(trainee: str | None, class_code: str | None, level_id: str | None = None) -> str | None:
    """Before a run: None if ``--trainee``/``--class`` are acceptable, else the message to print.

    An unreachable server is not an error here (the run will wait in the outbox); an unknown class code, a
    level that is not part of the class, or an invalid name is.
    """
    try:
        if trainee is not None:
            names.trainee_name(trainee)
        if class_code is None:
            return None
        code = names.class_code(class_code)
        with RecordStore() as store:
            info = store.class_info(code)
    except ServerUnreachableError:
        return None
    except _FAILURES as exc:
        return _message(exc)
    if level_id is not None and level_id not in info.level_ids:
        return f"level {level_id} is not part of class {info.code} (its levels: {', '.join(info.level_ids)})"
    return None


def record_run(
    result: dict[str, Any], replay_path: str | Path | None, trainee: str | None, class_code: str | None
) -> str:
    """Store a finished run under the trainee and class; return the status line to print on stderr.

    Never raises: a run that cannot be stored says why (its replay file stays where it is).
    """
    replay_text, note = _read_replay(replay_path)
    try:
        with RecordStore() as store:
            status = store.add_run(result, replay_text, trainee, class_code)
    except _FAILURES as exc:
        return f"records: run not saved: {_message(exc)}"
    if status.outcome is SubmitOutcome.QUEUED:
        return f"records: {status}{note}"
    who = f" for {names.trainee_name(trainee)}" if trainee else ""
    where = f" in class {names.class_code(class_code)}" if class_code else ""
    return f"records: run of {result.get('level')} saved{who}{where} ({status.where}){note}"


def resolve_class_levels(levels: str | Sequence[str]) -> list[str]:
    """Level ids from ``--levels``: shipped level ids or paths to level files, comma-separated."""
    from game.sim.level import LevelError
    from game.sim.level.library import level_info, shipped_levels

    refs = levels.split(",") if isinstance(levels, str) else list(levels)
    refs = [ref.strip() for ref in refs if ref.strip()]
    if not refs:
        raise InvalidInputError("--levels needs at least one level id (see 'lumen levels')")
    shipped = {info.id for info in shipped_levels()[0]}
    ids = []
    for ref in refs:
        if ref in shipped:
            ids.append(ref)
        elif ref.endswith(".toml") and Path(ref).is_file():
            try:
                ids.append(level_info(Path(ref)).id)
            except LevelError as exc:
                raise InvalidInputError(str(exc.problems[0])) from None
        else:
            known = ", ".join(sorted(shipped)) or "none found"
            raise InvalidInputError(f"unknown level {ref!r}: not a shipped level id (shipped: {known}) or level file")
    return ids


def board_text(info: ClassInfo, rows: Sequence[BoardRow]) -> str:
    """The class board as a plain-text table."""
    lines = [f"class {info.code} {info.name!r}: {len(info.level_ids)} levels, {len(rows)} trainees"]
    if not rows:
        lines.append("no runs yet")
        return "\n".join(lines)
    width = max(7, *(len(row.trainee) for row in rows))
    head = f"{'rank':>4}  {'trainee':<{width}}"
    head += "".join(f"  {level[:14]:>14}" for level in info.level_ids)
    lines.append(head + f"  {'total':>7}  {'stars':>5}  {'done':>5}")
    for row in rows:
        line = f"{row.rank:>4}  {row.trainee:<{width}}"
        line += "".join(f"  {_score_cell(row.best.get(level)):>14}" for level in info.level_ids)
        done = f"{row.levels_completed}/{len(info.level_ids)}"
        lines.append(line + f"  {_number(row.total_score):>7}  {row.total_stars:>5}  {done:>5}")
    return "\n".join(lines)


def _score_cell(best: LevelBest | None) -> str:
    return "-" if best is None else f"{_number(best.score)} {'*' * best.stars}".rstrip()


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _class_json(info: ClassInfo) -> dict[str, Any]:
    return {
        "code": info.code,
        "name": info.name,
        "created_at": info.created_at.isoformat(),
        "levels": list(info.level_ids),
    }


def _board_row_json(row: BoardRow) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "trainee": row.trainee,
        "total_score": row.total_score,
        "total_stars": row.total_stars,
        "levels_completed": row.levels_completed,
        "runs": row.runs,
        "levels": {level: _best_json(best) for level, best in row.best.items()},
    }


def _best_json(best: LevelBest) -> dict[str, Any]:
    return {
        "score": best.score,
        "stars": best.stars,
        "success": best.success,
        "fluoro_time_s": best.fluoro_time_s,
        "air_kerma_mGy": best.air_kerma_mGy,
        "kap_Gycm2": best.kap_Gycm2,
        "attempts": best.attempts,
        "finished_at": best.finished_at.isoformat(),
        "run_uuid": best.run_uuid,
    }


def _read_replay(replay_path: str | Path | None) -> tuple[str | None, str]:
    """The replay file's text, or None and a note saying why it is not stored with the run."""
    if replay_path is None:
        return None, ""
    path = Path(replay_path)
    try:
        if path.stat().st_size > MAX_REPLAY_BYTES:
            return None, f" (replay {path} not stored: over {MAX_REPLAY_BYTES // 1_000_000} MB)"
        return path.read_text(encoding="utf-8"), ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, f" (replay {path} not stored: {reason})"


def _message(exc: BaseException) -> str:
    if isinstance(exc, RecordError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or 'file'}: {exc.strerror or exc}"
    return f"records database error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _fail(command: str, exc: BaseException, as_json: bool) -> int:
    message = _message(exc)
    print(f"{command}: {message}", file=sys.stderr)
    if as_json:
        _print_json({"error": message})
    return EXIT_FAILED


def _print_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False))
