"""``wobble bench hub``: how fast a hub takes a clinic day, what a sample costs, page times.

1. **Upload**: a busy clinic day is 10 boards × 20 sessions × 2 minutes at 1 kHz (24 million
   samples). Three boards upload it at once over loopback to a ``wobble hub serve`` process,
   each its share, every session a real upload (compact trace, JSON, one transaction).
   Target: the whole day in under :data:`DAY_TARGET_S`.
2. **Bytes per sample** of the compact traces that travelled (target ≤ 12, from 32).
3. **Page times** of the clinician web view (patient list, patient page, session page) with
   ``--patients`` patients and ``--history`` sessions in the database (default 1,000 and
   100,000): p50 and p95 over ``--requests`` requests each. Target p95 ≤ :data:`PAGE_TARGET_MS`.
   The history sessions are inserted directly with their metrics and times; only the sessions
   whose page is timed carry a full 2-minute trace (100,000 of them would be 80 GB of raw data).
   A session page's first view recomputes the trace's angles with the board's estimator
   (seconds for 120,000 samples) and caches them in the database; it is reported on its own
   line and the target is checked on the cached views.

``--database postgresql://…`` runs it on PostgreSQL (an empty database: it is filled); without
it, on an embedded SQLite file in a temporary directory. ``--day-fraction`` uploads part of the
day and reports the projected time for all of it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from wobble_trainer.bench.report import format_table

DAY_BOARDS, DAY_SESSIONS_PER_BOARD, DAY_SESSION_S, RATE_HZ = 10, 20, 120.0, 1000.0
UPLOADING_BOARDS = 3
DAY_TARGET_S = 60.0
PAGE_TARGET_MS = 150.0
PASSWORD = "bench-password"


@dataclass
class UploadResult:
    sessions: int
    samples: int
    seconds: float
    samples_per_s: float
    day_samples: int
    projected_day_s: float
    bytes_per_sample: float


@dataclass
class PageTimes:
    page: str
    requests: int
    p50_ms: float
    p95_ms: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        help="postgresql://… (an empty database; default: SQLite in a temporary directory)",
    )
    parser.add_argument(
        "--day-fraction", type=float, default=1.0, help="share of the clinic day to upload (1.0)"
    )
    parser.add_argument("--patients", type=int, default=1000, help="patients for page times")
    parser.add_argument(
        "--history",
        type=int,
        default=100_000,
        help="sessions in the database for page times (100000)",
    )
    parser.add_argument("--requests", type=int, default=50, help="requests per page (50)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """``wobble hub serve`` in a child process on 127.0.0.1."""

    def __init__(self, database: str, state: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "WOBBLE_HUB_STATE_DIR": str(state)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wobble_trainer",
                "hub",
                "serve",
                "--port",
                str(self.port),
                "--database",
                database,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.close()
        raise RuntimeError("the hub server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _session_doc(
    trace_b64: str, samples: int, profile_uid: str, when: datetime, metrics: dict[str, Any]
) -> dict[str, Any]:
    start = when.isoformat(timespec="milliseconds")
    end = (when + timedelta(seconds=samples / RATE_HZ)).isoformat(timespec="milliseconds")
    return {
        "uid": uuid.uuid4().hex,
        "profile": {
            "uid": profile_uid,
            "fields": {
                "name": f"P-{profile_uid[:6]}",
                "birth_year": 1960,
                "height_m": 1.7,
                "injured_side": "none",
                "dominant_leg": "left",
                "sex": None,
            },
            "assignments": [],
        },
        "columns": {
            "kind": "test:postural_stability",
            "settings": "{}",
            "started_at": start,
            "ended_at": end,
            "calibration": None,
            "edge_angles": None,
            "software_version": "bench",
            "metrics": json.dumps(metrics),
            "metrics_software_version": "bench",
            "events": "[]",
            "kept": 1,
        },
        "trials": [
            {
                "columns": {
                    "idx": 0,
                    "label": "trial 1",
                    "started_at": None,
                    "ended_at": None,
                    "events": "[]",
                },
                "sample_count": samples,
                "trace_b64": trace_b64,
            }
        ],
    }


def time_upload(database: str, state: Path, fraction: float) -> UploadResult:
    from wobble_trainer.hub import accounts
    from wobble_trainer.hub.db import HubDatabase
    from wobble_trainer.sim.trace import quantised_trace
    from wobble_trainer.storage.compact import encode_trace
    from wobble_trainer.sync.client import HubClient

    samples = int(DAY_SESSION_S * RATE_HZ)
    total_sessions = max(UPLOADING_BOARDS, round(DAY_BOARDS * DAY_SESSIONS_PER_BOARD * fraction))
    with HubDatabase(database) as hub, hub.begin() as conn:
        codes = [accounts.enrol_board(conn, f"bench board {k}") for k in range(UPLOADING_BOARDS)]
    server = _Server(database, state)
    try:
        clients = []
        for code in codes:
            link = HubClient(server.url).post("/api/link", {"code": code})
            clients.append(HubClient(server.url, link["board_id"], link["secret"], 120.0))
        traces = []
        compact_bytes = 0
        for k in range(UPLOADING_BOARDS):
            blob = encode_trace(*quantised_trace(samples, seed=k)).blob
            compact_bytes += len(blob)
            traces.append(base64.b64encode(blob).decode("ascii"))
        now = datetime.now(UTC)
        jobs: list[list[dict[str, Any]]] = [[] for _ in range(UPLOADING_BOARDS)]
        for n in range(total_sessions):
            k = n % UPLOADING_BOARDS
            jobs[k].append(
                _session_doc(
                    traces[k],
                    samples,
                    f"{k:02d}{n % 20:030d}",
                    now - timedelta(minutes=n),
                    {"osi": 1.0},
                )
            )
        errors: list[BaseException] = []

        def upload(k: int) -> None:
            try:
                for doc in jobs[k]:
                    clients[k].post("/api/sessions", doc)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=upload, args=(k,)) for k in range(UPLOADING_BOARDS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        if errors:
            raise errors[0]
    finally:
        server.close()
    uploaded = total_sessions * samples
    day = DAY_BOARDS * DAY_SESSIONS_PER_BOARD * samples
    rate = uploaded / seconds
    return UploadResult(
        total_sessions,
        uploaded,
        seconds,
        rate,
        day,
        day / rate,
        compact_bytes / (UPLOADING_BOARDS * samples),
    )


def seed_history(database: str, patients: int, sessions: int, timed: int) -> list[str]:
    """Fill the database; returns the uids of the sessions that carry a full trace."""
    from sqlalchemy import insert, select

    from wobble_trainer.hub import accounts
    from wobble_trainer.hub.db import HubDatabase
    from wobble_trainer.hub.tables import patients as patients_t
    from wobble_trainer.hub.tables import sessions as sessions_t
    from wobble_trainer.hub.tables import trials as trials_t
    from wobble_trainer.sim.trace import quantised_trace
    from wobble_trainer.storage.compact import encode_trace

    rng = np.random.default_rng(0)
    now = datetime.now(UTC)
    with HubDatabase(database) as hub:
        with hub.begin() as conn:
            accounts.create_clinician(conn, "bench", PASSWORD)
            rows = [
                {
                    "uid": uuid.uuid4().hex,
                    "name": f"Patient {i:04d}",
                    "profile": json.dumps(
                        {
                            "name": f"Patient {i:04d}",
                            "birth_year": 1950,
                            "height_m": 1.7,
                            "injured_side": "none",
                            "dominant_leg": "left",
                        }
                    ),
                    "assignments": json.dumps(
                        [
                            {
                                "programme_id": "ankle-sprain-prevention",
                                "start_date": "2026-01-05",
                                "end_date": None,
                                "assigned_at": now.isoformat(),
                                "assigned_by": "bench",
                                "note": None,
                            }
                        ]
                    ),
                    "revision": 1,
                    "updated_at": now,
                    "updated_by": "bench",
                }
                for i in range(patients)
            ]
            conn.execute(insert(patients_t), rows)
            ids = list(conn.execute(select(patients_t.c.id)).scalars())
        batch = []
        for n in range(sessions):
            when = now - timedelta(hours=float(rng.uniform(0, 365 * 24)))
            start = when.isoformat(timespec="milliseconds")
            end = (when + timedelta(minutes=2)).isoformat(timespec="milliseconds")
            kind = "test:postural_stability" if n % 3 == 0 else "game:marbles"
            record = {
                "kind": kind,
                "settings": "{}",
                "started_at": start,
                "ended_at": end,
                "calibration": None,
                "edge_angles": None,
                "software_version": "bench",
                "metrics": json.dumps({"osi": float(rng.uniform(0.5, 4))}),
                "metrics_software_version": "bench",
                "events": "[]",
                "kept": 1,
            }
            batch.append(
                {
                    "uid": uuid.uuid4().hex,
                    "patient_id": ids[n % len(ids)],
                    "board_id": None,
                    "kind": kind,
                    "started_at": start,
                    "ended_at": end,
                    "record": json.dumps(record),
                    "uploaded_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) == 5000 or n == sessions - 1:
                with hub.begin() as conn:
                    conn.execute(insert(sessions_t), batch)
                batch = []
        with hub.begin() as conn:
            timed_rows = conn.execute(select(sessions_t.c.id, sessions_t.c.uid).limit(timed)).all()
            blob = encode_trace(*quantised_trace(int(DAY_SESSION_S * RATE_HZ))).blob
            conn.execute(
                insert(trials_t),
                [
                    {
                        "session_id": r.id,
                        "idx": 0,
                        "sample_count": int(DAY_SESSION_S * RATE_HZ),
                        "trace": blob,
                        "record": json.dumps(
                            {
                                "idx": 0,
                                "label": "trial 1",
                                "started_at": None,
                                "ended_at": None,
                                "events": "[]",
                            }
                        ),
                    }
                    for r in timed_rows
                ],
            )
        return [r.uid for r in timed_rows]


def time_pages(
    database: str, state: Path, patients: int, history: int, requests: int
) -> list[PageTimes]:
    import http.client
    import re
    import urllib.parse

    from sqlalchemy import select

    from wobble_trainer.hub.db import HubDatabase
    from wobble_trainer.hub.tables import patients as patients_t

    timed = seed_history(database, patients, history, min(requests, 20))
    with HubDatabase(database) as hub, hub.begin() as conn:
        patient_uids = list(conn.execute(select(patients_t.c.uid).limit(requests)).scalars())
    server = _Server(database, state)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        csrf_cookie = response.headers["set-cookie"].split(";")[0]
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
        body = urllib.parse.urlencode({"name": "bench", "password": PASSWORD, "csrf": csrf})
        conn.request(
            "POST",
            "/login",
            body,
            {"Cookie": csrf_cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        cookie = response.headers["set-cookie"].split(";")[0]
        results = []
        for name, paths in (
            ("patient list", ["/"] * requests),
            ("patient page", [f"/patients/{u}" for u in patient_uids]),
            # The first view recomputes a 2-minute trace's angles; later views are cached.
            ("session page, first view", [f"/sessions/{u}" for u in timed]),
            (
                "session page, cached",
                [f"/sessions/{timed[i % len(timed)]}" for i in range(requests)],
            ),
        ):
            times = []
            for path in paths:
                started = time.perf_counter()
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                times.append((time.perf_counter() - started) * 1000.0)
                if response.status != 200:
                    raise RuntimeError(f"{path} answered {response.status}")
            results.append(
                PageTimes(
                    name,
                    len(times),
                    float(np.percentile(times, 50)),
                    float(np.percentile(times, 95)),
                )
            )
        conn.close()
    finally:
        server.close()
    return results


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="wobble-bench-hub-") as tmp:
        base = Path(tmp)
        upload_db = args.database or f"sqlite:///{base / 'upload.sqlite3'}"
        upload = time_upload(upload_db, base / "state", args.day_fraction)
        if args.database:
            _empty(args.database)
        pages_db = args.database or f"sqlite:///{base / 'pages.sqlite3'}"
        pages = time_pages(pages_db, base / "state", args.patients, args.history, args.requests)
    ok = (
        upload.projected_day_s < DAY_TARGET_S
        and upload.bytes_per_sample <= 12.0
        # A first view recomputes the angles (seconds); the target is for the cached pages.
        and all(p.p95_ms <= PAGE_TARGET_MS for p in pages if "first view" not in p.page)
    )
    if args.json:
        print(
            json.dumps(
                {
                    "upload": asdict(upload),
                    "pages": [asdict(p) for p in pages],
                    "patients": args.patients,
                    "history_sessions": args.history,
                    "targets_met": ok,
                },
                indent=2,
            )
        )
    else:
        print(
            f"Upload from {UPLOADING_BOARDS} boards at once: {upload.sessions} sessions, "
            f"{upload.samples} samples in {upload.seconds:.1f} s "
            f"({upload.samples_per_s / 1e6:.2f} M samples/s); the clinic day "
            f"({upload.day_samples / 1e6:.0f} M samples) in {upload.projected_day_s:.1f} s "
            f"(target < {DAY_TARGET_S:.0f} s)"
        )
        print(f"Compact trace: {upload.bytes_per_sample:.2f} bytes per sample (target ≤ 12)")
        print(
            f"Page times with {args.patients} patients and {args.history} sessions "
            f"(target p95 ≤ {PAGE_TARGET_MS:.0f} ms):"
        )
        print(
            format_table(
                ["page", "requests", "p50 ms", "p95 ms"],
                [[p.page, p.requests, f"{p.p50_ms:.1f}", f"{p.p95_ms:.1f}"] for p in pages],
            )
        )
        print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


def _empty(database: str) -> None:
    """Clear the bench's upload so the page times start from an empty database."""
    from sqlalchemy import delete

    from wobble_trainer.hub.db import HubDatabase
    from wobble_trainer.hub.tables import metadata

    with HubDatabase(database) as hub, hub.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))
