"""Sounds of the cath lab, synthesised with numpy: the fluoroscopy buzz, the 5-minute alarm, the injector.

Nothing is downloaded or shipped: each sound is a few lines of signal. Without an audio device (a headless
machine, a missing driver) the game stays silent and says so once; it never fails for want of sound.
"""

from __future__ import annotations

import numpy as np
import pygame

SAMPLE_RATE_HZ = 22050
BUZZ_HZ = 120.0  # the generator's hum at twice the mains frequency
BUZZ_SECONDS = 1.0  # looped
ALARM_HZ = 2000.0  # a high, piercing tone, as fluoroscopy timers use
ALARM_BEEPS = 3
INJECTOR_HZ = 340.0  # motor whine
AMPLITUDE = 0.35


def _buzz() -> np.ndarray:
    t = np.arange(int(SAMPLE_RATE_HZ * BUZZ_SECONDS)) / SAMPLE_RATE_HZ
    wave = sum(np.sin(2 * np.pi * BUZZ_HZ * k * t) / k for k in (1, 2, 3, 5))
    return wave / np.abs(wave).max() * 0.6


def _alarm() -> np.ndarray:
    beep = int(0.18 * SAMPLE_RATE_HZ)
    gap = int(0.12 * SAMPLE_RATE_HZ)
    t = np.arange(beep) / SAMPLE_RATE_HZ
    tone = np.sin(2 * np.pi * ALARM_HZ * t) * np.minimum(1.0, np.minimum(t, t[::-1]) * 200.0)
    return np.concatenate([np.concatenate([tone, np.zeros(gap)]) for _ in range(ALARM_BEEPS)])


def _injector() -> np.ndarray:
    t = np.arange(int(0.5 * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    wobble = 1.0 + 0.02 * np.sin(2 * np.pi * 7.0 * t)
    wave = np.sin(2 * np.pi * INJECTOR_HZ * wobble * t) + 0.3 * np.sin(2 * np.pi * 2 * INJECTOR_HZ * t)
    return wave / np.abs(wave).max() * 0.4


SOUNDS = {"buzz": _buzz, "alarm": _alarm, "injector": _injector}


class SoundBank:
    """Plays the named sounds; a silent stand-in when the mixer cannot start."""

    def __init__(self, volume: float = 0.7, muted: bool = False):
        self.volume = volume
        self.muted = muted
        self.available = False
        self.problem: str | None = None
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        self._looping: set[str] = set()
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=SAMPLE_RATE_HZ, size=-16, channels=1)
            frequency, _, channels = pygame.mixer.get_init()
            for name, make in SOUNDS.items():
                wave = make()
                if frequency != SAMPLE_RATE_HZ:
                    wave = np.interp(np.arange(0, len(wave), SAMPLE_RATE_HZ / frequency), np.arange(len(wave)), wave)
                pcm = (np.clip(wave * AMPLITUDE, -1, 1) * 32767).astype(np.int16)
                if channels > 1:
                    pcm = np.repeat(pcm[:, None], channels, axis=1)
                self._sounds[name] = pygame.sndarray.make_sound(np.ascontiguousarray(pcm))
            self.available = True
        except (pygame.error, ValueError) as exc:
            self.problem = f"sound is off: {exc}"
        self.set_volume(volume, muted)

    def set_volume(self, volume: float, muted: bool) -> None:
        self.volume, self.muted = max(0.0, min(1.0, volume)), muted
        for sound in self._sounds.values():
            sound.set_volume(0.0 if muted else self.volume)

    def play(self, name: str) -> None:
        if self.available:
            self._sounds[name].play()

    def loop(self, name: str, on: bool) -> None:
        """Start or stop a looping sound (the buzz while the beam is on, the injector while injecting)."""
        if not self.available or (name in self._looping) == on:
            return
        if on:
            self._sounds[name].play(loops=-1)
            self._looping.add(name)
        else:
            self._sounds[name].stop()
            self._looping.discard(name)
