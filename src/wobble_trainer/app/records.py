"""Personal bests, kept per activity and difficulty in a small JSON file in the state directory.

A best is only ever raised; a damaged file is set aside (renamed ``.damaged``) rather than lost
or trusted, and the app carries on with no bests. A best that cannot be saved (full or
read-only disk) is kept in memory for the rest of the run and :attr:`Records.error` says why.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from wobble_trainer.files import write_atomically


def personal_key(profile: Any, key: str) -> str:
    """The key of ``profile``'s best at ``key``: one person's best is never another's (in a
    clinic many patients share the trainer). Nobody chosen (home use, the guest): the plain key,
    as bests were kept before profiles."""
    if profile is None or getattr(profile, "is_guest", False):
        return key
    return f"profile-{getattr(profile, 'id', profile)}/{key}"


class Records:
    """Best scores: ``submit(key, score)`` returns True for a new personal best."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.best: dict[str, float] = {}
        self.error = ""
        """Why the bests could not be read or saved ("" when all is well)."""
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                best = {str(k): float(v) for k, v in data.items()}
                if not all(math.isfinite(v) for v in best.values()):
                    raise ValueError("a best that is not a finite number")
                self.best = best
            except (ValueError, TypeError, AttributeError, OSError, RecursionError) as exc:
                self._set_aside(path, exc)

    def _set_aside(self, path: Path, exc: Exception) -> None:
        reason = "too deeply nested" if isinstance(exc, RecursionError) else str(exc)[:120]
        self.error = f"The personal bests in {path} were damaged ({reason}); starting afresh."
        try:
            path.replace(path.with_suffix(".damaged"))
        except OSError as move_error:  # read-only disk: leave it; it is not trusted anyway
            self.error += f" It could not be set aside ({move_error.strerror})."
        self.best = {}

    def get(self, key: str) -> float | None:
        return self.best.get(key)

    def submit(self, key: str, score: float) -> bool:
        previous = self.best.get(key)
        if previous is not None and score <= previous:
            return False
        self.best[key] = score
        self._save()
        return True

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            write_atomically(self.path, json.dumps(self.best, indent=1, sort_keys=True))
        except OSError as exc:  # the best stays in memory; the file on disk is unchanged
            self.error = f"{exc} The new personal best is kept until the trainer is restarted."
        else:
            self.error = ""
