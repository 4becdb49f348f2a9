"""Storage: profiles, sessions with their raw traces, programme assignments and history, in one
SQLite database (WAL, foreign keys on, versioned schema with forward migrations).

Open it with :func:`open_database` (the state directory by default) or :class:`Database` (a
file path), preferably in a ``with`` block. Modules:

* :mod:`~wobble_trainer.storage.db` — opening, pragmas, transactions, errors, closing;
* :mod:`~wobble_trainer.storage.schema` — tables and the ordered migrations;
* :mod:`~wobble_trainer.storage.codec` — JSON, times and packed raw traces;
* :mod:`~wobble_trainer.storage.profiles` — profiles and the built-in guest;
* :mod:`~wobble_trainer.storage.sessions` — recording sessions trial by trial, recomputation;
* :mod:`~wobble_trainer.storage.programmes` — programme assignments;
* :mod:`~wobble_trainer.storage.plan_steps` — completed home-routine steps (adherence);
* :mod:`~wobble_trainer.storage.history` — history queries and streaks.
"""

from wobble_trainer.storage.db import DB_FILENAME, Database, open_database
from wobble_trainer.storage.errors import (
    DiskFullError,
    NewerSchemaError,
    NotFoundError,
    NotOurDatabaseError,
    StorageError,
)
from wobble_trainer.storage.history import (
    DailyCount,
    MetricPoint,
    Streak,
    StreakSummary,
    current_streak,
    find_streaks,
    longest_streak,
)
from wobble_trainer.storage.profiles import Profile
from wobble_trainer.storage.programmes import ProgrammeAssignment
from wobble_trainer.storage.schema import SCHEMA_VERSION
from wobble_trainer.storage.sessions import SessionRecord, TrialRecord

__all__ = [
    "DB_FILENAME",
    "SCHEMA_VERSION",
    "DailyCount",
    "Database",
    "DiskFullError",
    "MetricPoint",
    "NewerSchemaError",
    "NotFoundError",
    "NotOurDatabaseError",
    "Profile",
    "ProgrammeAssignment",
    "SessionRecord",
    "StorageError",
    "Streak",
    "StreakSummary",
    "TrialRecord",
    "current_streak",
    "find_streaks",
    "longest_streak",
    "open_database",
]
