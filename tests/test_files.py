import errno
import os
import stat

import pytest

from wobble_trainer import files
from wobble_trainer.files import write_atomically


def test_writes_and_replaces_with_the_mode_asked(tmp_path):
    path = tmp_path / "sub" / "a.json"
    write_atomically(path, "one")
    assert path.read_text() == "one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # health data: nobody else reads it
    write_atomically(path, "two", mode=0o644)
    assert path.read_text() == "two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(path.parent) == ["a.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    write_atomically(path, "old")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", disk_full)
    with pytest.raises(OSError):
        write_atomically(path, "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.json"]


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "is full"), (errno.EROFS, "read-only"), (errno.EACCES, "not allowed")],
)
@pytest.mark.parametrize("where", ["mkstemp", "fsync", "replace"])
def test_full_or_read_only_disk_says_why_and_keeps_the_old_file(tmp_path, monkeypatch, code,
                                                                 words, where):  # fmt: skip
    path = tmp_path / "a.json"
    write_atomically(path, "old")

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    target = files.tempfile if where == "mkstemp" else files.os
    monkeypatch.setattr(target, where, refuse)
    with pytest.raises(files.SaveError) as caught:
        write_atomically(path, "new")
    assert caught.value.errno == code and isinstance(caught.value, OSError)
    assert str(caught.value).startswith("Could not save a.json: ") and words in str(caught.value)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.json"]
