"""Limits of stability: lean the board to 8 targets, one per direction (DOMAIN.md §6).

Each direction is one trial: from level, at GO, tilt the board to the target and hold it there
for a moment. The target sits at a fraction (default 60%) of the board's edge angle TOWARD that
direction (boards differ per direction), so every board asks the same share of its range. A
trial ends when the board has stayed within the target radius for the hold time, or at the time
limit. Per direction: time to reach, direction control and excursion
(:func:`wobble_trainer.metrics.limits_of_stability_reach`: progress toward the target against
sideways wander and backing off, from the trial's full-rate trace); overall: the mean direction
control (the score), targets reached and the total time (an unreached target counts its time
limit). Directions in clockwise order or shuffled (the app's seeded generator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pygame

from wobble_trainer import metrics
from wobble_trainer.analysis import nominal_rate_hz
from wobble_trainer.app.layout import Layout
from wobble_trainer.app.protocols.base import (
    REST_CHOICES,
    Protocol,
    ProtocolRunner,
    SettingField,
    TrialResult,
    TrialSpec,
    fmt_s,
    register_protocol,
    seconds,
)
from wobble_trainer.app.scene import AppContext, Tick
from wobble_trainer.tilt.board_angles import angles_from_up, up_from_pitch_roll
from wobble_trainer.units import DEG

DIRECTIONS: tuple[tuple[str, float], ...] = (
    ("front", 0.0),
    ("front-right", 45.0),
    ("right", 90.0),
    ("back-right", 135.0),
    ("back", 180.0),
    ("back-left", -135.0),
    ("left", -90.0),
    ("front-left", -45.0),
)
"""Direction name and azimuth of the low side, degrees (board_angles: 0 front, +90 right)."""
ORDERS = ("clockwise", "random")


@dataclass(frozen=True)
class LimitsOfStabilitySettings:
    target_fraction: float = 0.6
    """Target tilt as a fraction of the edge angle toward its direction."""
    target_radius_deg: float = 2.0
    time_limit_s: float = 10.0
    hold_s: float = 0.5
    """How long the board must stay in the target to count as reached (0: touching it)."""
    order: str = "clockwise"
    rest_s: float = 0.0

    FIELDS: ClassVar[tuple[SettingField, ...]] = (
        SettingField(
            "target_fraction",
            "Target distance",
            (0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
            lambda v: f"{v:.0%} of edge",
        ),
        SettingField(
            "target_radius_deg", "Target size", (1.0, 1.5, 2.0, 3.0, 4.0), lambda v: f"{v:g}°"
        ),
        SettingField("time_limit_s", "Time limit", (5.0, 8.0, 10.0, 15.0, 20.0), seconds),
        SettingField("hold_s", "Hold in target", (0.0, 0.25, 0.5, 1.0), seconds),
        SettingField("order", "Order", ORDERS),
        SettingField("rest_s", "Rest", tuple(float(r) for r in REST_CHOICES), seconds),
    )

    def __post_init__(self) -> None:
        if not 0.2 <= self.target_fraction <= 0.95:
            raise ValueError("target distance must be 20-95% of the edge angle")
        if not 0.5 <= self.target_radius_deg <= 5.0:
            raise ValueError("target size must be 0.5-5°")
        if not 2.0 <= self.time_limit_s <= 60.0:
            raise ValueError("time limit must be 2-60 s")
        if not 0.0 <= self.hold_s <= 5.0:
            raise ValueError("hold must be 0-5 s")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}")
        if not 0.0 <= self.rest_s <= 300.0:
            raise ValueError("rest must be 0-300 s")


def target_angles(direction_deg: float, tilt: float) -> tuple[float, float]:
    """(pitch, roll) in rad of a board tilted ``tilt`` rad with its low side toward
    ``direction_deg`` (through board_angles, so diagonal targets are true tilts)."""
    az = direction_deg * DEG
    s = math.sin(tilt)
    a = angles_from_up((-s * math.cos(az), s * math.sin(az), math.cos(tilt)))
    return a.pitch, a.roll


def angle_between(p1: float, r1: float, p2: float, r2: float) -> float:
    """Angle (rad) between the board normals of two (pitch, roll) orientations."""
    u = up_from_pitch_roll(p1, r1)
    v = up_from_pitch_roll(p2, r2)
    cross = math.hypot(
        u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]
    )
    return math.atan2(cross, u[0] * v[0] + u[1] * v[1] + u[2] * v[2])


class LimitsOfStability(ProtocolRunner):
    name = "limits_of_stability"
    title = "Limits of stability"

    def __init__(self, app: AppContext, settings: LimitsOfStabilitySettings | None = None) -> None:
        super().__init__(app, settings or LimitsOfStabilitySettings())
        self.in_target_s = 0.0
        self.start_angles: tuple[float, float] | None = None
        """(pitch, roll) rad at GO: the reach is scored from there."""

    def build_plan(self) -> list[TrialSpec]:
        s = self.settings
        order = list(DIRECTIONS)
        if s.order == "random":
            self.app.rng.shuffle(order)
        plan = []
        for name, az in order:
            tilt = s.target_fraction * self.app.edge_angles.toward(az * DEG)
            pitch, roll = target_angles(az, tilt)
            plan.append(
                TrialSpec(
                    label=name,
                    instruction=f"Tilt the board {name.upper()} to the target and hold it there",
                    duration_s=s.time_limit_s,
                    params={
                        "direction": name,
                        "azimuth_deg": az,
                        "tilt": tilt,
                        "pitch": pitch,
                        "roll": roll,
                    },
                )
            )
        return plan

    def start_trial(self, spec: TrialSpec) -> None:
        self.in_target_s = 0.0
        a = self.angles
        # Where the board was at GO: the reach is scored from there (sample 0 of the reach).
        self.start_angles = (a.pitch, a.roll) if a is not None else None

    def step_trial(self, dt: float, tick: Tick) -> None:
        a = tick.angles
        assert a is not None
        p = self.spec.params
        if angle_between(a.pitch, a.roll, p["pitch"], p["roll"]) <= (
            self.settings.target_radius_deg * DEG + 1e-12
        ):
            self.in_target_s += dt
            if self.in_target_s >= self.settings.hold_s - 1e-9:
                self.end_trial("reached")
        else:
            self.in_target_s = 0.0

    def running_autopilot(self, tick: Tick) -> tuple[float, float] | None:
        p = self.spec.params
        return (p["pitch"], p["roll"])

    def trial_metrics(self, result: TrialResult, angles: np.ndarray) -> dict[str, Any]:
        p = result.spec.params
        out: dict[str, Any] = {
            "direction": p["direction"],
            "target_deg": {
                "pitch": p["pitch"] / DEG,
                "roll": p["roll"] / DEG,
                "tilt": p["tilt"] / DEG,
            },
            "reached": result.ended_by == "reached",
            "time_to_reach_s": None,
            "direction_control_pct": None,
            "excursion_pct": None,
            "max_excursion_deg": None,
            "edge_touches": sum(1 for e in result.events if e.get("event") == "edge"),
        }
        rate = nominal_rate_hz(angles["t"]) if len(angles) else None
        if rate is None:
            return out
        if self.start_angles is not None:
            go = np.array([(angles["t"][0] - 1.0 / rate, *self.start_angles)], angles.dtype)
            angles = np.concatenate((go, angles))
        try:
            reach = metrics.limits_of_stability_reach(
                np.degrees(angles["pitch"]),
                np.degrees(angles["roll"]),
                rate,
                (p["pitch"] / DEG, p["roll"] / DEG),
                self.settings.target_radius_deg,
            )
        except ValueError:  # started on the target: no direction to score
            return out
        out["direction_control_pct"] = reach["direction_control_pct"]
        out["time_to_reach_s"] = reach["time_to_reach_s"]
        out["excursion_pct"] = reach["excursion_pct"]
        out["max_excursion_deg"] = reach["max_excursion_deg"]
        return out

    def summary(self) -> dict[str, Any]:
        per = {r.spec.label: r.metrics for r in self.results}
        controls = [
            m["direction_control_pct"]
            for m in per.values()
            if m.get("direction_control_pct") is not None
        ]
        total = sum(
            m["time_to_reach_s"]
            if m.get("reached") and m.get("time_to_reach_s") is not None
            else self.settings.time_limit_s
            for m in per.values()
        )
        return {
            "directions": per,
            "reached": sum(1 for m in per.values() if m.get("reached")),
            "score_pct": sum(controls) / len(controls) if controls else None,
            "total_time_s": total,
        }

    def result_lines(self) -> tuple[list[str], list[str]]:
        s = self.summary()
        score = s["score_pct"]
        lines = [
            "Overall direction control: " + ("-" if score is None else f"{score:.0f}%"),
            f"Targets reached: {s['reached']} of {len(self.results)}   "
            f"total time {s['total_time_s']:.1f} s",
        ]
        for label, m in s["directions"].items():
            dc = m.get("direction_control_pct")
            reach = fmt_s(m.get("time_to_reach_s")) if m.get("reached") else "not reached"
            ex = m.get("excursion_pct")
            lines.append(
                f"{label}: {reach}, control "
                + ("-" if dc is None else f"{dc:.0f}%")
                + ", excursion "
                + ("-" if ex is None else f"{ex:.0f}%")
            )
        notes = [
            f"Targets at {self.settings.target_fraction:.0%} of the board's edge angle in each "
            "direction. Direction control: movement toward the target less extraneous movement. "
            "Excursion: the farthest reached toward the target, % of the distance to it."
        ]
        return lines, notes

    def draw_running(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        y = self.draw_clock(surface, layout, area)
        rest = pygame.Rect(area.x, y, area.width, area.bottom - y)
        p = self.spec.params
        self.draw_board(
            surface,
            layout,
            rest,
            target=(p["pitch"], p["roll"]),
            target_radius=self.settings.target_radius_deg * DEG,
        )


register_protocol(
    Protocol(
        "limits_of_stability",
        "Limits of stability",
        "Reach 8 targets: time and direction control",
        LimitsOfStabilitySettings,
        lambda app, settings: LimitsOfStability(app, settings),
    )
)
