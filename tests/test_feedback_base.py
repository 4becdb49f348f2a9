"""The Feedback protocol, its settings record and NullFeedback."""

import pytest

from wobble_trainer.feedback.base import Feedback, FeedbackTargets, NullFeedback
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.units import DEG


def test_null_feedback_is_a_feedback_and_records_calls():
    with NullFeedback() as fb:
        assert isinstance(fb, Feedback)
        targets = FeedbackTargets(target_pitch=5 * DEG)
        fb.set_targets(targets)
        fb.cue("countdown")
        fb.cue(Cue.GO)
        assert fb.targets is targets
        assert fb.cues == [Cue.COUNTDOWN, Cue.GO]
    assert fb.closed and fb.targets is None
    fb.close()  # twice is fine


def test_null_feedback_rejects_unknown_cue():
    with pytest.raises(ValueError):
        NullFeedback().cue("fanfare")


def test_targets_defaults_are_level_and_uncalibrated_edges():
    t = FeedbackTargets()
    assert (t.target_pitch, t.target_roll) == (0.0, 0.0)
    assert t.edge_angles.smallest == pytest.approx(15 * DEG)
    assert t.zones.target_radius < t.zones.near_radius < t.edge_angles.smallest
    assert not t.sound_on_edge
