"""Personal bests on a full, read-only or damaged disk (issue 14, items 2 and 4)."""

from __future__ import annotations

import errno
import json
import os

import pytest

from wobble_trainer import files
from wobble_trainer.app.records import Records


def test_bests_are_raised_and_kept(tmp_path):
    records = Records(tmp_path / "records.json")
    assert records.submit("hold", 5.0) and not records.submit("hold", 4.0)
    assert Records(tmp_path / "records.json").get("hold") == 5.0
    assert records.error == ""


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "full"), (errno.EROFS, "read-only")])
def test_a_best_that_cannot_be_saved_is_kept_in_memory_and_says_why(
    tmp_path, monkeypatch, code, words
):
    path = tmp_path / "records.json"
    records = Records(path)
    records.submit("hold", 5.0)
    before = path.read_bytes()

    def refuse(*args):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, "fsync", refuse)
    assert records.submit("hold", 7.0)  # no exception: the hold's end must not crash the app
    assert records.get("hold") == 7.0
    assert words in records.error and "records.json" in records.error
    assert path.read_bytes() == before  # what was stored is untouched
    monkeypatch.undo()
    records.submit("hold", 8.0)
    assert records.error == "" and json.loads(path.read_text()) == {"hold": 8.0}


@pytest.mark.parametrize(
    "content", ["[" * 100_000 + "]" * 100_000, '{"hold": Infinity}', '{"hold": [1]}', "\xff{"]
)
def test_a_damaged_file_is_set_aside_and_the_app_starts_without_bests(tmp_path, content):
    path = tmp_path / "records.json"
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    records = Records(path)
    assert records.best == {} and "damaged" in records.error
    assert path.with_suffix(".damaged").exists() and not path.exists()
