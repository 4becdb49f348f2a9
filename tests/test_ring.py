import numpy as np
import pytest

from wobble_trainer.sampling.ring import SampleRing
from wobble_trainer.sampling.samples import make_samples


def batch(start: int, n: int) -> np.ndarray:
    t = (start + np.arange(n)) * 0.001
    acc = np.tile([0.0, 0.0, 9.8], (n, 1))
    gyr = np.zeros((n, 3))
    gyr[:, 0] = start + np.arange(n)  # a sample's index, to check order
    return make_samples(t, acc, gyr)


@pytest.fixture
def ring():
    with SampleRing(100) as r:
        yield r


def test_reader_gets_every_sample_in_order_across_wraparound(ring):
    reader = ring.reader()
    got = []
    for i in range(0, 350, 35):
        ring.write(batch(i, 35))
        got.append(reader.read_new())
    got = np.concatenate(got)
    assert list(got["gyr"][:, 0]) == list(range(350))
    assert reader.overruns == 0
    assert np.all(got["gap_before"] == 0)


def test_latest_is_the_newest_sample(ring):
    assert ring.latest() is None
    ring.write(batch(0, 130))
    assert ring.latest()["gyr"][0] == 129


def test_overrun_is_counted_and_reported_as_a_gap(ring):
    reader = ring.reader()
    ring.write(batch(0, 60))
    ring.write(batch(60, 90))  # 150 written, the ring holds only the newest 100
    got = reader.read_new()
    assert reader.overruns == 50
    assert got["gyr"][0, 0] == 50
    assert got["gap_before"][0] == pytest.approx(50 * 0.001)
    assert len(got) == 100


def test_a_batch_larger_than_the_ring_keeps_its_newest_part(ring):
    reader = ring.reader()
    ring.write(batch(0, 250))
    got = reader.read_new()
    assert got["gyr"][0, 0] == 150
    assert reader.overruns == 150


def test_reader_from_oldest_held_sees_history(ring):
    ring.write(batch(0, 40))
    assert len(ring.reader(from_now=False).read_new()) == 40
    assert len(ring.reader(from_now=True).read_new()) == 0


def test_a_second_attachment_sees_the_same_memory(ring):
    other = SampleRing(ring.capacity, handle=ring.handle)
    try:
        ring.write(batch(0, 10))
        assert other.written == 10
        assert other.latest()["gyr"][0] == 9
    finally:
        other.close()


def test_a_lock_left_taken_by_a_dead_writer_costs_a_frame_not_the_app(ring):
    ring.write(make_samples(np.array([1.0, 2.0]), np.zeros((2, 3)), np.zeros((2, 3))))
    reader = ring.reader(from_now=False)
    assert ring.handle.lock.acquire(timeout=1.0)  # the writer was killed inside write()
    assert len(reader.read_new()) == 0 and ring.latest() is None
    ring.replace_lock()  # what a restart does before the next writer starts
    assert list(reader.read_new()["t"]) == [1.0, 2.0]
