import numpy as np
import pytest

from bench.station_clock import RATE, day_errors
from ingest.clock import StationClock


@pytest.mark.parametrize("drift_ppm", [-100.0, 0.0, 100.0])
def test_station_time_stays_within_a_second_of_the_air_over_a_day(drift_ppm):
    worst, naive_error = day_errors(drift_ppm)
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


def chunk_starts(reads, chunk_s=2.0, **clock_options):
    """Stamp 2 s chunks as a station stream does: each as soon as its audio is in, with the clock as it then stands."""
    clock, starts = StationClock(RATE, **clock_options), []
    for count, now in reads:
        clock.decoded(count, now)
        while (len(starts) + 1) * chunk_s * RATE <= clock.samples:
            starts.append(clock.time_of(round(len(starts) * chunk_s * RATE)))
    return np.diff(starts), clock


def test_a_block_that_arrives_early_slews_the_chunks_it_holds_instead_of_stepping_them():
    # A minute of one-second reads on time, then a 6 s HLS segment a second earlier than its stamps say.
    reads = [(RATE, 1000.0 + second) for second in range(60)] + [(6 * RATE, 1065.0 - 1.0)]
    gaps, clock = chunk_starts(reads)
    assert np.all(np.abs(gaps - 2.0) <= 0.02 * 2.0 + 1e-9), gaps
    # The whole correction the block allows is made by its end.
    assert clock.time_of(clock.samples) == pytest.approx(1065.0 - 0.02 * 6.0)


def test_a_slow_encoder_is_caught_up_with_gradually():
    # After the first read every read comes half a second later than the count says: the encoder runs slow.
    reads = [(RATE, 1000.0)] + [(RATE // 2, 1000.5 + 0.5 * step) for step in range(1, 200)]
    gaps, clock = chunk_starts(reads, window_s=10.0)
    assert np.all(np.abs(gaps - 2.0) <= 0.02 * 2.0 + 1e-9), gaps
    assert clock.time_of(clock.samples) == pytest.approx(reads[-1][1], abs=0.01)
