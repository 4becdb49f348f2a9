"""History and progress of one profile: charts over weeks, streaks, change since the first session.

Page 1 is the overview: current and longest streak, sessions in total, and sessions per week as a
bar chart. Then one page per activity kind and metric the sessions have (e.g. the hold challenge's
time in zone, the overall stability index): the metric over time as a line chart with week lines,
the first session (the baseline) as a dashed line, and the change from the baseline in % with
"better" or "worse" — knowing which metrics are better lower (OSI, sway) and which higher (scores,
times) — or "within normal variation" (no colour) when the change is smaller than the measure's
minimal detectable change (:mod:`wobble_trainer.reliability`, shown with its source). Lean
left/right (or touch the arrows) to turn pages; lean back, or touch Done, to leave. Big type:
readable from 2 m.

The data work (:func:`history_pages`, :func:`weekly_counts`, :func:`compare_to_baseline`) is plain
functions over :mod:`wobble_trainer.storage.history`, tested without a screen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.kiosk import can_see_profile
from wobble_trainer.app.layout import (
    ACCENT,
    BACKGROUND,
    BLUE,
    GREEN,
    MUTED,
    PANEL,
    RED,
    TEXT,
    Layout,
)
from wobble_trainer.app.scene import ACTIVITIES, AppContext, Scene, Tick
from wobble_trainer.app.scenes.menus import lean_menu_command, lean_menu_step
from wobble_trainer.app.scenes.profiles import draw_button, fit_size
from wobble_trainer.app.widgets import lean_hint
from wobble_trainer.reliability import Mdc, Verdict, judge, mdc_for
from wobble_trainer.storage import StorageError

WEEKS_SHOWN = 8
"""Weeks in the sessions-per-week chart."""
MIN_CHART_DAYS = 28
"""A metric chart spans at least four weeks, so a first week does not look like a year."""


@dataclass(frozen=True)
class MetricSpec:
    """A metric worth charting and which way is better."""

    keys: tuple[str, ...]
    """Path into a session's metrics (see ``HistoryStore.metric_series``)."""
    label: str
    unit: str
    higher_is_better: bool
    decimals: int = 1

    def format(self, value: float) -> str:
        sep = "" if self.unit in ("", "°", "%") else " "
        return f"{value:.{self.decimals}f}{sep}{self.unit}"


SCORE = MetricSpec(("score",), "Score", "", True, 0)
OSI = MetricSpec(("osi",), "Overall stability index (OSI)", "°", False, 2)
"""Distance from level (DOMAIN.md §5): lower is steadier."""

EDGE_TOUCHES = MetricSpec(("edge_touches",), "Edge touches", "", False, 0)
"""Rim contacts: SMARTwobble's measure, with its published MDC (DOMAIN.md §9)."""

KIND_METRICS: dict[str, tuple[MetricSpec, ...]] = {
    "hold": (MetricSpec(("score",), "Time in zone", "s", True, 1), OSI, EDGE_TOUCHES),
    "test:bess": (MetricSpec(("total",), "BESS total errors", "", False, 0),),
    "floor_stance": (),  # timed on the floor: no board measurement, counted only
}
"""Metrics charted per session kind; kinds not listed get :data:`DEFAULT_METRICS`. Tests and
games may add theirs (e.g. a single-leg test's best time, higher is better)."""
DEFAULT_METRICS: tuple[MetricSpec, ...] = (SCORE, OSI)


def metrics_for(kind: str) -> tuple[MetricSpec, ...]:
    return KIND_METRICS.get(kind, DEFAULT_METRICS)


def kind_title(kind: str) -> str:
    """A session kind as people read it: the activity's title, else the kind tidied up."""
    activity = ACTIVITIES.get(kind)
    if activity is not None:
        return activity.title
    text = kind.replace("_", " ").replace("-", " ")
    if ":" in text:
        group, name = text.split(":", 1)
        text = f"{name.strip()} ({group.strip()})"
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Comparison:
    """The latest value against the baseline (the first session of that kind), judged against
    the measure's minimal detectable change (:func:`wobble_trainer.reliability.judge`)."""

    baseline: float
    latest: float
    higher_is_better: bool
    mdc: Mdc | None = None

    @property
    def change(self) -> float:
        return self.latest - self.baseline

    @property
    def change_pct(self) -> float | None:
        """Change in % of the baseline (None when the baseline is 0)."""
        return None if self.baseline == 0 else 100.0 * self.change / abs(self.baseline)

    @property
    def verdict(self) -> Verdict:
        return judge(self.baseline, self.latest, self.higher_is_better, self.mdc)

    @property
    def better(self) -> bool | None:
        """True better, False worse, None within normal variation (or not judged)."""
        return {Verdict.BETTER: True, Verdict.WORSE: False}.get(self.verdict)

    def words(self, spec: MetricSpec) -> str:
        """E.g. "18% better than the first session (2.60°)", or "Within normal variation of the
        first session (2.60°)" for a change smaller than the MDC."""
        base = spec.format(self.baseline)
        if self.change == 0:
            return f"Same as the first session ({base})"
        pct = self.change_pct
        verdict = self.verdict
        if verdict is Verdict.WITHIN:
            return f"Within normal variation of the first session ({base})"
        if verdict is Verdict.UNJUDGED:
            size = f"{pct:+.0f}%" if pct is not None else spec.format(self.change)
            return f"{size} since the first session ({base}), no reliability figure"
        size = f"{abs(pct):.0f}%" if pct is not None else spec.format(abs(self.change))
        return f"{size} {verdict.value} than the first session ({base})"

    def mdc_words(self, spec: MetricSpec) -> str:
        """The MDC and its source, e.g. "MDC95 9 (Williams & Bentman 2014)"."""
        if self.mdc is None:
            return "no minimal detectable change known"
        return self.mdc.describe(unit=spec.unit, decimals=spec.decimals)


def compare_to_baseline(
    values: Sequence[float], higher_is_better: bool, mdc: Mdc | None = None
) -> Comparison | None:
    """Latest against first of a series in time order; None with fewer than two values."""
    if len(values) < 2:
        return None
    return Comparison(float(values[0]), float(values[-1]), higher_is_better, mdc)


@dataclass(frozen=True)
class ChartPage:
    """One metric of one kind over time."""

    kind: str
    spec: MetricSpec
    points: tuple[tuple[datetime, float], ...]

    @property
    def title(self) -> str:
        return f"{kind_title(self.kind)}: {self.spec.label}"

    @property
    def comparison(self) -> Comparison | None:
        return compare_to_baseline(
            [v for _, v in self.points],
            self.spec.higher_is_better,
            mdc_for(self.kind, self.spec.keys),
        )

    @property
    def best(self) -> float:
        values = [v for _, v in self.points]
        return max(values) if self.spec.higher_is_better else min(values)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def history_pages(db: Any, profile_id: int) -> list[ChartPage]:
    """A chart page for every kind and metric with at least one value (most used kinds first)."""
    kinds = db.history.kinds(profile_id)
    pages = []
    for kind in sorted(kinds, key=lambda k: (-kinds[k], k)):
        for spec in metrics_for(kind):
            series = db.history.metric_series(profile_id, kind, *spec.keys)
            points = tuple((p.started_at, v) for p in series if (v := _number(p.value)) is not None)
            if points:
                pages.append(ChartPage(kind, spec, points))
    return pages


def week_start(day: date) -> date:
    """Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weekly_counts(
    counts: Sequence[Any], today: date, weeks: int = WEEKS_SHOWN
) -> list[tuple[date, int]]:
    """Sessions per calendar week (Monday first) for the ``weeks`` weeks ending this one, from
    ``HistoryStore.daily_counts`` rows; weeks without sessions count 0."""
    this_week = week_start(today)
    starts = [this_week - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    totals = dict.fromkeys(starts, 0)
    for row in counts:
        start = week_start(row.day)
        if start in totals:
            totals[start] += row.count
    return [(s, totals[s]) for s in starts]


@dataclass(frozen=True)
class Overview:
    name: str
    current_streak: int
    longest_streak: int
    total_sessions: int
    weeks: list[tuple[date, int]]


def overview(db: Any, profile: Any, today: date) -> Overview:
    streaks = db.history.streaks(profile.id, today=today)
    start = week_start(today) - timedelta(weeks=WEEKS_SHOWN - 1)
    counts = db.history.daily_counts(profile.id, start=start, end=today)
    return Overview(
        name=profile.name,
        current_streak=streaks.current,
        longest_streak=streaks.longest,
        total_sessions=sum(db.history.kinds(profile.id).values()),
        weeks=weekly_counts(counts, today),
    )


# --- charts -------------------------------------------------------------------------------------


def draw_bar_chart(
    surface: pygame.Surface,
    layout: Layout,
    rect: pygame.Rect,
    bars: Sequence[tuple[str, float]],
    color=BLUE,
) -> None:
    """Bars with their value above and their label below, scaled to the largest."""
    if not bars:
        return
    small = layout.small_size
    plot = pygame.Rect(rect.left, rect.top + small, rect.width, rect.height - 2 * small)
    top = max(max(v for _, v in bars), 1.0)
    slot = plot.width / len(bars)
    pygame.draw.line(surface, MUTED, plot.bottomleft, plot.bottomright, 2)
    for i, (label, value) in enumerate(bars):
        h = round(plot.height * value / top)
        x = round(plot.left + i * slot + slot * 0.15)
        bar = pygame.Rect(x, plot.bottom - h, max(2, round(slot * 0.7)), h)
        if h:
            pygame.draw.rect(surface, color, bar, border_radius=3)
        layout.text(surface, f"{value:g}", small, (bar.centerx, plot.bottom - h - small // 2), TEXT)
        size = fit_size(layout, label, small, round(slot) - 2, 10)
        layout.text(surface, label, size, (bar.centerx, plot.bottom + small // 2 + 2), MUTED)


def value_axis(values: Sequence[float], higher_is_better: bool) -> tuple[float, float]:
    """The chart's value range: the values with a margin, never below zero for a measure that
    cannot be negative (an OSI, a time, a score: an axis running to -0.3° shows what cannot
    happen); scores and times start at zero so growth looks like what it is."""
    lo, hi = min(values), max(values)
    non_negative = lo >= 0
    if higher_is_better and non_negative:
        lo = 0.0
    pad = (hi - lo) * 0.1 or max(abs(hi) * 0.1, 1.0)
    lo, hi = lo - (0 if lo == 0 else pad), hi + pad
    if non_negative:
        lo = max(0.0, lo)
    return lo, hi


def draw_line_chart(
    surface: pygame.Surface, layout: Layout, rect: pygame.Rect, page: ChartPage, today: date
) -> None:
    """The metric over time: week lines, the baseline dashed, the latest point highlighted."""
    small = layout.small_size
    label_w = layout.font(small).size("0000.0")[0]
    plot = pygame.Rect(
        rect.left + label_w, rect.top + small // 2, rect.width - label_w, rect.height - small * 2
    )
    pygame.draw.rect(surface, PANEL, plot, border_radius=4)
    first_day = page.points[0][0].date()
    last_day = max(today, page.points[-1][0].date())
    start = week_start(min(first_day, last_day - timedelta(days=MIN_CHART_DAYS - 1)))
    span = (last_day + timedelta(days=1) - start).days

    def x_of(moment: datetime | date) -> int:
        if isinstance(moment, datetime):
            days = (moment.date() - start).days + (
                moment.hour * 3600 + moment.minute * 60 + moment.second
            ) / 86400
        else:
            days = (moment - start).days
        return round(plot.left + plot.width * days / span)

    values = [v for _, v in page.points]
    lo, hi = value_axis(values, page.spec.higher_is_better)

    def y_of(value: float) -> int:
        return round(plot.bottom - plot.height * (value - lo) / (hi - lo))

    # Week lines, labelled every week or every few weeks so the dates stay readable.
    weeks = max(1, span // 7)
    every = max(1, math.ceil(weeks * layout.font(small).size("00 Mmm")[0] * 1.3 / plot.width))
    for i in range(0, weeks + 1):
        day = start + timedelta(weeks=i)
        x = x_of(day)
        pygame.draw.line(surface, (60, 70, 95), (x, plot.top), (x, plot.bottom), 1)
        if i % every == 0 and x < plot.right - label_w // 2:
            layout.text(
                surface, f"{day:%d %b}", small, (x + 2, plot.bottom + small // 2 + 2), MUTED
            )
    for value in (lo, hi):
        layout.text(
            surface,
            f"{value:.{page.spec.decimals}f}",
            small,
            (rect.left + label_w // 2, y_of(value)),
            MUTED,
        )
    # Baseline: the first session's value, dashed.
    base_y = y_of(values[0])
    for x in range(plot.left, plot.right, 14):
        pygame.draw.line(surface, MUTED, (x, base_y), (min(x + 7, plot.right), base_y), 2)
    pts = [(x_of(t), y_of(v)) for t, v in page.points]
    if len(pts) > 1:
        pygame.draw.lines(surface, GREEN, False, pts, max(2, layout.margin // 4))
    dot = max(4, layout.margin // 2)
    for p in pts:
        pygame.draw.circle(surface, GREEN, p, dot)
    pygame.draw.circle(surface, ACCENT, pts[-1], dot + 3)


# --- the scene ----------------------------------------------------------------------------------


class HistoryScene(Scene):
    """One profile's progress (default: the current profile)."""

    title = "Progress"

    def __init__(self, app: AppContext, profile: Any = None, today: date | None = None) -> None:
        super().__init__(app)
        self.profile = profile if profile is not None else app.profile
        self.today = today or date.today()
        self.pages: list[ChartPage] = []
        self.summary: Overview | None = None
        self.message = ""
        self.menu = LeanMenu(1)
        self._shown_for = 0.0
        self.load()

    def load(self) -> None:
        self.pages, self.summary, self.message = [], None, ""
        if self.app.db is None:
            self.message = "No database: nothing has been saved."
        elif self.profile is None or self.profile.is_guest:
            self.message = "Guest sessions have no history. Choose a profile to see progress."
        elif not can_see_profile(self.app, self.profile):
            # In a clinic's kiosk only the patient's own progress (or the clinician's view).
            self.message = "Only your own progress can be shown here."
        else:
            try:
                self.summary = overview(self.app.db, self.profile, self.today)
                self.pages = history_pages(self.app.db, self.profile.id)
            except StorageError as exc:
                self.message = str(exc)
        self.menu = LeanMenu(1 + len(self.pages))

    @property
    def page(self) -> int:
        """0: overview; i ≥ 1: chart page i."""
        return self.menu.highlight

    def turn(self, step: int) -> None:
        self.menu.move(step)

    def enter(self) -> None:
        self._shown_for = 0.0

    def update(self, dt: float, tick: Tick) -> None:
        self._shown_for += dt
        lean_menu_step(self.app, self.menu, dt, tick, lambda _: self.app.pop(), self.app.pop)

    def command(self, command: Command) -> None:
        lean_menu_command(self.app, self.menu, command)

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        return (0.0, 0.0)

    # -- drawing ----------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        name = "" if self.profile is None else f": {self.profile.name}"
        heading = f"{self.title}{name}"
        layout.text(
            surface,
            heading,
            fit_size(layout, heading, layout.title_size * 3 // 4, layout.width - 2 * m),
            (layout.width // 2, m + layout.title_size * 3 // 8),
        )
        top = m * 2 + layout.title_size * 3 // 4
        nav_h = max(layout.small_size * 2, layout.body_size * 5 // 4)
        hint_h = layout.small_size + 4
        body = pygame.Rect(
            m, top, layout.width - 2 * m, layout.height - top - nav_h - hint_h - 2 * m
        )
        if self.message:
            layout.wrapped(
                surface, self.message, layout.body_size, body.inflate(-2 * m, -body.height // 3)
            )
        elif self.page == 0:
            self._draw_overview(surface, layout, body)
        else:
            self._draw_page(surface, layout, body, self.pages[self.page - 1])
        self._draw_nav(surface, layout, nav_h)

    def _draw_overview(self, surface: pygame.Surface, layout: Layout, body: pygame.Rect) -> None:
        s = self.summary
        assert s is not None
        big, small = layout.body_size, layout.small_size
        cells = [
            (f"{s.current_streak}", "day streak now", ACCENT if s.current_streak else MUTED),
            (f"{s.longest_streak}", "longest streak", TEXT),
            (f"{s.total_sessions}", "sessions", TEXT),
        ]
        w = body.width // len(cells)
        for i, (value, label, color) in enumerate(cells):
            cx = body.left + w * i + w // 2
            layout.text(surface, value, big * 3 // 2, (cx, body.top + big * 3 // 4), color)
            layout.text(
                surface,
                label,
                fit_size(layout, label, small, w - 8),
                (cx, body.top + big * 3 // 2 + small // 2 + 2),
                MUTED,
            )
        chart_top = body.top + big * 3 // 2 + small * 2
        layout.text(surface, "Sessions per week", small, (body.centerx, chart_top), MUTED)
        rect = pygame.Rect(
            body.left, chart_top + small, body.width, body.bottom - chart_top - small
        )
        bars = [(f"{start:%d %b}", count) for start, count in s.weeks]
        draw_bar_chart(surface, layout, rect, bars)

    def _draw_page(
        self, surface: pygame.Surface, layout: Layout, body: pygame.Rect, page: ChartPage
    ) -> None:
        small, big = layout.small_size, layout.body_size
        layout.text(
            surface,
            page.title,
            fit_size(layout, page.title, big, body.width),
            (body.centerx, body.top + big // 2),
        )
        comparison = page.comparison
        latest = page.points[-1][1]
        line = f"Latest {page.spec.format(latest)}"
        if comparison is not None:
            line += "  -  " + comparison.words(page.spec)
            color = {True: GREEN, False: RED, None: TEXT}[comparison.better]
        else:
            line += "  -  the first session: the baseline"
            color = TEXT
        layout.text(
            surface,
            line,
            fit_size(layout, line, big, body.width),
            (body.centerx, body.top + big * 3 // 2),
            color,
        )
        better = "higher is better" if page.spec.higher_is_better else "lower is better"
        note = f"{len(page.points)} sessions, best {page.spec.format(page.best)}, {better}"
        if comparison is not None:
            note += f"; {comparison.mdc_words(page.spec)}"
        layout.text(
            surface,
            note,
            fit_size(layout, note, small, body.width),
            (body.centerx, body.top + big * 2 + small // 2 + 4),
            MUTED,
        )
        chart = pygame.Rect(
            body.left,
            body.top + big * 2 + small + 8,
            body.width,
            body.bottom - (body.top + big * 2 + small + 8),
        )
        draw_line_chart(surface, layout, chart, page, self.today)

    def _draw_nav(self, surface: pygame.Surface, layout: Layout, nav_h: int) -> None:
        m = layout.margin
        y = layout.height - nav_h - m
        pages = 1 + len(self.pages)
        bw = max(nav_h * 2, layout.width // 6)
        controls = [
            (pygame.Rect(m, y, bw, nav_h), "<", lambda: self.turn(-1)),
            (pygame.Rect(layout.width - m - bw, y, bw, nav_h), ">", lambda: self.turn(1)),
            (pygame.Rect(layout.width // 2 - bw // 2, y, bw, nav_h), "Done", self.app.pop),
        ]
        for rect, label, action in controls[(0 if pages > 1 else 2) :]:
            draw_button(surface, layout, rect, label)
            self.buttons.append((rect, action))
        if pages > 1:
            text = f"{self.page + 1} / {pages}"
            layout.text(
                surface,
                text,
                layout.small_size,
                ((m + bw + layout.width // 2 - bw // 2) // 2, y + nav_h // 2),
                MUTED,
            )
        hint, color = lean_hint(self.menu, None, move="turn pages", back="leave")
        size = fit_size(layout, hint, layout.small_size, layout.width - 2 * m)
        layout.text(surface, hint, size, (layout.width // 2, y - size // 2 - 2), color)
