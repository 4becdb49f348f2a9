"""Hold challenges: keep the tilt cursor inside the target zone for 10-60 s.

Difficulty comes from the zone size and a virtual stability level 1-12 (12 is the most forgiving):
a software gain on a passive board (:mod:`wobble_trainer.virtual_level`). The level sets how
strongly board tilt moves the cursor (gain) and how much tilt is ignored around level (dead band);
the board and the measures of its tilt stay the same. Edge touches either pause the hold timer
until the board is off the rim again, or end the hold, as chosen. Eyes-closed mode is driven by
sound alone: 3-2-1 countdown, edge sound, end tone, and optionally a tone that follows the tilt.
Scored: time in zone, edge touches, time to first touch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pygame

from wobble_trainer import virtual_level
from wobble_trainer.app.activities.base import Phase, TimedActivity
from wobble_trainer.app.layout import GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.app.scenes.menus import MenuScene
from wobble_trainer.app.widgets import draw_progress_ring, draw_tilt_view
from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.feedback.zones import Zone, ZoneThresholds, zone_for_angles
from wobble_trainer.tilt.board_angles import BoardAngles
from wobble_trainer.units import DEG

DURATIONS_S = (10, 20, 30, 45, 60)
STANCES = ("both", "left", "right")


@dataclass(frozen=True)
class HoldSettings:
    duration_s: float = 30.0
    zone_deg: float = 3.0
    """Radius of the target zone around level, in cursor degrees."""
    stability_level: int = 8
    """Virtual stability level: 1 (liveliest cursor: big gain, no dead band) to 12 (calmest)."""
    stance: str = "both"
    eyes_closed: bool = False
    tilt_tone: bool = False
    edge_ends_hold: bool = False
    """False: an edge touch pauses the timer; True: it ends the hold."""

    def __post_init__(self) -> None:
        if self.duration_s not in DURATIONS_S:
            raise ValueError(f"hold duration must be one of {DURATIONS_S} s")
        virtual_level.check(self.stability_level)
        if self.stance not in STANCES:
            raise ValueError(f"stance must be one of {STANCES}")

    @property
    def gain(self) -> float:
        """Cursor degrees per board degree (:func:`virtual_level.cursor_gain`)."""
        return virtual_level.cursor_gain(self.stability_level)

    @property
    def dead_band(self) -> float:
        """Board tilt (rad) ignored around level (:func:`virtual_level.dead_band`)."""
        return virtual_level.dead_band(self.stability_level)

    def key(self) -> str:
        eyes = "closed" if self.eyes_closed else "open"
        return (
            f"hold/{self.duration_s:g}s/zone{self.zone_deg:g}/L{self.stability_level}/"
            f"{self.stance}/{eyes}"
        )


def virtual_tilt(angles: BoardAngles, settings: HoldSettings) -> tuple[float, float]:
    """Cursor pitch and roll (rad): the board tilt through the dead band and gain."""
    size = math.hypot(angles.pitch, angles.roll)
    if size <= settings.dead_band:
        return 0.0, 0.0
    scale = (size - settings.dead_band) * settings.gain / size
    return angles.pitch * scale, angles.roll * scale


class HoldChallenge(TimedActivity):
    title = "Hold challenge"
    name = "hold"

    def __init__(self, app: AppContext, settings: HoldSettings | None = None) -> None:
        super().__init__(app)
        self.settings = settings or HoldSettings()
        self.hold_time = 0.0
        self.time_in_zone = 0.0
        self.edge_touches = 0
        self.first_touch_s: float | None = None
        self.zone = Zone.OFF
        self.edge_zone = Zone.OFF
        self.cursor: tuple[float, float] | None = None
        self.failed = False
        s = self.settings
        self.thresholds = ZoneThresholds(
            target_radius=s.zone_deg * DEG, near_radius=2 * s.zone_deg * DEG
        )

    def start(self) -> None:
        self.app.feedback.set_targets(
            FeedbackTargets(zones=self.thresholds, edge_angles=self.app.edge_angles)
        )

    def step(self, dt: float, tick: Tick) -> None:
        assert tick.angles is not None
        a = tick.angles
        # The edge is about the real board; the zone about the cursor.
        self.edge_zone = zone_for_angles(
            a.pitch, a.roll, self.thresholds, self.app.edge_angles, self.edge_zone
        )
        on_edge = self.edge_zone is Zone.EDGE
        if on_edge and not self._was_on_edge:
            self.edge_touches += 1
            self.events.append({"t": round(self.elapsed, 3), "event": "edge"})
            if self.first_touch_s is None:
                self.first_touch_s = self.elapsed
            self.app.feedback.cue(Cue.EDGE)
            if self.settings.edge_ends_hold:
                self.failed = True
                self.finish()
                return
        self._was_on_edge = on_edge
        vp, vr = virtual_tilt(a, self.settings)
        self.cursor = (vp, vr)
        if self.settings.tilt_tone and self.app.sound is not None:
            edge = self.app.edge_angles.smallest
            self.app.sound.follow_tilt(a.pitch / edge, a.roll / edge)
        self.zone = zone_for_angles(
            vp, vr, self.thresholds, _NO_EDGE, self.zone if self.zone is not Zone.EDGE else Zone.OFF
        )
        if on_edge:
            return  # the hold timer stands still while the rim is down
        self.hold_time += dt
        if self.zone is Zone.TARGET:
            self.time_in_zone += dt
        if self.hold_time >= self.settings.duration_s - 1e-9:
            self.finish()

    _was_on_edge = False

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        return (0.0, 0.0)

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        s = self.settings
        pct = 100.0 * self.time_in_zone / max(self.hold_time, 1e-9)
        lines = [
            f"Time in zone: {self.time_in_zone:.1f} s of {self.hold_time:.1f} s ({pct:.0f}%)",
            f"Edge touches: {self.edge_touches}",
            "Time to first touch: "
            + ("none" if self.first_touch_s is None else f"{self.first_touch_s:.1f} s"),
        ]
        heading = "Hold ended at the edge" if self.failed else "Hold complete"
        return heading, lines, s.key(), round(self.time_in_zone, 2)

    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        s = self.settings
        y = layout.title(
            surface,
            f"Hold {s.duration_s:g} s" + ("" if s.stance == "both" else f" - {s.stance} leg"),
        )
        if s.eyes_closed and self.phase is Phase.RUNNING:
            layout.text(
                surface,
                "Eyes closed: listen for the tones",
                layout.body_size,
                (layout.width // 2, layout.height // 2),
                MUTED,
            )
            return
        radius = max(30, (min(layout.width, layout.height - y) - 4 * layout.margin) // 2)
        center = (layout.width // 2, y + radius + layout.margin)
        full_scale = 15.0 * DEG
        cursor = None
        if self.cursor is not None:
            cursor = BoardAngles(self.cursor[0], self.cursor[1], 0.0, 0.0)
        color = GREEN if self.zone is Zone.TARGET else RED
        draw_tilt_view(
            surface,
            center,
            radius,
            cursor,
            full_scale,
            target=(0.0, 0.0),
            target_radius=s.zone_deg * DEG,
            target_color=color,
        )
        draw_progress_ring(
            surface, center, radius + layout.margin // 2, self.hold_time / s.duration_s, GREEN
        )
        left = max(0.0, s.duration_s - self.hold_time)
        info = f"in zone {self.time_in_zone:4.1f} s   left {left:4.1f} s   edge {self.edge_touches}"
        layout.text(
            surface,
            info,
            layout.small_size,
            (layout.width // 2, layout.height - layout.small_size),
            TEXT,
        )


class _NoEdge:
    """Edge angles that are never reached (the cursor has no rim)."""

    def toward(self, direction: float) -> float:
        return math.pi


_NO_EDGE = _NoEdge()

SETUP_CHOICES: dict[str, tuple[object, ...]] = {
    "duration_s": tuple(float(d) for d in DURATIONS_S),
    "stance": STANCES,
    "eyes_closed": (False, True),
    "stability_level": tuple(range(12, 0, -1)),
    "zone_deg": (5.0, 4.0, 3.0, 2.0, 1.0),
    "tilt_tone": (False, True),
    "edge_ends_hold": (False, True),
}


def _describe(field: str, value: object) -> str:
    if field == "duration_s":
        return f"Time: {value:g} s"
    if field == "stance":
        legs = {"both": "both", "left": "left only", "right": "right only"}[str(value)]
        return f"Legs: {legs}"
    if field == "eyes_closed":
        return "Eyes: closed" if value else "Eyes: open"
    if field == "stability_level":
        return f"{virtual_level.LABEL}: {value} (12 easiest)"
    if field == "zone_deg":
        return f"Zone: {value:g}°"
    if field == "tilt_tone":
        return "Tilt tone: on" if value else "Tilt tone: off"
    return "Edge touch: ends the hold" if value else "Edge touch: pauses the timer"


class HoldSetupScene(MenuScene):
    """The hold challenge's settings, hands-free: choosing a row steps its value round; "Start"
    begins. The last settings are remembered for the next time."""

    title = "Hold challenge"
    message = virtual_level.NOTE
    last_settings = HoldSettings()

    def __init__(self, app: AppContext) -> None:
        self.values = asdict(HoldSetupScene.last_settings)
        self.fields = list(SETUP_CHOICES)
        self.options = self._labels()
        super().__init__(app)

    def _labels(self) -> list[str]:
        return ["Start"] + [_describe(f, self.values[f]) for f in self.fields]

    def choose(self, index: int) -> None:
        if index == 0:
            settings = HoldSettings(**self.values)
            HoldSetupScene.last_settings = settings
            self.app.replace(HoldChallenge(self.app, settings))
            return
        field = self.fields[index - 1]
        choices = SETUP_CHOICES[field]
        value = self.values[field]
        current = choices.index(value) if value in choices else -1
        self.values[field] = choices[(current + 1) % len(choices)]
        self.options = self._labels()
        self.menu.highlight = index


register(
    Activity(
        "hold",
        "Hold challenge",
        "Keep the cursor in the zone for 10-60 s",
        lambda app: HoldSetupScene(app),
    )
)
