"""The virtual stability level: the one mapping from level to cursor gain and dead band, and the
one wording screens and reports use."""

from __future__ import annotations

import pytest

from wobble_trainer import virtual_level
from wobble_trainer.units import DEG


def test_gain_and_dead_band_span_the_levels():
    assert virtual_level.cursor_gain(12) == pytest.approx(0.6)
    assert virtual_level.cursor_gain(1) == pytest.approx(2.25)
    assert virtual_level.dead_band(12) == pytest.approx(1.5 * DEG)
    assert virtual_level.dead_band(1) == 0.0
    gains = [virtual_level.cursor_gain(k) for k in range(1, 13)]
    assert gains == sorted(gains, reverse=True)  # calmer cursor at every higher level


@pytest.mark.parametrize("bad", [0, 13, 2.5, True, "8"])
def test_only_whole_levels_1_to_12(bad):
    with pytest.raises(ValueError, match="stability level must be 1-12"):
        virtual_level.check(bad)


def test_the_note_says_virtual_and_what_it_changes():
    note = virtual_level.NOTE
    assert note.startswith("Virtual stability level")
    assert "cursor" in note and "0.6x at 12 to 2.25x at 1" in note and "1.5\u00b0" in note
    assert "never the measures" in note
