"""Tests of ``wobble bench tilt`` on small synthetic recordings (the real ones are not needed)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from wobble_trainer.bench import tilt as bench
from wobble_trainer.units import DEG, STANDARD_GRAVITY

RATE = 100.0


def write_trial(path: Path, rate_deg_s: float, n: int = 1500, seed: int = 0) -> None:
    """A BROAD-like .npz: level rest, then rocking about sensor x; a few NaN truth rows."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1) / RATE
    theta = np.where(t > 5.0, rate_deg_s * DEG / 2.0 * np.sin(2.0 * (t - 5.0)), 0.0)
    dtheta = np.where(t > 5.0, rate_deg_s * DEG * np.cos(2.0 * (t - 5.0)), 0.0)
    acc = STANDARD_GRAVITY * np.stack([np.zeros(n), np.sin(theta), np.cos(theta)], 1)
    acc += 0.02 * rng.standard_normal((n, 3))
    gyr = np.stack([dtheta, np.zeros(n), np.zeros(n)], 1)
    quat = np.stack([np.cos(theta / 2), np.sin(theta / 2), np.zeros(n), np.zeros(n)], 1)
    quat[700:710] = np.nan
    np.savez(path, acc=acc, gyr=gyr, quat=quat, movement=t > 6.0, rate=np.float64(RATE),
             name=path.stem, groups=np.array(["test"]))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "broad_npz"
    d.mkdir()
    write_trial(d / "03_fake_rotation.npz", 40.0, seed=1)
    write_trial(d / "10_fake_translation.npz", 10.0, seed=2)
    return d


@pytest.fixture
def no_anchors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every optional anchor look uninstalled (None in sys.modules: import fails)."""
    for name in ("vqf", "imufusion", "ahrs", "ahrs.filters"):
        monkeypatch.setitem(sys.modules, name, None)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(argv)


def test_inclination_error_definition() -> None:
    level = np.array([[1.0, 0.0, 0.0, 0.0]])
    tilted = np.array([[math.cos(5 * DEG), math.sin(5 * DEG), 0.0, 0.0]])  # 10° about x
    yawed = np.array([[math.cos(0.6), 0.0, 0.0, math.sin(0.6)]])  # heading only
    assert bench.inclination_error_deg(tilted, level)[0] == pytest.approx(10.0, abs=1e-9)
    assert bench.inclination_error_deg(yawed, level)[0] == pytest.approx(0.0, abs=1e-9)
    err = bench.inclination_error_deg(np.vstack([tilted, level]),
                                      np.vstack([level, [np.nan] * 4]))
    assert math.isnan(err[1])
    assert bench.trial_rmse(err, np.array([True, True])) == pytest.approx(10.0)
    assert bench.trial_rmse(err, np.array([False, True])) != bench.trial_rmse(err, [True, True])


def test_summary_mean_worst_and_translation_trials() -> None:
    results = [bench.TrialResult("01_a", {"x": 1.0}), bench.TrialResult("10_b", {"x": 0.2}),
               bench.TrialResult("14_c", {"x": 0.4}), bench.TrialResult("21_d", {"x": 3.0})]
    s = bench.summarise(results, ["x"])["x"]
    assert s["mean"] == pytest.approx(1.15)
    assert (s["worst"], s["worst_trial"]) == (3.0, "21_d")
    assert s["mean_10_14"] == pytest.approx(0.3)


def test_runs_with_no_anchor_installed(data_dir: Path, no_anchors: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert [e.name for e in bench.available_estimators()] == ["ours"]
    assert bench.run(parse(["--data", str(data_dir), "--json", "--no-sim", "--no-bias"])) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["estimators"] == ["ours"]
    assert set(doc["trials"]) == {"03_fake_rotation", "10_fake_translation"}
    ours = doc["summary"]["ours"]
    assert ours["mean_10_14"] == pytest.approx(doc["trials"]["10_fake_translation"]["ours"])
    assert 0.0 < ours["mean"] < 0.5  # consistent synthetic data: small but nonzero error
    assert doc["us_per_sample"]["ours"] > 0.0
    assert doc["verdict"] == {}


def test_table_output(data_dir: Path, no_anchors: None,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run(parse(["--data", str(data_dir), "--no-sim", "--no-bias"])) == 0
    out = capsys.readouterr().out
    for word in ("03_fake_rotation", "10_fake_translation", "mean 10-14", "worst", "us/sample"):
        assert word in out


def test_anchors_are_compared_when_installed(data_dir: Path) -> None:
    pytest.importorskip("vqf")
    estimators = [e for e in bench.available_estimators() if e.name in ("ours", "vqf")]
    results = bench.run_recordings(data_dir, estimators)
    for r in results:
        assert r.rmse_deg["vqf"] < 0.5 and r.rmse_deg["ours"] < 0.5


def test_missing_data_dir_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run(parse(["--data", str(tmp_path / "nowhere")])) == 2
    assert "--data" in capsys.readouterr().err
    monkeypatch.setenv(bench.ENV_DATA_DIR, str(tmp_path))
    with pytest.raises(bench.BenchDataError, match=bench.ENV_DATA_DIR):
        bench.default_data_dir(None)


def test_env_var_selects_the_data_dir(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bench.ENV_DATA_DIR, str(data_dir))
    assert bench.default_data_dir(None) == data_dir
    assert bench.default_data_dir(str(data_dir)) == data_dir


def test_simulator_section(no_anchors: None) -> None:
    pytest.importorskip("wobble_trainer.sim.board")
    rows = bench.run_simulator(bench.available_estimators(), duration_s=8.0)
    assert [r["scenario"] for r in rows] == [s.label for s in bench.SIM_SCENARIOS]
    for r in rows:
        assert 0.0 < r["rmse_deg"]["ours"] <= r["max_deg"]["ours"]
        limit = 0.5 if r["chip"] is None else 3.0
        assert r["max_deg"]["ours"] < limit, r


def test_leave_one_out_picks_on_the_others_and_scores_the_held_out() -> None:
    per_trial = {"a": [1.0, 1.0, 1.0], "b": [0.1, 5.0, 0.1]}
    rows = bench.leave_one_out(per_trial, ["a", "b"])
    # Holding out trial 1, "b" looks best on the others (0.1) but scores 5.0 there.
    assert [r["chosen"] for r in rows] == ["a", "b", "a"]
    assert [r["rmse_deg"] for r in rows] == [1.0, 5.0, 1.0]
    assert len(bench.loo_candidates()) == 9 and {} not in bench.loo_candidates()


def test_leave_one_out_on_recordings(data_dir: Path, no_anchors: None,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    grid = {"tau_gain": (20.0, 28.0)}
    loo = bench.run_loo(data_dir, grid)
    assert [r["trial"] for r in loo["trials"]] == ["03_fake_rotation", "10_fake_translation"]
    assert loo["mean"] >= loo["best_in_sample_mean"] - 1e-12
    assert 0.0 < loo["mean"] < 0.5
    assert bench.run(parse(["--data", str(data_dir), "--no-sim", "--no-bias", "--loo"])) == 0
    assert "Leave-one-out over 2 trials" in capsys.readouterr().out


def test_bias_scenarios_section(no_anchors: None) -> None:
    from wobble_trainer.sim.board import PersonParams
    from wobble_trainer.sim.scenario import Script

    sc = bench.BiasScenario(
        "short", Script(14.0, ((0.0, 8.0),), (9.0,), PersonParams(), "MPU-6050", (4, -4, 4)), 10.0
    )
    (row,) = bench.run_bias_scenarios(bench.available_estimators(), [sc])
    assert row["scenario"] == "short"
    assert 0.0 < row["rmse_deg"]["ours"] <= row["max_deg"]["ours"] < 1.0
    assert len(bench.bias_scenarios()) == 5
