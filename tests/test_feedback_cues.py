"""Cue patterns (data) and the stepping player."""

import math

import pytest

from wobble_trainer.feedback.cues import (
    CUE_PATTERNS,
    MAX_FREQUENCY_HZ,
    MIN_FREQUENCY_HZ,
    Cue,
    CuePlayer,
    Note,
    pattern_duration,
)


def rhythm(pattern):
    """What an active (fixed-pitch) buzzer can convey: on/off and durations."""
    return tuple((n.frequency_hz is not None, n.duration_s) for n in pattern)


def test_every_cue_has_a_pattern_within_the_buzzer_band():
    assert set(CUE_PATTERNS) == set(Cue)
    for pattern in CUE_PATTERNS.values():
        assert pattern[0].frequency_hz is not None  # starts with sound: no silent latency
        assert pattern[-1].frequency_hz is not None
        for note in pattern:
            f = note.frequency_hz
            assert f is None or MIN_FREQUENCY_HZ <= f <= MAX_FREQUENCY_HZ


def test_cues_distinct_even_on_an_active_buzzer():
    rhythms = [rhythm(p) for p in CUE_PATTERNS.values()]
    assert len(set(rhythms)) == len(rhythms)
    # A countdown tick is short enough to repeat each second; "go" is clearly longer.
    assert pattern_duration(CUE_PATTERNS[Cue.COUNTDOWN]) <= 0.2
    assert pattern_duration(CUE_PATTERNS[Cue.GO]) >= 2 * pattern_duration(
        CUE_PATTERNS[Cue.COUNTDOWN]
    )


def test_player_steps_through_edge_pattern():
    p = CuePlayer()
    assert p.update(0.0) is None and p.playing is None
    assert p.time_to_next_change(0.0) == math.inf
    p.start("edge", now=10.0)
    assert p.playing is Cue.EDGE
    assert p.update(10.0) == 400.0
    assert p.time_to_next_change(10.05) == pytest.approx(0.07)
    assert p.update(10.13) is None  # the gap
    assert p.playing is Cue.EDGE
    assert p.update(10.2) == 400.0
    assert p.update(10.31) is None
    assert p.playing is None


def test_new_cue_replaces_the_playing_one():
    p = CuePlayer()
    p.start(Cue.END, 0.0)
    assert p.update(0.1) == 1200.0
    p.start(Cue.SELECT, 0.1)
    assert p.update(0.11) == 2000.0
    assert p.update(0.15) is None and p.playing is None


def test_unknown_cue_and_incomplete_patterns_rejected():
    with pytest.raises(ValueError):
        CuePlayer().start("fanfare", 0.0)
    with pytest.raises(ValueError):
        CuePlayer({Cue.GO: (Note(1000.0, 0.1),)})
    with pytest.raises(ValueError):
        Note(1000.0, 0.0)
    with pytest.raises(ValueError):
        Note(-5.0, 0.1)
