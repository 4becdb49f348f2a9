"""Live view: a board's running session as a clinician watching it sees it.

A board publishes its latest state (tilt cursor in degrees, activity, its state, a sample time)
many times a second; the hub keeps only the newest per board (one row, overwritten, with a
sequence number) so the viewer's page, polling at 20 Hz, always gets the newest state from
whichever hub process answers. Nothing of it is kept once the next state arrives.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from wobble_trainer.hub.accounts import Board, utcnow
from wobble_trainer.hub.tables import live_states

LIVE_FIELDS = ("pitch_deg", "roll_deg", "activity", "state", "t", "sent_at")
"""What a live state may carry (anything else is dropped)."""


class LiveError(ValueError):
    """A live state the hub cannot show."""


def clean_state(state: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: state[k] for k in LIVE_FIELDS if k in state}
    for key in ("pitch_deg", "roll_deg"):
        value = out.get(key)
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
            raise LiveError(f"{key} must be a finite number of degrees")
    for key in ("activity", "state"):
        if key in out:
            out[key] = str(out[key])[:100]
    return out


def publish(conn: Connection, board: Board, state: Mapping[str, Any]) -> int:
    """Store a board's newest live state; returns its sequence number."""
    text = json.dumps(clean_state(state))
    now = utcnow()
    done = conn.execute(
        update(live_states)
        .where(live_states.c.board_id == board.id)
        .values(seq=live_states.c.seq + 1, updated_at=now, state=text)
    ).rowcount
    if not done:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(live_states).values(board_id=board.id, seq=1, updated_at=now, state=text)
                )
        except IntegrityError:  # another process inserted it first
            conn.execute(
                update(live_states)
                .where(live_states.c.board_id == board.id)
                .values(seq=live_states.c.seq + 1, updated_at=now, state=text)
            )
    return int(
        conn.execute(
            select(live_states.c.seq).where(live_states.c.board_id == board.id)
        ).scalar_one()
    )


def latest(conn: Connection, board_id: int) -> dict[str, Any] | None:
    """The board's newest live state with its sequence number and age, or ``None``."""
    row = conn.execute(select(live_states).where(live_states.c.board_id == board_id)).first()
    if row is None:
        return None
    return {
        **json.loads(row.state),
        "seq": row.seq,
        "age_s": (utcnow() - row.updated_at).total_seconds(),
    }
