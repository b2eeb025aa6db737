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
