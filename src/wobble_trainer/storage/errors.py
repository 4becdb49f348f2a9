"""Errors of the storage layer: each message says what happened and what the person can do."""

from __future__ import annotations


class StorageError(Exception):
    """The database could not do what was asked; the message is meant for a person to read."""


class NewerSchemaError(StorageError):
    """The database was written by a newer Wobble Trainer; it is refused and left untouched."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        self.path = path
        self.found = found
        self.supported = supported
        super().__init__(
            f"The database {path} has schema version {found}, but this Wobble Trainer only "
            f"understands versions up to {supported}: it was written by a newer wobble-trainer. "
            "Update wobble-trainer to open it. The file has not been changed."
        )


class NotOurDatabaseError(StorageError):
    """The file exists but is not a Wobble Trainer database; it is refused and left untouched."""


class DiskFullError(StorageError):
    """The disk (or the database's size limit) is full; the failed change was rolled back."""


class NotFoundError(StorageError, LookupError):
    """No profile, session, trial or assignment with the given id."""
