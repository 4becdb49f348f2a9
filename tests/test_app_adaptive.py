import pytest

from wobble_trainer.app.activities.adaptive import AdaptiveDifficulty


def test_level_rises_after_a_run_above_the_band_and_falls_below_it():
    d = AdaptiveDifficulty(level=3, window=8)
    for _ in range(8):
        d.record(True)
    assert d.level == 4
    # 5 of 8 = 62% < 70%: down again
    for ok in [True, False, True, False, True, False, True, False]:
        d.record(ok)
    assert d.level == 3
    assert d.changes == [(8, 4), (16, 3)]


def test_inside_the_band_the_level_stays():
    d = AdaptiveDifficulty(level=5, window=10)
    for i in range(40):
        d.record(i % 5 != 0)  # 80% success
    assert d.level == 5
    assert d.success_rate == pytest.approx(0.8)


def test_levels_are_bounded():
    d = AdaptiveDifficulty(level=1, max_level=2, window=4)
    for _ in range(20):
        d.record(True)
    assert d.level == 2
    for _ in range(20):
        d.record(False)
    assert d.level == 1


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        AdaptiveDifficulty(level=0)
    with pytest.raises(ValueError):
        AdaptiveDifficulty(low=0.9, high=0.8)
