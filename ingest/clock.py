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
After settling, a correction is slewed, not stepped: it is spread over the samples it covers (a
backward one over the block that arrived early, a forward one over the audio to come), so station
time never runs more than `max_slew` off the sample count between any two samples.  A decoder may
hand over seconds of audio at once (an HLS segment), and a step there would move a chunk's start
by `max_slew` times the whole block.  Corrections are small and infrequent, so a play's length is
not disturbed.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np

#: A connection's first audio comes in a burst over several reads; until this long after the first
#: read, stamps are still settling.
SETTLE_S = 0.5
#: Stamps are asked for the audio still waiting to be chunked, seconds behind the newest sample:
#: corrections older than this are folded away.
HISTORY_S = 60.0


class StationClock:
    def __init__(self, sample_rate: int, window_s: float = 300.0, tolerance_s: float = 0.1,
                 max_slew: float = 0.02):
        self.sample_rate = sample_rate
        self.window_s = window_s
        self.tolerance_s = tolerance_s
        self.max_slew = max_slew
        self.samples = 0
        # The anchor (station time of sample 0 at the count's rate) as it stands at these sample
        # indexes: linear between them, flat beyond both ends.
        self._mark_samples: list[int] = []
        self._mark_anchors: list[float] = []
        self._anchored_at: float | None = None
        self._window_started: float | None = None
        self._window_min_lag = float("inf")

    def decoded(self, count: int, now: float) -> None:
        """`count` more samples were decoded from bytes that arrived at `now`."""
        if count <= 0:
            return
        first, self.samples = self.samples, self.samples + count
        if not self._mark_samples:
            # The audio that just arrived has just aired: its last sample is now.
            self._set_anchor(now - self.samples / self.sample_rate)
            self._anchored_at = self._window_started = now
            return
        lag = now - self.time_of(self.samples)
        if lag < 0:
            if now - self._anchored_at < SETTLE_S:
                self._set_anchor(self._anchor(self.samples) + lag)
                lag = 0.0
            else:
                step = min(-lag, self.max_slew * count / self.sample_rate)
                self._slew(first, self.samples, -step)
                lag += step
        self._window_min_lag = min(self._window_min_lag, lag)
        if now - self._window_started >= self.window_s:
            # A forward slew still under way has part of that lag in hand already.
            in_hand = self._mark_anchors[-1] - self._anchor(self.samples)
            if self._window_min_lag - in_hand > self.tolerance_s:
                self._slew_to(self._mark_anchors[-1] + self._window_min_lag - in_hand)
            self._window_started, self._window_min_lag = now, float("inf")
        self._forget(self.samples - round(HISTORY_S * self.sample_rate))

    def time_of(self, sample_index: int) -> float:
        """Station time (UTC epoch seconds) of a sample of this connection."""
        if not self._mark_samples:
            raise RuntimeError("no audio decoded yet")
        return self._anchor(sample_index) + sample_index / self.sample_rate

    def _anchor(self, sample_index: int) -> float:
        return float(np.interp(sample_index, self._mark_samples, self._mark_anchors))

    def _set_anchor(self, anchor: float) -> None:
        self._mark_samples, self._mark_anchors = [0], [anchor]

    def _slew(self, start: int, end: int, change: float) -> None:
        """Move the anchor by `change` from sample `end` on, evenly over the samples from `start`."""
        at_start, at_end = self._anchor(start), self._anchor(end) + change
        keep = bisect_left(self._mark_samples, start)
        later = bisect_right(self._mark_samples, end)
        self._mark_samples[keep:] = [start, end] + self._mark_samples[later:]
        self._mark_anchors[keep:] = [at_start, at_end] + [a + change for a in self._mark_anchors[later:]]

    def _slew_to(self, anchor: float) -> None:
        """Move the anchor to `anchor` over the audio to come, at `max_slew`."""
        now = self._anchor(self.samples)
        span = round(abs(anchor - now) / self.max_slew * self.sample_rate)
        keep = bisect_left(self._mark_samples, self.samples)
        self._mark_samples[keep:] = [self.samples, self.samples + span]
        self._mark_anchors[keep:] = [now, anchor]

    def _forget(self, before: int) -> None:
        """Fold away the marks no stamp will be asked for again (all but the last one before `before`)."""
        drop = bisect_right(self._mark_samples, before) - 1
        if drop > 0:
            del self._mark_samples[:drop], self._mark_anchors[:drop]
