"""Level select: the shipped levels in campaign order, their procedure and difficulty, and the trainee's best
stars and score on each (read from the records store in the background)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import pygame

from game.app import theme
from game.app.records import best_per_level
from game.app.scene import Scene
from game.app.widgets import draw_stars, draw_text, fit_size, panel, wrap_cached
from game.sim.level.library import shipped_levels


def _level_board_scene():
    """The per-level leaderboard, when that scene exists in this build (it is written separately)."""
    try:
        from game.app.scenes.leaderboard import LevelBoardScene
    except ImportError:
        return None
    return LevelBoardScene


class LevelSelectScene(Scene):
    def on_enter(self) -> None:
        self.levels, problems = shipped_levels()
        self.messages = [str(p) for p in problems]
        self.selected = 0
        self._rows: list[pygame.Rect] = []
        self._refresh()

    def on_resume(self) -> None:
        self._refresh()  # a run may have been stored since

    def _refresh(self) -> None:
        self.records = best_per_level(self.app.trainee, [job for job in self.app.jobs if not job.done])

    @property
    def bests(self) -> dict:
        job = self.records
        return job.result if job.done and job.error is None and job.result else {}

    def handle_event(self, event: pygame.event.Event) -> None:
        n = len(self.levels)
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_ESCAPE, pygame.K_BACKSPACE):
                self.app.scenes.pop()
            elif event.key in (pygame.K_DOWN, pygame.K_s) and n:
                self.selected = (self.selected + 1) % n
            elif event.key in (pygame.K_UP, pygame.K_w) and n:
                self.selected = (self.selected - 1) % n
            elif event.key in (pygame.K_RETURN, pygame.K_SPACE, pygame.K_KP_ENTER):
                self.open_selected()
            elif event.key == pygame.K_l:
                self.open_board()
            elif event.key == pygame.K_t:
                from game.app.scenes.trainee import TraineeScene

                self.app.scenes.push(TraineeScene(self.app))
        elif event.type == pygame.JOYHATMOTION and event.value[1] and n:
            self.selected = (self.selected - event.value[1]) % n
        elif event.type == pygame.JOYBUTTONDOWN and event.button == 0:
            self.open_selected()
        elif event.type == pygame.MOUSEMOTION:
            for i, rect in enumerate(self._rows):
                if rect.collidepoint(event.pos):
                    self.selected = i
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for i, rect in enumerate(self._rows):
                if rect.collidepoint(event.pos):
                    self.selected = i
                    self.open_selected()

    def open_selected(self) -> None:
        if not self.levels:
            return
        from pathlib import Path

        from game.app.scenes.loading import start_level

        start_level(self.app, Path(self.levels[self.selected].path))

    def open_board(self) -> None:
        board = _level_board_scene()
        if board is None:
            self.messages = ["Leaderboards are not part of this build."]
        elif self.levels:
            self.app.scenes.push(board(self.app, self.levels[self.selected].id))

    def draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(theme.BACKGROUND)
        width, height = surface.get_size()
        s = height / 800.0
        margin = int(40 * s)
        draw_text(surface, "Choose a level", (margin, int(30 * s)), size=int(44 * s), bold=True)
        who = f"Trainee: {self.app.trainee}" if self.app.trainee else "No trainee: runs are kept anonymously"
        if self.app.class_code:
            who += f"   class {self.app.class_code}"
        draw_text(surface, who, (width - margin, int(44 * s)), size=int(22 * s), colour=theme.TEXT_DIM,
                  anchor="topright")  # fmt: skip
        size = int(24 * s)
        row_h = int(62 * s)
        full = height - int(170 * s)
        wanted = int(52 * s) + row_h * max(1, len(self.levels))
        table = pygame.Rect(margin, int(100 * s), width - 2 * margin, min(full, wanted))
        panel(surface, table)
        if full - table.height > int(160 * s) and self.levels:
            room = min(full - table.height - int(16 * s), int(210 * s))
            details = pygame.Rect(margin, table.bottom + int(16 * s), table.width, room)
            self._draw_details(surface, details, self.levels[self.selected], s)
        cols = {
            "n": table.x + int(20 * s),
            "title": table.x + int(64 * s),
            "difficulty": table.x + int(table.width * 0.60),
            "best": table.x + int(table.width * 0.73),
            "score": table.right - int(20 * s),
        }
        head_y = table.y + int(12 * s)
        for key, label in (("title", "level"), ("difficulty", "difficulty"), ("best", "your best")):
            draw_text(surface, label, (cols[key], head_y), size=int(18 * s), colour=theme.TEXT_DIM, bold=True)
        draw_text(surface, "score", (cols["score"], head_y), size=int(18 * s), colour=theme.TEXT_DIM, bold=True,
                  anchor="topright")  # fmt: skip
        bests = self.bests
        self._rows = []
        y = head_y + int(30 * s)
        if not self.levels:
            draw_text(surface, "No levels found.", (table.centerx, y + 40), size=size, anchor="midtop")
        visible = max(1, (table.bottom - y - int(8 * s)) // row_h)
        first = max(0, min(self.selected - visible // 2, len(self.levels) - visible))
        self._rows = [pygame.Rect(0, 0, 0, 0)] * len(self.levels)  # rows scrolled out of view take no clicks
        for i in range(first, min(len(self.levels), first + visible)):
            info = self.levels[i]
            rect = pygame.Rect(table.x + 8, y, table.width - 16, row_h - int(6 * s))
            self._rows[i] = rect
            chosen = i == self.selected
            if chosen:
                panel(surface, rect, theme.PANEL_HOT, theme.ACCENT)
            colour = theme.TEXT if chosen else theme.TEXT_DIM
            draw_text(surface, f"{i + 1}", (cols["n"], rect.y + int(8 * s)), size=size, colour=colour)
            title_w = cols["difficulty"] - cols["title"] - int(16 * s)
            draw_text(surface, info.title, (cols["title"], rect.y + int(6 * s)),
                      size=fit_size(info.title, size, title_w), colour=colour)  # fmt: skip
            draw_text(surface, info.procedure.replace("_", " "), (cols["title"], rect.y + int(32 * s)),
                      size=int(17 * s), colour=theme.TEXT_DIM)  # fmt: skip
            draw_stars(surface, (cols["difficulty"], rect.centery), info.difficulty, radius=int(7 * s), out_of=5,
                       colour=theme.TEXT_DIM)  # fmt: skip
            best = bests.get(info.id)
            if best is not None:
                draw_stars(surface, (cols["best"], rect.centery), best.stars, radius=int(11 * s))
                tries = f"{best.attempts} run{'s' if best.attempts != 1 else ''}"
                draw_text(surface, tries, (cols["best"] + int(96 * s), rect.centery), size=int(17 * s),
                          colour=theme.TEXT_DIM, anchor="midleft")  # fmt: skip
                draw_text(surface, f"{best.score:.0f}", (cols["score"], rect.centery), size=size, colour=colour,
                          anchor="midright")  # fmt: skip
            else:
                draw_text(surface, "not played", (cols["best"], rect.centery), size=int(18 * s),
                          colour=theme.TEXT_DIM, anchor="midleft")  # fmt: skip
            y += row_h
        if visible < len(self.levels):
            shown = f"levels {first + 1}-{min(len(self.levels), first + visible)} of {len(self.levels)}"
            draw_text(surface, shown, (table.right - int(16 * s), table.bottom - int(4 * s)), size=int(16 * s),
                      colour=theme.TEXT_DIM, anchor="bottomright")  # fmt: skip
        job = self.records
        table = pygame.Rect(margin, int(100 * s), width - 2 * margin, full)
        status = []
        if not job.done:
            status.append("reading your results...")
        elif job.error is not None:
            status.append(f"results unavailable: {job.error}")
        status += self.messages
        sy = table.bottom - int(10 * s) - int(20 * s) * len(status)
        for message in status:
            draw_text(surface, message, (table.x + int(16 * s), sy), size=fit_size(message, int(18 * s),
                      table.width - 32), colour=theme.WARNING)  # fmt: skip
            sy += int(20 * s)
        board = "   L: leaderboard" if _level_board_scene() is not None else ""
        hint = f"Up/Down: choose   Enter: briefing{board}   T: change trainee   Esc: back"
        draw_text(surface, hint, (width // 2, height - int(24 * s)), size=int(20 * s), colour=theme.TEXT_DIM,
                  anchor="midbottom")  # fmt: skip

    def _draw_details(self, surface: pygame.Surface, rect: pygame.Rect, info, s: float) -> None:
        """The selected level: its case, what a competent run uses, and the trainee's best against that."""
        panel(surface, rect)
        x, y = rect.x + int(20 * s), rect.y + int(14 * s)
        inner = rect.width - int(40 * s)
        raw = _level_text(info.path)
        size = int(21 * s)
        draw_text(surface, info.title, (x, y), size=fit_size(info.title, int(26 * s), inner), bold=True)
        y += int(36 * s)
        lines = wrap_cached(str(raw.get("briefing", "")), size, inner)
        for line in [line for line in lines if line][:3]:
            draw_text(surface, line, (x, y), size=size, colour=theme.TEXT_DIM)
            y += int(size * 1.2)
        ref = raw.get("reference", {}) if isinstance(raw.get("reference"), dict) else {}
        y += int(8 * s)
        if ref:
            fluoro, kerma, kap = (ref.get(k, "?") for k in ("fluoro_time_s", "air_kerma_mGy", "kap_Gycm2"))
            text = f"A competent run: fluoroscopy {fluoro} s, Ka,r {kerma} mGy, KAP {kap} Gy·cm²"
            draw_text(surface, text, (x, y), size=fit_size(text, size, inner), colour=theme.TEXT)
            y += int(size * 1.3)
        best = self.bests.get(info.id)
        if best is not None:
            when = best.finished_at.strftime("%d %b %Y")
            text = (f"Your best ({when}, {best.attempts} run{'s' if best.attempts != 1 else ''}): fluoroscopy "
                    f"{best.fluoro_time_s:.1f} s, Ka,r {best.air_kerma_mGy:.1f} mGy, KAP {best.kap_Gycm2:.2f} Gy·cm², "
                    f"score {best.score:.0f}")  # fmt: skip
            draw_text(surface, text, (x, y), size=fit_size(text, size, inner), colour=theme.ACCENT)


@lru_cache(maxsize=64)
def _level_text(path: str) -> dict:
    """The raw fields of a level file (briefing, reference) for the details panel; empty if unreadable."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
