"""Tests of wobble_trainer.reports.export: the open CSV/JSON format read back and compared with
the stored traces, selection, the command line, and write failures."""

from __future__ import annotations

import argparse
import csv
import errno
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from test_reports_data import T0, store_session

from wobble_trainer import __version__
from wobble_trainer.reports import export
from wobble_trainer.reports.data import kind_title
from wobble_trainer.reports.export import (
    ExportError,
    ExportJob,
    read_session_folder,
    read_session_json,
    select_sessions,
    session_name,
)
from wobble_trainer.storage import open_database


@pytest.fixture
def db(tmp_path):
    with open_database(tmp_path / "data") as database:
        yield database


@pytest.fixture
def person(db):
    return db.profiles.create("P-017", 1958, 1.68, "right", injured_side="left")


def two_trial_session(db, person, **kw):
    return store_session(
        db,
        person,
        "test:single_leg_stance",
        trials=(("left/eyes-open/trial 1", 0.0), ("right/eyes-open/trial 1", 1.0)),
        settings={"max_s": 45.0, "eyes_closed": False},
        events=[{"t": 2.5, "event": "edge"}, {"t": 7.9, "event": "end"}],
        **kw,
    )


def assert_same_trace(read_trials, stored_trials):
    assert [t.index for t in read_trials] == [t.index for t in stored_trials]
    for got, want in zip(read_trials, stored_trials, strict=True):
        assert got.label == want.label
        # bit for bit: the file holds every digit needed
        assert np.array_equal(got.t, want.t)
        assert np.array_equal(got.acc, want.acc)
        assert np.array_equal(got.gyr, want.gyr)


def test_csv_round_trip_gives_back_the_stored_trace_exactly(db, person, tmp_path):
    session = two_trial_session(db, person)
    out = tmp_path / "out"
    result = ExportJob(db, select_sessions(db, profile="p-017"), out, ["csv"]).run()
    folder = out / "p-017-2" / session_name(session)
    assert result.sessions == 1 and folder.is_dir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "events.json",
        "samples.csv",
        "summary.json",
    ]
    back = read_session_folder(folder)
    assert_same_trace(back.trials, db.sessions.load_trace(session.id))
    header = (folder / "samples.csv").read_text().splitlines()[0]
    assert header == "trial,t,ax,ay,az,gx,gy,gz"


def test_summary_holds_who_what_calibration_metrics_and_versions(db, person, tmp_path):
    session = two_trial_session(db, person)
    ExportJob(db, select_sessions(db, session_id=session.id), tmp_path, ["csv"]).run()
    summary = json.loads(
        (tmp_path / "p-017-2" / session_name(session) / "summary.json").read_text(encoding="utf-8")
    )
    assert summary["format"] == "wobble-trainer-session" and summary["format_version"] == 1
    assert summary["exported_by"] == f"Wobble Trainer {__version__}"
    assert summary["profile"] == {
        "id": person.id,
        "name": "P-017",
        "is_guest": False,
        "birth_year": 1958,
        "age_at_session": 67,
        "sex": None,
        "height_m": 1.68,
        "injured_side": "left",
        "dominant_leg": "right",
    }
    s = summary["session"]
    assert s["kind"] == "test:single_leg_stance" and s["title"] == kind_title(s["kind"])
    assert s["settings"] == {"max_s": 45.0, "eyes_closed": False}
    assert s["metrics"] == session.metrics and s["software_version"] == __version__
    assert s["started_at"] == "2025-05-01T09:30:00.000+02:00"
    assert summary["calibration"]["format"] == "wobble-trainer-calibration"
    assert summary["edge_angles_deg"]["front"] == 15.0
    first = summary["trials"][0]
    assert first["label"] == "left/eyes-open/trial 1" and first["sample_count"] == 800
    assert first["rate_hz"] == pytest.approx(100.0) and first["duration_s"] == pytest.approx(7.99)
    assert summary["units"]["ax"] == "m/s^2" and summary["units"]["gz"] == "rad/s"
    events = json.loads((tmp_path / "p-017-2" / session_name(session) / "events.json").read_text())
    assert events["session"] == [{"event": "note", "text": "ok"}]
    assert events["trials"][1] == {
        "index": 1,
        "label": "right/eyes-open/trial 1",
        "events": [{"t": 2.5, "event": "edge"}, {"t": 7.9, "event": "end"}],
    }


def test_json_round_trip_and_float64_traces(tmp_path):
    with open_database(tmp_path / "d64", trace_precision="float64") as db:
        person = db.profiles.create("P-018", 1990, 1.8, "left")
        session = two_trial_session(db, person)
        ExportJob(db, select_sessions(db, all_profiles=True), tmp_path / "out", ["json"]).run()
        path = tmp_path / "out" / "p-018-2" / f"{session_name(session)}.json"
        back = read_session_json(path)
        assert_same_trace(back.trials, db.sessions.load_trace(session.id))
        assert back.summary["session"]["id"] == session.id and "files" not in back.summary
        assert back.events["trials"][0]["events"][0]["event"] == "edge"


def test_pdf_format_writes_session_and_progress_reports_and_an_index(db, person, tmp_path):
    first = two_trial_session(db, person)
    second = store_session(db, person, started_at=T0 + timedelta(days=1), seconds=3)
    job = ExportJob(db, select_sessions(db, profile="P-017"), tmp_path, ["csv", "pdf"])
    fractions = []
    while not job.step():
        fractions.append(job.fraction)
    assert fractions == sorted(fractions) and job.fraction == 1.0
    folder = tmp_path / "p-017-2"
    for session in (first, second):
        assert (folder / f"{session_name(session)}.pdf").read_bytes().startswith(b"%PDF-")
        assert (folder / session_name(session) / "samples.csv").exists()
    assert (folder / "progress.pdf").read_bytes().startswith(b"%PDF-")
    with (tmp_path / "index.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["session_id"]) for r in rows] == [first.id, second.id]
    assert rows[0]["path"] == f"p-017-2/{session_name(first)}"
    assert rows[0]["samples"] == "1600" and rows[0]["trials"] == "2"
    assert job.result.bytes_written == sum(p.stat().st_size for p in job.result.files)


def test_selection_by_profile_date_all_and_session(db, person):
    other = db.profiles.create("Ann", 1970, 1.6, "left")
    a = store_session(db, person, seconds=1)
    b = store_session(db, person, started_at=T0 + timedelta(days=3), seconds=1)
    c = store_session(db, other, seconds=1)
    guest = db.profiles.guest()
    pending = store_session(db, guest, seconds=1)  # a guest session not kept yet
    kept = db.sessions.keep(store_session(db, guest, seconds=1).id)
    ids = lambda items: [s.id for _, s in items]  # noqa: E731
    assert ids(select_sessions(db, profile="p-017")) == [a.id, b.id]
    assert ids(select_sessions(db, profile="P-017", since=date(2025, 5, 2))) == [b.id]
    assert set(ids(select_sessions(db, all_profiles=True))) == {a.id, b.id, c.id, kept.id}
    assert ids(select_sessions(db, session_id=pending.id)) == [pending.id]
    with pytest.raises(ExportError, match="no profile called 'Bob'.*Ann, P-017"):
        select_sessions(db, profile="Bob")
    with pytest.raises(ExportError, match="no session with id 999"):
        select_sessions(db, session_id=999)
    with pytest.raises(ExportError, match="--profile NAME, --all or --session ID"):
        select_sessions(db)


def test_estimate_covers_what_is_written(db, person, tmp_path):
    two_trial_session(db, person)
    job = ExportJob(db, select_sessions(db, all_profiles=True), tmp_path, ["csv", "pdf"])
    estimate = job.estimate_bytes()
    job.run()
    assert job.result.bytes_written <= estimate <= 4 * job.result.bytes_written


def test_a_full_disk_stops_the_job_with_a_clear_message(db, person, tmp_path, monkeypatch):
    two_trial_session(db, person)
    job = ExportJob(db, select_sessions(db, all_profiles=True), tmp_path, ["csv"])

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "_write_text", full)
    with pytest.raises(ExportError, match="is full"):
        job.run()
    with pytest.raises(ExportError, match="is full"):  # and it stays failed
        job.step()


def test_a_session_with_no_completed_trial_gets_no_pdf_and_says_why(db, person, tmp_path, capsys):
    kept = store_session(db, person, seconds=3)
    empty = db.sessions.start(person.id, "hold", started_at=T0 + timedelta(days=1))
    db.sessions.finish(
        empty.id, metrics={"score": None}, ended_at=T0 + timedelta(days=1, minutes=1)
    )
    assert (
        export.run(parse(["--profile", "P-017", "--format", "csv,pdf", "--out", str(tmp_path)]), db)
        == 0
    )
    folder = tmp_path / "p-017-2"
    assert (folder / f"{session_name(kept)}.pdf").exists()
    empty = db.sessions.get(empty.id)
    assert not (folder / f"{session_name(empty)}.pdf").exists()
    assert (folder / session_name(empty) / "summary.json").exists()  # its data is still exported
    err = capsys.readouterr().err
    assert f"Session {empty.id} (" in err and "no completed trial, so there is no PDF report" in err


def parse(argv):
    parser = argparse.ArgumentParser(prog="wobble export")
    export.add_arguments(parser)
    return parser.parse_args(argv)


def test_command_line(db, person, tmp_path, capsys):
    session = two_trial_session(db, person)
    args = parse(["--profile", "P-017", "--format", "csv,json", "--out", str(tmp_path / "x")])
    assert args.formats == ["csv", "json"]
    assert export.run(args, db) == 0
    said = capsys.readouterr().out
    assert "Exported 1 session of 1 profile (csv, json" in said
    assert (tmp_path / "x" / "p-017-2" / f"{session_name(session)}.json").exists()
    assert export.run(parse(["--all", "--since", "2030-01-01", "--out", str(tmp_path)]), db) == 1
    assert "no sessions match" in capsys.readouterr().err
    assert export.run(parse(["--profile", "Nobody", "--out", str(tmp_path)]), db) == 1
    assert "no profile called 'Nobody'" in capsys.readouterr().err
    for bad in (
        ["--all", "--format", "xls", "--out", "x"],
        ["--out", "x"],
        ["--all", "--since", "May 1st", "--out", "x"],
        ["--all", "--session", "3", "--out", "x"],
    ):
        with pytest.raises(SystemExit):
            parse(bad)


def test_all_exports_kept_guest_sessions_and_says_which_are_waiting(db, tmp_path, capsys):
    guest = db.profiles.guest()
    waiting = db.sessions.start(guest.id, "hold", settings={"duration_s": 10})
    db.sessions.finish(waiting.id, metrics={"score": 3})
    assert export.run(parse(["--all", "--out", str(tmp_path / "a")]), db) == 1
    err = capsys.readouterr().err
    assert "no sessions match" in err
    assert "1 Guest session is waiting to be kept or discarded" in err
    assert f"id {waiting.id}" in err and "--session ID" in err
    db.sessions.keep(waiting.id)  # kept for the guest: now part of --all
    assert export.run(parse(["--all", "--out", str(tmp_path / "b")]), db) == 0
    assert "Exported 1 session of 1 profile" in capsys.readouterr().out


def test_command_line_opens_the_state_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path / "state"))
    with open_database(tmp_path / "state") as db:
        person = db.profiles.create("P-1", 1980, 1.7, "left")
        store_session(db, person, seconds=1)
    assert export.run(parse(["--all", "--out", str(tmp_path / "o")])) == 0
    assert Path(tmp_path / "o" / "index.csv").exists()


# -- export safety (issue 14, item 7) ------------------------------------------------------------


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_formula_like_names_are_escaped_in_index_csv(db, tmp_path, name):
    hostile = db.profiles.create(name, 1970, 1.7, "left")
    store_session(db, hostile, "hold")
    ExportJob(db, select_sessions(db, all_profiles=True), tmp_path / "out", ["csv"]).run()
    rows = list(csv.DictReader((tmp_path / "out" / "index.csv").open(newline="")))
    cell = rows[0][next(iter(rows[0]))]  # the first column: the profile's name
    assert cell == "'" + name  # shown as text by a spreadsheet, never run as a formula
    assert export.csv_cell("\tx") == "'\tx" and export.csv_cell("\r=x") == "'\r=x"
    assert export.csv_cell(-2.5) == -2.5 and export.csv_cell("-2.5") == "-2.5"  # numbers stay


def test_a_symlink_planted_in_the_target_is_never_followed(db, person, tmp_path):
    two_trial_session(db, person)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "index.csv").symlink_to(victim)
    ExportJob(db, select_sessions(db, all_profiles=True), out, ["csv"]).run()
    assert victim.read_text() == "precious"
    assert not (out / "index.csv").is_symlink()
    assert person.name in (out / "index.csv").read_text()
    # A folder planted as a link to somewhere else is refused, and nothing is written there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out2 = tmp_path / "out2"
    out2.mkdir()
    (out2 / export.profile_folder(person)).symlink_to(elsewhere)
    with pytest.raises(ExportError, match="symbolic link .* not followed"):
        ExportJob(db, select_sessions(db, all_profiles=True), out2, ["csv"]).run()
    assert list(elsewhere.iterdir()) == []


def test_a_target_that_fills_up_keeps_only_whole_sessions_and_says_so(db, person, tmp_path,
                                                                      monkeypatch):  # fmt: skip
    two_trial_session(db, person)
    two_trial_session(db, person, started_at=T0 + timedelta(days=1))
    out = tmp_path / "out"
    real = export._write_bytes
    written = []

    def filling(path, data):
        written.append(path)
        if len(written) == 5:  # the second session's samples.csv
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(export, "_write_bytes", filling)
    with pytest.raises(ExportError) as caught:
        ExportJob(db, select_sessions(db, all_profiles=True), out, ["csv"]).run()
    message = str(caught.value)
    assert "is full" in message and "The unfinished session was removed" in message
    assert "the 1 session(s) finished before are complete" in message
    folders = sorted(p.name for p in (out / export.profile_folder(person)).iterdir())
    assert len(folders) == 1  # the first session, whole; no trace of the second
    files = sorted(p.name for p in (out / export.profile_folder(person) / folders[0]).iterdir())
    assert files == ["events.json", "samples.csv", "summary.json"]
    assert not list(out.rglob(".*partial"))
