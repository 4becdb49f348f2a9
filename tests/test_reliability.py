"""The minimal detectable changes and the one better/worse/within-variation rule."""

from __future__ import annotations

import math

import pytest

from wobble_trainer import reliability
from wobble_trainer.reliability import Mdc, Origin, Verdict, judge, mdc_for


def test_published_figures_with_their_sources():
    edge = mdc_for("hold", ("edge_touches",))
    assert (edge.value, edge.relative, edge.origin) == (9.0, False, Origin.PUBLISHED)
    assert edge.source == "Williams & Bentman 2014"
    band = mdc_for("reach", ("zone_pct", "0-5"))
    assert band.value == 5.0 and band.source == "Williams & Bentman 2014"
    bess = mdc_for("test:bess", ("total",))
    assert bess.value == 7.3 and "Finnoff" in bess.source
    # Laessoe 2018 gives ICC 0.87 and the controls' ML SD 0.3°: 1.96·√2·0.3·√0.13 = 0.30°
    ml = mdc_for("test:single_leg_stance", ("sd", "ml"))
    assert ml.value == pytest.approx(1.96 * math.sqrt(2) * 0.3 * math.sqrt(0.13), abs=0.005)
    assert "0.87" in ml.source
    assert mdc_for("test:mctsib", ("total",)) is None  # BESS's figure is BESS's only


def test_simulated_figures_are_labelled_and_relative():
    osi = mdc_for("hold", ("osi",))
    assert osi.origin is Origin.SIMULATED and osi.relative and osi.source == "simulated test-retest"
    # the largest of the simulated stance/eyes conditions (the session's is not known)
    assert osi.value == max(
        v for k, v in reliability.SIMULATED_MDC_PCT.items() if k.startswith("osi:")
    )
    assert "wobble bench reliability --write" in reliability.SIMULATED_WITH
    assert mdc_for("no-such-game", ("score",)) is None


def test_every_measure_the_history_and_progress_report_compare_has_an_mdc():
    import wobble_trainer.app.activities  # noqa: F401
    from wobble_trainer.app.scene import ACTIVITIES
    from wobble_trainer.app.scenes.history import KIND_METRICS, metrics_for

    kinds = [k for k in ACTIVITIES if k != "floor_stance"] + list(KIND_METRICS)
    for kind in kinds:
        for spec in metrics_for(kind):
            assert mdc_for(kind, spec.keys) is not None, (kind, spec.keys)


def test_a_change_smaller_than_the_mdc_is_within_normal_variation():
    nine = Mdc(9.0, False, Origin.PUBLISHED, "x")
    assert judge(10.0, 2.0, False, nine) is Verdict.WITHIN  # 8 fewer touches < 9
    assert judge(10.0, 1.0, False, nine) is Verdict.BETTER  # 9 fewer: as large as the MDC
    assert judge(1.0, 10.0, False, nine) is Verdict.WORSE
    assert judge(1.0, 10.0, True, nine) is Verdict.BETTER
    assert judge(3.0, 3.0, True, nine) is Verdict.WITHIN
    # relative: 20% of the mean of the two sessions
    pct = Mdc(20.0, True, Origin.SIMULATED, "sim")
    assert pct.threshold(9.0, 11.0) == pytest.approx(2.0)
    assert judge(9.0, 10.9, True, pct) is Verdict.WITHIN
    assert judge(9.0, 11.5, True, pct) is Verdict.BETTER
    assert judge(2.0, 1.0, False, pct) is Verdict.BETTER  # OSI halved: 1.0 ≥ 20% of 1.5
    assert judge(2.0, 1.0, False, None) is Verdict.UNJUDGED
    assert judge(2.0, 2.0, False, None) is Verdict.WITHIN


def test_describe_names_the_size_and_source():
    assert Mdc(9.0, False, Origin.PUBLISHED, "W&B").describe(decimals=0) == "MDC95 9 (W&B)"
    assert Mdc(12.5, True, Origin.SIMULATED, "sim").describe() == "MDC95 12.5% (sim)"
