"""Exporting sessions and their raw traces in an open format (CSV and JSON), and as PDF reports.

Everything the database keeps about a session goes out: who, what, its settings, the calibration
and edge angles in use, the metrics with the software versions that recorded and computed them,
every trial's raw samples and every event. Any spreadsheet or script can read it back; nothing
needs Wobble Trainer.

Export format ``wobble-trainer-session``, version 1
--------------------------------------------------
::

    <out>/
      index.csv                         one row per exported session (see below)
      <profile>/                        the profile's name or ID made file-name-safe ("p-017")
        session-0042_2025-05-01_0930_hold/    --format csv: one folder per session
          summary.json
          samples.csv
          events.json
        session-0042_2025-05-01_0930_hold.json  --format json: the same in one file
        session-0042_2025-05-01_0930_hold.pdf   --format pdf: the one-page session report
        session-0042_2025-05-01_0930_hold.fhir.json  --format fhir: FHIR R4 transaction Bundle
        progress.pdf                            --format pdf: the profile's progress report

Names are ASCII, lower case, digits and hyphens (every file system, FAT32 sticks included); the
session id comes first, so a folder sorts by recording order and never collides.

``summary.json`` (UTF-8, one JSON object)::

    {
      "format": "wobble-trainer-session", "format_version": 1,
      "exported_at": "2025-06-01T10:00:00.000+02:00", "exported_by": "Wobble Trainer 0.1.0",
      "profile": {"id": 3, "name": "P-017", "is_guest": false, "birth_year": 1958,
                  "age_at_session": 67, "sex": null, "height_m": 1.68,
                  "injured_side": "left", "dominant_leg": "right"},
      "session": {"id": 42, "kind": "hold", "title": "Hold",
                  "started_at": "2025-05-01T09:30:00.000+02:00", "ended_at": "...",
                  "settings": {...}, "software_version": "0.1.0",
                  "metrics": {...}, "metrics_software_version": "0.1.0", "kept": true},
      "calibration": {...},             the calibration file's object, or null (uncalibrated)
      "edge_angles_deg": {"front": 15.2, "back": 14.9, "left": 15.6, "right": 15.1},
      "trials": [{"index": 0, "label": "left/eyes-open/trial 1", "started_at": "...",
                  "ended_at": "...", "sample_count": 30000, "rate_hz": 1000.0,
                  "duration_s": 29.999, "sensor_precision": "float32"}],
      "files": {"samples": "samples.csv", "events": "events.json"},
      "units": {"t": "s", "ax": "m/s^2", ..., "gz": "rad/s"},
      "frame": "sensor"
    }

* Times of day are ISO 8601 with the UTC offset of the moment. ``metrics`` is exactly what was
  stored (keys as in :func:`wobble_trainer.metrics.compute` plus the activity's own, e.g.
  ``score``); ``null`` where a value is undefined. Angles in metrics and calibration are degrees.
* ``calibration`` is the object of a calibration file (see :mod:`wobble_trainer.tilt.calibration`:
  ``sensor_to_board`` quaternion (w, x, y, z) rotates sensor-frame vectors into the board frame,
  ``gyro_bias_dps``, ``edge_angles_deg``...). With it, the raw samples give the board angles.

``samples.csv`` (UTF-8, comma-separated, one header line, ``\\n`` line ends)::

    trial,t,ax,ay,az,gx,gy,gz
    0,12345.001,0.1532,-0.0217,9.8102,0.00213,-0.0107,0.000488

* ``trial``: the 0-based trial index (as in ``summary.json`` ``trials``); trials follow each
  other, samples in time order.
* ``t``: seconds on the sampler's time base (monotonic; its zero is arbitrary: subtract the
  trial's first ``t``). Gaps (lost samples) show as longer steps.
* ``ax, ay, az``: specific force in m/s², sensor frame (about +9.81 on the axis pointing up at
  rest). ``gx, gy, gz``: angular rate in rad/s, sensor frame, gyro bias NOT removed.
* Numbers are the shortest decimals that give back exactly the stored values at their
  precision: ``t`` is float64; the sensor values are float32 as the database keeps them by
  default (the trial's ``sensor_precision`` in ``summary.json``; ``"float64"`` if the database
  was set to keep doubles). Parse as float64, round the sensor values to float32 when
  ``sensor_precision`` says so, and you have the database's trace bit for bit.

``events.json``: ``{"session": [...], "trials": [{"index": 0, "label": "...", "events": [...]}]}``
with the events as stored (objects such as ``{"t": 12.3, "event": "edge"}``; ``t`` in seconds
from the trial's start unless the event says otherwise).

``--format json`` writes one file per session: the ``summary.json`` object with ``files``
replaced by ``"events"`` (the ``events.json`` object) and each trial carrying ``"samples"``:
``{"t": [...], "ax": [...], ..., "gz": [...]}`` (same numbers, units and precision as the CSV).

``index.csv``: ``profile,profile_id,session_id,kind,started_at,ended_at,trials,samples,path``
(``path`` relative to ``<out>``, of the folder or file written first for the session).

Command line: ``wobble export --profile NAME | --all | --session ID [--since YYYY-MM-DD]
[--format csv|json|pdf|fhir[,...]] --out DIR`` (:func:`add_arguments`, :func:`run`). In the app,
:class:`ExportJob` does the same a step at a time so the screen keeps moving.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from wobble_trainer import __version__
from wobble_trainer.analysis import ReplayJob, nominal_rate_hz
from wobble_trainer.files import disk_problem
from wobble_trainer.reports.data import (
    SessionBundle,
    kind_title,
    session_calibration,
    slug,
)
from wobble_trainer.storage import (
    Database,
    NotFoundError,
    Profile,
    SessionRecord,
    StorageError,
    TrialRecord,
)
from wobble_trainer.storage.codec import jsonable

FORMAT_NAME = "wobble-trainer-session"
FORMAT_VERSION = 1
FORMATS = ("csv", "json", "pdf", "fhir")
SAMPLE_COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
UNITS = {
    "t": "s",
    **{c: "m/s^2" for c in ("ax", "ay", "az")},
    **{c: "rad/s" for c in ("gx", "gy", "gz")},
}
INDEX_COLUMNS = (
    "profile",
    "profile_id",
    "session_id",
    "kind",
    "started_at",
    "ended_at",
    "trials",
    "samples",
    "path",
)

BYTES_PER_SAMPLE = 100
"""Estimate of one sample row in CSV or JSON (8 numbers of ~11 characters)."""
BYTES_PER_PDF = 80_000
"""Estimate of one PDF report (they are ~30-40 kB)."""

ANGLE_SLICE = 4000
"""Samples of angle recomputation per :meth:`ExportJob.step` (a few frames' time on a Pi)."""


def _fhir() -> Any:
    """The FHIR module (it makes the session PDF too)."""
    from wobble_trainer.reports import fhir

    return fhir


def _pdf() -> Any:
    """The PDF module, imported when a PDF is first made (fpdf2 is slow to import)."""
    from wobble_trainer.reports import pdf

    return pdf


class ExportError(Exception):
    """An export could not be written; the message says why and what to do."""


# --- names and selection ------------------------------------------------------------------------


def session_name(session: SessionRecord) -> str:
    """``session-0042_2025-05-01_0930_hold``: id first (sorts, never collides), then when, what."""
    when = session.started_at.strftime("%Y-%m-%d_%H%M")
    return f"session-{session.id:04d}_{when}_{slug(session.kind, 'session')}"


def profile_folder(profile: Profile) -> str:
    """The profile's folder name (``guest`` for the guest; the id keeps two names that tidy to
    the same text apart)."""
    if profile.is_guest:
        return "guest"
    return f"{slug(profile.name, 'profile')}-{profile.id}"


def select_sessions(
    db: Database,
    *,
    profile: str | None = None,
    all_profiles: bool = False,
    session_id: int | None = None,
    since: date | None = None,
) -> list[tuple[Profile, SessionRecord]]:
    """The (profile, session) pairs to export, oldest first per profile.

    One of ``profile`` (name, case-insensitive), ``all_profiles`` or ``session_id``. Only kept
    sessions are exported by profile (a guest's session waiting to be kept or discarded is not);
    ``--session`` exports the one asked for. Raises :class:`ExportError` for an unknown profile
    or session.
    """
    if session_id is not None:
        try:
            session = db.sessions.get(session_id)
        except NotFoundError as exc:
            raise ExportError(str(exc)) from exc
        if since is not None and session.day < since:
            return []
        return [(db.profiles.get(session.profile_id), session)]
    if profile is not None:
        found = db.profiles.find(profile)
        if found is None:
            names = ", ".join(p.name for p in db.profiles.all()) or "none yet"
            raise ExportError(f"there is no profile called {profile!r} (profiles: {names})")
        profiles = [found]
    elif all_profiles:
        profiles = db.profiles.all(include_guest=True)
    else:
        raise ExportError("say what to export: --profile NAME, --all or --session ID")
    return [(p, s) for p in profiles for s in db.history.sessions(p.id, start=since)]


def sample_count(db: Database, session_id: int) -> int:
    """Samples stored for a session (without loading them)."""
    rows = db.query(
        "SELECT coalesce(sum(sample_count), 0) FROM trials WHERE session_id = ?", (session_id,)
    )
    return int(rows[0][0])


# --- writing numbers exactly --------------------------------------------------------------------


def sensor_precision(trial: TrialRecord) -> str:
    """``"float32"`` when every sensor value of the trial is a float32 (the database's default
    storage), else ``"float64"``."""
    values = np.concatenate((trial.acc.ravel(), trial.gyr.ravel()))
    narrow = values.astype(np.float32).astype(np.float64)
    return "float32" if np.array_equal(narrow, values, equal_nan=True) else "float64"


def _sample_columns(trial: TrialRecord) -> list[np.ndarray]:
    """The trial's seven columns as exact text (t, ax, ay, az, gx, gy, gz): the shortest
    decimal that reads back to the stored value at its precision (numpy's shortest repr)."""
    cols = [trial.t.astype(np.float64).astype(str)]
    dtype = np.float32 if sensor_precision(trial) == "float32" else np.float64
    for block in (trial.acc, trial.gyr):
        cols.extend(block[:, k].astype(dtype).astype(str) for k in range(3))
    return cols


def _json_numbers(text: np.ndarray) -> str:
    """A JSON array from exact number text (``nan``/``inf`` cannot be JSON: they become null)."""
    return "[" + ",".join(v if v not in ("nan", "inf", "-inf") else "null" for v in text) + "]"


# --- documents ----------------------------------------------------------------------------------


def _profile_json(profile: Profile, session: SessionRecord) -> dict[str, Any]:
    return {
        "id": profile.id,
        "name": profile.name,
        "is_guest": profile.is_guest,
        "birth_year": profile.birth_year,
        "age_at_session": profile.age_on(session.day),
        "sex": profile.sex,
        "height_m": profile.height_m,
        "injured_side": profile.injured_side,
        "dominant_leg": profile.dominant_leg,
    }


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # kept "as given": hand it on unchanged rather than drop it


def summary_json(
    profile: Profile, session: SessionRecord, trials: Sequence[TrialRecord], exported_at: datetime
) -> dict[str, Any]:
    """The ``summary.json`` object of a session (see the module docstring)."""
    trial_items = []
    for trial in trials:
        recorded = trial.analysis if isinstance(trial.analysis, dict) else {}
        rate = recorded.get("rate_hz") or nominal_rate_hz(trial.t)
        trial_items.append(
            {
                "index": trial.index,
                "label": trial.label,
                "started_at": trial.started_at,
                "ended_at": trial.ended_at,
                "sample_count": trial.sample_count,
                "rate_hz": None if rate is None else round(rate, 6),
                "duration_s": trial.duration_s,
                "sensor_precision": sensor_precision(trial),
                "analysis": trial.analysis,
            }
        )
    return jsonable(
        {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "exported_at": exported_at.isoformat(timespec="milliseconds"),
            "exported_by": f"Wobble Trainer {__version__}",
            "profile": _profile_json(profile, session),
            "session": {
                "id": session.id,
                "kind": session.kind,
                "title": kind_title(session.kind),
                "started_at": session.started_at.isoformat(timespec="milliseconds"),
                "ended_at": (
                    None
                    if session.ended_at is None
                    else session.ended_at.isoformat(timespec="milliseconds")
                ),
                "settings": session.settings,
                "software_version": session.software_version,
                "metrics": session.metrics,
                "analysis_version": (session.metrics or {}).get("analysis_version"),
                "metrics_software_version": session.metrics_software_version,
                "metrics_history": session.metrics_history,
                "kept": session.kept,
            },
            "calibration": _loads(session.calibration),
            "edge_angles_deg": _loads(session.edge_angles),
            "trials": trial_items,
            "files": {"samples": "samples.csv", "events": "events.json"},
            "units": UNITS,
            "frame": "sensor",
        }
    )


def events_json(session: SessionRecord, trials: Sequence[TrialRecord]) -> dict[str, Any]:
    """The ``events.json`` object of a session."""
    return jsonable(
        {
            "session": session.events,
            "trials": [{"index": t.index, "label": t.label, "events": t.events} for t in trials],
        }
    )


def samples_csv(trials: Sequence[TrialRecord]) -> str:
    """The ``samples.csv`` text of a session's trials."""
    out = io.StringIO()
    out.write("trial," + ",".join(SAMPLE_COLUMNS) + "\n")
    for trial in trials:
        if not trial.sample_count:
            continue
        prefix = f"{trial.index},"
        cols = _sample_columns(trial)
        out.write("\n".join(prefix + ",".join(row) for row in zip(*cols, strict=True)))
        out.write("\n")
    return out.getvalue()


def session_json_text(
    profile: Profile, session: SessionRecord, trials: Sequence[TrialRecord], exported_at: datetime
) -> str:
    """The ``--format json`` file of a session: summary, events and samples in one object."""
    doc = summary_json(profile, session, trials, exported_at)
    del doc["files"]
    doc["events"] = events_json(session, trials)
    # The sample arrays are spliced in as text so each number keeps its exact shortest form.
    marks: dict[str, str] = {}
    for item, trial in zip(doc["trials"], trials, strict=True):
        cols = _sample_columns(trial)
        arrays = {name: _json_numbers(col) for name, col in zip(SAMPLE_COLUMNS, cols, strict=True)}
        mark = f"@@samples-{trial.index}@@"
        marks[json.dumps(mark)] = "{" + ",".join(f'"{k}":{v}' for k, v in arrays.items()) + "}"
        item["samples"] = mark
    text = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)
    for mark, arrays_text in marks.items():
        text = text.replace(mark, arrays_text, 1)
    return text + "\n"


CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection)."""


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a text starting with a formula character gets a
    leading ``'`` (OWASP's advice; the csv module quotes what needs quoting). Numbers, including
    negative ones, stay numbers."""
    if not isinstance(value, str) or not value.startswith(CSV_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def _write_text(path: Path, text: str) -> int:
    return _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> int:
    """Write through a new temporary file renamed over ``path``: a symbolic link planted at
    ``path`` is replaced, never followed (what it points to is untouched), and a full disk
    leaves no half-written file."""
    temp = path.with_name(f".{path.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return len(data)


def _folder(path: Path) -> Path:
    """Make (or reuse) an export folder, refusing a symbolic link planted in its place."""
    path.mkdir(exist_ok=True)
    if path.is_symlink() or not path.is_dir():
        raise ExportError(
            f"{path} is a symbolic link or not a folder; it is not followed. Remove it, or "
            "export to another folder."
        )
    return path


# --- reading back -------------------------------------------------------------------------------


@dataclass
class ExportedTrial:
    """One trial read back from an export."""

    index: int
    label: str
    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray


@dataclass
class ExportedSession:
    """A session read back from an export folder or JSON file."""

    summary: dict[str, Any]
    events: dict[str, Any]
    trials: list[ExportedTrial] = field(default_factory=list)


def _trial_from_columns(item: dict[str, Any], cols: dict[str, np.ndarray]) -> ExportedTrial:
    """A trial from its ``summary.json`` entry and its columns: sensor values are rounded to
    the precision they were stored with, which gives back the stored numbers exactly."""
    narrow = item.get("sensor_precision") == "float32"

    def block(names: tuple[str, str, str]) -> np.ndarray:
        data = np.column_stack([cols[n] for n in names]) if len(cols["t"]) else np.zeros((0, 3))
        return data.astype(np.float32).astype(np.float64) if narrow else data

    return ExportedTrial(
        item["index"],
        item["label"],
        cols["t"],
        block(("ax", "ay", "az")),
        block(("gx", "gy", "gz")),
    )


def read_session_folder(folder: str | Path) -> ExportedSession:
    """Read a ``--format csv`` session folder (what any other program would do)."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    events = json.loads((folder / summary["files"]["events"]).read_text(encoding="utf-8"))
    rows: dict[int, list[list[float]]] = {}
    with (folder / summary["files"]["samples"]).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != ["trial", *SAMPLE_COLUMNS]:
            raise ValueError(f"{folder}: unexpected samples.csv header {header}")
        for row in reader:
            rows.setdefault(int(row[0]), []).append([float(v) for v in row[1:]])
    out = ExportedSession(summary, events)
    for item in sorted(summary["trials"], key=lambda t: t["index"]):
        data = np.array(rows.get(item["index"], []), dtype=np.float64).reshape(-1, 7)
        cols = {name: data[:, k] for k, name in enumerate(SAMPLE_COLUMNS)}
        out.trials.append(_trial_from_columns(item, cols))
    return out


def read_session_json(path: str | Path) -> ExportedSession:
    """Read a ``--format json`` session file."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    out = ExportedSession(doc, doc["events"])
    for trial in doc["trials"]:
        cols = {
            name: np.array(
                [np.nan if v is None else v for v in trial["samples"][name]], dtype=np.float64
            )
            for name in SAMPLE_COLUMNS
        }
        out.trials.append(_trial_from_columns(trial, cols))
    return out


# --- the job ------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    """What an export wrote."""

    out_dir: Path
    sessions: int = 0
    profiles: int = 0
    files: list[Path] = field(default_factory=list)
    bytes_written: int = 0
    no_pdf: list[str] = field(default_factory=list)
    """Why sessions got no PDF report (a session with no completed trial gets none)."""


def _disk_error(exc: OSError, where: Path) -> ExportError:
    """An :class:`ExportError` that says what went wrong writing to ``where``."""
    return ExportError(disk_problem(exc, where))


class ExportJob:
    """Export sessions one small step at a time (:meth:`step`), or all at once (:meth:`run`).

    ``formats`` is any of :data:`FORMATS`; ``progress_reports`` adds a progress PDF per profile
    when "pdf" is among them; ``angle_slice`` is how many samples of angle recomputation (for
    the PDFs) one step does. Progress is :attr:`fraction` (0-1) and :attr:`status` (text).
    Errors writing (disk full, read-only, ...) raise :class:`ExportError` from :meth:`step`.
    """

    def __init__(
        self,
        db: Database,
        items: Sequence[tuple[Profile, SessionRecord]],
        out_dir: str | Path,
        formats: Sequence[str] = ("csv",),
        *,
        progress_reports: bool = True,
        exported_at: datetime | None = None,
        compress_pdf: bool = True,
        angle_slice: int = ANGLE_SLICE,
    ) -> None:
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise ValueError(f"formats must be some of {FORMATS}, not {list(formats)}")
        self.db = db
        self.items = list(items)
        self.out_dir = Path(out_dir)
        self.formats = tuple(dict.fromkeys(formats))
        self.exported_at = exported_at or datetime.now().astimezone()
        self.compress_pdf = compress_pdf
        self.angle_slice = max(1, int(angle_slice))
        self.profiles: list[Profile] = []
        for profile, _ in self.items:
            if all(p.id != profile.id for p in self.profiles):
                self.profiles.append(profile)
        self.progress_reports = progress_reports and "pdf" in self.formats
        self.result = ExportResult(self.out_dir)
        self.done_sessions = 0
        self._within = 0.0
        self.status = "Starting"
        self.finished = False
        self.error: str | None = None
        """Why the export stopped, once a step failed (every later step raises it again)."""
        self._index_rows: list[list[Any]] = []
        self._folders: list[Path] = []
        """Folders this export made or wrote into (removed again, if empty, after a failure)."""
        self._session_files = 0
        self._session_folders = 0
        """Where the session being written starts in ``result.files`` and ``_folders``."""
        self._steps: Iterator[None] = self._work()

    @property
    def total_sessions(self) -> int:
        return len(self.items)

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        total = self.total_sessions + (len(self.profiles) if self.progress_reports else 0)
        return min(1.0, (self.done_sessions + self._within) / max(1, total))

    def estimate_bytes(self) -> int:
        """Roughly how much the export will write (to check a stick's free space first)."""
        samples = sum(sample_count(self.db, s.id) for _, s in self.items)
        per_sample = BYTES_PER_SAMPLE * sum(f in self.formats for f in ("csv", "json"))
        pdfs = len(self.items) * ("pdf" in self.formats)
        pdfs += 2 * len(self.items) * ("fhir" in self.formats)  # base64 PDF plus the measures
        pdfs += len(self.profiles) if self.progress_reports else 0
        return samples * per_sample + pdfs * BYTES_PER_PDF + 4096 * (len(self.items) + 1)

    def step(self) -> bool:
        """Do one small piece of work; True once everything is written."""
        if self.error is not None:
            raise ExportError(self.error)
        if self.finished:
            return True
        try:
            next(self._steps)
        except StopIteration:
            self.finished = True
            self.status = "Done"
        except OSError as exc:
            failure = ExportError(f"{_disk_error(exc, self.out_dir)}.{self._remove_partial()}")
            self.error = str(failure)
            raise failure from exc
        except ExportError as exc:
            failure = ExportError(f"{str(exc).rstrip('.')}.{self._remove_partial()}")
            self.error = str(failure)
            raise failure from exc
        return self.finished

    def run(self) -> ExportResult:
        """Do everything now."""
        while not self.step():
            pass
        return self.result

    # -- the work, as a generator: each ``yield`` is a point where the app may draw a frame --
    def _work(self) -> Iterator[None]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        yield  # a first frame before anything slow (the PDF library loads on first use)
        for n, (profile, session) in enumerate(self.items):
            self._within = 0.0
            self.status = (
                f"Session {n + 1} of {self.total_sessions}: "
                f"{kind_title(session.kind)}, {session.started_at:%d %b %Y}"
            )
            yield
            self._session_files = len(self.result.files)
            self._session_folders = len(self._folders)
            yield from self._session(profile, session)
            self.done_sessions = n + 1
            self.result.sessions += 1
        if self.progress_reports:
            for profile in self.profiles:
                self._within = 0.0
                self.status = f"Progress report of {profile.name}"
                yield
                folder = self._profile_dir(profile)
                data = _pdf().progress_pdf(
                    self.db, profile, compress=self.compress_pdf, generated=self.exported_at
                )
                self._wrote(folder / "progress.pdf", _write_bytes(folder / "progress.pdf", data))
                self.done_sessions += 1
        self.result.profiles = len(self.profiles)
        self._write_index()

    def _profile_dir(self, profile: Profile) -> Path:
        return self._made(_folder(self.out_dir / profile_folder(profile)))

    def _made(self, folder: Path) -> Path:
        if folder not in self._folders:
            self._folders.append(folder)
        return folder

    def _remove_partial(self) -> str:
        """After a failure: take away the half-written session (its files and the folders it
        made), so what stays on the disk is whole sessions only; returns what to say."""
        partial = self.result.files[self._session_files :]
        del self.result.files[self._session_files :]
        left = 0
        for path in reversed(partial):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                left += 1
        for folder in reversed(self._folders[self._session_folders :]):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: a folder with other exports stays
        done = self.result.sessions
        kept = f"the {done} session(s) finished before are complete" if done else "nothing kept"
        if left:
            return (
                f" {left} file(s) of the unfinished session could not be removed: delete "
                f"{self.out_dir}; {kept}."
            )
        return f" The unfinished session was removed; {kept}."

    def _wrote(self, path: Path, size: int) -> None:
        self.result.files.append(path)
        self.result.bytes_written += size

    def _session(self, profile: Profile, session: SessionRecord) -> Iterator[None]:
        trials = self.db.sessions.load_trace(session.id)
        folder = self._profile_dir(profile)
        name = session_name(session)
        first: Path | None = None
        if "csv" in self.formats:
            target = self._made(_folder(folder / name))
            summary = summary_json(profile, session, trials, self.exported_at)
            self._wrote(
                target / "summary.json",
                _write_text(
                    target / "summary.json",
                    json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                ),
            )
            self._wrote(
                target / "samples.csv", _write_text(target / "samples.csv", samples_csv(trials))
            )
            self._wrote(
                target / "events.json",
                _write_text(
                    target / "events.json",
                    json.dumps(events_json(session, trials), ensure_ascii=False, indent=2) + "\n",
                ),
            )
            first = first or target
            yield
        if "json" in self.formats:
            target = folder / f"{name}.json"
            self._wrote(
                target,
                _write_text(target, session_json_text(profile, session, trials, self.exported_at)),
            )
            first = first or target
            yield
        reason: str | None = None
        if "pdf" in self.formats:
            calibration, note = session_calibration(session)
            bundle = SessionBundle(profile, session, trials, calibration, note)
            reason = _pdf().no_pdf_reason(bundle)
            if reason is not None:
                self.result.no_pdf.append(reason)
        if "pdf" in self.formats and reason is None:
            total = max(1, sum(t.sample_count for t in trials))
            done = 0
            for trial in trials:
                job = ReplayJob(trial, calibration)
                while not job.step(self.angle_slice):
                    self._within = 0.9 * (done + job.fraction * trial.sample_count) / total
                    yield
                done += trial.sample_count
                if job.result is not None:
                    bundle.angles.append(job.result)
            self._within = 0.95
            yield
            target = folder / f"{name}.pdf"
            data = _pdf().session_pdf(
                bundle, compress=self.compress_pdf, generated=self.exported_at
            )
            self._wrote(target, _write_bytes(target, data))
            first = first or target
        if "fhir" in self.formats and not profile.is_guest and session.metrics:
            # A guest's session has no patient to belong to; one cut short has no measures.
            target = folder / f"{name}.fhir.json"
            bundle = _fhir().session_bundle(self.db, session.id)
            self._wrote(target, _write_text(target, _fhir().bundle_text(bundle)))
            first = first or target
            yield
        self._index_rows.append(
            [
                profile.name,
                profile.id,
                session.id,
                session.kind,
                session.started_at.isoformat(timespec="milliseconds"),
                ""
                if session.ended_at is None
                else session.ended_at.isoformat(timespec="milliseconds"),
                len(trials),
                sum(t.sample_count for t in trials),
                "" if first is None else first.relative_to(self.out_dir).as_posix(),
            ]
        )

    def _write_index(self) -> None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(INDEX_COLUMNS)
        writer.writerows([csv_cell(cell) for cell in row] for row in self._index_rows)
        path = self.out_dir / "index.csv"
        self._wrote(path, _write_text(path, out.getvalue()))


# --- command line -------------------------------------------------------------------------------


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-05-01") from None


def _formats(text: str) -> list[str]:
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(
            f"format must be {', '.join(FORMATS)} or several joined by commas, not {text!r}"
        )
    return chosen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``wobble export``."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--profile", metavar="NAME", help="export this profile's sessions")
    which.add_argument(
        "--all",
        action="store_true",
        dest="all_profiles",
        help="export every profile's sessions (the guest's kept ones too)",
    )
    which.add_argument(
        "--session", metavar="ID", type=int, dest="session_id", help="export one session"
    )
    parser.add_argument(
        "--since",
        metavar="DATE",
        type=_date,
        help="only sessions on or after this day (YYYY-MM-DD)",
    )
    parser.add_argument(
        "--format",
        metavar="FORMAT",
        type=_formats,
        default=["csv"],
        dest="formats",
        help="csv (folder per session: summary.json, samples.csv, events.json), "
        "json (one file per session), pdf (reports) or fhir (one HL7 FHIR R4 transaction "
        "Bundle per session, see docs/fhir.md); several joined by commas "
        "(default csv)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        type=Path,
        help="folder to write into (created if missing)",
    )


def _waiting(db: Database) -> str:
    """Why an export may have found nothing: the guest's sessions not kept yet (they are
    recorded "not kept" until the clinician keeps or discards them), with how to get them."""
    guest = db.profiles.guest()
    waiting = [s.id for s in db.history.sessions(guest.id, include_unkept=True) if not s.kept]
    if not waiting:
        return ""
    ids = ", ".join(str(i) for i in waiting[:5]) + (", ..." if len(waiting) > 5 else "")
    n = len(waiting)
    return (
        f" {n} Guest session{'s are' if n != 1 else ' is'} waiting to be kept or discarded "
        f"(id {ids}): keep them in the app's Guest sessions screen (for the guest or a "
        "profile), or export one with --session ID."
    )


def run(args: argparse.Namespace, db: Database | None = None) -> int:
    """``wobble export``: 0 when written, 1 when nothing could be (message on stderr)."""
    import sys

    from wobble_trainer.storage import open_database

    own = db is None
    try:
        database = open_database() if db is None else db
    except StorageError as exc:
        print(f"wobble export: {exc}", file=sys.stderr)
        return 1
    try:
        items = select_sessions(
            database,
            profile=args.profile,
            all_profiles=args.all_profiles,
            session_id=args.session_id,
            since=args.since,
        )
        if not items:
            print(f"wobble export: no sessions match; nothing written.{_waiting(database)}",
                  file=sys.stderr)  # fmt: skip
            return 1
        job = ExportJob(database, items, args.out, args.formats)
        result = job.run()
    except (ExportError, StorageError) as exc:
        print(f"wobble export: {exc}", file=sys.stderr)
        return 1
    finally:
        if own:
            database.close()
    for reason in result.no_pdf:
        print(f"wobble export: {reason}", file=sys.stderr)
    profiles = f"{result.profiles} profile{'s' if result.profiles != 1 else ''}"
    print(
        f"Exported {result.sessions} session{'s' if result.sessions != 1 else ''} of "
        f"{profiles} ({', '.join(args.formats)}, {len(result.files)} files, "
        f"{result.bytes_written / 1e6:.1f} MB) to {result.out_dir}"
    )
    return 0
