import numpy as np
import pytest

from ingest.clock import StationClock

RATE = 16000
DAY_S = 86400.0
READ_S = 0.5


def broadcast_day(drift_ppm: float, seed: int = 0, burst_s: float = 4.0):
    """Yield (new samples, arrival time, true air time of the last sample) for a day of one connection.

    The station's encoder makes RATE * (1 + drift) samples per real second; the network delays each
    read by 50 ms plus an exponential jitter, now and then by a 5 s stall.  The first read carries the
    server's connection burst: audio that aired before the listener connected.
    """
    rng = np.random.default_rng(seed)
    real_rate = RATE * (1 + drift_ppm * 1e-6)
    t0 = 1_700_000_000.0
    sent, arrived = 0, 0.0
    for step in range(int(DAY_S / READ_S)):
        now = t0 + burst_s + step * READ_S
        available = int((now - t0) * real_rate)
        delay = 0.05 + rng.exponential(0.1) + (5.0 if rng.random() < 1e-3 else 0.0)
        arrived = max(arrived, now + delay)
        yield available - sent, arrived, t0 + available / real_rate
        sent = available


@pytest.mark.parametrize("drift_ppm", [-100.0, 0.0, 100.0])
def test_station_time_stays_within_a_second_of_the_air_over_a_day(drift_ppm):
    clock, naive_anchor, worst = StationClock(RATE), None, 0.0
    for count, arrived, aired in broadcast_day(drift_ppm):
        clock.decoded(count, arrived)
        if naive_anchor is None:
            naive_anchor = arrived - count / RATE
        worst = max(worst, abs(clock.time_of(clock.samples) - aired))
    naive_error = abs(naive_anchor + clock.samples / RATE - aired)
    assert worst < 1.0, f"station time strayed {worst:.2f} s from the air"
    if drift_ppm:
        # What the count alone would have stamped by the end of the day: the correction is doing the work.
        assert naive_error > 8.0


def test_the_connection_burst_is_stamped_in_the_past():
    clock = StationClock(RATE)
    clock.decoded(RATE, now=100.0)  # the first read: one second of the burst
    clock.decoded(3 * RATE, now=100.01)  # the rest of a 4 s burst, at once
    assert clock.time_of(0) == pytest.approx(100.01 - 4.0)
    assert clock.time_of(4 * RATE) == pytest.approx(100.01)


def test_no_time_before_audio():
    with pytest.raises(RuntimeError):
        StationClock(RATE).time_of(0)


def test_an_encoder_flushing_its_buffer_does_not_drag_station_time_back():
    clock = StationClock(RATE)
    for second in range(60):
        clock.decoded(RATE, now=1000.0 + second)
    before = clock.time_of(clock.samples)
    clock.decoded(RATE * 16 // 10, now=1059.01)  # the source stops: 1.6 s of audio at once
    assert clock.time_of(clock.samples) - RATE * 16 // 10 / RATE == pytest.approx(before, abs=0.05)
