"""wobble_trainer.analysis: a stored trial replays to exactly the live path's angles, and one
function turns angles into numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_reports_data import (
    MOUNTING,
    calibration_json,
    db,  # noqa: F401 (fixture)
    person,  # noqa: F401 (fixture)
    store_session,
    sway_trace,
)

from wobble_trainer.analysis import (
    ANALYSIS_VERSION,
    BALANCE_KEYS,
    AnalysisError,
    ReplayJob,
    TrialRecording,
    live_trial_angles,
    nominal_rate_hz,
    recording_for,
    stored_trial_angles,
    trial_metrics,
    trial_samples,
    truth_error,
)
from wobble_trainer.reports.data import session_calibration
from wobble_trainer.sampling.samples import make_samples
from wobble_trainer.tilt.calibration import from_json_dict
from wobble_trainer.tilt.stream import RESET_GAP_S, TiltStream

RATE = 100.0


# --- the raw trace --------------------------------------------------------------------------------


def test_nominal_rate_is_robust_to_a_gap():
    t = np.concatenate([np.arange(100), np.arange(150, 250)]) / 200.0
    assert nominal_rate_hz(t) == pytest.approx(200.0)
    assert nominal_rate_hz(np.array([1.0])) is None
    assert nominal_rate_hz(np.array([1.0, 1.0, 1.0])) is None


def test_legacy_trials_restore_gaps_from_time_stamps(db, person):  # noqa: F811
    session = store_session(db, person)
    trial = db.sessions.load_trace(session.id)[0]
    samples = trial_samples(trial, None)
    assert np.array_equal(samples["t"], trial.t)
    assert np.array_equal(samples["acc"], trial.acc)
    assert not samples["gap_before"].any()
    # Drop 30 samples (0.3 s at 100 Hz): the first sample after the hole knows its size.
    t = np.delete(trial.t, slice(100, 130))
    holed = type(trial)(
        trial.id, trial.session_id, 0, "", None, None, t,
        np.delete(trial.acc, slice(100, 130), axis=0),
        np.delete(trial.gyr, slice(100, 130), axis=0), [],
    )
    gaps = trial_samples(holed, None)["gap_before"]
    assert gaps[100] == pytest.approx(0.30, abs=1e-9)
    assert np.count_nonzero(gaps) == 1


def test_replay_in_slices_equals_the_whole(db, person):  # noqa: F811
    session = store_session(db, person)
    trial = db.sessions.load_trace(session.id)[0]
    calibration, _ = session_calibration(session)
    job = ReplayJob(trial, calibration)
    fractions = []
    while not job.step(97):
        fractions.append(job.fraction)
    assert fractions == sorted(fractions) and 0 < fractions[0] < fractions[-1] < 1
    whole = stored_trial_angles(trial, calibration)
    assert np.array_equal(job.result.pitch_deg, whole.pitch_deg)
    assert np.array_equal(job.result.roll_deg, whole.roll_deg)
    assert not whole.exact  # a legacy trial: no stored estimator state


# --- exact replay of the live path --------------------------------------------------------------


def live_run(calibration, *, gap_at: int | None = None, seed: int = 3):
    """The live path: a stream running 5 s before the trial, then a trial fed in frames of
    random sizes. Returns (samples of the trial, its live angles, the state at its start)."""
    t, acc, gyr = sway_trace(20.0, RATE, mounting=MOUNTING)
    rng = np.random.default_rng(seed)
    acc = acc + rng.normal(0, 0.05, acc.shape)
    gyr = gyr + 0.01 + rng.normal(0, 0.002, gyr.shape)  # a bias the estimator must learn
    samples = make_samples(t, acc, gyr, np.zeros(len(t)), np.zeros(len(t)))
    if gap_at is not None:
        samples["gap_before"][gap_at] = RESET_GAP_S + 0.2
    stream = TiltStream(None, RATE, calibration)
    before = round(5 * RATE)
    stream.process(samples[:before])
    state = json.loads(json.dumps(stream.stream_state()))  # as stored
    parts, i = [], before
    while i < len(samples):
        n = int(rng.integers(1, 40))
        parts.append(stream.process(samples[i : i + n]))
        i += n
    return samples[before:], np.concatenate(parts), state


@pytest.mark.parametrize("gap_at", [None, 1200])
def test_a_stored_trial_replays_to_the_live_angles_bit_for_bit(db, person, gap_at):  # noqa: F811
    calibration = from_json_dict(calibration_json())
    samples, live, state = live_run(calibration, gap_at=gap_at)
    session = db.sessions.start(person.id, "hold", calibration=calibration_json())
    excluded = [(300, 450)]
    record = recording_for(samples, RATE, state, excluded)
    truth = (samples["true_pitch"], samples["true_roll"])
    db.sessions.add_trial(
        session.id, samples["t"], samples["acc"], samples["gyr"], analysis=record.to_json(),
        truth=truth,
    )
    (trial,) = db.sessions.load_trace(session.id)
    stored_calibration, _ = session_calibration(db.sessions.get(session.id))
    replayed = stored_trial_angles(trial, stored_calibration)
    shown = live_trial_angles(live, RATE, excluded=record.excluded)
    assert replayed.exact
    assert np.array_equal(replayed.pitch_deg, shown.pitch_deg)
    assert np.array_equal(replayed.roll_deg, shown.roll_deg)
    assert np.array_equal(replayed.t, shown.t)
    edges = calibration.edge_angles
    assert trial_metrics(replayed, edges) == trial_metrics(shown, edges)
    if gap_at is not None:
        assert record.gaps == ((gap_at - 500, RESET_GAP_S + 0.2),)


def test_a_cold_start_would_not_give_the_live_angles(db, person):  # noqa: F811
    """The stored state matters: the check above can fail."""
    calibration = from_json_dict(calibration_json())
    samples, live, _state = live_run(calibration)
    cold = TiltStream(None, RATE, calibration).process(samples)
    assert not np.array_equal(cold["pitch"], live["pitch"])


def test_paused_rows_are_left_out_of_the_metrics():
    t = np.arange(1000) / RATE
    pitch = np.where((t >= 2) & (t < 4), 15.0, 3.0)
    angles = live_trial_angles(
        np.array(list(zip(t, np.radians(pitch), np.zeros_like(t), strict=True)),
                 dtype=[("t", "f8"), ("pitch", "f8"), ("roll", "f8")]),
        RATE,
        excluded=[(200, 400)],
    )
    edges = from_json_dict(calibration_json()).edge_angles
    m = trial_metrics(angles, edges)
    assert m["apsi"] == pytest.approx(3.0, abs=1e-9)
    assert m["analysis_version"] == ANALYSIS_VERSION
    assert {"osi", "apsi", "mlsi", "path_length_deg", "zone_pct"} <= BALANCE_KEYS


def test_a_state_from_another_estimator_version_falls_back_and_says_so(db, person):  # noqa: F811
    calibration = from_json_dict(calibration_json())
    samples, _live, state = live_run(calibration)
    state["estimator"]["version"] = "tilt-0"
    session = db.sessions.start(person.id, "hold", calibration=calibration_json())
    db.sessions.add_trial(
        session.id, samples["t"], samples["acc"], samples["gyr"],
        analysis=recording_for(samples, RATE, state).to_json(),
    )
    (trial,) = db.sessions.load_trace(session.id)
    assert not stored_trial_angles(trial, calibration).exact


def test_a_damaged_record_is_a_clear_error():
    with pytest.raises(AnalysisError, match="damaged"):
        TrialRecording.from_json({"format": 1, "rate_hz": -3})
    with pytest.raises(AnalysisError, match="damaged"):
        TrialRecording.from_json([1, 2])


def test_truth_error_reports_rms_and_true_osi():
    t = np.arange(500) / RATE
    rows = np.array(
        list(zip(t, np.radians(np.full(500, 2.0)), np.zeros(500), strict=True)),
        dtype=[("t", "f8"), ("pitch", "f8"), ("roll", "f8")],
    )
    samples = make_samples(t, np.zeros((500, 3)), np.zeros((500, 3)),
                           np.radians(np.full(500, 1.5)), np.zeros(500))
    angles = live_trial_angles(rows, RATE, samples=samples)
    error = truth_error(angles, from_json_dict(calibration_json()).edge_angles)
    assert error["rms_error_deg"] == pytest.approx(0.5)
    assert error["osi"] == pytest.approx(2.0) and error["true_osi"] == pytest.approx(1.5)
    no_truth = live_trial_angles(rows, RATE)
    assert truth_error(no_truth, from_json_dict(calibration_json()).edge_angles) is None
