"""What every clinical test protocol shares: the registry, clinician settings, the multi-trial
runner and the results screen.

A protocol is a plan of trials (:class:`TrialSpec`: label, instruction, duration, eyes, board
setup). :class:`ProtocolRunner` walks through it hands-free:

``SETUP`` (only when the board setup changes, e.g. m-CTSIB "board locked on the flat mat": the
clinician taps Ready, or the person stands on the board held level for :data:`SETUP_HOLD_S`) →
``INSTRUCT`` (the instruction on screen and announced by sound; a level hold of
:data:`READY_HOLD_S` or a tap starts) → ``COUNTDOWN`` (3-2-1 beeps, GO) → ``RUNNING`` → end tone →
``REST`` (seconds shown, skippable) → the next trial … → results.

With eyes closed everything a person needs is a sound (DOMAIN.md §7): the announcement chime, the
3-2-1 beeps, GO, the edge sound and the end tone. While the sensor is lost the run pauses (time
frozen); what stepping off does is the protocol's rule (:attr:`ProtocolRunner.off_board`): pause,
end the trial (single-leg stance) or carry on (BESS counts it as an error).

Storage: one session per protocol run (kind ``"test:<name>"``) through :class:`SessionLog`, one
stored trial per trial with its label (``"left/eyes-closed/trial 2"``) and events, and at the end
the summary metrics with every trial's metrics. Leaving a run early closes the session with what
was finished and ``"completed": False``.

Logic runs at the fixed step in :meth:`Scene.update`; drawing only in :meth:`Scene.render`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pygame

from wobble_trainer import metrics
from wobble_trainer.analysis import (
    ANALYSIS_VERSION,
    TrialAngles,
    live_trial_angles,
    nominal_rate_hz,
    trial_metrics,
)
from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.layout import (
    ACCENT,
    BACKGROUND,
    GREEN,
    HIGHLIGHT,
    MUTED,
    PANEL,
    RED,
    TEXT,
    Layout,
)
from wobble_trainer.app.scene import Activity, AppContext, Scene, Tick
from wobble_trainer.app.scenes.menus import AUTOPILOT_LEAN, ConfirmStopScene, MenuScene
from wobble_trainer.app.session_log import SessionLog
from wobble_trainer.app.widgets import (
    draw_choice,
    draw_notice,
    draw_pause_veil,
    draw_pose_wait,
    draw_tilt_view,
    lean_hint,
)
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.board_angles import BoardAngles
from wobble_trainer.tilt.stream import ANGLE_DTYPE
from wobble_trainer.units import DEG

COUNTDOWN_S = 3
READY_TILT = 5.0 * DEG
"""The board counts as level for the ready hold within this tilt (people wobble while settling)."""
READY_HOLD_S = 2.0
"""A level hold this long starts the countdown of a trial, hands-free."""
SETUP_HOLD_S = 5.0
"""A level hold this long confirms a changed board setup when no clinician taps Ready (longer
than :data:`READY_HOLD_S`: a setup change is the clinician's to confirm)."""
EDGE_MARGIN = metrics.DEFAULT_EDGE_MARGIN_DEG * DEG
"""An edge touch starts this far before the edge angle (as in :func:`metrics.edge_touches`)."""
EDGE_HYSTERESIS = metrics.DEFAULT_EDGE_HYSTERESIS_DEG * DEG
"""…and ends only this much further back (one touch, not one per sensor wobble)."""
REST_CHOICES = (0, 5, 10, 15, 20, 30, 45, 60)


# --- registry -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Protocol:
    """A clinical test protocol the Tests menu offers."""

    name: str
    title: str
    description: str
    settings_type: type
    """Its settings dataclass; ``settings_type()`` gives the defaults."""
    factory: Callable[[AppContext, Any], Scene]
    """``factory(app, settings)`` makes the runner scene."""
    seated: bool = False
    """Run seated (no standing calibration needed first)."""

    def default_settings(self) -> Any:
        return self.settings_type()

    def activity(self, settings: Any = None) -> Activity:
        """The protocol as an :class:`Activity` (for ``--activity``-style starts and
        :class:`~wobble_trainer.app.scenes.calibrate.CalibrationScene`'s ``then``)."""
        chosen = self.default_settings() if settings is None else settings
        return Activity(
            self.name,
            self.title,
            self.description,
            lambda app: self.factory(app, chosen),
            seated=self.seated,
        )


PROTOCOLS: dict[str, Protocol] = {}


def register_protocol(protocol: Protocol) -> Protocol:
    if protocol.name in PROTOCOLS:
        raise ValueError(f"protocol {protocol.name!r} registered twice")
    PROTOCOLS[protocol.name] = protocol
    return protocol


def start_protocol(app: AppContext, protocol: Protocol, settings: Any = None) -> None:
    """Replace the top scene with the protocol's run, calibrating a standing board first."""
    activity = protocol.activity(settings)
    if app.calibration.uncalibrated and not protocol.seated:
        from wobble_trainer.app.scenes.calibrate import CalibrationScene

        app.replace(CalibrationScene(app, then=activity))
    else:
        app.replace(activity.factory(app))


# --- settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingField:
    """One clinician-adjustable row: a settings field and the values +/- step through."""

    name: str
    label: str
    choices: tuple[Any, ...]
    fmt: Callable[[Any], str] = str


def seconds(value: float) -> str:
    return f"{value:g} s"


def step_setting(settings: Any, row: SettingField, step: int) -> Any:
    """``settings`` with ``row`` moved ``step`` (±1) through its choices, skipping values the
    settings refuse (their validation raises ``ValueError``); unchanged at either end."""
    current = getattr(settings, row.name)
    if current in row.choices:
        index = row.choices.index(current) + step
    else:  # a value set in code: on to the next listed value that way
        try:
            ahead = [
                i for i, c in enumerate(row.choices) if (c > current if step > 0 else c < current)
            ]
        except TypeError:  # not orderable: from either end
            ahead = list(range(len(row.choices)))
        if not ahead:
            return settings
        index = ahead[0] if step > 0 else ahead[-1]
    while 0 <= index < len(row.choices):
        try:
            return replace(settings, **{row.name: row.choices[index]})
        except ValueError:
            index += step
    return settings


def settings_dict(settings: Any) -> dict[str, Any]:
    """The settings as stored with the session (JSON-ready: tuples become lists)."""
    if not is_dataclass(settings):
        return {}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}


# --- trials ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialSpec:
    """One trial of a protocol's plan."""

    label: str
    """Stored with the trial, e.g. ``"left/eyes-closed/trial 2"``."""
    instruction: str
    """Shown big and announced, e.g. ``"Stand on your LEFT leg, eyes CLOSED"``."""
    duration_s: float
    """Longest the trial runs (it may end earlier by a protocol's stop rule)."""
    eyes_closed: bool = False
    practice: bool = False
    """Practice trials are stored but left out of the summary."""
    setup: str = ""
    """The board setup this trial needs (e.g. "Board locked: on the flat mat"); when it differs
    from the last confirmed one, the clinician confirms it first. "" = no particular setup."""
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """What the protocol needs to run and score it (leg, direction, target…)."""


@dataclass
class TrialResult:
    spec: TrialSpec
    time_s: float
    """Running time when the trial ended, s (the stance time for single-leg stance)."""
    ended_by: str
    """``"time"`` (ran its duration), ``"edge"``, ``"step-off"``, ``"clinician"``, ``"reached"``…"""
    events: list[dict[str, Any]]
    metrics: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.spec.label,
            "practice": self.spec.practice,
            "time_s": round(self.time_s, 3),
            "ended_by": self.ended_by,
            **self.metrics,
        }


class Phase(StrEnum):
    SETUP = "setup"
    INSTRUCT = "instruct"
    COUNTDOWN = "countdown"
    RUNNING = "running"
    REST = "rest"
    DONE = "done"


class OffBoard(StrEnum):
    """What a protocol does when the person steps off during a trial."""

    PAUSE = "pause"
    END = "end"
    CONTINUE = "continue"


class EdgeTracker:
    """Edge (rim) touches with hysteresis: starts at edge − :data:`EDGE_MARGIN`, ends below
    that − :data:`EDGE_HYSTERESIS`, per direction (the board's edge angles differ)."""

    def __init__(self) -> None:
        self.on_edge = False

    def update(self, angles: BoardAngles, edges: Any) -> bool:
        """True at the step a new touch starts."""
        edge = edges.toward(angles.direction) - EDGE_MARGIN
        if self.on_edge:
            self.on_edge = angles.tilt >= edge - EDGE_HYSTERESIS
            return False
        self.on_edge = angles.tilt >= edge
        return self.on_edge


def announce(app: AppContext, text: str) -> None:
    """Announce a new instruction by sound: a chime everywhere, and the words themselves where
    the speakers can speak (a sound back end with ``say(text)``)."""
    app.feedback.cue(Cue.SELECT)
    say = getattr(app.sound, "say", None)
    if callable(say):
        say(text)


def fitted_title(surface: pygame.Surface, layout: Layout, text: str) -> int:
    """A title across the top, shrunk to fit the width (long protocol names in portrait);
    returns the y below it."""
    size = layout.title_size
    while size > layout.body_size and layout.font(size).size(text)[0] > layout.width - 2 * (
        layout.margin
    ):
        size -= 2
    rect = layout.text(surface, text, size, (layout.width // 2, layout.margin + size // 2))
    return rect.bottom + layout.margin


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def fmt_deg(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}°"


# --- the runner -----------------------------------------------------------------------------------


class ProtocolRunner(Scene):
    """Runs a protocol's plan of trials. Subclasses implement :meth:`build_plan`,
    :meth:`summary` and :meth:`result_lines`, and may override the hooks below."""

    name = ""
    title = ""
    off_board = OffBoard.PAUSE
    track_edges = True
    """Count edge touches (event, EDGE sound, :meth:`on_edge_touch`) while running."""

    def __init__(self, app: AppContext, settings: Any) -> None:
        super().__init__(app)
        self.settings = settings
        self.plan: list[TrialSpec] = self.build_plan()
        if not self.plan:
            raise ValueError(f"{self.name}: these settings give no trials")
        self.index = 0
        self.phase = Phase.INSTRUCT
        self.results: list[TrialResult] = []
        self.trial: TrialAngles | None = None
        """The angles of the trial that ended last (its metrics' one source)."""
        self.log: SessionLog | None = None
        self.elapsed = 0.0
        self.countdown_left = float(COUNTDOWN_S)
        self._last_count = COUNTDOWN_S + 1
        self.rest_left = 0.0
        self.ready_time = 0.0
        self.user_paused = False
        self.auto_paused = False
        self.events: list[dict[str, Any]] = []
        """Events of the trial running (edge touches, taps…)."""
        self.session_events: list[dict[str, Any]] = []
        """Events of the run outside trials (setups confirmed…)."""
        self.confirmed_setup = ""
        self.angles: BoardAngles | None = None
        self.edge = EdgeTracker()
        self.edge_since = 0.0
        """Trial time at which the current (or last) edge touch began."""
        self._trace: list[tuple[float, float, float]] = []
        self._gaps: list[tuple[int, int]] = []
        self._pause_from: int | None = None
        self._started = False
        self.summary_metrics: dict[str, Any] | None = None
        self._paused_for_question = False
        """Paused by :meth:`ask_to_stop` (not by the person): "Keep going" resumes."""

    # -- plan helpers ------------------------------------------------------------------------
    @property
    def spec(self) -> TrialSpec:
        return self.plan[min(self.index, len(self.plan) - 1)]

    @property
    def paused(self) -> bool:
        return self.user_paused or self.auto_paused

    @property
    def kind(self) -> str:
        return f"test:{self.name}"

    def enter(self) -> None:
        if not self._started:
            self._started = True
            self._intro()

    def _intro(self) -> None:
        spec = self.spec
        self.ready_time = 0.0
        self.phase = (
            Phase.SETUP if spec.setup and spec.setup != self.confirmed_setup else Phase.INSTRUCT
        )
        self.on_intro(spec)
        announce(self.app, spec.instruction)

    # -- the fixed step ----------------------------------------------------------------------
    def update(self, dt: float, tick: Tick) -> None:
        self.angles = tick.angles
        if self.phase is Phase.DONE:
            return
        if not self._started:
            self.enter()
        lost = tick.angles is None
        off = not tick.on_board and self.off_board is not OffBoard.CONTINUE
        if self.phase is Phase.RUNNING:
            if not lost and off and self.off_board is OffBoard.END:
                # The board sat on its rim for a while before presence said "off": the stance
                # ended when that rim contact began.
                self.end_trial("step-off", self.edge_since if self.edge.on_edge else None)
                return
            self.auto_paused = lost or off
        elif self.phase is Phase.COUNTDOWN:
            self.auto_paused = lost or off
        else:
            self.auto_paused = lost
        self._note_pause()
        if self.user_paused or self.auto_paused:
            if self.phase in (Phase.SETUP, Phase.INSTRUCT):
                self.ready_time = 0.0
            return
        if self.phase in (Phase.SETUP, Phase.INSTRUCT):
            self._ready_step(dt, tick)
        elif self.phase is Phase.COUNTDOWN:
            self._countdown_step(dt)
        elif self.phase is Phase.RUNNING:
            self._running_step(dt, tick)
        elif self.phase is Phase.REST:
            self.rest_left -= dt
            if self.rest_left <= 1e-9:
                self._intro()

    def _note_pause(self) -> None:
        """Remember which recorded rows of the running trial fall in a pause: the session log
        records all the time (the raw trace stays whole), the metrics leave those rows out."""
        if self.phase is not Phase.RUNNING or self.log is None:
            return
        if self.paused and self._pause_from is None:
            self._pause_from = len(self.log.trial_angles())
        elif not self.paused and self._pause_from is not None:
            self._gaps.append((self._pause_from, len(self.log.trial_angles())))
            self._pause_from = None

    def _ready_step(self, dt: float, tick: Tick) -> None:
        if self.ready_ok(tick):
            self.ready_time += dt
        else:
            self.ready_time = 0.0
        if self.ready_time >= self.ready_needed - 1e-9:
            self.confirm("hold")

    @property
    def ready_needed(self) -> float:
        return SETUP_HOLD_S if self.phase is Phase.SETUP else READY_HOLD_S

    def confirm(self, by: str) -> None:
        """Setup or instruction confirmed (``by`` "hold" or "tap"): the countdown starts."""
        if self.phase is Phase.SETUP:
            self.confirmed_setup = self.spec.setup
            self.session_events.append(
                {"event": "setup", "setup": self.spec.setup, "by": by, "before": self.spec.label}
            )
        self.on_ready(self.spec)
        self.phase = Phase.COUNTDOWN
        self.countdown_left = float(COUNTDOWN_S)
        self._last_count = COUNTDOWN_S + 1

    def _countdown_step(self, dt: float) -> None:
        count = int(self.countdown_left + 0.999)
        if 0 < count < self._last_count:
            self._last_count = count
            self.app.feedback.cue(Cue.COUNTDOWN)
        self.countdown_left -= dt
        if self.countdown_left <= 1e-9:
            self._begin_trial()

    def _begin_trial(self) -> None:
        self.app.feedback.cue(Cue.GO)
        if self.log is None:
            self.log = SessionLog(self.app, self.kind, settings_dict(self.settings))
            self.log.start()
        self.log.begin_trial()
        self.phase = Phase.RUNNING
        self.elapsed = 0.0
        self.events = []
        self._trace = []
        self._gaps = []
        self._pause_from = None
        self.edge = EdgeTracker()
        self.start_trial(self.spec)

    def _running_step(self, dt: float, tick: Tick) -> None:
        a = tick.angles
        assert a is not None
        self.elapsed += dt
        self._trace.append((tick.t, a.pitch, a.roll))
        if self.edge.update(a, self.app.edge_angles) and self.track_edges:
            self.edge_since = self.elapsed
            self.events.append({"t": round(self.elapsed, 3), "event": "edge"})
            self.app.feedback.cue(Cue.EDGE)
            self.on_edge_touch(tick)
            if self.phase is not Phase.RUNNING:
                return
        self.step_trial(dt, tick)
        if self.phase is Phase.RUNNING and self.elapsed >= self.spec.duration_s - 1e-9:
            self.end_trial("time")

    def end_trial(self, ended_by: str, time_s: float | None = None) -> None:
        """End the running trial now (scored at ``time_s``, default: now): store it, score
        it, go on to rest or the results."""
        if self.phase is not Phase.RUNNING:
            return
        spec = self.spec
        self.app.feedback.cue(Cue.END)
        self.app.feedback.set_targets(None)
        time_s = self.elapsed if time_s is None else time_s
        events = [*self.events, {"t": round(time_s, 3), "event": "end", "by": ended_by}]
        if self.log is not None and self._pause_from is not None:
            self._gaps.append((self._pause_from, len(self.log.trial_angles())))
        # Paused rows are left out of the metrics (stored with the trial, so a replay agrees).
        angles = (
            self.log.end_trial(spec.label, events, self._gaps)
            if self.log
            else np.empty(0, ANGLE_DTYPE)
        )
        self.trial = self.log.last_trial if self.log is not None and len(angles) else None
        if self.trial is not None:
            angles = angles.copy()
            for start, stop in self.trial.excluded:  # paused: gaps (NaN) for the metrics
                angles["pitch"][start:stop] = np.nan
                angles["roll"][start:stop] = np.nan
        elif self._trace:  # no full-rate angles (no feed): the logic-rate ones, pauses left out
            angles = np.array(self._trace, dtype=ANGLE_DTYPE)
            rate = nominal_rate_hz(angles["t"])
            self.trial = live_trial_angles(angles, rate) if rate else None
        self._pause_from = None
        result = TrialResult(spec, time_s, ended_by, events, {})
        result.metrics = self.trial_metrics(result, angles)
        self.results.append(result)
        self.auto_paused = False
        self.plan[self.index + 1 : self.index + 1] = self.trials_after(result)
        self.index += 1
        if self.index >= len(self.plan):
            self.finish()
            return
        self.rest_left = float(getattr(self.settings, "rest_s", 0.0))
        if self.rest_left > 0:
            self.phase = Phase.REST
        else:
            self._intro()

    def finish(self) -> None:
        """All trials done: store the summary, show the results."""
        self.phase = Phase.DONE
        self.app.feedback.set_targets(None)
        self._close_log(completed=True)
        lines, notes = self.result_lines()
        self.app.results.append({"activity": self.kind, "lines": lines, "score": None})
        warning = self.log.error if self.log is not None else ""
        self.app.replace(
            ProtocolResultsScene(self.app, f"{self.title}: results", lines, notes, warning)
        )

    def _close_log(self, completed: bool) -> None:
        summary = {
            "protocol": self.name,
            "analysis_version": ANALYSIS_VERSION,
            "completed": completed,
            "trials": [r.as_dict() for r in self.results],
            **self.summary(),
        }
        self.summary_metrics = summary
        if self.log is not None:
            self.log.finish(summary, self.session_events)

    def abort(self) -> None:
        """Leave the run: the trials already finished stay stored, marked not completed."""
        if self.phase is not Phase.DONE:
            self.phase = Phase.DONE
            if self.log is not None:
                self._close_log(completed=False)
        self.app.feedback.set_targets(None)
        self.app.pop()

    # -- input -------------------------------------------------------------------------------
    def command(self, command: Command) -> None:
        if command is Command.PAUSE:
            if self.phase is not Phase.DONE:
                self.user_paused = not self.user_paused
                self._note_pause()
        elif command in (Command.MENU, Command.BACK):
            if self.phase is Phase.DONE or (
                not self.results and self.phase in (Phase.SETUP, Phase.INSTRUCT)
            ):
                self.abort()  # nothing recorded yet: nothing to lose
            else:
                self.ask_to_stop()
        elif command is Command.SELECT:
            if self.user_paused:
                self.user_paused = False
                self._note_pause()
            elif self.phase in (Phase.SETUP, Phase.INSTRUCT):
                self.confirm("tap")
            elif self.phase is Phase.REST:
                self._intro()
        else:
            self.protocol_command(command)

    def ask_to_stop(self) -> None:
        """Pause and ask before leaving (the pause is left out of the trial's metrics)."""
        self._paused_for_question = not self.user_paused
        self.user_paused = True
        self._note_pause()
        done = len(self.results)
        kept = (
            f"The {done} finished trial{'s are' if done != 1 else ' is'} kept."
            if done
            else "Nothing has been kept yet."
        )
        running = "The trial in progress will not be kept. " if self.phase is Phase.RUNNING else ""
        self.app.push(ConfirmStopScene(self.app, "Stop this test?", running + kept, self.abort))

    def resume(self) -> None:
        if self._paused_for_question:
            self._paused_for_question = False
            self.user_paused = False
            self._note_pause()

    def exit(self) -> None:
        self.app.feedback.set_targets(None)

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        if self.phase is Phase.RUNNING and not self.paused:
            return self.running_autopilot(tick)
        return (0.0, 0.0)

    # -- drawing -----------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        spec = self.spec
        y = fitted_title(surface, layout, self.title)
        header = f"Trial {min(self.index + 1, len(self.plan))} of {len(self.plan)}: {spec.label}"
        y = (
            layout.text(
                surface,
                header,
                layout.small_size,
                (layout.width // 2, y + layout.small_size // 2),
                MUTED,
            ).bottom
            + layout.margin // 2
        )
        area = pygame.Rect(0, y, layout.width, layout.height - y)
        if self.phase in (Phase.SETUP, Phase.INSTRUCT):
            self._draw_ready(surface, layout, area)
        elif self.phase is Phase.COUNTDOWN:
            self._draw_instruction(surface, layout, area)
            layout.text(
                surface,
                str(max(1, int(self.countdown_left + 0.999))),
                layout.title_size * 2,
                (layout.width // 2, area.centery + layout.title_size // 2),
                ACCENT,
            )
        elif self.phase is Phase.RUNNING:
            buttons = self.running_buttons()
            if buttons:
                area = self._draw_buttons(surface, layout, area, buttons)
            self.draw_running(surface, layout, area)
        elif self.phase is Phase.REST:
            self._draw_rest(surface, layout, area)
        if self.phase is not Phase.DONE and self.auto_paused:
            draw_pause_veil(
                surface,
                layout,
                "Paused",
                "Waiting for the sensor"
                + ("" if self.angles is None else " and for you to stand on the board"),
            )
        elif self.user_paused:
            draw_pause_veil(surface, layout, "Paused", "Press the button to go on")

    def _draw_instruction(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> int:
        box = pygame.Rect(
            area.x + 2 * layout.margin, area.y, area.width - 4 * layout.margin, area.height // 2
        )
        used = layout.wrapped(surface, self.spec.instruction, layout.body_size, box, ACCENT)
        return area.y + used

    def _draw_ready(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        m = layout.margin
        y = area.y
        if self.phase is Phase.SETUP:
            box = pygame.Rect(2 * m, y, layout.width - 4 * m, area.height // 3)
            y += layout.wrapped(surface, "Set up: " + self.spec.setup, layout.body_size, box, RED)
            y += m // 2
        y = self._draw_instruction(
            surface, layout, pygame.Rect(0, y, layout.width, area.bottom - y)
        )
        if self.phase is Phase.SETUP:
            hint = f"Clinician: press Ready. Alone: {self.ready_hint} for {SETUP_HOLD_S:g} s"
            label = "Ready"
        else:
            hint = f"{self.ready_hint} for {READY_HOLD_S:g} s to start"
            label = "Start now"
        y = (
            layout.text(
                surface,
                hint,
                layout.small_size,
                (layout.width // 2, y + m // 2 + layout.small_size // 2),
                TEXT,
                max_width=layout.width - 2 * m,
            ).bottom
            + m // 2
        )
        # What is wanted and how close the person is: the live tilt against the wanted pose,
        # ringed by the hold's progress, and a line saying which.
        size = layout.small_size
        button = pygame.Rect(0, 0, max(size * 5, layout.width // 5), int(size * 1.8))
        status_h = layout.font(size).get_linesize()
        room = area.bottom - y - status_h - m
        if layout.portrait:
            room -= button.height + m
        radius = max(16, min(room // 2 - m // 2, layout.short // 5))
        center = (layout.width // 2, y + m // 2 + radius)
        pose = self.ready_pose()
        held = self.ready_time / self.ready_needed
        draw_pose_wait(surface, center, radius, self.angles, pose, held, self.app.edge_angles)
        status, colour = self.ready_status(pose, held)
        status_y = center[1] + radius + m // 2 + status_h // 2
        layout.text(
            surface,
            status,
            size,
            (layout.width // 2, status_y),
            colour,
            max_width=layout.width - 2 * m,
        )
        # The clinician's shortcut: a touch button in the corner (the person never needs it).
        if layout.portrait:
            button.midtop = (layout.width // 2, status_y + status_h // 2 + m // 2)
        else:
            button.bottomright = (layout.width - m, area.bottom - m)
        pygame.draw.rect(surface, PANEL, button, border_radius=m)
        pygame.draw.rect(surface, MUTED, button, 2, border_radius=m)
        layout.text(surface, label, size, button.center, max_width=button.width - m)
        self.buttons.append((button, Command.SELECT))

    ready_hint = "Hold the board level"
    """What the ready hold asks, in the words of the hint (a subclass asks for its pose)."""

    def ready_pose(self) -> tuple[float, float, float] | None:
        """The pose the ready hold wants (pitch, roll, tolerance in rad), drawn as a target
        around it; None: no pose (stillness only)."""
        return (0.0, 0.0, READY_TILT)

    def ready_status(
        self, pose: tuple[float, float, float] | None, held: float
    ) -> tuple[str, tuple[int, int, int]]:
        """How close the person is to the wanted pose, in words."""
        left = max(0.0, (1.0 - held) * self.ready_needed)
        if held > 0:
            return f"Good: hold still, {left:.1f} s", GREEN
        a = self.angles
        if a is None or pose is None:
            return "Hold still", TEXT
        off = math.hypot(a.pitch - pose[0], a.roll - pose[1]) / DEG
        return f"Tilted {off:.0f}°: bring the dot into the circle", ACCENT

    def _draw_rest(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        m = layout.margin
        layout.text(
            surface,
            "Rest",
            layout.title_size,
            (layout.width // 2, area.y + layout.title_size // 2),
            GREEN,
        )
        layout.text(
            surface,
            f"{max(0.0, self.rest_left):.0f} s",
            layout.title_size,
            (layout.width // 2, area.y + layout.title_size * 3 // 2),
            TEXT,
        )
        nxt = self.plan[self.index].instruction
        box = pygame.Rect(
            2 * m, area.y + layout.title_size * 2 + m, layout.width - 4 * m, layout.body_size * 3
        )
        layout.wrapped(surface, "Next: " + nxt, layout.small_size, box, MUTED)
        size = layout.small_size
        rect = pygame.Rect(0, 0, size * 7, int(size * 2))
        rect.midbottom = (layout.width // 2, area.bottom - m)
        pygame.draw.rect(surface, PANEL, rect, border_radius=m)
        layout.text(surface, "Skip rest", size, rect.center)
        self.buttons.append((rect, Command.SELECT))

    def _draw_buttons(
        self,
        surface: pygame.Surface,
        layout: Layout,
        area: pygame.Rect,
        buttons: list[tuple[str, Callable[[], None]]],
    ) -> pygame.Rect:
        """Clinician buttons in a column on the right (landscape) or rows at the bottom
        (portrait); returns the area left for the trial's drawing."""
        m = layout.margin
        size = layout.small_size
        n = len(buttons)
        if layout.portrait:
            cols = 2 if n > 2 else n
            rows = math.ceil(n / cols)
            h = int(size * 2.2)
            w = (layout.width - (cols + 1) * m) // cols
            top = area.bottom - rows * (h + m)
            rects = [
                pygame.Rect(m + (i % cols) * (w + m), top + (i // cols) * (h + m), w, h)
                for i in range(n)
            ]
            rest = pygame.Rect(area.x, area.y, area.width, top - area.y)
        else:
            w = layout.width // 3
            h = min(int(size * 2.2), (area.height - m) // n - m)
            rects = [
                pygame.Rect(layout.width - w - m, area.y + i * (h + m), w, h) for i in range(n)
            ]
            rest = pygame.Rect(area.x, area.y, area.width - w - 2 * m, area.height)
        for rect, (label, action) in zip(rects, buttons, strict=True):
            pygame.draw.rect(surface, PANEL, rect, border_radius=m // 2)
            pygame.draw.rect(surface, MUTED, rect, 2, border_radius=m // 2)
            font_size = size if layout.font(size).size(label)[0] < rect.width - m else size * 3 // 4
            layout.text(surface, label, font_size, rect.center)
            self.buttons.append((rect, action))
        return rest

    def draw_clock(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> int:
        """Big trial clock (elapsed / duration) at the top of ``area``; returns the y below."""
        text = f"{self.elapsed:4.1f} s / {self.spec.duration_s:g} s"
        rect = layout.text(
            surface, text, layout.body_size, (area.centerx, area.y + layout.body_size // 2), TEXT
        )
        return rect.bottom + layout.margin // 2

    def draw_running(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        """The running trial: clock, and the tilt view (or, eyes closed, a reminder)."""
        y = self.draw_clock(surface, layout, area)
        rest = pygame.Rect(area.x, y, area.width, area.bottom - y)
        if self.spec.eyes_closed:
            layout.text(
                surface, "Eyes closed: listen for the tones", layout.body_size, rest.center, MUTED
            )
            return
        self.draw_board(surface, layout, rest)

    def draw_board(
        self,
        surface: pygame.Surface,
        layout: Layout,
        area: pygame.Rect,
        cursor: BoardAngles | None = None,
        target: tuple[float, float] | None = None,
        target_radius: float | None = None,
    ) -> None:
        """The tilt view out to the board's largest edge angle, fitted in ``area``."""
        radius = max(20, min(area.width, area.height) // 2 - layout.margin)
        edges = self.app.edge_angles
        full = max(edges.front, edges.back, edges.left, edges.right)
        draw_tilt_view(
            surface,
            area.center,
            radius,
            cursor if cursor is not None else self.angles,
            full,
            target=target,
            target_radius=target_radius,
        )

    # -- for subclasses ----------------------------------------------------------------------
    def build_plan(self) -> list[TrialSpec]:
        """The trials, in order."""
        raise NotImplementedError

    def ready_ok(self, tick: Tick) -> bool:
        """The hands-free ready hold counts this step (default: the board near level)."""
        return tick.angles is not None and tick.angles.tilt <= READY_TILT

    def on_intro(self, spec: TrialSpec) -> None:
        """A trial's setup/instruction screen appears."""

    def on_ready(self, spec: TrialSpec) -> None:
        """The countdown of ``spec`` starts."""

    def start_trial(self, spec: TrialSpec) -> None:
        """GO: the trial runs from now."""

    def step_trial(self, dt: float, tick: Tick) -> None:
        """One running step (after edge tracking); may call :meth:`end_trial`."""

    def on_edge_touch(self, tick: Tick) -> None:
        """A new edge touch began (its event and sound are done already)."""

    def trial_metrics(self, result: TrialResult, angles: np.ndarray) -> dict[str, Any]:
        """Metrics of one finished trial (default: the balance metrics of its trace)."""
        return self.balance_metrics()

    def balance_metrics(self) -> dict[str, Any]:
        """The balance metrics of the trial that just ended: THE numbers of that trial
        (:func:`wobble_trainer.analysis.trial_metrics`, pauses left out); {} when too short."""
        if self.trial is None:
            return {}
        return trial_metrics(self.trial, self.app.edge_angles)

    def trials_after(self, result: TrialResult) -> list[TrialSpec]:
        """Trials to run next because of how ``result`` went (default: none), e.g. m-CTSIB's
        further attempts at a condition not held for its full time."""
        return []

    def summary(self) -> dict[str, Any]:
        """Summary metrics of the (possibly partial) run, stored at the end."""
        return {}

    def result_lines(self) -> tuple[list[str], list[str]]:
        """Lines for the results screen, and small notes under them."""
        return [f"{r.spec.label}: {r.time_s:.1f} s" for r in self.results], []

    def running_buttons(self) -> list[tuple[str, Callable[[], None]]]:
        """Clinician touch buttons while a trial runs."""
        return []

    def protocol_command(self, command: Command) -> None:
        """A command the runner does not use itself (LEFT, RIGHT, UP, DOWN)."""

    def running_autopilot(self, tick: Tick) -> tuple[float, float] | None:
        return (0.0, 0.0)


# --- screens --------------------------------------------------------------------------------------


class ProtocolSettingsScene(Scene):
    """The clinician's settings for one protocol: a row per setting with − and + buttons (keys:
    up/down choose a row, left/right change it), then Start — tapped, or hands-free with a
    forward lean held (the patient), which the simulated person does too."""

    clinician_only = True

    def __init__(self, app: AppContext, protocol: Protocol, settings: Any = None) -> None:
        super().__init__(app)
        self.protocol = protocol
        self.settings = protocol.default_settings() if settings is None else settings
        self.fields: tuple[SettingField, ...] = type(self.settings).FIELDS
        self.row = 0
        self.menu = LeanMenu(1)
        self._shown_for = 0.0
        self.title = protocol.title

    def enter(self) -> None:
        self.menu = LeanMenu(1)
        self._shown_for = 0.0

    resume = enter

    def change(self, row: int, step: int) -> None:
        self.row = row
        self.settings = step_setting(self.settings, self.fields[row], step)

    def start(self) -> None:
        self.app.feedback.cue(Cue.SELECT)
        start_protocol(self.app, self.protocol, self.settings)

    def update(self, dt: float, tick: Tick) -> None:
        self._shown_for += dt
        result = self.menu.update(dt, tick.angles)
        if result is Command.SELECT:
            self.start()
        elif result is Command.BACK:
            self.app.pop()

    def command(self, command: Command) -> None:
        if command is Command.UP:
            self.row = (self.row - 1) % len(self.fields)
        elif command is Command.DOWN:
            self.row = (self.row + 1) % len(self.fields)
        elif command in (Command.LEFT, Command.RIGHT):
            self.change(self.row, -1 if command is Command.LEFT else 1)
        elif command in (Command.SELECT, Command.PAUSE):
            self.menu.press(Command.SELECT)
        elif command is Command.BACK:
            self.app.pop()
        elif command is Command.MENU:
            self.app.home()

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        return (0.0, 0.0) if self._shown_for < 1.5 else (AUTOPILOT_LEAN, 0.0)

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        y = fitted_title(surface, layout, self.protocol.title)
        size = layout.small_size
        start_h = int(layout.body_size * 1.8)
        bottom = layout.height - start_h - 3 * m - size
        n = len(self.fields)
        h = min(int(size * 1.9), (bottom - y) // n - m // 3)
        width = min(layout.width - 2 * m, layout.short * 3 // 2)
        left = (layout.width - width) // 2
        for i, row in enumerate(self.fields):
            rect = pygame.Rect(left, y + i * (h + m // 3), width, h)
            chosen = i == self.row
            pygame.draw.rect(surface, HIGHLIGHT if chosen else PANEL, rect, border_radius=m // 2)
            font = layout.font(size)
            bw = max(h, size * 2)
            plus = pygame.Rect(rect.right - bw - m // 2, rect.y + 2, bw, h - 4)
            value_w = max(width // 4, size * 4)
            minus = pygame.Rect(plus.x - value_w - bw, rect.y + 2, bw, h - 4)
            # The label gets what the buttons leave, smaller (never below the floor) to fit.
            fit = layout.fit(row.label, size, minus.x - rect.x - 2 * m)
            label = layout.font(fit).render(row.label, True, TEXT)
            rect_l = label.get_rect(midleft=(rect.x + m, rect.centery))
            layout.blit(surface, row.label, label, rect_l, fit, TEXT)
            for button, text, step in ((minus, "-", -1), (plus, "+", 1)):
                pygame.draw.rect(surface, ACCENT, button, 2, border_radius=m // 2)
                layout.text(surface, text, layout.body_size, button.center, ACCENT)
                self.buttons.append((button, _changer(self, i, step)))
            value = row.fmt(getattr(self.settings, row.name))
            vsize = size if font.size(value)[0] < value_w - 4 else size * 3 // 4
            layout.text(surface, value, vsize, ((minus.right + plus.x) // 2, rect.centery), ACCENT)
        start = pygame.Rect(0, 0, max(layout.body_size * 5, layout.width // 3), start_h)
        start.midbottom = (layout.width // 2, layout.height - 2 * m - size)
        ring = (start.right + layout.body_size, start.centery)
        draw_choice(surface, layout, start, True, self.menu, ring_at=ring)
        layout.text(surface, "Start", layout.body_size, start.center)
        self.buttons.append((start, Command.SELECT))
        hint, colour = lean_hint(self.menu, "start")
        layout.text(
            surface,
            hint,
            size,
            (layout.width // 2, layout.height - m - size // 2),
            colour,
            max_width=layout.width - 2 * m,
        )


def _changer(scene: ProtocolSettingsScene, row: int, step: int) -> Callable[[], None]:
    return lambda: scene.change(row, step)


class ProtocolResultsScene(MenuScene):
    """A protocol's results: lines (two columns when they do not fit) and small notes (e.g. the
    citation of reference values). Leaning forward, a tap or the button closes it."""

    title = "Results"
    options = ["Done"]

    def __init__(
        self, app: AppContext, heading: str, lines: list[str], notes: list[str], warning: str = ""
    ):
        super().__init__(app)
        self.heading = heading
        self.lines = lines
        self.notes = notes
        self.warning = warning
        """Why the results could not be saved (full or read-only disk), in a red banner."""

    def choose(self, index: int) -> None:
        self.app.pop()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        y = fitted_title(surface, layout, self.heading)
        # Bottom up: the hint, the Done button, the notes; the lines get what is left.
        hint_y = layout.height - m - layout.small_size // 2
        done = pygame.Rect(
            0, 0, max(layout.body_size * 5, layout.width // 3), int(layout.body_size * 1.6)
        )
        done.midbottom = (layout.width // 2, hint_y - layout.small_size // 2 - m // 2)
        note_size = layout.caption_size
        note_box = pygame.Rect(2 * m, 0, layout.width - 4 * m, layout.height)
        note_h = sum(layout.wrapped_height(n, note_size, note_box.width) for n in self.notes)
        notes_top = done.top - m - note_h
        space = notes_top - y - m // 2
        n = max(1, len(self.lines))
        columns = 1
        for size in (layout.body_size, layout.small_size, note_size):
            if n * layout.font(size).get_linesize() <= space:
                break
        else:
            columns = 2
        per_column = math.ceil(n / columns)
        step = min(layout.font(size).get_linesize(), max(1, space // per_column))
        col_w = (layout.width - 2 * m) // columns
        for i, line in enumerate(self.lines):
            col, row = divmod(i, per_column)
            fit = size
            while fit > 12 and layout.font(fit).size(line)[0] > col_w - m:
                fit -= 2
            image = layout.font(fit).render(line, True, TEXT)
            cx = m + col * col_w + col_w // 2
            layout.blit(
                surface, line, image, image.get_rect(midtop=(cx, y + row * step)), fit, TEXT
            )
        note_box.top = notes_top
        for note in self.notes:
            note_box.top += layout.wrapped(surface, note, note_size, note_box, MUTED)
        ring = (done.right + layout.body_size, done.centery)
        draw_choice(surface, layout, done, True, self.menu, ring_at=ring)
        layout.text(surface, self.options[0], layout.body_size, done.center)
        self.buttons.append((done, lambda: self.menu.touch(0)))
        hint, colour = lean_hint(self.menu, "close")
        layout.text(
            surface,
            hint,
            layout.small_size,
            (layout.width // 2, hint_y),
            colour,
            max_width=layout.width - 2 * m,
        )
        if self.warning:
            draw_notice(surface, layout, "NOT SAVED. " + self.warning)
