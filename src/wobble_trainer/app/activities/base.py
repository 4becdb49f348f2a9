"""What every timed activity shares: 3-2-1 countdown, pause and resume, the end and results.

A countdown beeps each second and says GO (DOMAIN.md §7: eyes-closed users need the sounds).
The activity pauses by itself while the sensor is lost or nobody is on the board, and with the
PAUSE command (the hardware button's short press); MENU leaves. Time only runs while running.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from enum import StrEnum
from typing import Any

import pygame

from wobble_trainer.analysis import trial_metrics
from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import ACCENT, BACKGROUND, Layout
from wobble_trainer.app.records import personal_key
from wobble_trainer.app.scene import AppContext, Scene, Tick
from wobble_trainer.app.session_log import SessionLog
from wobble_trainer.app.widgets import draw_pause_veil
from wobble_trainer.feedback.cues import Cue

COUNTDOWN_S = 3


class Phase(StrEnum):
    COUNTDOWN = "countdown"
    RUNNING = "running"
    DONE = "done"


class TimedActivity(Scene):
    """Subclasses implement :meth:`step` (running logic), :meth:`draw` and :meth:`results`."""

    name = ""

    def __init__(self, app: AppContext) -> None:
        super().__init__(app)
        self.phase = Phase.COUNTDOWN
        self.countdown_left = float(COUNTDOWN_S)
        self._last_count = COUNTDOWN_S + 1
        self.elapsed = 0.0
        self.user_paused = False
        self.auto_paused = False
        self.log: SessionLog | None = None
        self.events: list[dict[str, Any]] = []
        """What happened, for the stored session (e.g. {"t": 12.3, "event": "edge"})."""
        self._paused_for_question = False
        """Paused by :meth:`ask_to_stop` (not by the person): "Keep going" resumes."""

    @property
    def paused(self) -> bool:
        return self.user_paused or self.auto_paused

    def update(self, dt: float, tick: Tick) -> None:
        self.auto_paused = not tick.active
        if self.paused or self.phase is Phase.DONE:
            return
        if self.phase is Phase.COUNTDOWN:
            count = int(self.countdown_left + 0.999)
            if count < self._last_count and count > 0:
                self._last_count = count
                self.app.feedback.cue(Cue.COUNTDOWN)
            self.countdown_left -= dt
            if self.countdown_left <= 1e-9:
                self.phase = Phase.RUNNING
                self.app.feedback.cue(Cue.GO)
                self.log = SessionLog(self.app, self.name, self.session_settings())
                self.log.start()
                self.log.begin_trial()
                self.start()
            return
        self.elapsed += dt
        self.step(dt, tick)

    def finish(self) -> None:
        """End the activity (from :meth:`step`): end tone, results screen."""
        if self.phase is Phase.DONE:
            return
        self.phase = Phase.DONE
        self.app.feedback.cue(Cue.END)
        self.app.feedback.set_targets(None)
        from wobble_trainer.app.scenes.menus import ResultsScene

        heading, lines, key, score = self.results()
        self._store(score)
        key = None if key is None else personal_key(self.app.profile, key)

        best = False
        records = self.app.records
        previous = None
        if records is not None and key is not None and score is not None:
            previous = records.get(key)
            best = records.submit(key, score)
            if records.error:
                self.app.warn(records.error)
        problems = [self.log.error if self.log else "", getattr(records, "error", "")]
        self.app.results.append({"activity": self.name, "lines": lines, "score": score})
        self.app.replace(
            ResultsScene(
                self.app,
                heading,
                lines,
                best,
                score=score,
                previous_best=previous,
                warning=" ".join(p for p in problems if p),
            )
        )

    def _store(self, score: float | None) -> None:
        """Keep the session: raw trial, balance metrics of the whole run, the score."""
        if self.log is None:
            return
        self.log.end_trial(events=self.events)
        summary: dict[str, Any] = {"score": score}
        if self.log.last_trial is not None:
            summary.update(trial_metrics(self.log.last_trial, self.app.edge_angles))
        self.log.finish(summary)

    def command(self, command: Command) -> None:
        if command is Command.PAUSE:
            self.user_paused = not self.user_paused
        elif command in (Command.MENU, Command.BACK):
            if self.phase is Phase.RUNNING:
                self.ask_to_stop()
            else:
                self.leave()
        elif command is Command.SELECT and self.user_paused:
            self.user_paused = False

    def ask_to_stop(self) -> None:
        """Paused while the person is asked whether to stop (nothing is lost on one key)."""
        from wobble_trainer.app.scenes.menus import ConfirmStopScene

        self._paused_for_question = not self.user_paused
        self.user_paused = True
        self.app.push(
            ConfirmStopScene(
                self.app,
                "Stop this activity?",
                "What you did so far in it will not be kept.",
                self.leave,
            )
        )

    def resume(self) -> None:
        if self._paused_for_question:
            self._paused_for_question = False
            self.user_paused = False

    def leave(self) -> None:
        self.app.feedback.set_targets(None)
        self.app.pop()

    def exit(self) -> None:
        self.app.feedback.set_targets(None)

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        surface.fill(BACKGROUND)
        self.draw(surface, layout)
        if self.phase is Phase.COUNTDOWN:
            # On a dark disc: readable over any game's colours.
            centre = (layout.width // 2, layout.height // 2)
            pygame.draw.circle(surface, BACKGROUND, centre, layout.title_size)
            layout.text(
                surface,
                str(max(1, int(self.countdown_left + 0.999))),
                layout.title_size * 2,
                centre,
                ACCENT,
            )
        if self.auto_paused:
            draw_pause_veil(
                surface,
                layout,
                "Paused",
                "Waiting for the sensor and for you to stand on the board",
            )
        elif self.user_paused:
            draw_pause_veil(surface, layout, "Paused", "Press the button to go on")

    # -- for subclasses ------------------------------------------------------------------------
    def session_settings(self) -> dict[str, Any]:
        """The settings stored with the session."""
        settings = getattr(self, "settings", None)
        return asdict(settings) if is_dataclass(settings) else {}

    def start(self) -> None:
        """The countdown ended: running starts now."""

    def step(self, dt: float, tick: Tick) -> None:
        """One running logic step."""

    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        """Draw the activity (the countdown and pause veils are drawn on top)."""

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        """Heading, lines to show, personal-best key and score (higher is better)."""
        return self.title, [], None, None
