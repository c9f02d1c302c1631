"""CSV export of runs that is safe to open in a spreadsheet.

Formula injection (OWASP "CSV Injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return (or a line feed) could be run as a formula, so it gets a leading ``'``. Every text cell is quoted;
numbers stay numbers (unquoted), so sums and sorting still work.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from game.records.rows import RunRow

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Full-width look-alikes that some spreadsheets also read as the start of a formula.
FORMULA_TRIGGERS_WIDE = ("\uff1d", "\uff0b", "\uff0d", "\uff20")

Cell = str | int | float | None

COLUMNS = (
    "run_uuid",
    "trainee",
    "class_code",
    "level_id",
    "level_sha256",
    "app_version",
    "started_at_utc",
    "finished_at_utc",
    "success",
    "outcome",
    "score",
    "stars",
    "sim_time_s",
    "fluoro_time_s",
    "cine_frames",
    "air_kerma_mGy",
    "kap_Gycm2",
    "peak_skin_dose_mGy",
    "operator_dose_uSv",
    "contrast_mL",
    "complications",
    "result_hash",
)


def safe_cell(value: object) -> Cell:
    """A value as a CSV cell: numbers as numbers, booleans as ``true``/``false``, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS + FORMULA_TRIGGERS_WIDE):
        return "'" + text
    return text


def run_cells(run: RunRow) -> list[Cell]:
    result = run.result
    complications = result.get("complications")
    if isinstance(complications, list):
        complications = "; ".join(str(c) for c in complications)
    values: list[object] = [
        run.run_uuid,
        run.trainee,
        run.class_code,
        run.level_id,
        run.level_sha256,
        run.app_version,
        run.started_at.isoformat() if run.started_at else None,
        run.finished_at.isoformat(),
        run.success,
        result.get("outcome"),
        run.score,
        run.stars,
        result.get("sim_time_s"),
        run.fluoro_time_s,
        result.get("cine_frames"),
        run.air_kerma_mGy,
        run.kap_Gycm2,
        result.get("peak_skin_dose_mGy"),
        result.get("operator_dose_uSv"),
        result.get("contrast_mL"),
        complications,
        result.get("result_hash"),
    ]
    return [safe_cell(v) for v in values]


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> int:
    """Write a CSV file atomically (a temporary file renamed into place); return the number of data rows.

    UTF-8 with a byte-order mark, so spreadsheets read accented names correctly.
    """
    path = Path(path)
    count = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
            writer.writerow([safe_cell(h) for h in header])
            for row in rows:
                writer.writerow(row)
                count += 1
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return count


def write_runs(path: Path, runs: Iterable[RunRow]) -> int:
    return write_rows(path, COLUMNS, (run_cells(run) for run in runs))
