"""Tests of wobble_trainer.home_routine: the home routine's steps progress with the week."""

from __future__ import annotations

import pytest

from wobble_trainer.home_routine import BAND_DAYS, SOURCE, Measure, Placement, routine_for


def keys(week, day):
    return [s.key for s in routine_for(week, day)]


def test_every_day_has_warm_up_seated_work_calf_raises_and_walks_band_work_three_days():
    for day in range(1, 8):
        k = keys(1, day)
        assert k[:2] == ["warm-up-march", "warm-up-ankles"]  # warm-up first
        assert {"seated-alphabet", "seated-circles", "calf-raises", "heel-toe-walks"} <= set(k)
        bands = [x for x in k if x.startswith("band-")]
        assert bands == (["band-up", "band-down", "band-in", "band-out"] if day in BAND_DAYS
                         else [])  # fmt: skip
    assert len(BAND_DAYS) == 3  # 2-3 times a week


def test_the_routine_progresses_over_the_weeks():
    def step(week, key):
        return next(s for s in routine_for(week, 1) if s.key == key)

    assert "step-ups" not in keys(1, 1) and "step-ups" in keys(3, 1)
    assert step(1, "calf-raises").amount < step(3, "calf-raises").amount
    assert not step(3, "calf-raises").per_side and step(5, "calf-raises").per_side  # one leg
    assert step(1, "band-up").amount < step(3, "band-up").amount < step(5, "band-up").amount
    assert step(1, "heel-toe-walks").amount < step(5, "heel-toe-walks").amount
    calf = step(1, "calf-raises")
    assert calf.measure is Measure.REPS and calf.rep_s == 4.0  # up 1 s, slow lowering 3 s
    stretch = step(1, "wall-stretch")
    assert stretch.optional and stretch.placement is Placement.AFTER
    assert "(if stiff)" in stretch.label and "each side" in stretch.label
    assert "DOMAIN.md §6" in SOURCE


@pytest.mark.parametrize("week, day", [(0, 1), (1, 0), (1, 8)])
def test_days_outside_a_programme_are_refused(week, day):
    with pytest.raises(ValueError):
        routine_for(week, day)
