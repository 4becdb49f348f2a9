"""Tests of wobble_trainer.reports.pdf: session and progress reports from sessions written
through storage, parsed back from the (uncompressed) PDF; and the plot geometry."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from datetime import date, timedelta

import numpy as np
import pytest
from test_reports_data import T0, store_session

from wobble_trainer import metrics
from wobble_trainer.reports.data import kind_title, load_bundle
from wobble_trainer.reports.pdf import (
    BETTER,
    INK,
    WORSE,
    NoCompletedTrialError,
    completed_trials,
    direction_rows,
    envelope,
    no_pdf_reason,
    norm_lines,
    pdf_text,
    prediction_ellipse,
    progress_pdf,
    session_pdf,
    symmetry_rows,
    ticks,
    write_session_pdf,
)
from wobble_trainer.storage import open_database


@pytest.fixture
def db(tmp_path):
    with open_database(tmp_path / "data") as database:
        yield database


@pytest.fixture
def person(db):
    return db.profiles.create("P-017", 1958, 1.68, "right", injured_side="left")


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page(?!s)", data))


def pdf_strings(data: bytes) -> str:
    """Every text string shown (core fonts, uncompressed content streams), one a line."""
    text = data.decode("latin-1")
    found = re.findall(r"\(((?:[^()\\]|\\.)*)\) Tj", text)
    return "\n".join(re.sub(r"\\(.)", r"\1", s) for s in found).encode("latin-1").decode("cp1252")


def test_session_report_is_one_page_with_who_what_and_measures(db, person):
    session = store_session(
        db,
        person,
        settings={"duration_s": 30.0, "zone_deg": 3.0, "eyes_closed": False},
        metrics={"score": 12.5, "level": 4, "osi": 2.0},
    )
    bundle = load_bundle(db, session.id)
    data = session_pdf(bundle, compress=False)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert pdf_pages(data) == 1
    text = pdf_strings(data)
    for expected in (
        "Session report",
        "P-017",
        "67 years (born 1958)",
        "Injured side",
        "left",
        kind_title("hold"),
        "duration 30 s",
        "zone 3\u00b0",
        "eyes closed no",
        "OSI (\u00b0)",
        "APSI (\u00b0)",
        "MLSI (\u00b0)",
        "SD combined (\u00b0)",
        "Path length (\u00b0)",
        "Mean velocity (\u00b0/s)",
        "95% ellipse area (\u00b0\u00b2)",
        "Time at 0\u20135\u00b0 (%)",
        "Edge touches",
        "Tilt over time",
        "Sway (seen from above)",
        "95% prediction ellipse",
        "Score",
        "12.5",
        "Level",
        "Schubert & Kirchner",
        "Page 1 of",
    ):
        assert expected in text, expected
    # The table shows the measures recomputed from the raw trace, not the stored 2.0.
    (m,) = bundle.trial_metrics()
    assert "{nb}" not in text  # the page count was filled in
    assert f"{m['osi']:.2f}" in text.splitlines()
    assert f"{m['ellipse95_area_deg2']:.2f}" in text.splitlines()
    assert "Single leg" not in text and "Reference values" not in text


def single_leg_session(db, person, settings, times=(10.0, 20.0, 14.0, 30.0, 12.0, 25.0)):
    labels = [f"{leg}/eyes-open/trial {k}" for k in (1, 2, 3) for leg in ("left", "right")]
    labels = labels[: len(times)]
    return store_session(
        db,
        person,
        "test:single_leg_stance",
        trials=[(label, 0.3 * k) for k, label in enumerate(labels)],
        settings=settings,
        metrics={
            "protocol": "single_leg_stance",
            "completed": True,
            "trials": [{"label": lb, "time_s": ts} for lb, ts in zip(labels, times, strict=True)],
        },
    )


def test_single_leg_session_has_symmetry_and_reference_values(db, person):
    # left 10/14/12 s, right 20/30/25 s on the floor, 3 trials of 45 s: as Springer 2007
    session = single_leg_session(db, person, {"max_s": 45.0, "trials": 3, "surface": "floor"})
    bundle = load_bundle(db, session.id)
    rows = {r[0]: r for r in symmetry_rows(bundle)}
    _, left, right, lsi, _ = rows["Stance time (s)"]
    assert (left, right) == (12.0, 25.0)
    assert lsi == pytest.approx(100 * 12 / 25)  # the injured left leg against the right
    _, left_osi, right_osi, osi_lsi, _ = rows["OSI (\u00b0)"]
    assert osi_lsi == pytest.approx(100 * right_osi / left_osi)  # lower is better: other/injured
    lines = norm_lines(bundle)
    assert lines[0] == "eyes open, age 60-69: best of 3 32.1 s, mean of 3 26.9 s"
    assert (
        "left: best of 3 14.0 s (reference 32.1 s), mean of 3 12.0 s (reference 26.9 s)"
        in (lines[1])
    )
    assert "right: best of 3 30.0 s" in lines[2]
    assert "Springer" in lines[-1]
    data = session_pdf(bundle, compress=False)
    assert pdf_pages(data) == 1
    text = pdf_strings(data)
    for expected in (
        "Limb symmetry, LSI = injured left / right",
        "LSI (%)",
        "Stance time (s)",
        "48",
        "Reference values (not a pass/fail cut-off)",
        "T1 L",
        "T4 R",
        "Mean",
        "Protocol",
        "single_leg_stance",
        "Completed",
        "yes",
    ):
        assert expected in text, expected


def test_single_leg_on_the_board_or_unlike_runs_compare_nothing(db, person):
    board = single_leg_session(db, person, {"max_s": 45.0, "trials": 3})  # no surface: the board
    assert norm_lines(load_bundle(db, board.id)) == []
    two = single_leg_session(
        db, person, {"max_s": 45.0, "trials": 2, "surface": "floor"}, times=(10, 20, 14, 30)
    )
    lines = norm_lines(load_bundle(db, two.id))
    assert lines[0].startswith("eyes open, age 60-69")
    assert not any("reference 32.1" in line for line in lines)
    assert any("not set beside them" in line for line in lines)


def test_a_stability_level_is_reported_as_virtual_with_what_it_changes(db, person):
    session = store_session(db, person, settings={"duration_s": 30.0, "stability_level": 8})
    text = pdf_strings(session_pdf(load_bundle(db, session.id), compress=False))
    assert "virtual stability level 8" in text
    assert "Virtual stability level: a software setting" in text.replace("\n", " ")


def test_many_trials_still_fit_one_page(db, person):
    session = store_session(
        db, person, "test:bess", trials=[(f"stance {k + 1}", 0.2 * k) for k in range(8)], seconds=3
    )
    data = session_pdf(load_bundle(db, session.id), compress=False)
    assert pdf_pages(data) == 1
    text = pdf_strings(data)
    assert "First 6 of 8 trials shown; the mean covers all." in text
    table = text.split("Balance measures")[1].split("First 6 of 8")[0]
    assert "T6" in table and "T7" not in table


def test_session_without_a_trace_says_so(db, person):
    session = store_session(db, person, metrics={"score": 3.0})
    bundle = load_bundle(db, session.id)
    bundle.angles.clear()  # as if no trace could be turned into angles
    text = pdf_strings(session_pdf(bundle, compress=False))
    assert "No trace was recorded" in text and "Score" in text


def test_a_session_with_no_completed_trial_gets_no_pdf(db, person, tmp_path):
    session = db.sessions.start(person.id, "hold", started_at=T0)
    db.sessions.finish(session.id, metrics={"score": 3.0}, ended_at=T0 + timedelta(minutes=1))
    bundle = load_bundle(db, session.id)
    assert completed_trials(bundle) == 0
    with pytest.raises(NoCompletedTrialError, match="no completed trial, so there is no PDF"):
        session_pdf(bundle)
    with pytest.raises(NoCompletedTrialError):
        write_session_pdf(db, session.id, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()
    # a protocol aborted during its first trial: stored samples, but no finished trial
    aborted = store_session(
        db, person, "test:postural_stability", metrics={"completed": False, "trials": []}
    )
    assert completed_trials(load_bundle(db, aborted.id)) == 0
    assert no_pdf_reason(load_bundle(db, aborted.id)).startswith(f"Session {aborted.id} (")


def test_postural_stability_mean_is_over_the_test_trials_only(db, person):
    labels = ["practice 1", "practice 2", "test 1", "test 2"]
    session = store_session(
        db,
        person,
        "test:postural_stability",
        trials=[(label, 2.0 * k) for k, label in enumerate(labels)],
        metrics={"completed": True, "trials": [{"label": lb} for lb in labels]},
    )
    bundle = load_bundle(db, session.id)
    per_trial = bundle.trial_metrics()
    mean_tests = (per_trial[2]["osi"] + per_trial[3]["osi"]) / 2
    mean_all = sum(m["osi"] for m in per_trial) / 4
    assert abs(mean_tests - mean_all) > 0.01  # the test would tell them apart
    text = pdf_strings(session_pdf(bundle, compress=False))
    assert "Test mean" in text and "T1 (P)" in text and "T3 (P)" not in text
    assert "(P) practice trial: not in the mean." in text
    table = text.split("OSI (\u00b0)")[1].split("APSI")[0].split("\n")
    cells = [c for c in table if c.strip()]  # the four trials, then the mean
    assert cells[len(labels)] == f"{mean_tests:.2f}" != f"{mean_all:.2f}"


def test_limits_of_stability_shows_direction_control_and_excursion_per_direction(db, person):
    directions = {
        "front": {
            "reached": True,
            "time_to_reach_s": 1.25,
            "direction_control_pct": 81.4,
            "excursion_pct": 104.2,
        },
        "back": {
            "reached": False,
            "time_to_reach_s": None,
            "direction_control_pct": 40.0,
            "excursion_pct": 63.0,
        },
    }
    session = store_session(
        db,
        person,
        "test:limits_of_stability",
        trials=(("front", 0.0), ("back", 1.0)),
        metrics={
            "completed": True,
            "trials": [{}, {}],
            "directions": directions,
            "score_pct": 60.7,
        },
    )
    bundle = load_bundle(db, session.id)
    assert direction_rows(bundle) == [
        ["front", "yes", "1.2", "81", "104"],
        ["back", "no", "\u2013", "40", "63"],
    ]
    text = pdf_strings(session_pdf(bundle, compress=False))
    for expected in ("Per direction", "Control (%)", "Excursion (%)", "104", "63"):
        assert expected in text, expected


def test_guest_and_other_protocols_show_no_reference_values(db, person):
    guest = db.profiles.guest()
    session = store_session(
        db, guest, "test:single_leg_stance", trials=(("left/eyes-open/trial 1", 0.0),)
    )
    assert norm_lines(load_bundle(db, session.id)) == []
    other = store_session(db, person, "test:postural_stability", trials=(("test 1", 0.0),))
    assert norm_lines(load_bundle(db, other.id)) == []


def test_written_pdf_reads_with_pdftotext_when_installed(db, person, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    session = store_session(db, person)
    path = write_session_pdf(db, session.id, tmp_path / "report.pdf")  # compressed
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Session report" in out and "P-017" in out and "OSI" in out


def test_progress_report_charts_a_key_metric_against_the_baseline(db, person):
    for day in range(5):
        store_session(
            db,
            person,
            started_at=T0 + timedelta(days=day),
            seconds=2,
            metrics={"score": 10.0 + 2 * day, "osi": 3.0 - 0.2 * day},
        )
    today = (T0 + timedelta(days=4)).date()
    data = progress_pdf(db, person, today=today, compress=False)
    assert pdf_pages(data) == 1
    text = pdf_strings(data)
    for expected in (
        "Progress report",
        "P-017",
        "5 on 5 days",
        "current 5 days, longest 5 days",
        "Sessions per week",
        f"{kind_title('hold')} \u2013 Score (5 sessions; higher is better)",
        "baseline",
        "Against the baseline (first session)",
        "10.00",
        "18.00",
        "+8.00 (+80%)",
        "better",
        "All sessions",
        "01 May 2025 09:30",
    ):
        assert expected in text, expected


def test_progress_report_calls_a_change_below_the_mdc_within_normal_variation(db, person):
    for day, total in enumerate((12, 10, 8)):  # 4 fewer BESS errors: below Finnoff's MDC 7.3
        store_session(
            db,
            person,
            "test:bess",
            started_at=T0 + timedelta(days=day),
            seconds=2,
            metrics={"completed": True, "trials": [{}], "total": total},
        )
    data = progress_pdf(db, person, today=(T0 + timedelta(days=2)).date(), compress=False)
    text = pdf_strings(data)
    assert "within normal variation" in text and "better" not in text.split("MDC95")[1][:80]
    assert "7.3" in text and "Finnoff et al. 2009" in text
    assert "A change smaller than the minimal detectable change (MDC95)" in text.replace("\n", " ")
    # and in no colour: the verdict and the change are drawn in ink, not green or red
    stream = data.decode("latin-1")

    def colour_of(text: str) -> tuple[float, ...]:
        at = stream.index(f"({text}) Tj")
        op = stream.rfind(" rg ", 0, at)
        return tuple(round(float(v) * 255) for v in stream[:op].split()[-3:])

    assert colour_of("within normal variation") == INK
    assert colour_of("-4.00 \\(-33%\\)") == INK
    assert {BETTER, WORSE}.isdisjoint({colour_of("within normal variation")})


def test_progress_report_of_many_sessions_runs_onto_more_pages(db, person):
    for k in range(40):
        session = db.sessions.start(
            person.id, "hold" if k % 2 else "reach", started_at=T0 + timedelta(days=k // 2)
        )
        db.sessions.finish(
            session.id,
            metrics={"osi": 2.0 + math.sin(k)},
            ended_at=T0 + timedelta(days=k // 2, minutes=2),
        )
    data = progress_pdf(db, person, today=date(2025, 6, 10), compress=False)
    assert pdf_pages(data) >= 2
    text = pdf_strings(data)
    assert f"{kind_title('reach')} \u2013 OSI (\u00b0) (20 sessions; lower is better)" in text
    assert text.count("01 May 2025 09:30") == 2  # both first-day sessions listed
    assert "Page 2 of" in text


def test_progress_report_without_sessions(db, person):
    text = pdf_strings(progress_pdf(db, person, today=date(2025, 5, 1), compress=False))
    assert "No kept sessions yet." in text


def test_progress_week_bars_count_sessions_as_the_header_does(db, person, monkeypatch):
    from wobble_trainer.reports import pdf

    for k in range(3):  # three sessions on one day
        store_session(db, person, started_at=T0 + timedelta(minutes=10 * k), seconds=2,
                      metrics={"score": 10.0 + k})  # fmt: skip
    drawn = []
    real = pdf._weekly_bars
    monkeypatch.setattr(pdf, "_weekly_bars", lambda doc, *a: drawn.append(a[-2]) or real(doc, *a))
    text = pdf_strings(progress_pdf(db, person, today=T0.date(), compress=False))
    assert "3 on 1 day" in text
    (days,) = drawn
    assert days == [T0.date()] * 3  # the week's bar is 3 high, not 1


# --- geometry and helpers ---------------------------------------------------------------------


def test_prediction_ellipse_has_the_metric_area():
    rng = np.random.default_rng(3)
    cov = np.array([[4.0, 1.5], [1.5, 1.0]])
    x, y = rng.multivariate_normal([1.0, -2.0], cov, 3000).T
    ex, ey = prediction_ellipse(x, y, points=2000)
    shoelace = 0.5 * abs(np.dot(ex[:-1], ey[1:]) - np.dot(ey[:-1], ex[1:]))
    assert shoelace == pytest.approx(metrics.ellipse95_area(y, x), rel=1e-5)
    assert np.mean(ex) == pytest.approx(x.mean(), abs=1e-2)
    # ~95% of the samples fall inside it
    inv = np.linalg.inv(np.cov(np.vstack((x, y))))
    d = np.vstack((x - x.mean(), y - y.mean()))
    inside = np.mean(np.einsum("in,ij,jn->n", d, inv, d) <= metrics.CHI2_95_2DOF)
    assert 0.93 < inside < 0.97
    assert prediction_ellipse(np.array([1.0, 2.0]), np.array([0.0, 1.0])) is None


def test_envelope_keeps_every_peak():
    t = np.arange(10000) / 1000
    y = np.sin(t)
    y[1234], y[8765] = 5.0, -7.0
    ts, ys = envelope(t, y, 200)
    assert len(ts) <= 400 and np.all(np.diff(ts) > 0)
    assert ys.max() == 5.0 and ys.min() == -7.0


def test_text_outside_windows_1252_is_transliterated():
    assert pdf_text("Łukasz Zoë 15°") == "Lukasz Zoë 15°"
    assert pdf_text("\u2192 \u4e2d") == "-> ?"


def test_ticks_are_round_numbers():
    assert ticks(-30.0, 30.0, 6) == [-30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0]
    assert ticks(0.0, 1.3, 5) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25])
