"""A run ready to store: the result object checked, the replay compressed, a client-made UUID.

The same :class:`Submission` is written to the database or, when the server is unreachable, to the outbox, so a
queued run is stored later exactly as it would have been at once.
"""

from __future__ import annotations

import json
import math
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from game import __version__
from game.records import names
from game.records.errors import InvalidInputError

MAX_RESULT_JSON_BYTES = 1_000_000
SUBMISSION_VERSION = 1  # of the outbox payload


@dataclass(frozen=True)
class Submission:
    """Everything needed to store one run; ``payload()`` / ``from_payload()`` round-trip it through JSON."""

    run_uuid: str
    level_id: str
    result: dict[str, Any]
    trainee: str | None = None
    class_code: str | None = None
    level_sha256: str | None = None
    app_version: str = __version__
    started_at: datetime | None = None
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    replay_zlib: bytes | None = None

    @property
    def success(self) -> bool:
        return bool(self.result["success"])

    def figure(self, key: str) -> float:
        return float(self.result[key])

    def payload(self) -> dict[str, Any]:
        return {
            "version": SUBMISSION_VERSION,
            "run_uuid": self.run_uuid,
            "level_id": self.level_id,
            "result": self.result,
            "trainee": self.trainee,
            "class_code": self.class_code,
            "level_sha256": self.level_sha256,
            "app_version": self.app_version,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any], replay_zlib: bytes | None) -> Submission:
        started = payload.get("started_at")
        return cls(
            run_uuid=payload["run_uuid"],
            level_id=payload["level_id"],
            result=payload["result"],
            trainee=payload.get("trainee"),
            class_code=payload.get("class_code"),
            level_sha256=payload.get("level_sha256"),
            app_version=payload.get("app_version") or __version__,
            started_at=datetime.fromisoformat(started) if started else None,
            finished_at=datetime.fromisoformat(payload["finished_at"]),
            replay_zlib=replay_zlib,
        )


def make_submission(
    result: dict[str, Any],
    replay_text: str | None,
    trainee: str | None,
    class_code: str | None,
    *,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    run_uuid: str | None = None,
) -> Submission:
    """Check every input (raising :class:`InvalidInputError` naming the problem) and build the submission."""
    clean = check_result(result)
    header = _replay_header(replay_text)
    sha = header.get("level_sha256")
    return Submission(
        run_uuid=_uuid(run_uuid),
        level_id=names.level_id(clean["level"]),
        result=clean,
        trainee=names.trainee_name(trainee) if trainee is not None else None,
        class_code=names.class_code(class_code) if class_code is not None else None,
        level_sha256=sha if isinstance(sha, str) and len(sha) == 64 else None,
        started_at=_aware(started_at) if started_at else _header_time(header),
        finished_at=_aware(finished_at) if finished_at else datetime.now(UTC),
        replay_zlib=zlib.compress(replay_text.encode("utf-8"), 6) if replay_text else None,
    )


_NUMBERS = ("score", "fluoro_time_s", "air_kerma_mGy", "kap_Gycm2")


def check_result(result: object) -> dict[str, Any]:
    """The result object as JSON data, with the fields the records sort on present and sane."""
    if not isinstance(result, dict):
        raise InvalidInputError("invalid result: expected a result object")
    try:
        text = json.dumps(result, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"invalid result: not JSON data ({exc})") from None
    if len(text) > MAX_RESULT_JSON_BYTES:
        raise InvalidInputError("invalid result: larger than 1 MB")
    clean: dict[str, Any] = json.loads(text)
    if not isinstance(clean.get("level"), str):
        raise InvalidInputError("invalid result: 'level' must be the level id")
    if not isinstance(clean.get("success"), bool):
        raise InvalidInputError("invalid result: 'success' must be true or false")
    for key in _NUMBERS:
        value = clean.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise InvalidInputError(f"invalid result: {key!r} must be a non-negative number, not {value!r}")
    stars = clean.get("stars")
    if isinstance(stars, bool) or not isinstance(stars, int) or not 0 <= stars <= 3:
        raise InvalidInputError(f"invalid result: 'stars' must be 0, 1, 2 or 3, not {stars!r}")
    return clean


def _uuid(run_uuid: str | None) -> str:
    if run_uuid is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(run_uuid))
    except (TypeError, ValueError):
        raise InvalidInputError(f"invalid run id {run_uuid!r}: expected a UUID") from None


def _replay_header(replay_text: str | None) -> dict[str, Any]:
    """The replay's first line if it is a JSON object; the replay itself is stored whatever it holds."""
    if not replay_text:
        return {}
    try:
        header = json.loads(replay_text.split("\n", 1)[0])
    except ValueError:
        return {}
    return header if isinstance(header, dict) else {}


def _header_time(header: dict[str, Any]) -> datetime | None:
    for key in ("started_at", "start_time"):
        value = header.get(key)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                continue
            return _aware(parsed) if parsed.tzinfo else None
    return None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInputError("times must carry a time zone (use datetime.now(UTC))")
    return moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
