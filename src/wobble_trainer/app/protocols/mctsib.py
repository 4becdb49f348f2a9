"""m-CTSIB adapted to the board: eyes open / closed × board locked / free, 30 s each (DOMAIN.md §6).

The modified Clinical Test of Sensory Interaction on Balance stands on a firm floor and on foam.
On a wobble board "board locked" (the board set on a flat mat or wedge so it cannot tilt) takes
the firm floor's place and "board free" the foam's. Standard order: 1 eyes open locked, 2 eyes
closed locked, 3 eyes open free, 4 eyes closed free. Each change of setup is confirmed before the
condition starts: the clinician taps Ready, or (alone) the person holds the board level for
a few seconds.

A condition ends early when the person steps off the board (seen on the free board) or when the
clinician taps "Stop (fall/step)" (the only way on a locked board, which cannot move). As the
standard protocol allows (CTSIB-M, Cohen, Blatchly & Gombash 1993; Shirley Ryan AbilityLab
Rehabilitation Measures: "If a patient is unable to maintain the position for 30 seconds they are
provided with 2 additional attempts. The scores of the 3 trials are averaged"), a condition not
held for its full time is tried again, up to :attr:`MctsibSettings.attempts` attempts (3), and
stops at the first attempt that is held; its score is the mean time held over the attempts made
(of 30 s), with the sway metrics of the attempt held longest (the longest trace). On a locked
board the trace is near zero by construction: its sway says nothing about the person, only the
time does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from wobble_trainer.app.protocols.base import (
    REST_CHOICES,
    OffBoard,
    Protocol,
    ProtocolRunner,
    SettingField,
    TrialResult,
    TrialSpec,
    fmt_deg,
    register_protocol,
    seconds,
)
from wobble_trainer.app.scene import AppContext

CONDITIONS = ("eyes-open/locked", "eyes-closed/locked", "eyes-open/free", "eyes-closed/free")
SETUPS = {
    "locked": "Board LOCKED: set it on the flat mat so it cannot tilt",
    "free": "Board FREE: take it off the mat, onto the floor",
}
STANCES = ("both", "left", "right")


def _conditions(value: tuple[str, ...]) -> str:
    if value == CONDITIONS:
        return "all 4"
    surfaces = {c.split("/")[1] for c in value}
    return " + ".join(sorted(surfaces)) + " only" if len(surfaces) == 1 else f"{len(value)}"


@dataclass(frozen=True)
class MctsibSettings:
    conditions: tuple[str, ...] = CONDITIONS
    duration_s: float = 30.0
    stance: str = "both"
    rest_s: float = 10.0
    attempts: int = 3
    """Attempts at a condition not held for its full time (the standard's 3; 1 = one only)."""

    FIELDS: ClassVar[tuple[SettingField, ...]] = (
        SettingField(
            "conditions", "Conditions", (CONDITIONS, CONDITIONS[:2], CONDITIONS[2:]), _conditions
        ),
        SettingField("duration_s", "Each", (10.0, 20.0, 30.0, 45.0, 60.0), seconds),
        SettingField("stance", "Stance", STANCES),
        SettingField("rest_s", "Rest", tuple(float(r) for r in REST_CHOICES), seconds),
        SettingField("attempts", "Attempts if not held", (1, 2, 3)),
    )

    def __post_init__(self) -> None:
        if not self.conditions or set(self.conditions) - set(CONDITIONS):
            raise ValueError(f"conditions must be some of {CONDITIONS}")
        if len(set(self.conditions)) != len(self.conditions):
            raise ValueError("each condition once")
        if not 5.0 <= self.duration_s <= 120.0:
            raise ValueError("condition length must be 5-120 s")
        if self.stance not in STANCES:
            raise ValueError(f"stance must be one of {STANCES}")
        if not 0.0 <= self.rest_s <= 300.0:
            raise ValueError("rest must be 0-300 s")
        if self.attempts not in (1, 2, 3):
            raise ValueError("attempts must be 1-3")


SUMMARY_KEYS = (
    "osi",
    "apsi",
    "mlsi",
    "sd",
    "path_length_deg",
    "mean_velocity_deg_s",
    "ellipse95_area_deg2",
    "edge_touches",
)


class Mctsib(ProtocolRunner):
    name = "mctsib"
    title = "m-CTSIB (board)"
    off_board = OffBoard.END

    def __init__(self, app: AppContext, settings: MctsibSettings | None = None) -> None:
        super().__init__(app, settings or MctsibSettings())

    def build_plan(self) -> list[TrialSpec]:
        s = self.settings
        stance = "both feet" if s.stance == "both" else f"your {s.stance.upper()} leg"
        plan = []
        for condition in s.conditions:
            eyes, surface = condition.split("/")
            number = CONDITIONS.index(condition) + 1
            plan.append(
                TrialSpec(
                    label=condition,
                    instruction=(
                        f"Condition {number}: stand on {stance}, eyes "
                        f"{eyes.split('-')[1].upper()}, arms crossed"
                    ),
                    duration_s=s.duration_s,
                    eyes_closed=eyes == "eyes-closed",
                    setup=SETUPS[surface],
                    params={
                        "eyes": eyes,
                        "surface": surface,
                        "number": number,
                        "condition": condition,
                        "attempt": 1,
                    },
                )
            )
        return plan

    def trials_after(self, result: TrialResult) -> list[TrialSpec]:
        """Another attempt at a condition not held for its full time, up to the settings'."""
        spec = result.spec
        attempt = spec.params["attempt"]
        if result.ended_by == "time" or attempt >= self.settings.attempts:
            return []
        nxt = attempt + 1
        condition = spec.params["condition"]
        return [
            replace(
                spec,
                label=f"{condition}/attempt {nxt}",
                instruction=(
                    f"Condition {spec.params['number']}, attempt {nxt} of "
                    f"{self.settings.attempts}: " + spec.instruction.split(": ", 1)[-1]
                ),
                params={**spec.params, "attempt": nxt},
            )
        ]

    def stop_by_clinician(self) -> None:
        self.events.append({"t": round(self.elapsed, 3), "event": "clinician-stop"})
        self.end_trial("clinician")

    def running_buttons(self) -> list[tuple[str, Callable[[], None]]]:
        return [("Stop (fall/step)", self.stop_by_clinician)]

    def trial_metrics(self, result: TrialResult, angles: np.ndarray) -> dict[str, Any]:
        return {
            "condition": result.spec.params["condition"],
            "attempt": result.spec.params["attempt"],
            "held_s": round(result.time_s, 3),
            "completed": result.ended_by == "time",
            **self.balance_metrics(),
        }

    def summary(self) -> dict[str, Any]:
        by_condition: dict[str, list[TrialResult]] = {}
        for r in self.results:
            by_condition.setdefault(r.spec.params["condition"], []).append(r)
        per = {}
        for condition, attempts in by_condition.items():
            held = [r.metrics["held_s"] for r in attempts]
            longest = max(attempts, key=lambda r: r.metrics["held_s"])
            per[condition] = {
                "held_s": round(sum(held) / len(held), 3),
                "attempts_held_s": held,
                "attempts": len(attempts),
                "completed": any(r.metrics["completed"] for r in attempts),
                "ended_by": attempts[-1].ended_by,
                **{k: longest.metrics[k] for k in SUMMARY_KEYS if k in longest.metrics},
            }
        return {
            "conditions": per,
            "total_held_s": round(sum(c["held_s"] for c in per.values()), 3),
            "total_possible_s": self.settings.duration_s * len(per),
        }

    def result_lines(self) -> tuple[list[str], list[str]]:
        s = self.summary()
        lines = []
        for label, c in s["conditions"].items():
            eyes, surface = label.split("/")
            text = f"{eyes.replace('-', ' ')}, board {surface}: {c['held_s']:.1f} s"
            if c["attempts"] > 1:
                times = " / ".join(f"{t:.1f}" for t in c["attempts_held_s"])
                text += f" (mean of {c['attempts']} attempts: {times})"
            elif not c["completed"]:
                text += f" ({c['ended_by']})"
            if "osi" in c:
                text += f", OSI {fmt_deg(c['osi'])}, sway SD {fmt_deg(c['sd']['combined'])}"
            lines.append(text)
        lines.append(f"Total {s['total_held_s']:.1f} of {s['total_possible_s']:g} s")
        return lines, [
            "On the locked board the board cannot tilt: read its time, not its sway.",
            f"A condition not held for {self.settings.duration_s:g} s is tried up to "
            f"{self.settings.attempts} times; its time is the mean of the attempts.",
        ]


register_protocol(
    Protocol(
        "mctsib",
        "m-CTSIB (board)",
        "Eyes open/closed x board locked/free, 30 s each",
        MctsibSettings,
        lambda app, settings: Mctsib(app, settings),
    )
)
