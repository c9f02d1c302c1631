"""Long work off the frame: a level load, a replay's re-simulation, a database call, run in a worker thread.

A :class:`Job` runs one function with a ``progress(fraction, label)`` callback; the scene that started it polls
``done`` each frame and draws the progress bar meanwhile. The function must not touch pygame (drawing stays on the
main thread); it returns a value or raises, and either is kept for the scene to read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Progress = Callable[[float, str], None]


class Job:
    def __init__(self, work: Callable[[Progress], Any], name: str = "lumen-job"):
        self.fraction = 0.0
        self.label = ""
        self.result: Any = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), name=name, daemon=True)
        self._thread.start()

    def _progress(self, fraction: float, label: str) -> None:
        self.fraction, self.label = max(self.fraction, min(1.0, fraction)), label

    def _run(self, work: Callable[[Progress], Any]) -> None:
        try:
            self.result = work(self._progress)
        except BaseException as exc:  # kept for the scene: it shows the message, the game goes on
            self.error = exc
        finally:
            self.fraction = 1.0
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._done.wait(timeout_s)
