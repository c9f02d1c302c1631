"""Leaderboards: a level's board with the trainee's own runs, and the class board for the projector.

Neither scene touches the database in the frame. A :class:`BoardFeed` runs the scene's query on a worker thread
every few seconds of scene time and publishes an immutable :class:`Snapshot`; ``update`` picks the newest one up
and ``draw`` only reads it. A store that fails (a server that does not answer, an unknown class code, a broken
file, a bug) becomes a message on screen, the last good results stay up, and the feed keeps trying.

``level_bests`` and ``draw_level_best`` are for the level select: the trainee's best run of each level.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pygame

from game.app import theme
from game.app.scene import Scene

if TYPE_CHECKING:
    from game.records import BoardRow, ClassInfo, LeaderboardRow, LevelBest, RecordStore, RunRow, StoreStatus

T = TypeVar("T")

CLASS_REFRESH_S = 3.0  # the class board asks the store this often (scene time)
LEVEL_REFRESH_S = 6.0
PAGE_TURN_S = 10.0  # a class too long for the screen is shown a page at a time
FLASH_S = 6.0  # a trainee whose result just arrived is highlighted this long
LEADERBOARD_ROWS = 10
HISTORY_ROWS = 50
BASE_SIZE = (1280, 800)  # the layout's design size; everything scales with the window

GOLD = (255, 200, 70)
SILVER = (200, 208, 220)
BRONZE = (214, 150, 90)
GOOD = (110, 210, 130)
ROW_HOT = (34, 46, 62)

# Table cells that are drawn rather than written (a trainee may well be called "stars").
_STARS, _LEVEL, _TOTAL_STARS = object(), object(), object()


# -- the feed: store queries off the frame -----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """What the feed last learned. ``data`` is the last good answer (kept when a later query fails)."""

    data: T | None = None
    error: str | None = None  # why the last query failed (None: it worked)
    status: StoreStatus | None = None  # local / server ok / server unreachable, with the outbox count
    updated_at: float | None = None  # wall-clock time of the last good answer (shown as "updated 12:03:04")
    serial: int = 0  # counts good answers: a scene compares it to see that something new came
    attempts: int = 0  # counts queries, good or not


class BoardFeed(Generic[T]):
    """Runs ``query(store)`` on one worker thread whenever ``tick`` finds it due and no query is running.

    The store is opened by ``open_store`` on the calling (main) thread, so where it reads (``$LUMEN_DB_URL``,
    ``$LUMEN_DATA_DIR``) is decided when the scene opens; only the worker uses it afterwards, one query at a time.
    ``snapshot`` is replaced whole (never mutated), so the main thread can read it at any moment.
    """

    def __init__(self, open_store: Callable[[], RecordStore], query: Callable[[RecordStore], T], interval_s: float):
        self.interval_s = interval_s
        self.snapshot: Snapshot[T] = Snapshot()
        self._open_store = open_store
        self._query = query
        self._store: RecordStore | None = None
        self._since_s = math.inf  # the first tick asks at once
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def tick(self, dt_s: float) -> None:
        """Advance the feed's clock by ``dt_s`` of scene time; start a query when one is due."""
        self._since_s += dt_s
        if self._since_s >= self.interval_s:
            self.refresh_now()

    def refresh_now(self) -> bool:
        """Start a query now unless one is running (or the feed is closed); True if one started."""
        if self._closed or self.busy:
            return False
        self._since_s = 0.0
        if self._store is None:
            try:
                self._store = self._open_store()
            except Exception as exc:  # a bad URL, a data directory that cannot be made: say so, try again later
                self.snapshot = replace(self.snapshot, error=error_message(exc), attempts=self.snapshot.attempts + 1)
                return False
        self._idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="lumen-board-feed", daemon=True)
            self._thread.start()
        self._wake.set()
        return True

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Block until no query runs (tests; never called from a frame)."""
        return self._idle.wait(timeout_s)

    def close(self, wait_s: float = 0.0) -> None:
        """Stop asking; the worker closes the store after the query it may be running (waited for up to
        ``wait_s``)."""
        self._closed = True
        self._wake.set()
        if self._thread is None:
            self._close_store()
        elif wait_s > 0:
            self._thread.join(wait_s)

    def _work(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                break
            self.snapshot = self._fetch()
            self._idle.set()
        self._close_store()
        self._idle.set()

    def _fetch(self) -> Snapshot[T]:
        before, store = self.snapshot, self._store
        assert store is not None
        try:
            data = self._query(store)
        except Exception as exc:  # whatever the store (or a bug) raises: a message, never a dead scene
            error = unreachable_message(store) if _is_unreachable_error(exc) else error_message(exc)
            return replace(before, error=error, status=_status(store, False), attempts=before.attempts + 1)
        # A server that answered is asked for its status too, which also sends runs waiting in the outbox.
        return Snapshot(
            data=data,
            status=_status(store, store.is_server),
            updated_at=time.time(),
            serial=before.serial + 1,
            attempts=before.attempts + 1,
        )

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            with contextlib.suppress(Exception):  # closing a store that never connected matters to no one
                store.close()


def _status(store: RecordStore, refresh: bool) -> StoreStatus | None:
    try:
        return store.status(refresh=refresh)
    except Exception:
        return None


def _is_unreachable_error(exc: BaseException) -> bool:
    from game.records import ServerUnreachableError

    return isinstance(exc, ServerUnreachableError)


def unreachable_message(store: RecordStore) -> str:
    """Which server did not answer, without its password or the driver's wording."""
    where = f"{store.url.host or 'localhost'}:{store.url.port or 5432}" if store.is_server else store.where
    return f"Cannot reach the records server {where}"


def error_message(exc: BaseException) -> str:
    """One line for the screen: a records error's own text, else the kind of error and its first line."""
    from game.records import RecordError, UnknownClassError

    if isinstance(exc, UnknownClassError):
        return str(exc).split(": no class session")[0].replace("unknown class code", "No class session has the code")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if not isinstance(exc, RecordError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:240]


def _open_default_store(url: str | None) -> Callable[[], RecordStore]:
    def open_store() -> RecordStore:
        from game.records import RecordStore

        return RecordStore(url)

    return open_store


# -- what the store status means to a person ---------------------------------------------------------------------


def status_line(status: StoreStatus | None) -> tuple[str, tuple[int, int, int]]:
    """The footer's status sentence and its colour; says plainly when results are waiting to be sent."""
    from game.records import StatusKind

    if status is None:
        return "Records: connecting...", theme.TEXT_DIM
    waiting = f"{status.pending} result{'s' if status.pending != 1 else ''} waiting to be sent"
    if status.kind is StatusKind.SERVER_UNREACHABLE:
        return f"OFFLINE: records server unreachable, {waiting}", theme.WARNING
    if status.kind is StatusKind.SERVER_OK:
        return ("Records server: connected" + (f", {waiting}" if status.pending else "")), GOOD
    if status.pending:
        return f"Records on this computer; {waiting} to a records server", theme.WARNING
    return "Records on this computer", theme.TEXT_DIM


def footer_line(snapshot: Snapshot) -> tuple[str, tuple[int, int, int]]:
    """The status sentence under a board; when old results are on screen, since when and why."""
    if snapshot.status is None and snapshot.error:
        return "Records not available", theme.DANGER
    text, colour = status_line(snapshot.status)
    if snapshot.error and snapshot.data is not None:
        since = f"(showing results from {_clock_time(snapshot.updated_at)})"
        if _is_unreachable(snapshot):
            return f"{text}   {since}", theme.WARNING
        return f"{_sentence(snapshot.error)}   {since}", theme.DANGER
    return text, colour


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _wrap(text: str, font: pygame.font.Font, width_px: int) -> list[str]:
    """Words on lines no wider than ``width_px`` (a single word wider than that gets a line of its own)."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and font.size(trial)[0] > width_px:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def _clock_time(epoch_s: float | None) -> str:
    return "" if epoch_s is None else datetime.fromtimestamp(epoch_s).strftime("%H:%M:%S")


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"


def _local_date(moment: datetime, now: datetime | None = None) -> str:
    """``07 Mar 09:30`` in the local time zone (with the year instead of the time when it is not this year)."""
    local, now = moment.astimezone(), (now or datetime.now()).astimezone()
    return local.strftime("%d %b %H:%M" if local.year == now.year else "%d %b %Y")


# -- drawing helpers (cached text, panels, stars) ----------------------------------------------------------------


class _Painter:
    """Text rendered once per (text, size, colour, bold) for this scene; panels; stars. Draws only."""

    def __init__(self) -> None:
        self._texts: dict[tuple, pygame.Surface] = {}

    def text_image(self, text: str, size: int, colour: tuple, bold: bool = False) -> pygame.Surface:
        font = theme.font(max(8, size), bold)
        key = (text, colour, font)  # the font itself: a new one (after pygame is restarted) renders anew
        image = self._texts.get(key)
        if image is None:
            if len(self._texts) > 2048:
                self._texts.clear()
            image = self._texts[key] = font.render(text, True, colour)
        return image

    def text(self, surface, text: str, pos, size: int, colour=theme.TEXT, bold=False, anchor="topleft") -> pygame.Rect:
        image = self.text_image(text, size, tuple(colour), bold)
        rect = image.get_rect(**{anchor: pos})
        surface.blit(image, rect)
        return rect

    def fitted(self, surface, text: str, pos, size: int, width: int, colour=theme.TEXT, bold=False, anchor="topleft"):
        """Like :meth:`text`, shrunk (down to 60%) and then cut with '...' so it fits in ``width`` pixels."""
        smallest = max(10, int(size * 0.8))
        while size > smallest and theme.font(size, bold).size(text)[0] > width:
            size -= 1
        font = theme.font(size, bold)
        if font.size(text)[0] > width:
            while text and font.size(text + "...")[0] > width:
                text = text[:-1]
            text = text.rstrip() + "..."
        return self.text(surface, text, pos, size, colour, bold, anchor)

    @staticmethod
    def panel(surface, rect: pygame.Rect, colour=theme.PANEL, edge=theme.PANEL_EDGE, radius: int = 8) -> None:
        pygame.draw.rect(surface, colour, rect, border_radius=radius)
        pygame.draw.rect(surface, edge, rect, width=max(1, radius // 6), border_radius=radius)

    @staticmethod
    def stars(surface, left: int, centre_y: int, count: int, radius: int, out_of: int = 3) -> pygame.Rect:
        """Five-pointed stars, filled for those earned (drawn: the bundled font has no star glyph)."""
        gap = max(2, radius // 2)
        for i in range(out_of):
            cx = left + radius + i * (2 * radius + gap)
            points = []
            for k in range(10):
                r = radius if k % 2 == 0 else radius * 0.45
                a = -math.pi / 2 + k * math.pi / 5
                points.append((cx + r * math.cos(a), centre_y + r * math.sin(a)))
            if i < count:
                pygame.draw.polygon(surface, GOLD, points)
            else:
                pygame.draw.polygon(surface, theme.PANEL_EDGE, points, width=max(1, radius // 5))
        return pygame.Rect(left, centre_y - radius, out_of * (2 * radius + gap) - gap, 2 * radius)


def _stars_width(radius: int, out_of: int = 3) -> int:
    return out_of * (2 * radius + max(2, radius // 2)) - max(2, radius // 2)


@dataclass(frozen=True)
class _Column:
    title: str
    width: float  # pixels at scale 1 (fixed), or a share of what is left when ``flex``
    align: str = "left"  # left, right, centre
    flex: bool = False


def _layout(columns: Sequence[_Column], left: int, width: int, scale: float) -> list[tuple[int, int]]:
    """Each column's (x, width) across ``width`` pixels: fixed columns scaled, flexible ones share the rest."""
    fixed = sum(int(c.width * scale) for c in columns if not c.flex)
    shares = sum(c.width for c in columns if c.flex) or 1.0
    spare = max(0, width - fixed)
    spans, x = [], left
    for column in columns:
        w = int(spare * column.width / shares) if column.flex else int(column.width * scale)
        spans.append((x, w))
        x += w
    return spans


def _anchor(align: str, x: int, w: int, y: int) -> tuple[str, tuple[int, int]]:
    if align == "right":
        return "midright", (x + w - 8, y)
    if align == "centre":
        return "center", (x + w // 2, y)
    return "midleft", (x + 8, y)


def _scale(surface: pygame.Surface) -> float:
    width, height = surface.get_size()
    return max(0.5, min(width / BASE_SIZE[0], height / BASE_SIZE[1]))


# -- the level select's helper -----------------------------------------------------------------------------------


def level_bests(store: RecordStore, trainee: str | None) -> dict[str, LevelBest]:
    """The trainee's best run of each level they played, by level id (empty without a trainee).

    A store call: run it off the frame (e.g. in a :class:`game.app.jobs.Job`). Raises what the store raises.
    """
    if not trainee:
        return {}
    return {best.level_id: best for best in store.best_per_level(trainee)}


_LEVEL_BEST_PAINTER = _Painter()


def draw_level_best(
    surface: pygame.Surface, best: LevelBest | None, pos: tuple[int, int], size: int = 22, anchor: str = "midright"
) -> pygame.Rect:
    """A level select row's summary: stars, best score and number of runs, or "not played yet".

    ``pos`` is the ``anchor`` point (``midright`` or ``midleft``) of the whole summary; returns the area drawn.
    """
    painter = _LEVEL_BEST_PAINTER
    if best is None:
        image = painter.text_image("not played yet", size, theme.TEXT_DIM)
        rect = image.get_rect(**{anchor: pos})
        surface.blit(image, rect)
        return rect
    radius = max(5, size // 3)
    runs = f"{best.attempts} run{'s' if best.attempts != 1 else ''}"
    label = f"best {_number(best.score)}   {runs}"
    image = painter.text_image(label, size, theme.TEXT if best.success else theme.TEXT_DIM)
    gap = max(6, size // 2)
    width = _stars_width(radius) + gap + image.get_width()
    height = max(image.get_height(), 2 * radius)
    area = pygame.Rect(0, 0, width, height)
    setattr(area, anchor, pos)
    painter.stars(surface, area.x, area.centery, best.stars, radius)
    surface.blit(image, image.get_rect(midleft=(area.x + _stars_width(radius) + gap, area.centery)))
    return area


# -- the per-level board -----------------------------------------------------------------------------------------


class _BoardScene(Scene):
    """What both boards share: a feed asked on a worker thread, level titles read once, Esc/R/pad handling."""

    feed: BoardFeed
    _titles: dict[str, str] | None = None

    def _level_titles(self) -> dict[str, str]:
        """On the feed's worker thread: the shipped levels' titles, read once (the board works without them)."""
        if self._titles is None:
            try:
                self._titles = _level_titles()
            except Exception:
                self._titles = {}
        return self._titles

    def on_enter(self) -> None:
        self.feed.tick(0.0)

    def on_exit(self) -> None:
        self.feed.close()

    def _handle_common(self, event: pygame.event.Event) -> bool:
        """Back (Esc, Backspace, pad B) and refresh (R); True when ``event`` was one of them."""
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
            self.app.scenes.pop()
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_r:
            self.feed.refresh_now()
        elif event.type == pygame.JOYBUTTONDOWN and event.button == 1:
            self.app.scenes.pop()
        else:
            return False
        return True

    def update(self, dt_s: float) -> None:
        self.feed.tick(dt_s)
        self.snapshot = self.feed.snapshot


@dataclass(frozen=True)
class LevelBoardData:
    level_title: str
    leaderboard: list[LeaderboardRow]
    history: list[RunRow] = field(default_factory=list)


def _level_titles() -> dict[str, str]:
    from game.sim.level.library import shipped_levels

    return {info.id: info.title for info in shipped_levels()[0]}


class LevelBoardScene(_BoardScene):
    """A level's leaderboard (each trainee's best run) and, for a trainee, their runs of it. Esc goes back.

    ``trainee`` defaults to the app's current trainee (``app.trainee``) when there is one.
    """

    LEADER_COLUMNS = (
        _Column("#", 44, "right"),
        _Column("Trainee", 1.0, flex=True),
        _Column("Stars", 84, "centre"),
        _Column("Score", 80, "right"),
        _Column("Fluoro", 84, "right"),
        _Column("Ka,r mGy", 90, "right"),
        _Column("KAP Gy·cm²", 112, "right"),
    )
    HISTORY_COLUMNS = (
        _Column("Date", 1.0, flex=True),
        _Column("Outcome", 1.1, flex=True),
        _Column("Stars", 80, "centre"),
        _Column("Score", 66, "right"),
        _Column("Fluoro", 76, "right"),
    )

    def __init__(
        self, app, level_id: str, trainee: str | None = None, *, url: str | None = None, refresh_s=LEVEL_REFRESH_S
    ):
        super().__init__(app)
        self.level_id = level_id
        self.trainee = trainee if trainee is not None else (getattr(app, "trainee", None) or None)
        self.feed: BoardFeed[LevelBoardData] = BoardFeed(_open_default_store(url), self._query, refresh_s)
        self.snapshot: Snapshot[LevelBoardData] = self.feed.snapshot
        self._titles: dict[str, str] | None = None
        self._painter = _Painter()

    def _query(self, store: RecordStore) -> LevelBoardData:
        """On the feed's worker thread."""
        board = store.leaderboard(self.level_id, limit=LEADERBOARD_ROWS)
        history = store.history(self.trainee, self.level_id, limit=HISTORY_ROWS) if self.trainee else []
        return LevelBoardData(self._level_titles().get(self.level_id, self.level_id), board, history)

    def handle_event(self, event: pygame.event.Event) -> None:
        self._handle_common(event)

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        p, s = self._painter, _scale(surface)
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        margin = int(36 * s)
        data = self.snapshot.data
        title = data.level_title if data else (self._titles or {}).get(self.level_id, self.level_id)
        p.text(surface, "Leaderboard", (margin, int(24 * s)), int(46 * s), theme.ACCENT, bold=True)
        p.fitted(surface, title, (margin, int(76 * s)), int(30 * s), width - 2 * margin, theme.TEXT)
        top, bottom = int(124 * s), height - int(56 * s)
        if self.trainee:
            split = int((width - 2 * margin) * 0.6)
            left = pygame.Rect(margin, top, split - int(10 * s), bottom - top)
            right = pygame.Rect(
                margin + split + int(10 * s), top, width - 2 * margin - split - int(10 * s), bottom - top
            )
        else:
            left, right = pygame.Rect(margin, top, width - 2 * margin, bottom - top), None
        self._draw_leaders(surface, left, s, data)
        if right is not None:
            self._draw_history(surface, right, s, data)
        self._draw_footer(surface, s)

    def _draw_leaders(self, surface, rect: pygame.Rect, s: float, data: LevelBoardData | None) -> None:
        p = self._painter
        p.panel(surface, rect)
        p.text(surface, "Best run per trainee", (rect.x + int(16 * s), rect.y + int(12 * s)), int(26 * s), bold=True)
        spans = _layout(self.LEADER_COLUMNS, rect.x + int(8 * s), rect.width - int(16 * s), s)
        head_y, row_h, size = rect.y + int(60 * s), int(40 * s), int(25 * s)
        for column, (x, w) in zip(self.LEADER_COLUMNS, spans, strict=True):
            anchor, pos = _anchor(column.align, x, w, head_y)
            p.text(surface, column.title, pos, int(19 * s), theme.TEXT_DIM, anchor=anchor)
        y = head_y + int(30 * s)
        if data is None or not data.leaderboard:
            message = self._empty_text(data, "No runs of this level yet: be the first.")
            p.fitted(surface, message, (rect.x + int(16 * s), y + int(10 * s)), int(24 * s), rect.width - int(32 * s),
                     theme.TEXT_DIM)  # fmt: skip
            return
        me = _key(self.trainee)
        for row in data.leaderboard:
            if y + row_h > rect.bottom - int(6 * s):
                break
            line = pygame.Rect(rect.x + int(6 * s), y, rect.width - int(12 * s), row_h - int(4 * s))
            mine = me is not None and _key(row.trainee) == me
            if mine:
                p.panel(surface, line, ROW_HOT, theme.ACCENT, radius=6)
            best, cy = row.best, line.centery
            colour = theme.TEXT if mine or row.rank <= 3 else theme.TEXT_DIM
            cells: list[Any] = [
                (str(row.rank), _rank_colour(row.rank)),
                (row.trainee, colour),
                (_STARS, best.stars),
                (_number(best.score), theme.TEXT),
                (f"{best.fluoro_time_s:.1f} s", colour),
                (f"{best.air_kerma_mGy:.1f}", colour),
                (f"{best.kap_Gycm2:.2f}", colour),
            ]
            self._cells(surface, self.LEADER_COLUMNS, spans, cells, cy, size, s, bold_first=True)
            y += row_h

    def _draw_history(self, surface, rect: pygame.Rect, s: float, data: LevelBoardData | None) -> None:
        p = self._painter
        p.panel(surface, rect)
        p.fitted(surface, f"{self.trainee}'s runs", (rect.x + int(16 * s), rect.y + int(12 * s)), int(26 * s),
                 rect.width - int(32 * s), bold=True)  # fmt: skip
        spans = _layout(self.HISTORY_COLUMNS, rect.x + int(8 * s), rect.width - int(16 * s), s)
        head_y, row_h, size = rect.y + int(60 * s), int(36 * s), int(22 * s)
        for column, (x, w) in zip(self.HISTORY_COLUMNS, spans, strict=True):
            anchor, pos = _anchor(column.align, x, w, head_y)
            p.text(surface, column.title, pos, int(19 * s), theme.TEXT_DIM, anchor=anchor)
        y = head_y + int(30 * s)
        if data is None or not data.history:
            message = self._empty_text(data, "No runs of this level yet.")
            p.fitted(surface, message, (rect.x + int(16 * s), y + int(10 * s)), int(22 * s), rect.width - int(32 * s),
                     theme.TEXT_DIM)  # fmt: skip
            return
        shown = 0
        for run in data.history:
            if y + row_h > rect.bottom - int(34 * s):
                break
            outcome = str(run.result.get("outcome") or ("success" if run.success else "failed")).replace("_", " ")
            cells: list[Any] = [
                (_local_date(run.finished_at), theme.TEXT_DIM),
                (outcome, GOOD if run.success else theme.DANGER),
                (_STARS, run.stars),
                (_number(run.score), theme.TEXT),
                (f"{run.fluoro_time_s:.1f} s", theme.TEXT_DIM),
            ]
            self._cells(surface, self.HISTORY_COLUMNS, spans, cells, y + row_h // 2, size, s)
            y += row_h
            shown += 1
        total = len(data.history)
        summary = f"{total} run{'s' if total != 1 else ''}" + (f", newest {shown} shown" if shown < total else "")
        p.text(surface, summary, (rect.x + int(16 * s), rect.bottom - int(10 * s)), int(19 * s), theme.TEXT_DIM,
               anchor="bottomleft")  # fmt: skip

    def _cells(self, surface, columns, spans, cells, cy: int, size: int, s: float, bold_first=False) -> None:
        p = self._painter
        for i, (column, (x, w), (value, extra)) in enumerate(zip(columns, spans, cells, strict=True)):
            if value is _STARS:
                radius = max(5, int(9 * s))
                sw = _stars_width(radius)
                p.stars(surface, x + (w - sw) // 2, cy, int(extra), radius)
                continue
            anchor, pos = _anchor(column.align, x, w, cy)
            p.fitted(surface, value, pos, size, w - 12, extra, bold=bold_first and i < 2, anchor=anchor)

    def _empty_text(self, data, empty: str) -> str:
        if data is not None:
            return empty
        if self.snapshot.error:
            return _sentence(self.snapshot.error)
        return "Loading the records..."

    def _draw_footer(self, surface, s: float) -> None:
        p, snap = self._painter, self.snapshot
        width, height = surface.get_size()
        margin, y = int(36 * s), height - int(28 * s)
        text, colour = footer_line(snap)
        hint = "Esc: back   R: refresh"
        hint_w = p.text_image(hint, int(20 * s), theme.TEXT_DIM).get_width()
        p.fitted(surface, text, (margin, y), int(20 * s), width - 3 * margin - hint_w, colour, anchor="midleft")
        p.text(surface, hint, (width - margin, y), int(20 * s), theme.TEXT_DIM, anchor="midright")


def _key(name: str | None) -> str | None:
    return None if not name else " ".join(name.split()).casefold()


def _rank_colour(rank: int) -> tuple[int, int, int]:
    return {1: GOLD, 2: SILVER, 3: BRONZE}.get(rank, theme.TEXT_DIM)


def _is_unreachable(snapshot: Snapshot) -> bool:
    from game.records import StatusKind

    return snapshot.status is not None and snapshot.status.kind is StatusKind.SERVER_UNREACHABLE


# -- the class board (projector) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassBoardData:
    info: ClassInfo
    rows: list[BoardRow]
    titles: dict[str, str]


class ClassBoardScene(_BoardScene):
    """The class leaderboard for a projector: big type, the class code to join with, refreshed every few seconds.

    Rank, trainee, per-level stars (when they fit), levels completed, total score and stars. A trainee whose
    result just arrived is highlighted; a long class turns pages. Esc (or Backspace) closes; F11 toggles full
    screen; R asks the store at once.
    """

    def __init__(self, app, code: str, *, url: str | None = None, refresh_s: float = CLASS_REFRESH_S):
        super().__init__(app)
        self.code = code.strip().upper()
        self.feed: BoardFeed[ClassBoardData] = BoardFeed(_open_default_store(url), self._query, refresh_s)
        self.snapshot: Snapshot[ClassBoardData] = self.feed.snapshot
        self.flash_s: dict[str, float] = {}  # trainee -> seconds of highlight left
        self.page = 0
        self.pages = 1
        self._page_s = 0.0
        self._seen_serial = 0
        self._last_totals: dict[str, tuple] | None = None
        self._titles: dict[str, str] | None = None
        self._painter = _Painter()

    def _query(self, store: RecordStore) -> ClassBoardData:
        """On the feed's worker thread."""
        info = store.class_info(self.code)
        return ClassBoardData(info, store.class_board(info.code), self._level_titles())

    def handle_event(self, event: pygame.event.Event) -> None:
        if self._handle_common(event):
            return
        if event.type == pygame.KEYDOWN:
            if event.key == pygame.K_F11:
                try:
                    pygame.display.toggle_fullscreen()
                    self.app.screen = pygame.display.get_surface() or self.app.screen
                except pygame.error:  # no full screen on this display: the window stays
                    pass
            elif event.key in (pygame.K_RIGHT, pygame.K_PAGEDOWN, pygame.K_DOWN):
                self._turn(+1)
            elif event.key in (pygame.K_LEFT, pygame.K_PAGEUP, pygame.K_UP):
                self._turn(-1)

    def _turn(self, step: int) -> None:
        self.page = (self.page + step) % max(1, self.pages)
        self._page_s = 0.0

    def update(self, dt_s: float) -> None:
        super().update(dt_s)
        if self.snapshot.serial != self._seen_serial and self.snapshot.data is not None:
            self._seen_serial = self.snapshot.serial
            self._note_changes(self.snapshot.data.rows)
        for name in list(self.flash_s):
            self.flash_s[name] -= dt_s
            if self.flash_s[name] <= 0:
                del self.flash_s[name]
        rows = len(self.snapshot.data.rows) if self.snapshot.data else 0
        self.pages = max(1, math.ceil(rows / self._rows_per_page(self.app.screen)))
        self._page_s += dt_s
        if self._page_s >= PAGE_TURN_S:
            self._turn(+1)
        self.page %= self.pages

    def _note_changes(self, rows: list[BoardRow]) -> None:
        """Highlight trainees whose totals changed since the last answer (not on the first one)."""
        totals = {row.trainee: (row.total_score, row.total_stars, row.runs) for row in rows}
        if self._last_totals is not None:
            for name, figures in totals.items():
                if self._last_totals.get(name) != figures:
                    self.flash_s[name] = FLASH_S
        self._last_totals = totals

    # layout, in pixels at scale 1 of the 1280x800 design
    HEADER_PX = 178
    TABLE_HEAD_PX = 40
    ROW_PX = 62
    FOOTER_PX = 66

    def _rows_per_page(self, surface: pygame.Surface) -> int:
        s = _scale(surface)
        free = surface.get_height() - int((self.HEADER_PX + self.TABLE_HEAD_PX + self.FOOTER_PX) * s)
        return max(1, free // int(self.ROW_PX * s))

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        s = _scale(surface)
        data = self.snapshot.data
        self._draw_header(surface, s, data)
        if data is None:
            self._draw_waiting(surface, s)
        elif not data.rows:
            self._draw_centre(surface, s, "No results yet", "Runs appear here as trainees finish them.")
        else:
            self._draw_table(surface, s, data)
        self._draw_footer(surface, s)

    def _draw_header(self, surface, s: float, data: ClassBoardData | None) -> None:
        p = self._painter
        width = surface.get_width()
        margin = int(40 * s)
        box = pygame.Rect(0, 0, int(330 * s), int(120 * s))
        box.topright = (width - margin, int(22 * s))
        p.panel(surface, box, theme.PANEL, theme.ACCENT, radius=int(10 * s))
        p.text(surface, "CLASS CODE", (box.centerx, box.y + int(10 * s)), int(22 * s), theme.TEXT_DIM, anchor="midtop")
        p.fitted(surface, self.code, (box.centerx, box.bottom - int(14 * s)), int(76 * s), box.width - int(20 * s),
                 theme.ACCENT, bold=True, anchor="midbottom")  # fmt: skip
        name = data.info.name if data else "Class board"
        text_w = box.x - margin - int(24 * s)
        p.fitted(surface, name, (margin, int(26 * s)), int(64 * s), text_w, theme.TEXT, bold=True)
        if data is None:
            return
        self._draw_levels(surface, s, data, (margin, int(100 * s)), text_w)
        trainees = len(data.rows)
        done = sum(1 for row in data.rows if row.levels_completed == len(data.info.level_ids))
        summary = f"{trainees} trainee{'s' if trainees != 1 else ''}, {done} finished every level"
        p.text(surface, summary, (margin, int(138 * s)), int(24 * s), theme.TEXT_DIM)

    def _draw_levels(self, surface, s: float, data: ClassBoardData, pos: tuple[int, int], width: int) -> None:
        """The numbered levels on one line: their titles if they fit at a readable size, else their ids."""
        levels = data.info.level_ids
        size, smallest = int(28 * s), int(22 * s)
        titles = [data.titles.get(level, level) for level in levels]
        for last, names in ((False, titles), (True, list(levels))):
            line = "Levels:   " + "     ".join(f"{i}. {name}" for i, name in enumerate(names, start=1))
            if last or theme.font(smallest).size(line)[0] <= width:
                self._painter.fitted(surface, line, pos, size, width, theme.TEXT_DIM)
                return

    def _columns(self, surface, s: float, levels: tuple[str, ...]) -> tuple[list[_Column], bool]:
        radius = int(10 * s)
        level_px = (_stars_width(radius) + int(24 * s)) / s
        base = [_Column("Rank", 110, "centre"), _Column("Trainee", 1.0, flex=True)]
        tail = [_Column("Levels", 130, "centre"), _Column("Score", 190, "right"), _Column("Stars", 150, "right")]
        fixed_px = sum(c.width for c in base + tail if not c.flex) + 300  # a trainee's name needs 300 at least
        room = (surface.get_width() - 80 * s) / s - fixed_px
        show_levels = 0 < len(levels) * level_px <= room
        per_level = [_Column(str(i), level_px, "centre") for i in range(1, len(levels) + 1)] if show_levels else []
        return base + per_level + tail, show_levels

    def _draw_table(self, surface, s: float, data: ClassBoardData) -> None:
        p = self._painter
        width = surface.get_width()
        margin = int(40 * s)
        levels = data.info.level_ids
        columns, show_levels = self._columns(surface, s, levels)
        spans = _layout(columns, margin, width - 2 * margin, s)
        head_y = int((self.HEADER_PX + self.TABLE_HEAD_PX / 2) * s)
        for column, (x, w) in zip(columns, spans, strict=True):
            anchor, pos = _anchor(column.align, x, w, head_y)
            p.text(surface, column.title, pos, int(24 * s), theme.TEXT_DIM, bold=True, anchor=anchor)
        per_page = self._rows_per_page(surface)
        shown = data.rows[self.page * per_page : (self.page + 1) * per_page]
        row_h, size = int(self.ROW_PX * s), int(44 * s)
        y = int((self.HEADER_PX + self.TABLE_HEAD_PX) * s)
        for row in shown:
            line = pygame.Rect(margin, y + int(3 * s), width - 2 * margin, row_h - int(6 * s))
            hot = row.trainee in self.flash_s
            p.panel(surface, line, ROW_HOT if hot else theme.PANEL, theme.ACCENT if hot else theme.PANEL,
                    radius=int(8 * s))  # fmt: skip
            cy = line.centery
            cells: list[tuple[Any, Any]] = [(str(row.rank), _rank_colour(row.rank)), (row.trainee, theme.TEXT)]
            if show_levels:
                cells += [(_LEVEL, row.best.get(level)) for level in levels]
            complete = row.levels_completed == len(levels)
            cells += [
                (f"{row.levels_completed}/{len(levels)}", GOOD if complete else theme.TEXT),
                (_number(row.total_score), theme.TEXT),
                (_TOTAL_STARS, row.total_stars),
            ]
            for i, (column, (x, w), (value, extra)) in enumerate(zip(columns, spans, cells, strict=True)):
                if value is _LEVEL:
                    self._level_cell(surface, x, w, cy, extra, s)
                elif value is _TOTAL_STARS:
                    self._total_stars(surface, x, w, cy, int(extra), 3 * len(levels), s)
                else:
                    anchor, pos = _anchor(column.align, x, w, cy)
                    p.fitted(surface, value, pos, size, w - 16, extra, bold=i < 2 or i == len(columns) - 2,
                             anchor=anchor)  # fmt: skip
            y += row_h
        if self.pages > 1:
            label = f"page {self.page + 1} of {self.pages}"
            bottom = int((self.HEADER_PX + self.TABLE_HEAD_PX) * s) + per_page * row_h
            p.text(
                surface, label, (width - margin, bottom + int(4 * s)), int(22 * s), theme.TEXT_DIM, anchor="topright"
            )

    def _level_cell(self, surface, x: int, w: int, cy: int, best: LevelBest | None, s: float) -> None:
        p = self._painter
        if best is None:
            p.text(surface, "-", (x + w // 2, cy), int(36 * s), theme.PANEL_EDGE, anchor="center")
            return
        radius = int(10 * s)
        p.stars(surface, x + (w - _stars_width(radius)) // 2, cy, best.stars, radius)

    def _total_stars(self, surface, x: int, w: int, cy: int, stars: int, out_of: int, s: float) -> None:
        p = self._painter
        radius = int(14 * s)
        label = p.text(surface, f"{stars}", (x + w - int(8 * s), cy), int(44 * s), GOLD, bold=True, anchor="midright")
        p.stars(surface, label.x - int(8 * s) - 2 * radius, cy, 1, radius, out_of=1)

    def _draw_waiting(self, surface, s: float) -> None:
        snap = self.snapshot
        if snap.error:
            again = f"Trying again every {self.feed.interval_s:g} s."
            colour = theme.WARNING if _is_unreachable(snap) else theme.DANGER
            self._draw_centre(surface, s, _sentence(snap.error), again, colour)
        else:
            self._draw_centre(surface, s, "Loading the class board...", "")

    def _draw_centre(self, surface, s: float, title: str, subtitle: str, colour=theme.TEXT) -> None:
        """A message in the middle of the screen: the title wrapped on up to three lines, a dim line under it."""
        p = self._painter
        width, height = surface.get_size()
        margin, size = int(60 * s), int(44 * s)
        lines = _wrap(title, theme.font(size, True), width - 2 * margin)
        lines = [*lines[:2], " ".join(lines[2:])] if len(lines) > 3 else lines
        line_h = int(size * 1.15)
        y = height // 2 - int(20 * s) - line_h * (len(lines) - 1)
        for line in lines:
            p.fitted(surface, line, (width // 2, y), size, width - 2 * margin, colour, bold=True, anchor="midbottom")
            y += line_h
        if subtitle:
            p.fitted(surface, subtitle, (width // 2, height // 2 + int(10 * s)), int(30 * s), width - 2 * margin,
                     theme.TEXT_DIM, anchor="midtop")  # fmt: skip

    def _draw_footer(self, surface, s: float) -> None:
        p, snap = self._painter, self.snapshot
        width, height = surface.get_size()
        margin = int(40 * s)
        band = pygame.Rect(0, height - int(self.FOOTER_PX * s) + int(10 * s), width, int(self.FOOTER_PX * s))
        pygame.draw.rect(surface, theme.PANEL, band)
        pygame.draw.line(surface, theme.PANEL_EDGE, band.topleft, band.topright, max(1, int(s)))
        cy = band.centery - int(5 * s)
        text, colour = footer_line(snap)
        right = f"updated {_clock_time(snap.updated_at)}" if snap.updated_at else ""
        right_w = p.text_image(right, int(24 * s), theme.TEXT_DIM).get_width() if right else 0
        p.fitted(surface, text, (margin, cy), int(28 * s), width - 2 * margin - right_w - int(30 * s), colour,
                 bold=colour == theme.WARNING, anchor="midleft")  # fmt: skip
        if right:
            p.text(surface, right, (width - margin, cy), int(24 * s), theme.TEXT_DIM, anchor="midright")


def open_class_board(code: str, *, url: str | None = None, max_frames: int | None = None) -> int:
    """``lumen class board CODE --window``: the game window showing the class board until it is closed."""
    import os
    import sys

    from game.app.main import App

    if os.environ.get("SDL_VIDEODRIVER") == "dummy":
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        app = App()
    except pygame.error as exc:
        print(f"lumen class board: cannot open the game window: {exc}", file=sys.stderr)
        return 1
    scene = ClassBoardScene(app, code, url=url)
    try:
        return app.run(scene, max_frames=max_frames)
    finally:
        scene.feed.close(wait_s=2.0)  # also when the loop ended without popping the scene
