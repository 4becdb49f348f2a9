import numpy as np
import pytest

from wobble_trainer.app import sound
from wobble_trainer.app.sound import SAMPLE_RATE, SoundFeedback, render_pattern
from wobble_trainer.feedback.cues import CUE_PATTERNS, Cue, pattern_duration


@pytest.mark.parametrize("cue", list(Cue))
def test_each_cue_renders_to_its_length_with_silences(cue):
    pattern = CUE_PATTERNS[cue]
    wave = render_pattern(pattern)
    assert wave.dtype == np.int16
    assert len(wave) == pytest.approx(pattern_duration(pattern) * SAMPLE_RATE, abs=len(pattern))
    assert np.abs(wave).max() > 1000  # audible
    assert wave[0] == 0  # faded in: no click


def test_sound_plays_under_the_dummy_audio_driver():
    feedback = SoundFeedback()
    feedback.cue("countdown")
    feedback.cue(Cue.END)
    feedback.follow_tilt(0.5, -0.5)
    feedback.follow_tilt(-1.0, 1.0)
    feedback.set_targets(None)
    feedback.close()
    assert feedback.played == [Cue.COUNTDOWN, Cue.END]


def test_without_an_audio_device_it_is_silent_not_broken(monkeypatch):
    import pygame

    def no_device(*args, **kwargs):
        raise pygame.error("No available audio device")

    monkeypatch.setattr(pygame.mixer, "get_init", lambda: False)
    monkeypatch.setattr(pygame.mixer, "init", no_device)
    feedback = SoundFeedback()
    assert not feedback.available
    feedback.cue(Cue.GO)
    feedback.follow_tilt(0.2, 0.2)
    assert feedback.played == [Cue.GO]


def test_tilt_tone_chunks_join_without_clicks():
    for f in sound.TONE_FREQUENCIES_HZ:
        chunk = sound._tone_chunk(f)[:, 0].astype(float)
        # a whole number of cycles: the next chunk starts where this one would continue
        n = len(chunk)
        phase_error = np.remainder(2 * np.pi * f * n / SAMPLE_RATE + np.pi, 2 * np.pi) - np.pi
        assert abs(phase_error) <= np.pi * f / SAMPLE_RATE + 1e-9  # within half a sample
