"""Personal bests, kept per activity and difficulty in a small JSON file in the state directory.

A best is only ever raised; a damaged file is set aside (renamed ``.damaged``) rather than lost
or trusted, and the app carries on with no bests.
"""

from __future__ import annotations

import json
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
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.best = {str(k): float(v) for k, v in data.items()}
            except (ValueError, TypeError, AttributeError, OSError):
                path.replace(path.with_suffix(".damaged"))
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
        write_atomically(self.path, json.dumps(self.best, indent=1, sort_keys=True))
