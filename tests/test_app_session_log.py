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
