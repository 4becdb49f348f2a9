import pytest
from conftest import drive

from wobble_trainer.app.activities.base import COUNTDOWN_S
from wobble_trainer.app.activities.hold import HoldChallenge, HoldSettings
from wobble_trainer.app.scenes.menus import StartScene


def test_a_finished_hold_is_stored_with_trace_metrics_and_events(app_with_db):
    app = app_with_db
    app.push(StartScene(app))
    app.push(HoldChallenge(app, HoldSettings(duration_s=10)))
    drive(app, COUNTDOWN_S + 3, lambda t: (0.0, 0.0))
    drive(app, 2, lambda t: (15.0, 0.0))  # on the rim: an edge event
    drive(app, 10, lambda t: (1.0, -1.0))
    db = app.db
    sessions = list(db.sessions.iter_sessions())
    assert len(sessions) == 1
    session = sessions[0]
    assert session.kind == "hold" and session.finished
    assert session.settings["duration_s"] == 10
    assert session.metrics["score"] == pytest.approx(10.0, abs=0.05)
    assert session.metrics["edge_touches"] == 1
    assert session.metrics["osi"] > 0
    assert session.events == []  # the edge event belongs to the trial (below)
    trials = db.sessions.load_trace(session.id)
    assert len(trials) == 1
    assert trials[0].events[0]["event"] == "edge"
    assert trials[0].sample_count == pytest.approx(1200, abs=5)  # 12 s at 100 Hz


def test_without_a_database_the_activity_still_runs(app_context):
    app = app_context
    app.push(StartScene(app))
    scene = HoldChallenge(app, HoldSettings(duration_s=10))
    app.push(scene)
    drive(app, COUNTDOWN_S + 11, lambda t: (0.0, 0.0))
    assert scene.log is not None and scene.log.session_id is None


@pytest.mark.parametrize("disk", ["full", "read-only"])
def test_a_full_or_read_only_disk_keeps_the_session_in_memory_and_says_so(app_with_db, disk):
    from conftest import fill_database

    from wobble_trainer.app.scenes.menus import ResultsScene

    app = app_with_db
    db = app.db
    app.push(StartScene(app))
    scene = HoldChallenge(app, HoldSettings(duration_s=10))
    app.push(scene)
    drive(app, COUNTDOWN_S + 1, lambda t: (0.0, 0.0))  # the session was started
    if disk == "full":
        fill_database(db)
    else:
        db.query("PRAGMA query_only = ON")  # SQLite's own refusal to write: SQLITE_READONLY
    drive(app, 11, lambda t: (0.0, 0.0))
    results = app.scene
    assert isinstance(results, ResultsScene)  # training went on to the results
    assert scene.log.unsaved and scene.log.trials == 0
    why = "is full" if disk == "full" else "cannot write"
    assert why in results.warning and why in app.notice
    assert "kept in memory" in app.notice
    assert db.integrity_check() == "ok"
    # The disk has room again: the next save attempt stores the kept trial and finishes.
    if disk == "full":
        fill_database(db, full=False)
    else:
        db.query("PRAGMA query_only = OFF")
    scene.log.finish({"score": 1.0})
    assert not scene.log.unsaved and scene.log.error == ""
    (session,) = db.sessions.iter_sessions()
    assert session.finished and len(db.sessions.load_trace(session.id)) == 1


def test_a_session_that_could_not_even_start_is_stored_once_the_disk_has_room(app_with_db):
    from wobble_trainer.app.session_log import SessionLog

    app = app_with_db
    app.db.profiles.guest()  # the guest exists before the disk fills
    app.db.query("PRAGMA query_only = ON")
    log = SessionLog(app, "hold", {})
    log.start()
    assert log.session_id is None and "cannot write" in log.error
    log.begin_trial()
    app.publish_angles(__import__("numpy").zeros(0))
    log.end_trial("one")
    app.db.query("PRAGMA query_only = OFF")
    log.finish({"score": 2.0})
    (session,) = app.db.sessions.iter_sessions()
    assert session.finished and session.metrics == {"score": 2.0}
