"""Seated ankle range of motion with the foot on the board: the largest tilt HELD for 2 s in each
direction, per side, in degrees.

Sitting, one foot flat on the board's centre with the toes toward the board's front. Each trial
starts from rest: the foot relaxed and still for 2 s (that posture is the trial's NEUTRAL, so a
board that does not rest level under a relaxed foot, or a seated run without calibration, still
measures from the person's own neutral); then at GO the person moves as far as they can in the
asked direction and holds. The result is the largest excursion from neutral that was kept for the
whole hold time: the maximum, over every 2 s window of the trial's full-rate trace, of the window's
smallest excursion (a brief overshoot does not count; a steady hold does).

Directions, from the board conventions (DOMAIN.md §1: pitch > 0 toes/front edge down, roll > 0
right edge down), the foot's sole moving with the deck:

* dorsiflexion = toes UP: the front edge rises, pitch < 0; excursion = −pitch;
* plantarflexion = toes DOWN: pitch > 0; excursion = +pitch;
* inversion = the sole turns INWARD (to face the other foot), the foot rolls onto its outer
  edge, so the board's OUTER edge goes down. Right foot: outer = right edge down, roll > 0;
  left foot: outer = left edge down, roll < 0;
* eversion = the sole turns OUTWARD, the INNER edge goes down. Right foot: roll < 0; left foot:
  roll > 0.

So inversion is +roll for the right foot and −roll for the left, eversion the opposite.
Pitch and roll are the board's Euler angles (board_angles), close to the ankle's sagittal and
frontal angles for movements in one plane. A wobble board can only tilt to its edge angle (15-20°):
a hold with the rim on the floor is flagged "at the board's edge", the true range being at least
that. The board resting on its rim under a still foot is normal here, so presence is not used
(seated), and edge touches are not counted; only a lost sensor pauses.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pygame

from wobble_trainer import metrics
from wobble_trainer.analysis import nominal_rate_hz
from wobble_trainer.app.layout import ACCENT, GREEN, MUTED, PANEL, TEXT, Layout
from wobble_trainer.app.protocols.base import (
    EDGE_MARGIN,
    READY_HOLD_S,
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
from wobble_trainer.app.scene import LOGIC_HZ, AppContext, Tick
from wobble_trainer.units import DEG

SIDES = ("left", "right")
DIRECTIONS = ("dorsiflexion", "plantarflexion", "inversion", "eversion")
HOW = {
    "dorsiflexion": "pull the toes UP",
    "plantarflexion": "point the toes DOWN",
    "inversion": "turn the sole INWARD",
    "eversion": "turn the sole OUTWARD",
}
STILL_RANGE = 1.5 * DEG
"""The resting foot counts as still while its last :data:`STILL_SAMPLES` stay within this range
of pitch and of roll (for the neutral capture)."""
STILL_SAMPLES = LOGIC_HZ // 2


def rom_axis(side: str, direction: str) -> tuple[str, int]:
    """Which board angle a movement tilts and its sign: ("pitch" | "roll", +1 | −1) such that
    ``sign × angle`` grows as the movement goes further (see the module docstring)."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    if direction == "dorsiflexion":
        return "pitch", -1
    if direction == "plantarflexion":
        return "pitch", 1
    outer = 1 if side == "right" else -1  # roll > 0 is right edge down
    if direction == "inversion":
        return "roll", outer
    if direction == "eversion":
        return "roll", -outer
    raise ValueError(f"direction must be one of {DIRECTIONS}")


def low_side_azimuth(axis: str, sign: int) -> float:
    """Azimuth (rad) of the board's low side for a movement: for its edge angle."""
    if axis == "pitch":
        return 0.0 if sign > 0 else math.pi
    return math.pi / 2 if sign > 0 else -math.pi / 2


def held_max(values: np.ndarray, window: int) -> tuple[float | None, int | None]:
    """Largest value kept for ``window`` consecutive samples (max of the sliding-window minima)
    and where that window starts; (None, None) when no window of valid samples fits. A window
    holding a gap (NaN: a pause) does not count."""
    window = max(1, int(window))
    if len(values) < window:
        return None, None
    mins = np.lib.stride_tricks.sliding_window_view(values, window).min(axis=1)  # NaN-tainted
    if np.all(np.isnan(mins)):
        return None, None
    start = int(np.nanargmax(mins))
    return float(mins[start]), start


@dataclass(frozen=True)
class AnkleRomSettings:
    sides: tuple[str, ...] = SIDES
    directions: tuple[str, ...] = DIRECTIONS
    trial_s: float = 10.0
    hold_s: float = 2.0
    rest_s: float = 5.0

    FIELDS: ClassVar[tuple[SettingField, ...]] = (
        SettingField("sides", "Feet", (SIDES, ("left",), ("right",)), lambda v: " + ".join(v)),
        SettingField(
            "directions",
            "Directions",
            (DIRECTIONS, DIRECTIONS[:2], DIRECTIONS[2:]),
            lambda v: "all 4" if len(v) == 4 else " + ".join(d[:4] + "." for d in v),
        ),
        SettingField("trial_s", "Trial length", (6.0, 8.0, 10.0, 15.0, 20.0), seconds),
        SettingField("hold_s", "Hold", (1.0, 2.0, 3.0), seconds),
        SettingField("rest_s", "Rest", tuple(float(r) for r in REST_CHOICES), seconds),
    )

    def __post_init__(self) -> None:
        if (
            not self.sides
            or len(set(self.sides)) != len(self.sides)
            or set(self.sides) - set(SIDES)
        ):
            raise ValueError(f"sides must be some of {SIDES}, each once")
        if (
            not self.directions
            or len(set(self.directions)) != len(self.directions)
            or set(self.directions) - set(DIRECTIONS)
        ):
            raise ValueError(f"directions must be some of {DIRECTIONS}, each once")
        if not 0.5 <= self.hold_s <= 5.0:
            raise ValueError("hold must be 0.5-5 s")
        if not self.hold_s + 2.0 <= self.trial_s <= 60.0:
            raise ValueError("trial length must be at least the hold + 2 s, and at most 60 s")
        if not 0.0 <= self.rest_s <= 300.0:
            raise ValueError("rest must be 0-300 s")


class AnkleRom(ProtocolRunner):
    name = "ankle_rom"
    title = "Ankle range of motion"
    off_board = OffBoard.CONTINUE
    track_edges = False

    def __init__(self, app: AppContext, settings: AnkleRomSettings | None = None) -> None:
        super().__init__(app, settings or AnkleRomSettings())
        self._rest: deque[tuple[float, float]] = deque(maxlen=round(READY_HOLD_S * LOGIC_HZ))
        self.neutral = (0.0, 0.0)
        """(pitch, roll) rad of the resting foot, captured before the trial's countdown."""
        self.current = 0.0
        """Excursion from neutral now, rad (positive: the asked direction)."""
        self._live: deque[tuple[int, float]] = deque()
        self._step_count = 0
        self.live_best: float | None = None

    def build_plan(self) -> list[TrialSpec]:
        s = self.settings
        plan = []
        for side in s.sides:
            for direction in s.directions:
                axis, sign = rom_axis(side, direction)
                plan.append(
                    TrialSpec(
                        label=f"{side}/{direction}",
                        instruction=(
                            f"{side.upper()} foot on the board: {HOW[direction]} as far as you "
                            f"can and hold ({direction})"
                        ),
                        duration_s=s.trial_s,
                        params={"side": side, "direction": direction, "axis": axis, "sign": sign},
                    )
                )
        return plan

    # -- neutral: the still, resting foot before the countdown --------------------------------
    def on_intro(self, spec: TrialSpec) -> None:
        self._rest.clear()

    ready_hint = "Rest your foot still on the board"

    def ready_pose(self) -> tuple[float, float, float] | None:
        return None  # any resting angle will do: the neutral is measured, not wanted

    def ready_ok(self, tick: Tick) -> bool:
        a = tick.angles
        if a is None:
            return False
        self._rest.append((a.pitch, a.roll))
        # Still = the last half second stays within a small range: robust to sensor noise,
        # which a step-to-step rate would amplify 100-fold.
        if len(self._rest) < STILL_SAMPLES:
            return False
        recent = list(self._rest)[-STILL_SAMPLES:]
        pitches = [p for p, _ in recent]
        rolls = [r for _, r in recent]
        return max(pitches) - min(pitches) < STILL_RANGE and max(rolls) - min(rolls) < STILL_RANGE

    def on_ready(self, spec: TrialSpec) -> None:
        if self._rest:
            self.neutral = (
                sum(p for p, _ in self._rest) / len(self._rest),
                sum(r for _, r in self._rest) / len(self._rest),
            )
        elif self.angles is not None:
            self.neutral = (self.angles.pitch, self.angles.roll)
        else:
            self.neutral = (0.0, 0.0)

    # -- running ------------------------------------------------------------------------------
    def excursion(self, pitch: float, roll: float, params: Any) -> float:
        base = self.neutral[0] if params["axis"] == "pitch" else self.neutral[1]
        value = pitch if params["axis"] == "pitch" else roll
        return params["sign"] * (value - base)

    def start_trial(self, spec: TrialSpec) -> None:
        self._live.clear()
        self._step_count = 0
        self.live_best = None
        self.current = 0.0

    def step_trial(self, dt: float, tick: Tick) -> None:
        a = tick.angles
        assert a is not None
        self.current = self.excursion(a.pitch, a.roll, self.spec.params)
        # Live best hold for the screen: a monotonic deque gives each window's minimum.
        window = round(self.settings.hold_s * LOGIC_HZ)
        self._step_count += 1
        while self._live and self._live[-1][1] >= self.current:
            self._live.pop()
        self._live.append((self._step_count, self.current))
        if self._live[0][0] <= self._step_count - window:
            self._live.popleft()
        if self._step_count >= window:
            low = self._live[0][1]
            self.live_best = low if self.live_best is None else max(self.live_best, low)

    def running_autopilot(self, tick: Tick) -> tuple[float, float] | None:
        p = self.spec.params
        edge = self.app.edge_angles.toward(low_side_azimuth(p["axis"], p["sign"]))
        reach = min(12.0 * DEG, 0.8 * edge) * p["sign"]
        return (reach, 0.0) if p["axis"] == "pitch" else (0.0, reach)

    def trial_metrics(self, result: TrialResult, angles: np.ndarray) -> dict[str, Any]:
        p = result.spec.params
        out: dict[str, Any] = {
            "side": p["side"],
            "direction": p["direction"],
            "rom_deg": None,
            "peak_deg": None,
            "neutral_deg": {"pitch": self.neutral[0] / DEG, "roll": self.neutral[1] / DEG},
            "at_edge": False,
            "hold_s": self.settings.hold_s,
        }
        rate = nominal_rate_hz(angles["t"]) if len(angles) else None
        if rate is None:
            return out
        values = np.asarray(self.excursion(angles["pitch"], angles["roll"], p)) / DEG
        held, start = held_max(values, round(self.settings.hold_s * rate))
        if not np.isnan(values).all():
            out["peak_deg"] = float(np.nanmax(values))
        if held is None or start is None:
            return out
        out["rom_deg"] = held
        # On the rim during the hold: the board stopped the foot, the range may be larger.
        window = angles[start : start + round(self.settings.hold_s * rate)]
        absolute = p["sign"] * np.degrees(window[p["axis"]])
        edge = self.app.edge_angles.toward(low_side_azimuth(p["axis"], p["sign"]))
        out["at_edge"] = bool(absolute.min() >= (edge - EDGE_MARGIN) / DEG - 1e-9)
        return out

    def summary(self) -> dict[str, Any]:
        rom: dict[str, dict[str, float | None]] = {}
        at_edge: dict[str, list[str]] = {}
        for r in self.results:
            m = r.metrics
            rom.setdefault(m["side"], {})[m["direction"]] = m["rom_deg"]
            if m["at_edge"]:
                at_edge.setdefault(m["side"], []).append(m["direction"])
        symmetry = {}
        profile = self.app.profile
        sides = metrics.symmetry_sides(
            getattr(profile, "injured_side", None), getattr(profile, "dominant_leg", None)
        )
        if sides is not None and sides.involved in rom and sides.reference in rom:
            for direction in self.settings.directions:
                involved = rom[sides.involved].get(direction)
                other = rom[sides.reference].get(direction)
                if involved is not None and other is not None:
                    symmetry[direction] = metrics.limb_symmetry_index(
                        max(involved, 0.0), max(other, 0.0)
                    )
        return {
            "rom_deg": rom,
            "at_edge": at_edge,
            "limb_symmetry_pct": symmetry,
            "limb_symmetry": None if sides is None else sides.as_dict(),
            "hold_s": self.settings.hold_s,
        }

    def result_lines(self) -> tuple[list[str], list[str]]:
        s = self.summary()
        lines = []
        for side, values in s["rom_deg"].items():
            for direction, value in values.items():
                edge = direction in s["at_edge"].get(side, [])
                text = f"{side.capitalize()} {direction}: " + (
                    "not held" if value is None else ("≥ " if edge else "") + fmt_deg(value)
                )
                if edge:
                    text += " (board edge)"
                lines.append(text)
        sides = s["limb_symmetry"]
        for direction, lsi in s["limb_symmetry_pct"].items():
            if lsi is not None and sides is not None:
                title = metrics.SymmetrySides(**sides).title
                lines.append(f"Symmetry {direction} ({title}): {lsi:.0f}%")
        notes = [
            f"Largest tilt held {self.settings.hold_s:g} s, from the resting foot. "
            "'Board edge': the rim touched the floor, the ankle may go further."
        ]
        return lines, notes

    def edge_excursion(self) -> float:
        """The excursion (rad, from the resting foot) at which the rim touches the floor in the
        asked direction: the bar's full scale, in the same terms as the reading."""
        p = self.spec.params
        edge = self.app.edge_angles.toward(low_side_azimuth(p["axis"], p["sign"]))
        base = self.neutral[0] if p["axis"] == "pitch" else self.neutral[1]
        return max(1.0 * DEG, edge - p["sign"] * base)

    def bar_fractions(self) -> tuple[float, float | None]:
        """How far along the bar (0 = resting foot, 1 = the board's edge) the reading and the
        best hold are: one scale for both, so number, marker and bar agree."""
        full = self.edge_excursion()
        now = max(0.0, min(1.0, self.current / full))
        best = None if self.live_best is None else max(0.0, min(1.0, self.live_best / full))
        return now, best

    def draw_running(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        m = layout.margin
        y = self.draw_clock(surface, layout, area)
        p = self.spec.params
        y = (
            layout.text(
                surface,
                f"{p['side'].upper()} foot: {HOW[p['direction']]}",
                layout.body_size,
                (area.centerx, y + layout.body_size // 2),
                ACCENT,
            ).bottom
            + m
        )
        layout.text(
            surface,
            f"now {self.current / DEG:.1f}°",
            layout.title_size * 3 // 2,
            (area.centerx, y + layout.title_size),
            TEXT,
        )
        y += layout.title_size * 2 + m
        # A bar from the resting foot (0°) to the board's edge in this direction, the reading
        # filled in, the best hold marked: all on the reading's scale.
        now, best = self.bar_fractions()
        label_w = layout.font(layout.small_size).size("edge 00°")[0] + m
        bar = pygame.Rect(area.x + label_w + m, y, area.width - 2 * (label_w + m),
                          max(12, layout.small_size))  # fmt: skip
        pygame.draw.rect(surface, PANEL, bar, border_radius=m // 2)
        pygame.draw.rect(
            surface, GREEN, (bar.x, bar.y, int(bar.width * now), bar.height), border_radius=m // 2
        )
        layout.text(surface, "rest 0°", layout.small_size,
                    (bar.left - label_w // 2 - m // 2, bar.centery), MUTED)  # fmt: skip
        layout.text(surface, f"edge {self.edge_excursion() / DEG:.0f}°", layout.small_size,
                    (bar.right + label_w // 2 + m // 2, bar.centery), MUTED)  # fmt: skip
        if best is not None and self.live_best is not None:
            x = bar.x + int(bar.width * best)
            pygame.draw.line(surface, ACCENT, (x, bar.y - m // 2), (x, bar.bottom + m // 2), 3)
            layout.text(
                surface,
                f"best held {self.settings.hold_s:g} s: {self.live_best / DEG:.1f}°",
                layout.small_size,
                (area.centerx, bar.bottom + m + layout.small_size // 2),
                ACCENT,
            )


register_protocol(
    Protocol(
        "ankle_rom",
        "Ankle range of motion",
        "Seated: dorsi/plantarflexion, inversion/eversion held 2 s, each foot",
        AnkleRomSettings,
        lambda app, settings: AnkleRom(app, settings),
        seated=True,
    )
)
