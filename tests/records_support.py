"""Shared helpers of the records tests: result objects, replays, a PostgreSQL schema per test, worker processes."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.schema import CreateSchema, DropSchema

PG_URL_ENV = "LUMEN_TEST_PG_URL"
PG_REQUIRED_ENV = "LUMEN_TEST_PG_REQUIRED"
SHA = "5e" * 32
_pg_state: dict[str, str | None] = {}


def result(level: str = "renal-cobra", score: float = 700, **overrides: Any) -> dict[str, Any]:
    """A complete result object as PRODUCT.md describes it."""
    base: dict[str, Any] = {
        "level": level,
        "success": True,
        "outcome": "target reached",
        "sim_time_s": 95.5,
        "fluoro_time_s": 31.2,
        "cine_frames": 0,
        "air_kerma_mGy": 12.5,
        "kap_Gycm2": 3.4,
        "peak_skin_dose_mGy": 10.1,
        "operator_dose_uSv": 0.8,
        "contrast_mL": 12.0,
        "complications": [],
        "score": score,
        "stars": 2,
        "feedback": ["short taps"],
        "instruments": [
            {"name": "wire", "inserted_mm": 412.0, "tip_branch": "left_renal", "tip_position_mm": [1, 2, 3]}
        ],
        "result_hash": "ab" * 32,
    }
    base.update(overrides)
    return base


def replay(level: str = "renal-cobra") -> str:
    header = f'{{"format": "lumen-replay", "version": 1, "level": "{level}", "level_sha256": "{SHA}", "seed": 7}}'
    return header + '\n{"t": 0.0, "action": "fluoro", "value": true}\n{"t": 1.5, "action": "end", "value": null}\n'


def closed_port_url() -> str:
    """A PostgreSQL URL to a local port where nothing listens: an unreachable server that fails fast."""
    return f"postgresql://lumen:s3cret-pw@127.0.0.1:{free_port()}/lumen"


def pg_base_url() -> URL:
    """The test server's URL, or skip (fail, when the CI said it must be there) with the reason."""
    if "url" not in _pg_state:
        _pg_state["url"], _pg_state["why"] = _probe_pg()
    if _pg_state["url"] is None:
        import pytest  # not at the top: worker processes import this module and need no pytest

        message = f"PostgreSQL not available: {_pg_state['why']}"
        if os.environ.get(PG_REQUIRED_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return make_url(_pg_state["url"])


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """A URL to an empty schema of its own on the test server (dropped afterwards)."""
    base = pg_base_url()
    schema = f"lumen_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(CreateSchema(schema))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(DropSchema(schema, cascade=True))
        admin.dispose()


def _probe_pg() -> tuple[str | None, str]:
    raw = os.environ.get(PG_URL_ENV)
    if not raw:
        return None, f"set {PG_URL_ENV}=postgresql+psycopg://USER:PW@HOST:PORT/DB (.ci/pg start prints it)"
    url = make_url(raw).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.select(1))
    except sa.exc.SQLAlchemyError as exc:
        return None, f"{url.render_as_string(hide_password=True)} does not answer ({str(exc.orig).strip()[:120]})"
    finally:
        engine.dispose()
    return url.render_as_string(hide_password=False), ""


def submit_worker(url: str, data_dir: str, index: int, barrier: Any, report: Any) -> None:
    """One of several processes: wait for the others, then open the store and submit a run at the same moment."""
    os.environ["LUMEN_DATA_DIR"] = data_dir
    os.environ.pop("LUMEN_DB_URL", None)
    from game.records import RecordStore

    try:
        barrier.wait(timeout=60)
        with RecordStore(url) as store:
            # Two processes share each trainee, typed in different case: the get-or-create races too.
            name = f"Trainee {index % 4}" if index < 4 else f"TRAINEE {index % 4}"
            status = store.add_run(result(score=100 + index), replay(), name, None)
        report.put((index, status.outcome.value, status.run_uuid))
    except BaseException as exc:
        report.put((index, "error", f"{type(exc).__name__}: {exc}"))
        raise


class TcpRelay:
    """Forwards a local port to a server, so a test can make a server "come back" on the same address."""

    def __init__(self, port: int, target_host: str, target_port: int):
        self.port, self.target = port, (target_host, target_port)
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        """Close the port and cut every open connection, as a server that goes away does."""
        for sock in [self._listener, *self._sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
        self._listener, self._sockets = None, []

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
