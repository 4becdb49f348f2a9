"""PDF reports for the clinician: one page per session, and a progress report per profile.

Drawn with fpdf2's own primitives (lines, polylines, ellipses, text): no plotting library, so the
reports build on a Raspberry Pi in a fraction of a second and look the same everywhere.

**Session report** (:func:`session_pdf`, one A4 page): who (name or ID, age in the session's year
from the birth year, injured side, dominant leg), when, the activity or protocol and its
settings; the metrics table (OSI/APSI/MLSI, SD about the mean AP/ML/combined, path length, mean
velocity, 95% prediction-ellipse area, time in the Biodex tilt zones, edge touches, and the
activity's own score and results); a tilt trace (pitch and roll against time) and a sway plot
(roll against pitch, with each trial's 95% prediction ellipse drawn from its covariance
eigenvectors); left/right limb symmetry when the session has trials on each leg; reference values
for single-leg stance (from :mod:`wobble_trainer.norms`, shown as references, never as a
pass/fail cut-off, and only for a floor run). Every angle and metric on the page is recomputed
from the stored raw trace with the session's calibration (:mod:`wobble_trainer.reports.data`).
The table's mean is of the test trials (practice trials are shown, marked, never averaged in);
limits of stability get a table per direction (direction control, excursion). A session with no
completed trial gets no report (:class:`NoCompletedTrialError`, :func:`no_pdf_reason`).

**Progress report** (:func:`progress_pdf`): sessions per week, current and longest streak, and
for each kind of session a chart of its key metric over time (the activity's score, else OSI)
against the first session (the baseline), with baseline / latest / best and the change judged
against the measure's minimal detectable change (:func:`wobble_trainer.reliability.judge`: below
it "within normal variation", never coloured better or worse; the MDC and its source beside it),
then the list of sessions.

Text uses the PDF core fonts (Helvetica), which need no font files; characters outside
Windows-1252 are transliterated (accents dropped) or replaced by "?".
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from fpdf import FPDF

from wobble_trainer import __version__, virtual_level
from wobble_trainer.metrics import (
    CHI2_95_2DOF,
    ZONE_KEYS,
    limb_symmetry_index,
    symmetry_sides,
)
from wobble_trainer.norms import NORM_MAX_S, NORM_TRIALS, comparable, reference_for
from wobble_trainer.reliability import SIMULATED_WITH, Mdc, Origin, Verdict, judge, mdc_for
from wobble_trainer.reports.data import (
    LEGS,
    SessionBundle,
    eyes_closed_of,
    is_practice,
    kind_title,
    leg_of,
    load_bundle,
)
from wobble_trainer.storage import Database, Profile, SessionRecord

# --- look ---------------------------------------------------------------------------------------

INK = (28, 36, 52)
MUTED = (105, 114, 130)
RULE = (200, 206, 216)
GRID = (229, 232, 238)
BAND = (244, 246, 250)
ACCENT = (31, 94, 168)
PITCH_COLOUR = (31, 94, 168)
ROLL_COLOUR = (222, 112, 26)
ELLIPSE_COLOUR = (200, 40, 60)
TRIAL_COLOURS = (
    (31, 94, 168),
    (222, 112, 26),
    (46, 150, 90),
    (140, 70, 170),
    (190, 60, 90),
    (90, 110, 130),
)
BETTER = (36, 130, 70)
WORSE = (190, 50, 50)

PAGE_W = 210.0
MARGIN = 12.0
CONTENT_W = PAGE_W - 2 * MARGIN
LINE = 4.4
"""Height of a table row, mm."""

MAX_TRACE_POINTS = 900
"""Points per curve in the tilt trace (min/max per bucket keeps every peak)."""
MAX_SWAY_POINTS = 2500
MAX_TRIAL_COLUMNS = 6
MIN_WEEKS = 8
"""The sessions-per-week chart shows at least this many weeks (a new person's is not 1 bar)."""

METRIC_ROWS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("OSI (\u00b0)", ("osi",), 2),
    ("APSI (\u00b0)", ("apsi",), 2),
    ("MLSI (\u00b0)", ("mlsi",), 2),
    ("SD AP (\u00b0)", ("sd", "ap"), 2),
    ("SD ML (\u00b0)", ("sd", "ml"), 2),
    ("SD combined (\u00b0)", ("sd", "combined"), 2),
    ("Path length (\u00b0)", ("path_length_deg",), 1),
    ("Mean velocity (\u00b0/s)", ("mean_velocity_deg_s",), 2),
    ("95% ellipse area (\u00b0\u00b2)", ("ellipse95_area_deg2",), 2),
    *((f"Time at {k}\u00b0 (%)".replace("-", "\u2013"), ("zone_pct", k), 1) for k in ZONE_KEYS),
    ("Edge touches", ("edge_touches",), 0),
    ("Time on the edge (s)", ("edge_time_s",), 1),
    ("Duration (s)", ("duration_s",), 1),
)
"""(label, key path into a metrics dict, decimals) of the session metrics table."""

COMPUTED_KEYS = frozenset(
    {
        "n_samples",
        "n_valid",
        "n_gaps",
        "rate_hz",
        "duration_s",
        "valid_duration_s",
        "osi",
        "apsi",
        "mlsi",
        "sd",
        "mean_deg",
        "path_length_deg",
        "mean_velocity_deg_s",
        "ellipse95_area_deg2",
        "mean_tilt_deg",
        "max_tilt_deg",
        "zone_pct",
        "zone_s",
        "quadrant_pct",
        "edge_touches",
        "edge_time_s",
        "edge_time_pct",
        "time_to_first_touch_s",
        "edge_margin_deg",
        "edge_hysteresis_deg",
        "time_in_target",
    }
)
"""Keys of :func:`wobble_trainer.metrics.compute`; any other stored metric is the activity's."""

SYMMETRY_ROWS: tuple[tuple[str, tuple[str, ...], int, bool], ...] = (
    ("Stance time (s)", ("time_s",), 1, True),
    ("OSI (\u00b0)", ("osi",), 2, False),
    ("SD combined (\u00b0)", ("sd", "combined"), 2, False),
    ("Path length (\u00b0)", ("path_length_deg",), 1, False),
    ("95% ellipse area (\u00b0\u00b2)", ("ellipse95_area_deg2",), 2, False),
    ("Edge touches", ("edge_touches",), 0, False),
)
"""(label, key path, decimals, higher is better) of the limb symmetry table."""

KEY_METRICS: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("score",), "Score", True),
    (("osi",), "OSI (\u00b0)", False),
    (("total",), "Total errors", False),
)
"""Key metric of a kind in the progress report, first one present wins: (path, label, higher is
better)."""


# --- small helpers ------------------------------------------------------------------------------


_NO_DECOMPOSITION = str.maketrans(
    {
        "\u0141": "L",
        "\u0142": "l",
        "\u00d8": "O",
        "\u00f8": "o",
        "\u0110": "D",
        "\u0111": "d",
        "\u0131": "i",
        "\u0126": "H",
        "\u0127": "h",
        "\u2192": "->",
        "\u2190": "<-",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2212": "-",
    }
)
"""Letters and signs with no Windows-1252 form that Unicode does not decompose."""


def pdf_text(text: Any) -> str:
    """``text`` in the core fonts' Windows-1252: accents dropped where needed, else "?"."""
    s = str(text)
    try:
        s.encode("cp1252")
        return s
    except UnicodeEncodeError:
        pass
    out = []
    for ch in s.translate(_NO_DECOMPOSITION):
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("cp1252", "ignore").decode("cp1252")
            out.append(base or "?")
    return "".join(out)


def dig(mapping: Any, path: Sequence[str]) -> Any:
    """``mapping[path[0]][path[1]]...``, or None where anything is missing."""
    value = mapping
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def number(value: Any) -> float | None:
    """A finite float, or None (bools, text and NaN are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def fmt(value: Any, decimals: int = 2) -> str:
    """A number for a table: fixed decimals, "-" when there is none."""
    v = number(value)
    if v is None:
        return "\u2013"
    return f"{v:.{decimals}f}"


UNIT_SUFFIXES = (
    ("_deg_s", "\u00b0/s"),
    ("_deg2", "\u00b0\u00b2"),
    ("_deg", "\u00b0"),
    ("_hz", " Hz"),
    ("_pct", "%"),
    ("_ms", " ms"),
    ("_s", " s"),
    ("_m", " m"),
)
"""Key endings that name a unit (``duration_s``, ``zone_deg``) and how a value shows it."""


def split_unit(key: str) -> tuple[str, str]:
    """``"zone_deg"`` → ``("zone", "\u00b0")``; a key without a unit ending → (words, "")."""
    for suffix, unit in UNIT_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)].replace("_", " ").strip(), unit
    return key.replace("_", " ").strip(), ""


def fmt_setting(value: Any) -> str:
    """A setting or result value as text: yes/no, compact numbers, lists joined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt_setting(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(key_value(k, v) for k, v in value.items())
    return str(value)


SETTING_NAMES = {"stability_level": virtual_level.LABEL.lower()}
"""Settings whose key does not say what they are (a stability level on a passive board is
virtual: :mod:`wobble_trainer.virtual_level`)."""


def key_value(key: str, value: Any) -> str:
    """``("duration_s", 30)`` → ``"duration 30 s"``: the unit goes with a number."""
    name, unit = split_unit(str(key))
    name = SETTING_NAMES.get(str(key), name)
    text = fmt_setting(value)
    return f"{name} {text}{unit}" if number(value) is not None else f"{name} {text}"


def label_of(key: str) -> str:
    """A result key as a row label: ``"best_left_s"`` → ``"Best left (s)"``."""
    name, unit = split_unit(key)
    text = f"{name} ({unit.strip()})" if unit else name
    return text[:1].upper() + text[1:]


def nice_step(span: float, target_ticks: int = 5) -> float:
    """The 1-2-2.5-5 × 10^k tick step giving the number of ticks nearest ``target_ticks``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    power = 10.0 ** math.floor(math.log10(span / max(1, target_ticks)))
    steps = [m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0)]
    return min(steps, key=lambda step: abs(span / step - target_ticks))


def ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + 1e-9 * max(1.0, abs(hi)):
        out.append(0.0 if abs(v) < 1e-12 else v)
        v += step
    return out


def tick_label(v: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    return f"{v:.{decimals}f}"


def envelope(t: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ~2·``buckets`` points that keep each bucket's minimum and maximum in time order,
    so a decimated trace still shows every peak."""
    n = len(t)
    if n <= 2 * buckets:
        return t, y
    edges = np.linspace(0, n, buckets + 1).astype(int)
    ts, ys = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        seg = y[a:b]
        ok = np.isfinite(seg)
        if not ok.any():
            continue
        idx = np.flatnonzero(ok)
        i_min = idx[np.argmin(seg[idx])]
        i_max = idx[np.argmax(seg[idx])]
        for i in sorted({int(i_min), int(i_max)}):
            ts.append(t[a + i])
            ys.append(seg[i])
    return np.asarray(ts), np.asarray(ys)


def prediction_ellipse(
    x: np.ndarray, y: np.ndarray, points: int = 90
) -> tuple[np.ndarray, np.ndarray] | None:
    """Outline of the 95% prediction ellipse of (x, y): centre at the mean, axes along the
    eigenvectors of the covariance (1/(N-1), as :func:`metrics.ellipse95_area`), semi-axes
    ``sqrt(5.991·λ)``; so its area is ``π·5.991·sqrt(λ1·λ2)``, the metric. None below 3 points."""
    ok = np.isfinite(x) & np.isfinite(y)
    if np.count_nonzero(ok) < 3:
        return None
    xs, ys = x[ok], y[ok]
    cov = np.cov(np.vstack((xs, ys)), ddof=1)
    lam, vec = np.linalg.eigh(cov)
    semi = np.sqrt(CHI2_95_2DOF * np.clip(lam, 0.0, None))
    theta = np.linspace(0.0, 2.0 * math.pi, points + 1)
    unit = np.vstack((semi[0] * np.cos(theta), semi[1] * np.sin(theta)))
    outline = vec @ unit
    return xs.mean() + outline[0], ys.mean() + outline[1]


# --- the document -------------------------------------------------------------------------------


class _Doc(FPDF):
    """A4 portrait with the Wobble Trainer footer."""

    def __init__(self, title: str, generated: datetime, compress: bool) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.report_title = title
        self.generated = generated
        self.set_compression(compress)
        self.set_creation_date(generated)
        self.set_creator(f"Wobble Trainer {__version__}")
        self.set_title(pdf_text(title))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, 16)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font("Helvetica", "", 7)
        self.set_text_color(*MUTED)
        stamp = self.generated.strftime("%Y-%m-%d %H:%M")
        self.cell(
            CONTENT_W / 2, 4, pdf_text(f"Wobble Trainer {__version__} \u00b7 generated {stamp}")
        )
        self.cell(CONTENT_W / 2, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    # -- text ----------------------------------------------------------------------------------
    def use_font(self, size: float, style: str = "", colour: tuple[int, int, int] = INK) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(*colour)

    def put(
        self,
        x: float,
        y: float,
        text: str,
        size: float = 8,
        style: str = "",
        colour: tuple[int, int, int] = INK,
        align: str = "L",
        w: float = 0,
    ) -> None:
        """One line of text whose top-left (or right/centre edge with ``w``) is at x, y."""
        self.use_font(size, style, colour)
        self.set_xy(x, y)
        self.cell(w, size * 0.45, pdf_text(text), align=align)

    def put_rotated(
        self, x: float, y: float, text: str, size: float = 7, colour: tuple[int, int, int] = MUTED
    ) -> None:
        """Text turned 90\u00b0 anticlockwise (reading upwards), centred on x, y; x is the
        baseline. (``text`` takes page coordinates as they are, unlike ``set_xy``, where a
        negative value counts from the right edge.)"""
        self.use_font(size, "", colour)
        text = pdf_text(text)
        with self.rotation(90, x, y):
            self.text(x - self.get_string_width(text) / 2, y, text)

    def fit(self, text: str, width: float) -> str:
        """``text`` cut with an ellipsis to fit ``width`` in the current font."""
        text = pdf_text(text)
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "\u2026") > width:
            text = text[:-1]
        return text + "\u2026"

    def heading(self, y: float, text: str) -> float:
        """A section heading with a rule; returns the y below it."""
        self.put(MARGIN, y, text, 9.5, "B", ACCENT)
        self.set_draw_color(*RULE)
        self.set_line_width(0.25)
        self.line(MARGIN, y + 5.2, PAGE_W - MARGIN, y + 5.2)
        return y + 7.0

    def banner(self, title: str, subtitle: str, right: str) -> float:
        self.set_fill_color(*ACCENT)
        self.rect(0, 0, PAGE_W, 3, style="F")
        self.put(MARGIN, 7, title, 16, "B")
        self.put(MARGIN, 15, subtitle, 9, "", MUTED)
        self.put(PAGE_W - MARGIN - 80, 8, right, 9, "", MUTED, align="R", w=80)
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(MARGIN, 21.5, PAGE_W - MARGIN, 21.5)
        return 25.0

    def pairs(
        self,
        x: float,
        y: float,
        items: Sequence[tuple[str, str]],
        width: float,
        key_w: float = 26.0,
    ) -> float:
        """Label/value lines (values wrap); returns the y below."""
        for key, value in items:
            self.put(x, y, key, 8, "", MUTED)
            self.use_font(8.5, "B" if key in ("Name / ID", "Activity") else "")
            self.set_xy(x + key_w, y - 0.3)
            self.multi_cell(width - key_w, 4.2, pdf_text(value), align="L")
            y = max(y + 4.6, self.get_y() + 0.4)
        return y

    def grid_table(
        self,
        x: float,
        y: float,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        size: float = 7.5,
        colours: Sequence[Sequence[tuple[int, int, int] | None]] | None = None,
        text_columns: int = 1,
    ) -> float:
        """A plain table: bold header, banded rows; the first ``text_columns`` columns
        left-aligned, the numbers right-aligned; returns the y below."""
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        total = sum(widths)

        def draw_header(y: float) -> float:
            self.use_font(size, "B", INK)
            cx = x
            for i, (h, w) in enumerate(zip(header, widths, strict=True)):
                self.set_xy(cx, y)
                self.cell(w, LINE, self.fit(h, w - 1.5), align="L" if i < text_columns else "R")
                cx += w
            self.set_draw_color(*RULE)
            self.set_line_width(0.2)
            self.line(x, y + LINE, x + total, y + LINE)
            return y + LINE

        y = draw_header(y)
        for r, row in enumerate(rows):
            if y + LINE > self.h - self.b_margin:
                self.line(x, y, x + total, y)
                self.add_page()
                y = draw_header(self.t_margin)  # the header again on the new page
            if r % 2 == 1:
                self.set_fill_color(*BAND)
                self.rect(x, y, total, LINE, style="F")
            cx = x
            for i, (cell, w) in enumerate(zip(row, widths, strict=True)):
                colour = (
                    colours[r][i] if colours and colours[r][i] else (INK if i else (60, 68, 84))
                )
                self.use_font(size, "", colour)
                self.set_xy(cx, y)
                self.cell(w, LINE, self.fit(cell, w - 1.5), align="L" if i < text_columns else "R")
                cx += w
            y += LINE
        self.line(x, y, x + total, y)
        return y + 1.5


class _Axes:
    """A plot box mapping data coordinates to the page (y up on the plot)."""

    def __init__(
        self,
        doc: _Doc,
        x: float,
        y: float,
        w: float,
        h: float,
        xlim: tuple[float, float],
        ylim: tuple[float, float],
    ) -> None:
        self.doc, self.x, self.y, self.w, self.h = doc, x, y, w, h
        self.xlim, self.ylim = xlim, ylim

    def px(self, v: float) -> float:
        lo, hi = self.xlim
        return self.x + (v - lo) / (hi - lo) * self.w

    def py(self, v: float) -> float:
        lo, hi = self.ylim
        return self.y + self.h - (v - lo) / (hi - lo) * self.h

    def frame(
        self,
        xlabel: str,
        ylabel: str,
        *,
        xticks: int = 6,
        yticks: int = 5,
        date_labels: dict[float, str] | None = None,
    ) -> None:
        d = self.doc
        d.set_fill_color(255, 255, 255)
        d.set_draw_color(*GRID)
        d.set_line_width(0.15)
        xt = ticks(*self.xlim, xticks) if date_labels is None else sorted(date_labels)
        yt = ticks(*self.ylim, yticks)
        ystep = yt[1] - yt[0] if len(yt) > 1 else 1.0
        xstep = xt[1] - xt[0] if len(xt) > 1 else 1.0
        for v in xt:
            d.line(self.px(v), self.y, self.px(v), self.y + self.h)
        for v in yt:
            d.line(self.x, self.py(v), self.x + self.w, self.py(v))
        d.set_draw_color(*MUTED)
        d.set_line_width(0.25)
        d.rect(self.x, self.y, self.w, self.h)
        for v in xt:
            text = date_labels[v] if date_labels is not None else tick_label(v, xstep)
            d.put(self.px(v) - 10, self.y + self.h + 0.8, text, 6.5, "", MUTED, "C", 20)
        for v in yt:
            d.put(self.x - 11.5, self.py(v) - 1.5, tick_label(v, ystep), 6.5, "", MUTED, "R", 10)
        d.put(self.x, self.y + self.h + 4.3, xlabel, 7, "", MUTED, "C", self.w)
        d.put_rotated(self.x - 10.5, self.y + self.h / 2, ylabel, 7, MUTED)

    def zero_lines(self) -> None:
        d = self.doc
        d.set_draw_color(*RULE)
        d.set_line_width(0.3)
        if self.ylim[0] < 0 < self.ylim[1]:
            d.line(self.x, self.py(0), self.x + self.w, self.py(0))
        if self.xlim[0] < 0 < self.xlim[1]:
            d.line(self.px(0), self.y, self.px(0), self.y + self.h)

    def curve(
        self,
        xs: Iterable[float],
        ys: Iterable[float],
        colour: tuple[int, int, int],
        width: float = 0.3,
    ) -> None:
        """A polyline, broken at NaN (a gap is not bridged)."""
        d = self.doc
        d.set_draw_color(*colour)
        d.set_line_width(width)
        run: list[tuple[float, float]] = []
        for a, b in zip(xs, ys, strict=True):
            if math.isfinite(a) and math.isfinite(b):
                run.append((self.px(a), self.py(b)))
            else:
                self._flush(run)
                run = []
        self._flush(run)

    def _flush(self, run: list[tuple[float, float]]) -> None:
        if len(run) >= 2:
            self.doc.polyline(run)

    def marker(self, x: float, y: float, colour: tuple[int, int, int], r: float = 0.8) -> None:
        d = self.doc
        d.set_fill_color(*colour)
        d.set_draw_color(*colour)
        d.ellipse(self.px(x) - r, self.py(y) - r, 2 * r, 2 * r, style="F")

    def circle(
        self, radius: float, colour: tuple[int, int, int], width: float = 0.2, dash: float = 0.0
    ) -> None:
        """A circle about the origin (data units, equal aspect assumed)."""
        d = self.doc
        d.set_draw_color(*colour)
        d.set_line_width(width)
        if dash:
            d.set_dash_pattern(dash, dash)
        rx = radius / (self.xlim[1] - self.xlim[0]) * self.w
        ry = radius / (self.ylim[1] - self.ylim[0]) * self.h
        d.ellipse(self.px(0) - rx, self.py(0) - ry, 2 * rx, 2 * ry)
        if dash:
            d.set_dash_pattern()

    def legend(
        self, items: Sequence[tuple[str, tuple[int, int, int]]], *, inside: bool = True
    ) -> None:
        d = self.doc
        x = self.x + 2.5
        y = self.y + 2.0 if inside else self.y - 4.5
        d.use_font(6.8)
        for text, colour in items:
            item_w = 9.0 + d.get_string_width(pdf_text(text))
            if x + item_w > self.x + self.w and x > self.x + 2.5:
                x = self.x + 2.5  # next line
                y += 3.6
            d.set_draw_color(*colour)
            d.set_line_width(0.8)
            d.line(x, y + 1.6, x + 4.5, y + 1.6)
            d.put(x + 5.5, y, text, 6.8, "", INK)
            x += item_w


def _clip_to(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


# --- session report -----------------------------------------------------------------------------


def _who(bundle: SessionBundle) -> list[tuple[str, str]]:
    p = bundle.profile
    age = bundle.age_years
    items = [("Name / ID", "Guest" if p.is_guest else p.name)]
    if p.birth_year is not None:
        items.append(("Age", f"{age} years (born {p.birth_year})" if age is not None else "-"))
    items.append(("Injured side", p.injured_side))
    if p.dominant_leg:
        items.append(("Dominant leg", p.dominant_leg))
    if p.height_m:
        items.append(("Height", f"{p.height_m:.2f} m"))
    return items


def short_name(bundle: SessionBundle, index: int) -> str:
    """A trial's column and legend name: ``"T3 L EC"`` = trial 3, left leg, eyes closed."""
    trial = bundle.trial(index)
    name = f"T{index + 1}"
    leg = leg_of(trial, bundle.session)
    if leg:
        name += f" {leg[0].upper()}"
    if eyes_closed_of(trial, bundle.session):
        name += " EC"
    return name


def _when_what(bundle: SessionBundle) -> list[tuple[str, str]]:
    s = bundle.session
    start = s.started_at.strftime("%a %d %b %Y, %H:%M")
    minutes = None if s.ended_at is None else (s.ended_at - s.started_at).total_seconds() / 60
    if minutes is None:
        when = f"{start} (not finished)"
    elif 0 <= minutes < 24 * 60:
        when = f"{start} ({minutes:.1f} min)"
    else:
        when = start  # a clock set wrong between start and end: no duration to show
    title = kind_title(s.kind)
    trials = len(bundle.trials)
    labels = ", ".join(
        f"{short_name(bundle, t.index)} = {t.label}" for t in bundle.trials if t.label
    )
    items = [
        ("Date", when),
        ("Activity", title if title.lower() == s.kind.lower() else f"{title}  [{s.kind}]"),
        ("Trials", f"{trials}" + (f": {labels}" if labels else "")),
    ]
    if s.settings:
        items.append(
            ("Settings", "  \u00b7  ".join(key_value(k, v) for k, v in s.settings.items()))
        )
    return items


def metric_columns(bundle: SessionBundle) -> list[tuple[str, dict[str, Any], bool]]:
    """(column title, metrics, practice) of the metrics table: per trial, recomputed; with no
    usable trace, the metrics as recorded."""
    computed = [
        (short_name(bundle, a.index), m, is_practice(bundle.trial(a.index)))
        for a, m in zip(bundle.angles, bundle.trial_metrics(), strict=True)
        if m is not None
    ]
    if computed:
        return computed
    stored = bundle.session.metrics or {}
    if "osi" in stored:
        return [("As recorded", stored, False)]
    return []


def _mean_of(columns: Sequence[dict[str, Any]], path: Sequence[str]) -> float | None:
    values = [number(dig(c, path)) for c in columns]
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _metrics_table(doc: _Doc, x: float, y: float, width: float, bundle: SessionBundle) -> float:
    columns = metric_columns(bundle)
    if not columns:
        doc.put(x, y, "No trace was recorded: no balance metrics.", 8, "I", MUTED)
        return y + 6
    shown = columns[:MAX_TRIAL_COLUMNS]
    # The mean is of the test trials: practice trials are shown but never averaged in.
    tests = [m for _, m, practice in columns if not practice]
    with_mean = len(columns) > 1 and bool(tests)
    practised = len(tests) < len(columns)
    mean_title = "Test mean" if practised else "Mean"
    titles = [c[0] + (" (P)" if c[2] else "") for c in shown] + ([mean_title] if with_mean else [])
    if len(columns) == 1:
        titles = ["Value"]
    label_w = 38.0
    col_w = (width - label_w) / len(titles)
    rows = []
    for label, path, decimals in METRIC_ROWS:
        row = [label] + [fmt(dig(m, path), decimals) for _, m, _ in shown]
        if with_mean:
            # a mean of counts is not a count: one decimal more
            row.append(fmt(_mean_of(tests, path), decimals or 1))
        rows.append(row)
    size = 7.5 if len(titles) <= 3 else 7.0
    y = doc.grid_table(
        x, y, ["Measure", *titles], rows, [label_w] + [col_w] * len(titles), size=size
    )
    if len(columns) > MAX_TRIAL_COLUMNS:
        covers = "all test trials" if practised else "all"
        doc.put(
            x,
            y,
            f"First {MAX_TRIAL_COLUMNS} of {len(columns)} trials shown; the mean covers {covers}.",
            6.5,
            "I",
            MUTED,
        )
        y += 4
    if practised and with_mean:
        doc.put(x, y, "(P) practice trial: not in the mean.", 6.5, "I", MUTED)
        y += 4
    return y


def _activity_results(bundle: SessionBundle) -> list[tuple[str, str]]:
    stored = bundle.session.metrics or {}
    out: list[tuple[str, str]] = []
    if "score" in stored:
        out.append(
            ("Score", fmt(stored["score"], 1) if number(stored["score"]) is not None else "\u2013")
        )
    for key, value in stored.items():
        if key == "score" or key in COMPUTED_KEYS:
            continue
        if key == "directions" and bundle.session.kind == LOS_KIND:
            continue  # its own table (direction_rows)
        if isinstance(value, dict):
            inner = [key_value(k, v) for k, v in value.items() if _short(v) is not None]
            if inner:
                out.append((label_of(key), ", ".join(inner)))
        elif _short(value) is not None:
            out.append((label_of(key), _short(value)))  # type: ignore[arg-type]
    return out


def _short(value: Any) -> str | None:
    """A scalar result as text (None for lists, objects and missing values)."""
    if isinstance(value, bool | str):
        return fmt_setting(value)
    v = number(value)
    if v is None:
        return None
    return f"{v:g}" if v == int(v) and abs(v) < 1e9 else f"{v:.2f}"


def _trace_plot(doc: _Doc, x: float, y: float, w: float, h: float, bundle: SessionBundle) -> None:
    trials = bundle.angles
    gap = 0.0
    total = sum(a.duration_s for a in trials)
    if len(trials) > 1:
        gap = 0.03 * total
    offsets, t0 = [], 0.0
    for a in trials:
        offsets.append(t0)
        t0 += a.duration_s + gap
    t_end = max(t0 - gap, 1e-3)
    peak = max(
        (
            float(np.nanmax(np.abs(np.concatenate((a.pitch_deg, a.roll_deg)))))
            for a in trials
            if len(a.t)
        ),
        default=1.0,
    )
    limit = max(2.0, math.ceil(peak / nice_step(peak, 3)) * nice_step(peak, 3))
    ax = _Axes(doc, x, y, w, h, (0.0, t_end), (-limit, limit))
    ax.frame(
        "Time (s)" if len(trials) <= 1 else "Time in trials (s), trials one after another",
        "Tilt (\u00b0)",
    )
    ax.zero_lines()
    per_trial = max(60, MAX_TRACE_POINTS // max(1, len(trials)))
    for k, (a, off) in enumerate(zip(trials, offsets, strict=True)):
        if len(trials) > 1:
            if k:
                doc.set_draw_color(*MUTED)
                doc.set_line_width(0.2)
                doc.set_dash_pattern(0.8, 0.8)
                xb = ax.px(off - gap / 2)
                doc.line(xb, y, xb, y + h)
                doc.set_dash_pattern()
            doc.put(
                ax.px(off),
                y + 1.0,
                doc.fit(
                    f"{short_name(bundle, a.index)}" + (f": {a.label}" if a.label else ""),
                    max(8.0, ax.px(off + a.duration_s) - ax.px(off) - 1),
                ),
                6.3,
                "",
                MUTED,
            )
        for series, colour in ((a.pitch_deg, PITCH_COLOUR), (a.roll_deg, ROLL_COLOUR)):
            ts, ys = envelope(a.t, series, per_trial)
            ax.curve(ts + off, ys, colour, 0.25)
    ax.legend(
        [("Pitch (AP, + toes down)", PITCH_COLOUR), ("Roll (ML, + right edge down)", ROLL_COLOUR)],
        inside=False,
    )


def _sway_plot(doc: _Doc, x: float, y: float, size: float, bundle: SessionBundle) -> None:
    trials = bundle.angles
    extent = 1.0
    ellipses = []
    for a in trials:
        if len(a.t):
            extent = max(
                extent, float(np.nanmax(np.abs(a.pitch_deg))), float(np.nanmax(np.abs(a.roll_deg)))
            )
        e = prediction_ellipse(a.roll_deg, a.pitch_deg)
        ellipses.append(e)
        if e is not None:
            extent = max(extent, float(np.max(np.abs(e[0]))), float(np.max(np.abs(e[1]))))
    step = nice_step(extent, 3)
    limit = max(2.0, math.ceil(extent * 1.05 / step) * step)
    ax = _Axes(doc, x, y, size, size, (-limit, limit), (-limit, limit))
    ax.frame("Roll (\u00b0), + right edge down", "Pitch (\u00b0), + toes down", xticks=6, yticks=6)
    ax.zero_lines()
    for zone in (5.0, 10.0, 15.0, 20.0):
        if zone < limit:
            ax.circle(zone, RULE, 0.2, dash=0.8)
            doc.put(
                ax.px(zone * 0.7071) + 0.4,
                ax.py(zone * 0.7071) - 2.6,
                f"{zone:g}\u00b0",
                5.8,
                "",
                MUTED,
            )
    several = len(trials) > 1
    points = max(300, MAX_SWAY_POINTS // max(1, len(trials)))
    for k, (a, e) in enumerate(zip(trials, ellipses, strict=True)):
        colour = TRIAL_COLOURS[k % len(TRIAL_COLOURS)] if several else (120, 140, 170)
        stride = max(1, len(a.t) // points)
        light = tuple(int(c + (255 - c) * 0.45) for c in colour)
        ax.curve(a.roll_deg[::stride], a.pitch_deg[::stride], light, 0.18)  # type: ignore[arg-type]
        if e is not None:
            ax.curve(e[0], e[1], colour if several else ELLIPSE_COLOUR, 0.55)
            ax.marker(
                float(np.nanmean(a.roll_deg)),
                float(np.nanmean(a.pitch_deg)),
                colour if several else ELLIPSE_COLOUR,
            )
    if several:
        ax.legend(
            [
                (short_name(bundle, a.index), TRIAL_COLOURS[k % len(TRIAL_COLOURS)])
                for k, a in enumerate(trials)
            ][:MAX_TRIAL_COLUMNS]
        )
    else:
        ax.legend([("Sway path", (120, 140, 170)), ("95% prediction ellipse", ELLIPSE_COLOUR)])


LOS_KIND = "test:limits_of_stability"


def direction_rows(bundle: SessionBundle) -> list[list[str]]:
    """Limits of stability per direction, as the run scored it: direction, reached, time to
    reach (s), direction control (%), excursion (% of the distance to the target). Empty for
    any other session."""
    if bundle.session.kind != LOS_KIND:
        return []
    per = (bundle.session.metrics or {}).get("directions")
    if not isinstance(per, dict):
        return []
    rows = []
    for direction, m in per.items():
        if not isinstance(m, dict):
            continue
        rows.append(
            [
                str(direction),
                fmt_setting(bool(m.get("reached"))),
                fmt(m.get("time_to_reach_s"), 1),
                fmt(m.get("direction_control_pct"), 0),
                fmt(m.get("excursion_pct"), 0),
            ]
        )
    return rows


def symmetry_rows(
    bundle: SessionBundle,
) -> list[tuple[str, float | None, float | None, float | None, int]]:
    """(measure, left mean, right mean, limb symmetry index %, decimals) when the session has
    non-practice trials on each leg; empty otherwise. The stance time is the time the protocol
    recorded for each trial; the sway measures are recomputed from the raw trace. The index
    compares the injured leg with the other (the profile; with no single injured side the
    non-dominant with the dominant: :func:`wobble_trainer.metrics.symmetry_sides`), below 100
    when the injured leg does worse; None when the profile says neither."""
    by_leg: dict[str, list[dict[str, Any]]] = {leg: [] for leg in LEGS}
    for a, m in zip(bundle.angles, bundle.trial_metrics(), strict=True):
        trial = bundle.trial(a.index)
        leg = leg_of(trial, bundle.session)
        if leg is not None and m is not None and not is_practice(trial):
            by_leg[leg].append({**m, "time_s": bundle.trial_time_s(trial)})
    if not (by_leg["left"] and by_leg["right"]):
        return []
    sides = symmetry_sides(bundle.profile.injured_side, bundle.profile.dominant_leg)
    rows = []
    for label, path, decimals, higher in SYMMETRY_ROWS:
        left = _mean_of(by_leg["left"], path)
        right = _mean_of(by_leg["right"], path)
        lsi = None
        if left is not None and right is not None and sides is not None:
            values = {"left": left, "right": right}
            lsi = limb_symmetry_index(values[sides.involved], values[sides.reference], higher)
        rows.append((label, left, right, lsi, decimals))
    return rows


def protocol_name(kind: str) -> str:
    """``"test:single_leg_stance"`` → ``"single_leg_stance"``."""
    return kind.split(":", 1)[1] if kind.startswith("test:") else kind


def _own_times(bundle: SessionBundle, eyes_closed: bool, ref: Any) -> list[str]:
    """Per leg, this session's best and mean of 3 beside the reference values of the same kind
    (:meth:`wobble_trainer.norms.StanceReference.compare`); a leg without exactly 3 trials is
    left out (a best of 2 is not a best of 3)."""
    parts = []
    for leg in (*LEGS, None):
        times = [
            bundle.trial_time_s(t)
            for t in bundle.trials
            if not is_practice(t)
            and leg_of(t, bundle.session) == leg
            and eyes_closed_of(t, bundle.session) == eyes_closed
        ]
        if len(times) == NORM_TRIALS:
            name = f"{leg}: " if leg else ""
            parts.append(name + ref.compare(max(times), sum(times) / len(times)))
    return parts


def norm_lines(bundle: SessionBundle) -> list[str]:
    """Reference values (:func:`wobble_trainer.norms.reference_for`) for each eyes condition
    of the session's trials, with this session's times beside them where the run was done as
    the norms were measured (:func:`wobble_trainer.norms.comparable`: floor, 3 trials, 45 s);
    empty when the protocol has none (every protocol but single-leg stance), the run was on the
    board (the norms are for a floor), or the age is unknown or out of range."""
    session = bundle.session
    settings = session.settings
    surface = settings.get("surface", "board")  # sessions before the option ran on the board
    same_way = comparable(surface, settings.get("trials"), number(settings.get("max_s")))
    conditions = sorted({eyes_closed_of(t, session) for t in bundle.trials if not is_practice(t)})
    lines: list[str] = []
    source = ""
    for closed in conditions or [eyes_closed_of_settings(session)]:
        ref = reference_for(
            protocol_name(session.kind),
            bundle.profile.birth_year,
            closed,
            session.day,
            surface=surface,
        )
        if ref is None:
            continue
        lines.append(ref.describe())
        if same_way:
            lines.extend("   this session, " + part for part in _own_times(bundle, closed, ref))
        source = f"{ref.source}: {ref.citation}"
    if lines and not same_way:
        lines.append(
            f"This session's times are not set beside them: the norms are the best and mean of "
            f"{NORM_TRIALS} trials of at most {NORM_MAX_S:g} s on a floor."
        )
    if lines and source:
        lines.append(source)
    return lines


def eyes_closed_of_settings(session: SessionRecord) -> bool:
    closed = session.settings.get("eyes_closed")
    if isinstance(closed, bool):
        return closed
    return str(session.settings.get("eyes", "")).lower() == "closed"


class NoCompletedTrialError(ValueError):
    """A session with no completed trial: there is nothing to report, so no PDF is made."""


def completed_trials(bundle: SessionBundle) -> int:
    """How many of the session's trials were completed: a protocol's finished trials (its
    summary's ``trials``), else the stored trials that hold samples and ended."""
    stored = (bundle.session.metrics or {}).get("trials")
    if isinstance(stored, list):
        return len(stored)
    return sum(1 for t in bundle.trials if t.sample_count and t.ended_at is not None)


def no_pdf_reason(bundle: SessionBundle) -> str | None:
    """Why the session gets no PDF report (a sentence for the person asking), or None."""
    if completed_trials(bundle):
        return None
    s = bundle.session
    return (
        f"Session {s.id} ({kind_title(s.kind)}, {s.started_at.strftime('%d %b %Y %H:%M')}) has "
        "no completed trial, so there is no PDF report of it: nothing was measured to report."
    )


def session_pdf(
    bundle: SessionBundle, *, compress: bool = True, generated: datetime | None = None
) -> bytes:
    """The one-page session report of a loaded session (see the module docstring).

    :class:`NoCompletedTrialError` (with :func:`no_pdf_reason`'s message) for a session with
    no completed trial: a report of nothing would only mislead.
    """
    reason = no_pdf_reason(bundle)
    if reason is not None:
        raise NoCompletedTrialError(reason)
    generated = generated or datetime.now().astimezone()
    s = bundle.session
    doc = _Doc(f"Session report {s.id}", generated, compress)
    doc.set_auto_page_break(False)
    doc.add_page()
    y = doc.banner(
        "Session report",
        f"{kind_title(s.kind)} \u00b7 {s.started_at.strftime('%d %b %Y')}",
        f"Session {s.id}",
    )

    # Who and what, two columns.
    col_w = CONTENT_W / 2 - 3
    y_left = doc.pairs(MARGIN, y, _who(bundle), col_w, 24)
    y_right = doc.pairs(MARGIN + col_w + 6, y, _when_what(bundle), col_w, 18)
    y = max(y_left, y_right) + 1

    # Metrics table beside the sway plot.
    y = doc.heading(y, "Balance measures")
    columns = len(metric_columns(bundle))
    table_w = 96.0 if columns <= 1 else min(124.0, 96.0 + 8.0 * (columns - 1))
    plot_size = CONTENT_W - table_w - 16.0
    plot_x = PAGE_W - MARGIN - plot_size
    y_table = _metrics_table(doc, MARGIN, y, table_w, bundle)
    y_plot = y
    if bundle.angles:
        doc.put(plot_x, y - 0.5, "Sway (seen from above)", 8, "B")
        _sway_plot(doc, plot_x, y + 4, plot_size, bundle)
        y_plot = y + 4 + plot_size + 8
    y = max(y_table, y_plot) + 1

    # Tilt trace, full width.
    if bundle.angles:
        y = doc.heading(y, "Tilt over time")
        _trace_plot(doc, MARGIN + 14, y + 5, CONTENT_W - 14, 42, bundle)
        y += 5 + 42 + 9

    # Results, symmetry and references, two columns.
    results = _activity_results(bundle)
    sym = symmetry_rows(bundle)
    norms = norm_lines(bundle)
    directions = direction_rows(bundle)
    if results or sym or norms or directions:
        y = doc.heading(y, "Results")
        left_y = right_y = y
        if results:
            left_y = doc.pairs(MARGIN, left_y, results[:10], col_w, 36)
        if sym:
            sides = symmetry_sides(bundle.profile.injured_side, bundle.profile.dominant_leg)
            if sides is None:
                title = "Left / right (no LSI: the profile has no injured side or dominant leg)"
            else:
                title = (
                    f"Limb symmetry, LSI = {sides.title} \u00d7 100 (< 100: {sides.involved} worse)"
                )
            x_sym = MARGIN + col_w + 6 if results else MARGIN
            doc.put(x_sym, right_y, title, 7.5, "B")
            rows = [[label, fmt(lv, d), fmt(rv, d), fmt(lsi, 0)] for label, lv, rv, lsi, d in sym]
            right_y = doc.grid_table(
                x_sym,
                right_y + 4.5,
                ["Measure", "Left", "Right", "LSI (%)"],
                rows,
                [36.0, 15.0, 15.0, 16.0],
            )
        if directions:
            x_dir = MARGIN + col_w + 6 if results else MARGIN
            doc.put(x_dir, right_y, "Per direction", 7.5, "B")
            right_y = doc.grid_table(
                x_dir,
                right_y + 4.5,
                ["Direction", "Reached", "Time (s)", "Control (%)", "Excursion (%)"],
                directions,
                [20.0, 14.0, 14.0, 18.0, 20.0],
                text_columns=2,
            )
        y = max(left_y, right_y) + 1
        if norms:
            doc.put(MARGIN, y, "Reference values (not a pass/fail cut-off)", 7.5, "B")
            doc.use_font(7.5)
            doc.set_xy(MARGIN, y + 4)
            doc.multi_cell(CONTENT_W, 3.8, pdf_text("\n".join(norms)), align="L")
            y = doc.get_y() + 1

    # How it was measured.
    notes = (
        f"Angles from the raw sensor trace with the session's calibration "
        f"({bundle.calibration_note}); edge angle {math.degrees(bundle.edges.smallest):.1f}\u00b0 "
        f"(smallest). Stability indices about level (Arnold & Schmitz 1998); SD about the mean; "
        f"95% prediction ellipse (Schubert & Kirchner 2014). Recorded with Wobble Trainer "
        f"{s.software_version}. " + " ".join(f"{line}." for line in bundle.analysis_lines())
    )
    if "stability_level" in s.settings:
        notes += " " + virtual_level.NOTE
    doc.use_font(6.5, "", MUTED)
    doc.set_xy(MARGIN, max(y, 268.0))
    doc.multi_cell(CONTENT_W, 3.1, pdf_text(notes), align="L")
    return bytes(doc.output())


def write_session_pdf(
    db: Database, session_id: int, path: str | Path, *, compress: bool = True
) -> Path:
    """Load a session, recompute its angles and write its report to ``path``."""
    path = Path(path)
    path.write_bytes(session_pdf(load_bundle(db, session_id), compress=compress))
    return path


# --- progress report ----------------------------------------------------------------------------


def key_metric(sessions: Sequence[SessionRecord]) -> tuple[tuple[str, ...], str, bool] | None:
    """The key metric of a list of sessions of one kind: the first of :data:`KEY_METRICS` that
    at least one session has."""
    for path, label, higher in KEY_METRICS:
        if any(number(dig(s.metrics or {}, path)) is not None for s in sessions):
            return path, label, higher
    return None


def _weekly_bars(
    doc: _Doc, x: float, y: float, w: float, h: float, days: Sequence[date], today: date
) -> None:
    """Sessions per week (Monday-based), up to the last 26 weeks; ``days``: each session's
    local day (a day with three sessions counts three)."""
    if not days:
        return
    monday = today - timedelta(days=today.weekday())
    first = min(days) - timedelta(days=min(days).weekday())
    weeks = min(26, max(MIN_WEEKS, (monday - first).days // 7 + 1))
    starts = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    counts = [sum(1 for d in days if s <= d < s + timedelta(days=7)) for s in starts]
    top = max(3, max(counts))
    ax = _Axes(doc, x, y, w, h, (0.0, float(weeks)), (0.0, float(top)))
    every = max(1, weeks // 8)
    labels = {i + 0.5: s.strftime("%d %b") for i, s in enumerate(starts) if i % every == 0}
    ax.frame("Week starting", "Sessions", yticks=min(top, 5), date_labels=labels)
    doc.set_fill_color(*ACCENT)
    bar = min(w / weeks * 0.6, 8.0)
    for i, c in enumerate(counts):
        if c:
            doc.rect(ax.px(i + 0.5) - bar / 2, ax.py(c), bar, ax.py(0) - ax.py(c), style="F")


def _metric_chart(
    doc: _Doc,
    x: float,
    y: float,
    w: float,
    h: float,
    points: Sequence[tuple[datetime, float]],
    label: str,
) -> None:
    first_day = points[0][0].date()
    last_day = points[-1][0].date()
    span = max(1, (last_day - first_day).days)
    xs = [(p[0] - points[0][0]).total_seconds() / 86400.0 for p in points]
    ys = [p[1] for p in points]
    lo, hi = min(ys), max(ys)
    pad = max(0.1 * (hi - lo), 0.05 * max(abs(hi), 1.0))
    lo, hi = (0.0 if lo >= 0 and lo - pad < 0 else lo - pad), hi + pad
    ax = _Axes(doc, x, y, w, h, (-0.03 * span, span * 1.03), (lo, hi))
    step = max(1, round(span / 5))
    labels = {
        float(d): (first_day + timedelta(days=d)).strftime("%d %b")
        for d in range(0, span + 1, step)
    }
    ax.frame("Date", label, date_labels=labels)
    doc.set_draw_color(*MUTED)
    doc.set_line_width(0.3)
    doc.set_dash_pattern(1.2, 1.0)
    doc.line(ax.px(ax.xlim[0]), ax.py(ys[0]), ax.px(ax.xlim[1]), ax.py(ys[0]))
    doc.set_dash_pattern()
    doc.put(ax.x + ax.w - 30, ax.py(ys[0]) - 3.2, "baseline", 6.3, "I", MUTED, "R", 29)
    ax.curve(xs, ys, ACCENT, 0.45)
    for a, b in zip(xs, ys, strict=True):
        ax.marker(a, b, ACCENT, 0.7)


def mdc_text(mdc: Mdc) -> str:
    """An MDC95 for a table cell: "9", "0.30" or "12% sim."."""
    if mdc.relative:
        return f"{mdc.value:g}%" + (" sim." if mdc.origin is Origin.SIMULATED else "")
    return f"{mdc.value:g}"


def mdc_note(sources: dict[str, Origin]) -> str:
    """What the MDC column means and where its figures come from."""
    text = (
        "A change smaller than the minimal detectable change (MDC95) is within normal variation: "
        "neither better nor worse."
    )
    published = [s for s, o in sources.items() if o is Origin.PUBLISHED]
    if published:
        text += " Published MDC: " + "; ".join(published) + "."
    if any(o is Origin.SIMULATED for o in sources.values()):
        text += (
            " 'sim.': no published figure fits; the device's own test-retest figure from the "
            f"simulator (% of the person's level; {SIMULATED_WITH})."
        )
    return text


def days_text(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def progress_pdf(
    db: Database,
    profile: Profile,
    *,
    today: date | None = None,
    compress: bool = True,
    generated: datetime | None = None,
) -> bytes:
    """The progress report of one profile (several pages when there is much to show)."""
    generated = generated or datetime.now().astimezone()
    today = today or generated.date()
    sessions = db.history.sessions(profile.id)
    streaks = db.history.streaks(profile.id, today=today)
    doc = _Doc(f"Progress report {profile.name}", generated, compress)
    doc.add_page()
    name = "Guest" if profile.is_guest else profile.name
    y = doc.banner("Progress report", name, today.strftime("%d %b %Y"))

    col_w = CONTENT_W / 2 - 3
    who = [("Name / ID", name)]
    age = profile.age_on(today)
    if age is not None:
        who.append(("Age", f"{age} years (born {profile.birth_year})"))
    who.append(("Injured side", profile.injured_side))
    if profile.dominant_leg:
        who.append(("Dominant leg", profile.dominant_leg))
    period = "no sessions yet"
    if sessions:
        period = (
            f"{sessions[0].started_at.strftime('%d %b %Y')} \u2013 "
            f"{sessions[-1].started_at.strftime('%d %b %Y')}"
        )
    summary = [
        ("Sessions", f"{len(sessions)} on {days_text(len(streaks.days))}"),
        ("Period", period),
        ("Streak", f"current {days_text(streaks.current)}, longest {days_text(streaks.longest)}"),
    ]
    y = (
        max(
            doc.pairs(MARGIN, y, who, col_w, 24),
            doc.pairs(MARGIN + col_w + 6, y, summary, col_w, 18),
        )
        + 1
    )

    if not sessions:
        doc.put(MARGIN, y + 2, "No kept sessions yet.", 9, "I", MUTED)
        return bytes(doc.output())

    y = doc.heading(y, "Sessions per week")
    # One entry per session (not per training day), so the bars add up to the header's count.
    session_days = [s.day for s in sessions]
    _weekly_bars(doc, MARGIN + 14, y + 2, CONTENT_W - 14, 30, session_days, today)
    y += 2 + 30 + 9

    kinds: dict[str, list[SessionRecord]] = {}
    for s in sessions:
        kinds.setdefault(s.kind, []).append(s)
    baseline_rows: list[list[str]] = []
    mdc_sources: dict[str, Origin] = {}
    baseline_colours: list[list[tuple[int, int, int] | None]] = []
    chart_h = 34.0
    for kind, group in kinds.items():
        chosen = key_metric(group)
        if chosen is None:
            continue
        path, label, higher = chosen
        points = [
            (s.started_at, v)
            for s in group
            if (v := number(dig(s.metrics or {}, path))) is not None
        ]
        if not points:
            continue
        base, latest = points[0][1], points[-1][1]
        best = max(p[1] for p in points) if higher else min(p[1] for p in points)
        change = latest - base
        rel = f" ({100.0 * change / abs(base):+.0f}%)" if base else ""
        mdc = mdc_for(kind, path)
        verdict = judge(base, latest, higher, mdc)
        if mdc is not None:
            mdc_sources.setdefault(mdc.source, mdc.origin)
        baseline_rows.append(
            [
                kind_title(kind),
                label,
                fmt(base, 2),
                fmt(latest, 2),
                fmt(best, 2),
                f"{change:+.2f}{rel}",
                "\u2013" if mdc is None else mdc_text(mdc),
                "\u2013" if verdict is Verdict.UNJUDGED or not change else verdict.value,
            ]
        )
        colour = {Verdict.BETTER: BETTER, Verdict.WORSE: WORSE}.get(verdict)
        baseline_colours.append([None] * 5 + [colour, None, colour])
        if len(points) < 2:
            continue  # one session is no trend: the table row says it all
        if y + 7 + chart_h + 9 > 297 - 18:
            doc.add_page()
            y = MARGIN
        y = doc.heading(
            y,
            f"{kind_title(kind)} \u2013 {label} ({len(points)} sessions; "
            f"{'higher' if higher else 'lower'} is better)",
        )
        _metric_chart(doc, MARGIN + 14, y + 2, CONTENT_W - 14, chart_h, points, label)
        y += 2 + chart_h + 9

    if baseline_rows:
        if y + 7 + LINE * (len(baseline_rows) + 2) > 297 - 18:
            doc.add_page()
            y = MARGIN
        y = doc.heading(y, "Against the baseline (first session)")
        y = doc.grid_table(
            MARGIN,
            y,
            ["Activity", "Measure", "Baseline", "Latest", "Best", "Change", "MDC95", ""],
            baseline_rows,
            [38.0, 24.0, 16.0, 16.0, 16.0, 26.0, 18.0, 32.0],
            colours=baseline_colours,
            text_columns=2,
        )
        doc.use_font(6.5, "", MUTED)
        doc.set_xy(MARGIN, y + 0.5)
        doc.multi_cell(CONTENT_W, 3.1, pdf_text(mdc_note(mdc_sources)), align="L")
        y = doc.get_y() + 3

    if y + 7 + 3 * LINE > 297 - 18:
        doc.add_page()
        y = MARGIN
    y = doc.heading(y, "All sessions")
    doc.set_auto_page_break(True, 16)
    rows = []
    for s in reversed(sessions):
        m = s.metrics or {}
        duration = (s.ended_at - s.started_at).total_seconds() / 60.0 if s.ended_at else None
        rows.append(
            [
                s.started_at.strftime("%d %b %Y %H:%M"),
                kind_title(s.kind),
                str(s.trial_count),
                fmt(duration, 1),
                fmt(m.get("score"), 1),
                fmt(m.get("osi"), 2),
                fmt(dig(m, ("sd", "combined")), 2),
            ]
        )
    y = doc.grid_table(
        MARGIN,
        y,
        ["Date", "Activity", "Trials", "Minutes", "Score", "OSI (\u00b0)", "SD (\u00b0)"],
        rows,
        [34.0, 58.0, 14.0, 18.0, 20.0, 20.0, 22.0],
        text_columns=2,
    )
    doc.put(MARGIN, y + 1, pdf_text(analysis_versions_note(sessions)), 6.5, "I", MUTED)
    return bytes(doc.output())


def analysis_versions_note(sessions: Sequence[SessionRecord]) -> str:
    """Which analysis versions the sessions' numbers come from (stored with the metrics)."""
    counts: dict[str, int] = {}
    for s in sessions:
        version = (s.metrics or {}).get("analysis_version") or "recorded before analysis versions"
        counts[str(version)] = counts.get(str(version), 0) + 1
    parts = [f"{v} ({n} session{'s' if n != 1 else ''})" for v, n in sorted(counts.items())]
    return "Numbers from analysis " + ", ".join(parts) + "."


def write_progress_pdf(
    db: Database,
    profile_id: int,
    path: str | Path,
    *,
    compress: bool = True,
    today: date | None = None,
) -> Path:
    """Write a profile's progress report to ``path``."""
    path = Path(path)
    profile = db.profiles.get(profile_id)
    path.write_bytes(progress_pdf(db, profile, compress=compress, today=today))
    return path
