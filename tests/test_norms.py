from datetime import date

import pytest

from wobble_trainer import norms


@pytest.mark.parametrize(
    ("age", "band", "open_best", "open_mean", "closed_mean"),
    [
        (18, "18-39", 44.7, 43.3, 9.4),
        (39, "18-39", 44.7, 43.3, 9.4),
        (40, "40-49", 41.9, 40.3, 7.3),
        (55, "50-59", 41.2, 37.0, 4.8),
        (60, "60-69", 32.1, 26.9, 2.8),
        (79, "70-79", 21.5, 15.0, 2.0),
        (80, "80+", 9.4, 6.2, 1.3),
        (99, "80+", 9.4, 6.2, 1.3),
        (101, "80+", 9.4, 6.2, 1.3),
    ],
)
def test_each_age_band_of_springer_2007(age, band, open_best, open_mean, closed_mean):
    eyes_open = norms.single_leg_stance_reference(age, eyes_closed=False)
    eyes_closed = norms.single_leg_stance_reference(age, eyes_closed=True)
    assert eyes_open.age_band == band == eyes_closed.age_band
    assert (eyes_open.best_s, eyes_open.mean_s) == (open_best, open_mean)
    assert eyes_closed.best_s is None  # the table has no eyes-closed best of 3
    assert eyes_closed.mean_s == closed_mean


@pytest.mark.parametrize("age", [17, 5])
def test_no_values_below_the_studied_ages(age):
    assert norms.single_leg_stance_reference(age, eyes_closed=False) is None


def test_bands_cover_18_on_without_gaps_the_last_is_80_plus():
    bands = norms.SPRINGER_2007
    assert bands[-1].label == "80+" and bands[-1].age_max is None
    ages = [a for b in bands[:-1] for a in range(b.age_min, b.age_max + 1)]
    assert ages == list(range(18, 80)) and bands[-1].age_min == 80
    assert all(norms.band_for_age(a) is not None for a in range(18, 120))


def test_age_from_birth_year_is_the_age_reached_this_year():
    assert norms.age_from_birth_year(1960, date(2025, 1, 1)) == 65
    assert norms.age_from_birth_year(1960, date(2025, 12, 31)) == 65
    with pytest.raises(ValueError):
        norms.age_from_birth_year(2030, date(2025, 1, 1))
    with pytest.raises(ValueError):
        norms.age_from_birth_year(1960.0, date(2025, 1, 1))


def test_lookup_by_birth_year_and_condition():
    ref = norms.reference_for("single_leg_stance", 1950, eyes_closed=False, day=date(2025, 6, 1))
    assert ref.age == 75 and ref.age_band == "70-79" and ref.best_s == 21.5
    closed = norms.reference_for("single_leg_stance", 1950, eyes_closed=True, day=date(2025, 6, 1))
    assert closed.mean_s == 2.0
    assert norms.reference_for("single_leg_stance", None, eyes_closed=False) is None
    assert norms.reference_for("single_leg_stance", 2015, False, date(2025, 1, 1)) is None


@pytest.mark.parametrize(
    "protocol",
    ["postural_stability", "limits_of_stability", "mctsib", "bess", "ankle_rom", "hold", ""],
)
def test_reference_values_only_for_single_leg_stance(protocol):
    assert frozenset({"single_leg_stance"}) == norms.NORMED_PROTOCOLS
    assert norms.reference_for(protocol, 1950, eyes_closed=False, day=date(2025, 1, 1)) is None


def test_shown_as_reference_values_with_the_citation_never_a_verdict():
    ref = norms.single_leg_stance_reference(65, eyes_closed=False)
    data = ref.as_dict()
    assert data["source"] == "reference values (Springer 2007)"
    assert (
        "Springer BA" in data["citation"]
        and "J Geriatr Phys Ther 2007;30(1):8-15" in (data["citation"])
    )
    text = ref.describe().lower()
    assert "60-69" in text and "32.1" in text and "26.9" in text
    for word in ("pass", "fail", "normal", "cut-off", "below", "above"):
        assert word not in text


def test_norms_only_for_a_run_on_the_floor():
    day = date(2025, 6, 1)
    assert norms.reference_for("single_leg_stance", 1950, False, day, surface="board") is None
    assert norms.reference_for("single_leg_stance", 1950, False, day, surface=None) is None
    assert norms.reference_for("single_leg_stance", 1950, False, day, surface="floor") is not None


def test_like_with_like_3_trials_of_45_s_on_the_floor():
    assert norms.comparable("floor", 3, 45.0)
    assert not norms.comparable("board", 3, 45.0)
    assert not norms.comparable("floor", 2, 45.0)  # a best of 2 is not a best of 3
    assert not norms.comparable("floor", 3, 30.0)  # capped at 30 s: not Springer's 45 s
    ref = norms.single_leg_stance_reference(65, eyes_closed=False)
    assert ref.compare(38.2, 30.1) == (
        "best of 3 38.2 s (reference 32.1 s), mean of 3 30.1 s (reference 26.9 s)"
    )
    closed = norms.single_leg_stance_reference(65, eyes_closed=True)
    assert closed.compare(5.0, 3.0) == "mean of 3 3.0 s (reference 2.8 s)"  # no best of 3 value
