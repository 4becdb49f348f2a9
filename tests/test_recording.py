import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.sampling.recording import (
    COLUMNS,
    RecordingError,
    RecordingWriter,
    ReplayProducer,
    read_recording,
    write_recording,
)
from wobble_trainer.sampling.samples import make_samples


def some_samples(n=500, rate=200.0, truth=True):
    rng = np.random.default_rng(3)
    t = 10.0 + np.arange(n) / rate
    acc = rng.normal(0, 1, (n, 3)) + [0, 0, 9.81]
    gyr = rng.normal(0, 0.1, (n, 3))
    if truth:
        return make_samples(t, acc, gyr, 0.01 * np.sin(t), -0.02 * np.cos(t))
    return make_samples(t, acc, gyr)


META = {"source": "sim", "chip": "MPU-6050", "config": {"odr_hz": 200.0, "accel_range_g": 8}}


def test_round_trip_keeps_every_sample_and_the_metadata(tmp_path):
    samples = some_samples()
    samples["gap_before"][100] = 0.015
    path = tmp_path / "r.csv"
    write_recording(path, samples, META)
    rec = read_recording(path)
    assert rec.metadata["chip"] == "MPU-6050"
    assert rec.metadata["config"]["odr_hz"] == 200.0
    assert rec.rate_hz == 200.0
    assert len(rec.samples) == len(samples)
    np.testing.assert_allclose(rec.samples["t"], samples["t"], atol=1e-6)
    np.testing.assert_allclose(rec.samples["acc"], samples["acc"], atol=1e-6)
    np.testing.assert_allclose(rec.samples["gyr"], samples["gyr"], atol=1e-7)
    np.testing.assert_allclose(rec.samples["true_pitch"], samples["true_pitch"], rtol=1e-8)
    assert rec.samples["gap_before"][100] == pytest.approx(0.015)


def test_hardware_recording_leaves_truth_empty(tmp_path):
    path = tmp_path / "r.csv"
    write_recording(path, some_samples(10, truth=False), {"source": "i2c"})
    lines = path.read_text().splitlines()
    header = lines.index(",".join(COLUMNS))
    assert lines[header + 1].split(",")[7:9] == ["", ""]
    assert np.isnan(read_recording(path).samples["true_pitch"]).all()


def test_trailing_stats_are_read_as_metadata(tmp_path):
    path = tmp_path / "r.csv"
    writer = RecordingWriter(path, META)
    writer.write(some_samples(20))
    writer.close({"stats": {"lost_samples": 0}})
    assert read_recording(path).metadata["stats"] == {"lost_samples": 0}


def _corrupt(tmp_path, edit):
    path = tmp_path / "r.csv"
    write_recording(path, some_samples(5), META)
    lines = path.read_text().splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "edit, line_offset, words",
    [
        (lambda ls: ls.__setitem__(-2, ls[-2].replace(",", ";", 1)), -2, "comma-separated"),
        (lambda ls: ls.__setitem__(-1, "abc" + ls[-1][3:]), -1, "is not a number"),
        (lambda ls: ls.__setitem__(-1, ls[-3]), -1, "does not increase"),
    ],
)
def test_malformed_sample_line_is_named(tmp_path, edit, line_offset, words):
    path = _corrupt(tmp_path, edit)
    n_lines = len(path.read_text().splitlines())
    with pytest.raises(RecordingError) as err:
        read_recording(path)
    assert f"line {n_lines + 1 + line_offset}" in str(err.value)
    assert words in str(err.value)


def test_bad_metadata_and_missing_header_are_named(tmp_path):
    path = _corrupt(tmp_path, lambda ls: ls.__setitem__(2, "# chip: {not json"))
    with pytest.raises(RecordingError, match="line 3.*JSON"):
        read_recording(path)
    other = tmp_path / "other.csv"
    other.write_text("hello,world\n")
    with pytest.raises(RecordingError, match="line 1: expected the header"):
        read_recording(other)
    with pytest.raises(RecordingError, match="no such recording"):
        read_recording(tmp_path / "missing.csv")


def test_newer_format_version_is_refused(tmp_path):
    path = _corrupt(tmp_path, lambda ls: ls.__setitem__(1, "# version: 99"))
    with pytest.raises(RecordingError, match="version 99 is not supported"):
        read_recording(path)


def test_replay_in_real_time_follows_the_clock(tmp_path):
    path = tmp_path / "r.csv"
    write_recording(path, some_samples(400, rate=200.0), META)
    clock = ManualClock(100.0)
    replay = ReplayProducer(read_recording(path), clock, realtime=True)
    assert len(replay.poll()) == 1  # the first sample is due at once
    clock.advance(0.5)
    got = replay.poll()
    assert len(got) == 100
    assert got["t"][-1] == pytest.approx(100.5)
    clock.advance(10.0)
    assert len(replay.poll()) == 299
    assert replay.finished


def test_replay_as_fast_as_possible_and_looping(tmp_path):
    path = tmp_path / "r.csv"
    write_recording(path, some_samples(3000), META)
    clock = ManualClock()
    fast = ReplayProducer(read_recording(path), clock, realtime=False)
    total = 0
    while not fast.finished:
        total += len(fast.poll())
    assert total == 3000
    looped = ReplayProducer(read_recording(path), clock, realtime=False, loop=True)
    stamps = np.concatenate([looped.poll() for _ in range(4)])["t"]
    assert looped.loops == 2
    assert len(stamps) == 6000
    assert np.all(np.diff(stamps) > 0)


@pytest.mark.parametrize("code", [28, 30])  # ENOSPC, EROFS
def test_a_disk_that_fills_keeps_the_samples_that_reached_it_whole(tmp_path, monkeypatch, code):
    from conftest import TinyDisk

    from wobble_trainer.sampling import recording
    from wobble_trainer.sampling.recording import RecordingWriteError

    path = tmp_path / "r.csv"
    monkeypatch.setattr(recording, "open", TinyDisk(free=4000, code=code), raising=False)
    samples = some_samples(400)
    writer = RecordingWriter(path, {"config": {"odr_hz": 200.0}})
    with pytest.raises(RecordingWriteError) as caught:
        for k in range(0, 400, 10):
            writer.write(samples[k : k + 10])  # flushed every time
    message = str(caught.value)
    assert str(path) in message and ("full" in message or "read-only" in message)
    kept = read_recording(path)  # still a valid recording, cut at a whole line
    assert 0 < len(kept.samples) < writer.count
    assert f"keeps the first {len(kept.samples)} samples" in message
    np.testing.assert_allclose(kept.samples["t"], samples["t"][: len(kept.samples)], atol=1e-6)


def test_a_full_disk_leaves_no_empty_recording(tmp_path, monkeypatch):
    from conftest import TinyDisk

    from wobble_trainer.sampling import recording
    from wobble_trainer.sampling.recording import RecordingWriteError

    path = tmp_path / "r.csv"
    monkeypatch.setattr(recording, "open", TinyDisk(free=0), raising=False)
    with pytest.raises(RecordingWriteError, match="nothing was recorded"):
        RecordingWriter(path, {})
    assert not path.exists()
    monkeypatch.setattr(recording, "open", TinyDisk(free=400), raising=False)  # header only
    writer = RecordingWriter(path, {})
    with pytest.raises(RecordingWriteError, match="nothing was recorded"):
        writer.write(some_samples(50))
    assert not path.exists()


def _file(tmp_path, meta_lines, rows):
    path = tmp_path / "bad.csv"
    head = ['# format: "wobble-trainer recording"', "# version: 1", *meta_lines, ",".join(COLUMNS)]
    path.write_text("\n".join(head + rows) + "\n")
    return path


GOOD_ROW = "1.0,0,0,9.81,0,0,0,,,0"


@pytest.mark.parametrize(
    ("meta", "row", "words", "line"),
    [
        ([], "1.0,1e308,0,9.81,0,0,0,,,0", "ax = 1e+308 is out of range", 4),
        ([], "1.0,0,0,9.81,0,-1e300,0,,,0", "gy = -1e+300 is out of range", 4),
        ([], "1e300,0,0,9.81,0,0,0,,,0", "t = 1e+300 is out of range", 4),
        ([], "1.0,0,0,9.81,0,0,0,,,-1", "gap_before cannot be negative", 4),
        (["# config: [1, 2]"], GOOD_ROW, "'config' must be an object, not list", 3),
        (['# config: "fast"'], GOOD_ROW, "'config' must be an object, not str", 3),
        (['# config: {"odr_hz": 0}'], GOOD_ROW, "'odr_hz' must be a rate", 3),
        (['# config: {"odr_hz": -5}'], GOOD_ROW, "'odr_hz' must be a rate", 3),
        (['# config: {"odr_hz": "fast"}'], GOOD_ROW, "'odr_hz' must be a rate", 3),
        (['# config: {"odr_hz": 1e9}'], GOOD_ROW, "'odr_hz' must be a rate", 3),
        (['# config: {"odr_hz": NaN}'], GOOD_ROW, "'odr_hz' must be a rate", 3),
        (["# config: " + "[" * 100_000 + "]" * 100_000], GOOD_ROW, "nested far too deeply", 3),
    ],
)
def test_malformed_recordings_name_the_line(tmp_path, meta, row, words, line):
    path = _file(tmp_path, meta, [row])
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    assert words in str(caught.value) and f"{path}, line {line}:" in str(caught.value)


def test_a_file_beyond_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    from wobble_trainer.sampling import recording

    path = tmp_path / "sparse.csv"
    with path.open("wb") as f:  # 2 GB, sparse: takes no disk
        f.truncate(2_000_000_000)
    with pytest.raises(RecordingError, match=r"2000 MB; recordings of up to 100 MB"):
        read_recording(path)
    monkeypatch.setattr(recording, "MAX_RECORDING_SAMPLES", 100)
    write_recording(tmp_path / "long.csv", some_samples(101), {})
    with pytest.raises(RecordingError, match="more than 100 samples"):
        read_recording(tmp_path / "long.csv")


def test_a_long_recording_is_read_chunk_by_chunk(tmp_path, monkeypatch):
    from wobble_trainer.sampling import recording

    samples = some_samples(5000)
    write_recording(tmp_path / "long.csv", samples, {})
    blocks = []
    real = recording._samples_of

    def spy(rows):
        blocks.append(len(rows))
        return real(rows)

    monkeypatch.setattr(recording, "READ_CHUNK", 512)
    monkeypatch.setattr(recording, "_samples_of", spy)
    back = read_recording(tmp_path / "long.csv")
    assert max(blocks) == 512 and sum(blocks) == 5000  # never more than a chunk of rows as text
    np.testing.assert_allclose(back.samples["t"], samples["t"], atol=1e-6)
