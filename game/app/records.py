"""The game's use of the records store: a finished run is kept with its replay; the level select reads the bests.

Both calls run off the frame (in a :class:`~game.app.jobs.Job`) because the first use creates and migrates the
database. The store is opened on the calling thread, so where it writes (``$LUMEN_DATA_DIR``, ``$LUMEN_DB_URL``)
is decided when the call is made, not later in the worker. Neither call raises: a problem comes back as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from game.app.jobs import Job

_FAILURES: tuple[type[BaseException], ...] = (OSError, UnicodeDecodeError)


def _store():
    from game.records.store import RecordStore

    return RecordStore()


def save_run(result: dict[str, Any], replay_path: Path | None, trainee: str | None, class_code: str | None) -> Job:
    """Store the run in the background; the job's result is the status line to show."""
    from sqlalchemy.exc import SQLAlchemyError

    from game.records import names
    from game.records.errors import RecordError
    from game.records.rows import SubmitOutcome

    try:
        store = _store()
    except (RecordError, SQLAlchemyError, *_FAILURES) as exc:
        message = f"run not saved: {exc}"
        return Job(lambda progress: message)
    replay_text = None
    if replay_path is not None:
        try:
            replay_text = Path(replay_path).read_text(encoding="utf-8")
        except _FAILURES:
            replay_text = None

    def work(progress) -> str:
        try:
            status = store.add_run(result, replay_text, trainee, class_code)
        except (RecordError, SQLAlchemyError) as exc:
            return f"run not saved: {exc}"
        finally:
            store.close()
        if status.outcome is SubmitOutcome.QUEUED:
            return str(status)
        who = f" for {names.trainee_name(trainee)}" if trainee else ""
        return f"run saved{who}"

    return Job(work, name="lumen-save-run")


def best_per_level(trainee: str | None, after: list[Job] = ()) -> Job:
    """The trainee's best run per level, as ``{level_id: LevelBest}`` (empty without a trainee), read once the
    runs being stored (``after``) are in."""
    from sqlalchemy.exc import SQLAlchemyError

    from game.records.errors import RecordError

    if not trainee:
        return Job(lambda progress: {})
    try:
        store = _store()
    except (RecordError, SQLAlchemyError, *_FAILURES) as exc:
        problem = str(exc)

        def fail(progress):
            raise RuntimeError(problem)

        return Job(fail)

    def work(progress) -> dict:
        for job in after:
            job.wait(30.0)
        try:
            return {best.level_id: best for best in store.best_per_level(trainee)}
        except (RecordError, SQLAlchemyError) as exc:
            raise RuntimeError(f"records: {exc}") from None
        finally:
            store.close()

    return Job(work, name="lumen-best-per-level")
