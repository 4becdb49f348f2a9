"""The hub's sessions and trials as the board's own records, so every number the web view shows
comes from the same code as on the board (one number, one source).

A hub session row keeps the board's columns generically (``record`` JSON) and each trial its
compact trace; here they become :class:`~wobble_trainer.storage.sessions.SessionRecord` and
:class:`~wobble_trainer.storage.sessions.TrialRecord` through the storage layer's own row
readers. The trace is decoded bit for bit (:mod:`wobble_trainer.storage.compact`) and handed
to the reader in the board's packed layout, so the arrays are exactly the board's.
"""

from __future__ import annotations

import json
from typing import Any

from wobble_trainer.storage.codec import pack_trace
from wobble_trainer.storage.compact import decode_trace, trace_precision
from wobble_trainer.storage.sessions import (
    SessionRecord,
    TrialRecord,
    session_from_row,
    trial_from_row,
)


def session_record(row: Any, trial_count: int) -> SessionRecord:
    """A hub ``sessions`` row as the board's record (ids are the hub's)."""
    columns = json.loads(row.record)
    return session_from_row(
        {**columns, "id": row.id, "profile_id": row.patient_id, "trial_count": trial_count}
    )


def trial_record(row: Any) -> TrialRecord:
    """A hub ``trials`` row with its trace decoded exactly as the board stored it."""
    columns = json.loads(row.record)
    t, acc, gyr = decode_trace(row.trace)
    fmt, blob, count, crc = pack_trace(t, acc, gyr, trace_precision(row.trace))
    return trial_from_row(
        {
            **columns,
            "id": row.id,
            "session_id": row.session_id,
            "trace_format": fmt,
            "trace": blob,
            "sample_count": count,
            "trace_crc32": crc,
        }
    )
