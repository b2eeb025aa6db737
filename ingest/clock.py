"""Station time for a live connection: UTC of every sample, from the sample count, kept on the clock.

A stream is stamped from its sample count because arrival times jitter with the network.  The count
alone drifts, though: the station's encoder clock is not ours (100 ppm is 8.6 s a day), and servers
send a burst of old audio when a listener connects.  Two rules keep the stamps honest:
- audio cannot have aired after it arrived: a stamp in the future moves the anchor back, at once
  while the connection settles (the server's burst of old audio), then by at most `max_slew`
  seconds per second of audio (an encoder that runs fast; not an encoder flushing its buffer as its
  source stops, which would otherwise drag a whole second of stamps back);
- if even the earliest arrivals of the last `window_s` came later than their stamps say, by more
  than `tolerance_s`, the encoder runs slow: the anchor moves forward by that much.
Every correction is small and infrequent, so a play's length is not disturbed.
"""
from __future__ import annotations

#: A connection's first audio comes in a burst over several reads; until this long after the first
#: read, stamps are still settling.
SETTLE_S = 0.5


class StationClock:
    def __init__(self, sample_rate: int, window_s: float = 300.0, tolerance_s: float = 0.1,
                 max_slew: float = 0.02):
        self.sample_rate = sample_rate
        self.window_s = window_s
        self.tolerance_s = tolerance_s
        self.max_slew = max_slew
        self.anchor: float | None = None  # station time of sample 0
        self.samples = 0
        self._anchored_at: float | None = None
        self._window_started: float | None = None
        self._window_min_lag = float("inf")

    def decoded(self, count: int, now: float) -> None:
        """`count` more samples were decoded from bytes that arrived at `now`."""
        if count <= 0:
            return
        self.samples += count
        if self.anchor is None:
            # The audio that just arrived has just aired: its last sample is now.
            self.anchor = now - self.samples / self.sample_rate
            self._anchored_at = self._window_started = now
            return
        lag = now - self.time_of(self.samples)
        if lag < 0:
            settling = now - self._anchored_at < SETTLE_S
            step = -lag if settling else min(-lag, self.max_slew * count / self.sample_rate)
            self.anchor -= step
            lag += step
        self._window_min_lag = min(self._window_min_lag, lag)
        if now - self._window_started >= self.window_s:
            if self._window_min_lag > self.tolerance_s:
                self.anchor += self._window_min_lag
            self._window_started, self._window_min_lag = now, float("inf")

    def time_of(self, sample_index: int) -> float:
        """Station time (UTC epoch seconds) of a sample of this connection."""
        if self.anchor is None:
            raise RuntimeError("no audio decoded yet")
        return self.anchor + sample_index / self.sample_rate
