"""The game window and its loop: a fixed simulation timestep, drawing decoupled from it and interpolated.

The loop counts time from a replaceable clock: the real one in the game, a :class:`FixedClock` that advances one
step per frame in tests, screenshots and benchmarks (deterministic, and as fast as the machine goes).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

import pygame

from game.app import theme
from game.app.scene import Scene, SceneStack
from game.app.settings import Settings

#: At most this many fixed steps are run to catch up after a slow frame; the rest of the backlog is dropped.
MAX_CATCH_UP_STEPS = 5
STEP_MS = 1000.0 / theme.SIM_RATE_HZ


class RealClock:
    """Wall-clock time; ``wait`` sleeps to hold the frame rate."""

    def __init__(self) -> None:
        self._clock = pygame.time.Clock()

    def now_ms(self) -> float:
        return float(pygame.time.get_ticks())

    def wait(self, fps: int) -> None:
        self._clock.tick(fps)


class FixedClock:
    """Simulated time: every frame is exactly ``frame_ms`` long and nothing sleeps."""

    def __init__(self, frame_ms: float = STEP_MS):
        self.frame_ms = frame_ms
        self._now = 0.0

    def now_ms(self) -> float:
        return self._now

    def wait(self, fps: int) -> None:
        self._now += self.frame_ms


class App:
    """Owns the window, the clock, the settings, the sounds, the gamepads and the scene stack."""

    def __init__(
        self,
        size: tuple[int, int] = theme.WINDOW_SIZE,
        clock: RealClock | FixedClock | None = None,
        trainee: str | None = None,
        class_code: str | None = None,
    ):
        pygame.init()
        from game.app.widgets import clear_caches

        clear_caches()  # fonts and text made before an earlier pygame.quit() are dead
        pygame.display.set_caption("Lumen: fluoroscopy training")
        self.screen = pygame.display.set_mode(size, pygame.RESIZABLE)
        self.clock = clock or RealClock()
        self.scenes = SceneStack()
        self.running = True
        self.frames = 0
        self.settings, warning = Settings.load()
        self.warnings = [warning] if warning else []
        # A name or class given on the command line wins for this session (and is not written back).
        self.trainee = trainee if trainee is not None else (self.settings.trainee or None)
        self.class_code = class_code if class_code is not None else (self.settings.class_code or None)
        self.jobs: list = []  # background work that must finish before the game closes (runs being stored)
        self.joysticks: dict[int, pygame.joystick.JoystickType] = {}
        self._open_joysticks()
        from game.app.sound import SoundBank

        self.sounds = SoundBank(self.settings.volume, self.settings.muted)

    # --- settings -------------------------------------------------------------------------------------------------
    def save_settings(self) -> None:
        warning = self.settings.save()
        if warning:
            self.warnings.append(warning)
        self.sounds.set_volume(self.settings.volume, self.settings.muted)

    def set_trainee(self, name: str | None, class_code: str | None) -> None:
        self.trainee, self.class_code = name or None, class_code or None
        self.settings.trainee, self.settings.class_code = name or "", class_code or ""
        self.save_settings()

    def go_home(self, to_levels: bool = False) -> None:
        """Back to the main menu (or the level select above it), however the game was started."""
        from game.app.scenes.level_select import LevelSelectScene
        from game.app.scenes.menu import MenuScene

        home = LevelSelectScene if to_levels else MenuScene
        while self.scenes.top is not None and not isinstance(self.scenes.top, home | MenuScene):
            self.scenes.pop()
        if self.scenes.top is None:
            self.scenes.push(MenuScene(self))  # started straight into a level (lumen play): the menu was not there
        if not isinstance(self.scenes.top, home):
            self.scenes.push(home(self))

    # --- gamepads -------------------------------------------------------------------------------------------------
    def _open_joysticks(self) -> None:
        try:
            pygame.joystick.init()
            for index in range(pygame.joystick.get_count()):
                stick = pygame.joystick.Joystick(index)
                self.joysticks[stick.get_instance_id()] = stick
        except pygame.error:  # no joystick subsystem: keyboard and mouse still work
            pass

    def _joystick_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.JOYDEVICEADDED:
            try:
                stick = pygame.joystick.Joystick(event.device_index)
                self.joysticks[stick.get_instance_id()] = stick
            except pygame.error:
                pass
        elif event.type == pygame.JOYDEVICEREMOVED:
            self.joysticks.pop(event.instance_id, None)

    # --- the loop -------------------------------------------------------------------------------------------------
    def quit(self) -> None:
        self.running = False

    def frame(self, events: Iterable[pygame.event.Event], steps: int, alpha: float) -> None:
        """One display frame: events to the top scene, ``steps`` fixed updates, one draw (no flip)."""
        for event in events:
            if event.type == pygame.QUIT:
                self.quit()
            elif event.type in (pygame.JOYDEVICEADDED, pygame.JOYDEVICEREMOVED):
                self._joystick_event(event)
            elif event.type == pygame.VIDEORESIZE:
                self.screen = pygame.display.get_surface()
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_F11:
                self._toggle_fullscreen()
            elif self.scenes.top is not None:
                self.scenes.top.handle_event(event)
        for _ in range(steps):
            if self.scenes.top is None:
                break
            self.scenes.top.update(STEP_MS / 1000.0)
        if self.scenes.top is not None:
            self.scenes.top.draw(self.screen, alpha)

    def run(
        self,
        first: Scene | None,
        max_frames: int | None = None,
        events: list | None = None,
        script: Callable[[int], Iterable[pygame.event.Event]] | None = None,
        close: bool = True,
    ) -> int:
        """Run until quit (or ``max_frames``). ``events`` are posted first; ``script(frame)`` gives events to post
        before each frame (tests drive the app through its real loop with them)."""
        if first is not None:
            self.scenes.push(first)
        for event in events or ():
            pygame.event.post(event)
        last = self.clock.now_ms()
        backlog_ms = 0.0
        while self.running and self.scenes.top is not None:
            if script is not None:
                for event in script(self.frames):
                    pygame.event.post(event)
            now = self.clock.now_ms()
            backlog_ms += now - last
            last = now
            steps = 0
            while backlog_ms >= STEP_MS - 1e-6 and steps < MAX_CATCH_UP_STEPS:
                backlog_ms -= STEP_MS
                steps += 1
            if steps == MAX_CATCH_UP_STEPS:
                backlog_ms = 0.0  # drop the backlog rather than spiral
            self.frame(pygame.event.get(), steps, max(0.0, backlog_ms) / STEP_MS)
            pygame.display.flip()
            self.clock.wait(theme.FPS_TARGET)
            self.frames += 1
            if max_frames is not None and self.frames >= max_frames:
                break
        if close:
            self.close()
        return 0

    def keep(self, job) -> None:
        """Background work that must finish before the game closes (a run being stored)."""
        self.jobs = [j for j in self.jobs if not j.done] + [job]

    def _toggle_fullscreen(self) -> None:
        try:
            pygame.display.toggle_fullscreen()
        except pygame.error:  # not every video driver can (the dummy one cannot)
            return
        self.screen = pygame.display.get_surface()

    def close(self) -> None:
        while self.scenes.top is not None:
            self.scenes.pop()
        for job in self.jobs:
            job.wait(10.0)
        pygame.quit()


def run_app(
    level=None, max_frames: int | None = None, trainee: str | None = None, class_code: str | None = None
) -> int:
    """Open the game at the main menu, or straight at ``level``'s briefing."""
    from game.app.scenes.briefing import BriefingScene
    from game.app.scenes.menu import MenuScene

    app = _open_window(trainee=trainee, class_code=class_code)
    if app is None:
        return 1
    first: Scene = MenuScene(app) if level is None else BriefingScene(app, level)
    return app.run(first, max_frames=max_frames)


def _open_window(**kwargs) -> App | None:
    """The game window, or None after one line saying why it cannot open (no display, a broken video driver)."""
    if os.environ.get("SDL_VIDEODRIVER") == "dummy":
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        return App(**kwargs)
    except pygame.error as exc:
        pygame.quit()
        print(f"lumen: cannot open the game window: {exc} (headless? the commands without a window still work)",
              file=sys.stderr)  # fmt: skip
        return None


def watch_replay(path, max_frames: int | None = None) -> int:
    """``lumen replay FILE --watch``: the replay viewer in the window."""
    from game.app.scenes.replay_viewer import ReplayLoadScene

    app = _open_window()
    if app is None:
        return 1
    return app.run(ReplayLoadScene(app, path), max_frames=max_frames)
