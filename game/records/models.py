"""The records schema as SQLAlchemy 2 typed ORM classes: trainees, class sessions and their levels, runs.

The schema on disk is owned by the Alembic migrations in ``migrations/versions``; a test checks that these
classes and the head migration agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone, so it is stored as naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: records store only timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Trainee(Base):
    """A person who plays; ``name`` as first typed, ``name_key`` (case-folded) makes "anna" and "Anna" one."""

    __tablename__ = "trainees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    name_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    runs: Mapped[list[Run]] = relationship(back_populates="trainee")


class ClassSession(Base):
    """A classroom session: a short code the trainees type, a name, and an ordered list of levels."""

    __tablename__ = "class_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    levels: Mapped[list[ClassLevel]] = relationship(
        back_populates="session", order_by="ClassLevel.position", cascade="all, delete-orphan"
    )


class ClassLevel(Base):
    """One level of a class session, at its position (0-based) in the session's list."""

    __tablename__ = "class_levels"
    __table_args__ = (
        UniqueConstraint("class_session_id", "position"),
        UniqueConstraint("class_session_id", "level_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    level_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]

    session: Mapped[ClassSession] = relationship(back_populates="levels")


class Run(Base):
    """One finished run: headline figures as columns (for sorting), the whole result as JSON, the replay."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_trainee_id_level_id", "trainee_id", "level_id"),
        Index("ix_runs_level_id_score", "level_id", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_uuid: Mapped[str] = mapped_column(String(36), unique=True)  # made by the client: retries never duplicate
    trainee_id: Mapped[int | None] = mapped_column(ForeignKey("trainees.id"))
    class_session_id: Mapped[int | None] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    level_id: Mapped[str] = mapped_column(String(64))
    level_sha256: Mapped[str | None] = mapped_column(String(64))
    app_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)  # when the store received it
    success: Mapped[bool]
    score: Mapped[float] = mapped_column(Float)
    stars: Mapped[int]
    fluoro_time_s: Mapped[float] = mapped_column(Float)
    air_kerma_mGy: Mapped[float] = mapped_column(Float)
    kap_Gycm2: Mapped[float] = mapped_column(Float)
    result_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # added in revision 0002
    result: Mapped[dict[str, Any]]
    replay_zlib: Mapped[bytes | None] = mapped_column(LargeBinary)  # the JSON Lines replay, zlib-compressed

    trainee: Mapped[Trainee | None] = relationship(back_populates="runs")
    class_session: Mapped[ClassSession | None] = relationship()
