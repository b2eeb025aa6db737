"""How far a live connection's station time strays from the air over a day, with and without the
clock's corrections (ingest/clock.py).

    .venv/bin/python bench/station_clock.py [--drift-ppm -1000 -100 0 100 1000] [--seed 0]

A simulated connection: the station's encoder runs off by the given drift, the network delays each
read by 50 ms plus an exponential jitter and now and then by a 5 s stall, and the first read carries
the server's connection burst.  Prints, per drift, the worst error of the stamps over the day and the
error that counting samples alone would reach by its end.
"""
from __future__ import annotations

import argparse

import numpy as np

from ingest.clock import StationClock

RATE = 16000
DAY_S = 86400.0
READ_S = 0.5


def broadcast_day(drift_ppm: float, seed: int = 0, burst_s: float = 4.0):
    """Yield (new samples, arrival time, true air time of the last sample) for a day of one connection."""
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


def day_errors(drift_ppm: float, seed: int = 0) -> tuple[float, float]:
    """(worst error of the corrected stamps over the day, error of the sample count alone at its end)."""
    clock, naive_anchor, worst = StationClock(RATE), None, 0.0
    for count, arrived, aired in broadcast_day(drift_ppm, seed):
        clock.decoded(count, arrived)
        if naive_anchor is None:
            naive_anchor = arrived - count / RATE
        worst = max(worst, abs(clock.time_of(clock.samples) - aired))
    return worst, abs(naive_anchor + clock.samples / RATE - aired)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drift-ppm", type=float, nargs="+", default=[-1000, -100, 0, 100, 1000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for drift in args.drift_ppm:
        worst, naive = day_errors(drift, args.seed)
        print(f"drift {drift:+7.0f} ppm: station time within {worst:.3f} s of the air all day "
              f"(the sample count alone: {naive:.2f} s off by the end)")


if __name__ == "__main__":
    main()
