import random

import numpy as np
import pytest
from conftest import assert_renders, autopilot_script, drive

from wobble_trainer.app.activities.alphabet import (
    ALPHABET,
    LETTERS,
    AlphabetSettings,
    AnkleAlphabet,
    Step,
    guide_path,
    level_pass_score,
    level_size,
    level_tolerance,
    resample,
    score_trace,
    subset_size,
)
from wobble_trainer.app.activities.base import COUNTDOWN_S, Phase
from wobble_trainer.app.controls import Command
from wobble_trainer.app.records import Records
from wobble_trainer.app.scene import ACTIVITIES, AppContext
from wobble_trainer.app.scenes.menus import ResultsScene, StartScene
from wobble_trainer.feedback.base import NullFeedback
from wobble_trainer.units import DEG


def start(app, **settings):
    app.push(StartScene(app))
    scene = AnkleAlphabet(app, AlphabetSettings(**settings))
    app.push(scene)
    return scene


def play(app, scene, script, limit_s=400.0, **kw):
    """Drive until the activity ends; after that the sensor reads nothing, so the results screen
    stays (one drive call: logic time must not run backwards within a session)."""
    drive(app, limit_s, lambda t: None if scene.phase is Phase.DONE else script(t), **kw)
    assert scene.phase is Phase.DONE


def wobbly(letter, amplitude, seed=0):
    """The letter's guide traced by a shaky hand: smooth noise of ``amplitude`` letter heights."""
    rng = np.random.default_rng(seed)
    path = resample(guide_path(LETTERS[letter]), 400)
    noise = rng.normal(0, 1, (400, 2))
    kernel = np.ones(25) / 25
    noise = np.column_stack([np.convolve(noise[:, i], kernel, "same") for i in range(2)])
    return path + noise / noise.std() * amplitude


# -- templates and scoring --------------------------------------------------------------------


def test_every_capital_has_a_template_inside_the_unit_box():
    assert sorted(LETTERS) == list(ALPHABET)
    for letter, strokes in LETTERS.items():
        assert strokes, letter
        for stroke in strokes:
            pts = np.asarray(stroke)
            assert pts.shape[1] == 2 and len(pts) >= 2, letter
            assert pts.min() >= -1e-9 and pts.max() <= 1 + 1e-9, letter


@pytest.mark.parametrize("letter", list(ALPHABET))
def test_a_perfect_trace_of_each_letter_scores_high(letter):
    result = score_trace(LETTERS[letter], guide_path(LETTERS[letter]), level_tolerance(10))
    assert result.match > 99 and result.coverage == 1.0
    assert result.size_ratio == pytest.approx(1.0, abs=1e-6)
    assert result.score >= level_pass_score(10)


def test_a_steady_hand_passes_and_a_shaky_one_scores_less():
    steady = [score_trace(LETTERS[c], wobbly(c, 0.03), level_tolerance(5)).score for c in ALPHABET]
    shaky = [score_trace(LETTERS[c], wobbly(c, 0.10), level_tolerance(5)).score for c in ALPHABET]
    assert min(steady) >= level_pass_score(5)
    assert np.mean(shaky) < np.mean(steady) - 15


def test_the_wrong_letter_scores_low():
    scores = np.array(
        [
            [score_trace(LETTERS[b], guide_path(LETTERS[a]), 0.3).score for b in ALPHABET]
            for a in ALPHABET
        ]
    )
    # Each trace matches its own letter best, and clearly.
    for i, letter in enumerate(ALPHABET):
        others = np.delete(scores[i], i)
        assert scores[i, i] > others.max() + 10, letter
    wrong = scores[~np.eye(26, dtype=bool)]
    assert np.median(wrong) < 15 and np.percentile(wrong, 90) < 45
    # Shapes that share nothing score near nothing.
    for traced, template in (("O", "L"), ("T", "O"), ("L", "X"), ("I", "S"), ("A", "O")):
        assert score_trace(LETTERS[template], guide_path(LETTERS[traced]), 0.3).score < 20


def test_random_scribbles_score_low():
    rng = np.random.default_rng(4)
    scores = [
        score_trace(LETTERS[c], np.cumsum(rng.normal(0, 1, (200, 2)), axis=0), 0.3).score
        for c in ALPHABET
        for _ in range(5)
    ]
    assert np.median(scores) < 20 and max(scores) < level_pass_score(1) + 15


def test_the_match_ignores_position_and_scale_but_the_size_ratio_does_not():
    trace = wobbly("R", 0.03)
    base = score_trace(LETTERS["R"], trace, 0.25)
    moved = score_trace(LETTERS["R"], trace * 0.4 + np.array([3.0, -7.0]), 0.25)
    assert moved.match == pytest.approx(base.match, abs=1e-6)
    assert moved.coverage == pytest.approx(base.coverage)
    assert moved.size_ratio == pytest.approx(0.4 * base.size_ratio)
    assert moved.score == pytest.approx(0.4 * base.score)  # too small: range of motion missing


def test_half_a_letter_misses_coverage():
    strokes = LETTERS["H"]
    half = guide_path(strokes[:1])  # only the first upright
    result = score_trace(strokes, half, level_tolerance(1))
    assert result.coverage < 0.6 and result.score < level_pass_score(1)


def test_no_movement_scores_zero():
    result = score_trace(LETTERS["A"], np.zeros((50, 2)), 0.3)
    assert result.score == 0.0 and result.match == 0.0


def test_levels_grow_the_letter_and_tighten_the_tolerance():
    assert level_size(1) == pytest.approx(6 * DEG)
    assert level_size(10) > level_size(1)
    assert level_tolerance(10) < level_tolerance(1)
    assert level_pass_score(10) > level_pass_score(1)
    assert subset_size(1) < subset_size(5) < subset_size(7) == 26


# -- the activity -----------------------------------------------------------------------------


def test_registered_as_a_seated_activity():
    activity = ACTIVITIES["alphabet"]
    assert activity.seated and isinstance(activity.factory(AppContext()), AnkleAlphabet)


def test_perfect_play_succeeds_scores_and_goes_up_a_level(app_context):
    scene = start(app_context, start_level=1)
    assert len(scene.letters) == 8 and set(scene.letters) <= set(ALPHABET)
    play(app_context, scene, autopilot_script(app_context))
    assert isinstance(app_context.scene, ResultsScene)
    assert len(scene.done) == 8 and all(r.success for r in scene.done)
    assert scene.level > 1 and scene.adaptive.changes
    assert all(r.result.match > 85 for r in scene.done)
    assert scene.session_score > 80
    assert app_context.records.get("alphabet/mixed") == pytest.approx(scene.session_score)
    heading, lines, key, score = scene.results()
    assert key == "alphabet/mixed" and score == scene.session_score
    assert any("8 of 8" in line for line in lines)
    assert [e["letter"] for e in scene.events] == scene.letters  # kept with the session


def test_letters_finish_early_when_traced(app_context):
    scene = start(app_context, start_level=1)
    drive(app_context, COUNTDOWN_S + 25, autopilot_script(app_context))
    first = scene.done[0]
    # The autopilot runs at 1.25x the pen speed: it ends the letter before its time is up.
    assert first.success and scene.index >= 1


def test_shaky_sensor_noise_still_passes_at_level_one(app_context):
    scene = start(app_context, start_level=1)
    play(app_context, scene, autopilot_script(app_context, noise_deg=0.1, seed=3))
    assert len(scene.done) == 8
    assert sum(r.success for r in scene.done) >= 7


def test_holding_still_fails_and_the_level_goes_down(app_context):
    scene = start(app_context, start_level=6)
    play(app_context, scene, lambda t: (0.0, 0.0))
    assert len(scene.done) == 13
    assert not any(r.success for r in scene.done)
    assert scene.level < 6
    assert scene.session_score == 0.0


def test_tiny_letters_fail_on_range_of_motion(app_context):
    scene = start(app_context, start_level=3)
    inner = autopilot_script(app_context)

    def small(t):  # the right shapes, a third of the size
        p, r = inner(t)
        return p / 3, r / 3

    play(app_context, scene, small)
    assert scene.done
    assert all(r.result.size_ratio < 0.5 and not r.success for r in scene.done)
    assert all(r.result.match > 60 for r in scene.done)  # the shape itself was fine


def test_whole_alphabet_in_order_from_level_seven(app_context):
    scene = start(app_context, start_level=7)
    assert scene.letters == list(ALPHABET)
    assert scene.settings.key() == "alphabet/a-z"
    forced = AnkleAlphabet(app_context, AlphabetSettings(start_level=1, full_alphabet=True))
    assert forced.letters == list(ALPHABET)


def make(seed, level=1):
    app = AppContext(feedback=NullFeedback(), rng=random.Random(seed), records=Records(None))
    return AnkleAlphabet(app, AlphabetSettings(start_level=level))


def test_content_is_random_per_seed_and_repeatable():
    a, b, c = make(1), make(1), make(2)
    assert a.letters == b.letters and a.variations == b.variations
    assert a.letters != c.letters
    np.testing.assert_allclose(a.current.guide, b.current.guide)
    full1, full2 = make(1, level=8), make(2, level=8)
    assert full1.letters == full2.letters  # A-Z in order ...
    assert full1.variations != full2.variations  # ... but each drawn a little differently


def test_letter_size_respects_the_board_edges(app_context):
    from wobble_trainer.tilt.calibration import Calibration, EdgeAngles

    edges = EdgeAngles(5 * DEG, 5 * DEG, 4 * DEG, 4 * DEG)
    app_context.calibration = Calibration(edge_angles=edges)
    scene = start(app_context, start_level=10)
    c = scene.current
    assert np.abs(c.guide[:, 1]).max() <= 0.8 * 5 * DEG + 1e-9
    assert np.abs(c.guide[:, 0]).max() <= 0.8 * 4 * DEG + 1e-9


def test_sensor_loss_and_stepping_off_freeze_the_letter(app_context):
    scene = start(app_context, start_level=1)
    script = autopilot_script(app_context)
    drive(app_context, COUNTDOWN_S + 3, script)
    assert scene.phase is Phase.RUNNING
    state = (scene.step_kind, scene.step_time, len(scene.current.trace), scene.index)
    drive(app_context, 5, lambda t: None)
    assert scene.auto_paused
    drive(app_context, 5, lambda t: (4.0, 4.0), on_board=False)
    assert (scene.step_kind, scene.step_time, len(scene.current.trace), scene.index) == state
    drive(app_context, 1, script)
    assert scene.step_time > state[1] or scene.step_kind is not state[0]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        AlphabetSettings(start_level=0)
    with pytest.raises(ValueError):
        AlphabetSettings(start_level=11)


def test_renders_in_every_phase(app_context):
    scene = start(app_context, start_level=1)
    assert_renders(scene)  # countdown
    script = autopilot_script(app_context)
    drive(app_context, COUNTDOWN_S + 0.02, lambda t: (0.0, 0.0))
    assert scene.step_kind is Step.READY
    assert_renders(scene)
    drive(app_context, 6, script)
    assert scene.step_kind is Step.TRACE and len(scene.current.trace) > 2
    assert_renders(scene)
    while scene.step_kind is not Step.RESULT:
        drive(app_context, 0.5, script)
    assert_renders(scene)
    scene.command(Command.PAUSE)
    assert scene.user_paused
    assert_renders(scene)
