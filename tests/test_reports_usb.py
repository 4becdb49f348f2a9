"""Tests of wobble_trainer.reports.usb: finding sticks under a fake root, with and without a
mount table, and checking that they can be written."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from wobble_trainer.reports import usb
from wobble_trainer.reports.usb import check_writable, find_drives, parse_mounts

MOUNTS = """\
/dev/mmcblk0p2 / ext4 rw,noatime 0 0
proc /proc proc rw,nosuid 0 0
tmpfs /run tmpfs rw,nosuid 0 0
/dev/mmcblk0p3 /mnt/data ext4 rw,noatime 0 0
/dev/sda1 /media/pi/KINGSTON vfat rw,nosuid,nodev,uid=1000 0 0
/dev/sdb1 /media/pi/LOCKED vfat ro,nosuid,nodev 0 0
/dev/sdc1 /run/media/clinic/MY\\040STICK exfat rw,nosuid 0 0
/dev/sdd1 /mnt/usb ext4 rw,relatime 0 0
"""


def make_tree(root: Path, *folders: str) -> None:
    for folder in folders:
        (root / folder).mkdir(parents=True)


def test_mount_table_lines_are_parsed_and_unescaped():
    entries = parse_mounts(MOUNTS + "garbage\n")
    assert len(entries) == 8
    stick = entries[6]
    assert stick.path == "/run/media/clinic/MY STICK" and stick.fstype == "exfat"
    assert entries[5].read_only and not entries[4].read_only


def test_only_mounted_removable_drives_are_offered(tmp_path):
    make_tree(
        tmp_path,
        "media/pi/KINGSTON",
        "media/pi/LOCKED",
        "media/pi/OLD-UNMOUNTED",
        "run/media/clinic/MY STICK",
        "mnt/usb",
        "mnt/data",
        "mnt/empty",
    )
    drives = find_drives(tmp_path, mounts=MOUNTS)
    assert [d.path.relative_to(tmp_path).as_posix() for d in drives] == [
        "media/pi/KINGSTON",
        "media/pi/LOCKED",
        "mnt/usb",
        "run/media/clinic/MY STICK",
    ]
    by_label = {d.label: d for d in drives}
    assert by_label["LOCKED"].read_only and not by_label["KINGSTON"].read_only
    assert by_label["KINGSTON"].device == "/dev/sda1" and by_label["KINGSTON"].fstype == "vfat"
    assert by_label["MY STICK"].free_bytes > 0 and by_label["MY STICK"].total_bytes > 0


def test_the_data_directory_is_never_an_export_target(tmp_path):
    make_tree(tmp_path, "media/pi/KINGSTON/wobble-data", "mnt/usb")
    drives = find_drives(
        tmp_path, mounts=MOUNTS, exclude=[tmp_path / "media/pi/KINGSTON/wobble-data"]
    )
    assert [d.label for d in drives] == ["usb"]


def test_without_a_mount_table_leaf_folders_count(tmp_path):
    make_tree(tmp_path, "media/pi/STICK", "media/usb0", "mnt/backup")
    labels = [d.label for d in find_drives(tmp_path)]
    assert labels == ["STICK", "usb0", "backup"]  # /media/pi holds a stick: not itself one
    assert find_drives(tmp_path / "nothing-here") == []


def test_write_check_passes_on_a_writable_folder_and_leaves_nothing(tmp_path):
    assert check_writable(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (errno.EROFS, "read-only"),
        (errno.ENOSPC, "full"),
        (errno.EACCES, "does not allow"),
        (errno.EIO, "cannot be written"),
    ],
)
def test_write_check_explains_each_failure(tmp_path, monkeypatch, code, says):
    real_open = Path.open

    def failing_open(self, *args, **kwargs):
        if self.name.startswith(".wobble-write-test"):
            raise OSError(code, "refused")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", failing_open)
    assert says in check_writable(tmp_path)


def test_the_real_mount_table_is_read_on_linux():
    text = usb.read_mount_table()
    if text is None:
        pytest.skip("no /proc mount table here")
    assert any(e.path == "/" for e in parse_mounts(text))
