"""Read-only queries over an open session; they return the plain rows of :mod:`game.records.rows`.

"Best" run everywhere: the highest score, then the lower Ka,r, then the shorter fluoroscopy time, then the
earlier finish (the score already ranks every success above every failure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, defer, selectinload

from game.records import names
from game.records.models import ClassSession, Run, Trainee
from game.records.rows import BoardRow, ClassInfo, LeaderboardRow, LevelBest, RunRow

BEST_ORDER = (Run.score.desc(), Run.air_kerma_mGy.asc(), Run.fluoro_time_s.asc(), Run.finished_at.asc(), Run.id.asc())


def find_trainee(session: Session, name: str) -> Trainee | None:
    return session.scalar(select(Trainee).where(Trainee.name_key == names.name_key(name)))


def find_class(session: Session, code: str) -> ClassSession | None:
    return session.scalar(
        select(ClassSession).where(ClassSession.code == code).options(selectinload(ClassSession.levels))
    )


def class_info(session_row: ClassSession) -> ClassInfo:
    return ClassInfo(
        code=session_row.code,
        name=session_row.name,
        created_at=session_row.created_at,
        level_ids=tuple(level.level_id for level in session_row.levels),
    )


def history(session: Session, trainee: Trainee, level_id: str | None, limit: int | None) -> list[RunRow]:
    """A trainee's runs, newest first."""
    conditions = [Run.trainee_id == trainee.id]
    if level_id is not None:
        conditions.append(Run.level_id == level_id)
    stmt = (
        select(Run)
        .where(*conditions)
        .order_by(Run.finished_at.desc(), Run.id.desc())
        .limit(limit)
        .options(defer(Run.replay_zlib), selectinload(Run.trainee), selectinload(Run.class_session))
    )
    return [run_row(run) for run in session.scalars(stmt)]


def best_per_level(session: Session, trainee: Trainee) -> list[LevelBest]:
    """The trainee's best run of every level they played, by level id."""
    best = _best_runs(session, [Run.trainee_id == trainee.id])
    return sorted((level_best(run, attempts) for run, _, attempts in best), key=lambda b: b.level_id)


def leaderboard(session: Session, level_id: str, limit: int) -> list[LeaderboardRow]:
    """Each trainee's best run of the level, best first; runs without a trainee do not count."""
    best = _best_runs(session, [Run.level_id == level_id, Run.trainee_id.is_not(None)], order=True, limit=limit)
    return [
        LeaderboardRow(rank=place, trainee=name or "", best=level_best(run, attempts))
        for place, (run, name, attempts) in enumerate(best, start=1)
    ]


def class_board(session: Session, session_row: ClassSession) -> list[BoardRow]:
    """Every trainee with a run in the class: best run per class level, totals, ranked by total score."""
    level_ids = [level.level_id for level in session_row.levels]
    conditions = [
        Run.class_session_id == session_row.id,
        Run.level_id.in_(level_ids),
        Run.trainee_id.is_not(None),
    ]
    per_trainee: dict[str, dict[str, LevelBest]] = {}
    for run, name, attempts in _best_runs(session, conditions):
        per_trainee.setdefault(name or "", {})[run.level_id] = level_best(run, attempts)
    totals = []
    for name, bests in per_trainee.items():
        ordered = {level: bests[level] for level in level_ids if level in bests}
        totals.append(
            (
                sum(b.score for b in ordered.values()),
                sum(b.stars for b in ordered.values()),
                sum(b.success for b in ordered.values()),
                sum(b.attempts for b in ordered.values()),
                name,
                ordered,
            )
        )
    totals.sort(key=lambda t: (-t[0], -t[1], names.name_key(t[4])))
    return [
        BoardRow(rank, name, score, stars, completed, runs, best)
        for rank, (score, stars, completed, runs, name, best) in enumerate(totals, start=1)
    ]


def class_runs(session: Session, session_row: ClassSession) -> list[RunRow]:
    """Every run stored under the class, oldest first."""
    stmt = (
        select(Run)
        .where(Run.class_session_id == session_row.id)
        .order_by(Run.finished_at, Run.id)
        .options(defer(Run.replay_zlib), selectinload(Run.trainee), selectinload(Run.class_session))
    )
    return [run_row(run) for run in session.scalars(stmt)]


def _best_runs(
    session: Session, conditions: Sequence[ColumnElement[bool]], *, order: bool = False, limit: int | None = None
) -> list[tuple[Run, str | None, int]]:
    """The best run per (trainee, level) among runs matching ``conditions``, with its trainee's name."""
    partition = (Run.trainee_id, Run.level_id)
    ranked = (
        select(
            Run.id.label("run_id"),
            func.row_number().over(partition_by=partition, order_by=BEST_ORDER).label("place"),
            func.count().over(partition_by=partition).label("attempts"),
        )
        .where(*conditions)
        .subquery()
    )
    stmt: Any = (
        select(Run, Trainee.name, ranked.c.attempts)
        .join(ranked, ranked.c.run_id == Run.id)
        .outerjoin(Trainee, Trainee.id == Run.trainee_id)
        .where(ranked.c.place == 1)
        .options(defer(Run.replay_zlib), defer(Run.result))
    )
    if order:
        stmt = stmt.order_by(*BEST_ORDER)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(run, name, attempts) for run, name, attempts in session.execute(stmt)]


def level_best(run: Run, attempts: int) -> LevelBest:
    return LevelBest(
        level_id=run.level_id,
        score=run.score,
        stars=run.stars,
        success=run.success,
        fluoro_time_s=run.fluoro_time_s,
        air_kerma_mGy=run.air_kerma_mGy,
        kap_Gycm2=run.kap_Gycm2,
        finished_at=run.finished_at,
        run_uuid=run.run_uuid,
        attempts=attempts,
    )


def run_row(run: Run) -> RunRow:
    return RunRow(
        run_uuid=run.run_uuid,
        trainee=run.trainee.name if run.trainee else None,
        class_code=run.class_session.code if run.class_session else None,
        level_id=run.level_id,
        level_sha256=run.level_sha256,
        app_version=run.app_version,
        started_at=run.started_at,
        finished_at=run.finished_at,
        success=run.success,
        score=run.score,
        stars=run.stars,
        fluoro_time_s=run.fluoro_time_s,
        air_kerma_mGy=run.air_kerma_mGy,
        kap_Gycm2=run.kap_Gycm2,
        result=dict(run.result),
    )
