"""Sound through pygame.mixer: the cue patterns as generated tones, silent without an audio device.

The same :data:`~wobble_trainer.feedback.cues.CUE_PATTERNS` the buzzer plays are rendered once
into sine-tone buffers. With eyes closed, an optional continuous tone follows the tilt (Dozza's
auditory biofeedback, DOMAIN.md §7): its pitch rises with forward tilt and its stereo balance
follows left/right tilt.
"""

from __future__ import annotations

import logging

import numpy as np

from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import CUE_PATTERNS, Cue, Pattern

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050
VOLUME = 0.4
TONE_CHUNK_S = 0.05
TONE_FREQUENCIES_HZ = tuple(range(300, 920, 20))
"""Pitches of the tilt tone, low (board back) to high (board forward)."""


def render_pattern(pattern: Pattern, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A pattern as 16-bit mono samples, with 5 ms fades so notes do not click."""
    parts = []
    for note in pattern:
        n = int(note.duration_s * rate)
        if note.frequency_hz is None:
            parts.append(np.zeros(n))
            continue
        t = np.arange(n) / rate
        wave = np.sin(2 * np.pi * note.frequency_hz * t)
        fade = min(n // 2, int(0.005 * rate))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade)
            wave[:fade] *= ramp
            wave[-fade:] *= ramp[::-1]
        parts.append(wave)
    return (np.concatenate(parts) * VOLUME * 32767).astype(np.int16)


def _tone_chunk(frequency_hz: float) -> np.ndarray:
    # As many samples as whole cycles need (to the nearest sample), so chunks join smoothly.
    cycles = max(1, round(TONE_CHUNK_S * frequency_hz))
    n = round(cycles * SAMPLE_RATE / frequency_hz)
    t = np.arange(n) / SAMPLE_RATE
    mono = (np.sin(2 * np.pi * frequency_hz * t) * VOLUME * 0.5 * 32767).astype(np.int16)
    return np.ascontiguousarray(np.column_stack((mono, mono)))


class SoundFeedback:
    """The :class:`~wobble_trainer.feedback.base.Feedback` of the app's speakers."""

    def __init__(self) -> None:
        self.available = False
        self._sounds: dict[Cue, object] = {}
        self._tone_channel = None
        self._tones: list = []
        try:
            import pygame

            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=SAMPLE_RATE, size=-16, channels=2)
            for cue, pattern in CUE_PATTERNS.items():
                mono = render_pattern(pattern)
                self._sounds[cue] = pygame.sndarray.make_sound(
                    np.ascontiguousarray(np.column_stack((mono, mono)))
                )
            self._tones = [pygame.sndarray.make_sound(_tone_chunk(f)) for f in TONE_FREQUENCIES_HZ]
            self.available = True
        except Exception as exc:  # no audio device: carry on silently
            log.info("sound is off: %s", exc)
            self._sounds = {}
        self.played: list[Cue] = []

    def set_targets(self, targets: FeedbackTargets | None) -> None:
        if targets is None:
            self.stop_tilt_tone()

    def cue(self, kind: Cue | str) -> None:
        cue = Cue(kind)
        self.played.append(cue)
        sound = self._sounds.get(cue)
        if sound is not None:
            sound.play()

    def follow_tilt(self, forward: float, right: float) -> None:
        """Continuous tone, called every frame: ``forward`` and ``right`` in -1..1 (fractions of
        the edge angle). Forward tilt raises the pitch, back tilt lowers it; left/right tilt
        moves the sound to that ear. Chunks of 50 ms are queued, so it follows within ~0.1 s."""
        if not self._tones:
            return
        f = max(0.0, min(1.0, (forward + 1.0) / 2.0))
        chunk = self._tones[round(f * (len(self._tones) - 1))]
        channel = self._tone_channel
        if channel is None or not channel.get_busy():
            self._tone_channel = channel = chunk.play()
        elif channel.get_queue() is None:
            channel.queue(chunk)
        if channel is None:
            return
        pan = max(-1.0, min(1.0, right))
        channel.set_volume((1 - pan) / 2, (1 + pan) / 2)

    def stop_tilt_tone(self) -> None:
        if self._tone_channel is not None:
            self._tone_channel.stop()
            self._tone_channel = None

    def close(self) -> None:
        self.stop_tilt_tone()
