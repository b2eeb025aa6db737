"""Turning a station's chunks into overlapping analysis windows at ANALYSIS_RATE.

Windows overlap so that a song boundary never falls in an unanalysed seam.  A gap in station time, a
change of sample rate, a new ingest session or an explicit discontinuity starts a new segment: its
first window carries the discontinuity flag so that no play is merged across it.  A chunk of the
current session that was received already (redelivered after a rebalance) is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

from detection.audio import ANALYSIS_RATE

WINDOW_SECONDS = 8.0
HOP_SECONDS = 4.0
#: Station-time jitter between consecutive chunks tolerated before it counts as a gap.
GAP_TOLERANCE_S = 0.25


@dataclass(frozen=True)
class Window:
    start_at: float  # station time (UTC epoch seconds) of the first sample
    samples: np.ndarray  # mono float32 at ANALYSIS_RATE
    session: str
    discontinuity: bool
    final: bool

    @property
    def end_at(self) -> float:
        return self.start_at + len(self.samples) / ANALYSIS_RATE


class Windower:
    """Per-station state: the audio not yet fully windowed and where station time stands."""

    def __init__(self, window_s: float = WINDOW_SECONDS, hop_s: float = HOP_SECONDS):
        self.window = int(window_s * ANALYSIS_RATE)
        self.hop = int(hop_s * ANALYSIS_RATE)
        self._reset()
        self._pending_discontinuity = False
        self._session: str | None = None
        self._heard_until = 0.0  # station time up to which this session's audio was received

    def _reset(self) -> None:
        self._resampler: soxr.ResampleStream | None = None
        self._rate = 0
        self._segment_start_at = 0.0
        self._received = 0  # input samples in this segment
        self._buffer = np.zeros(0, np.float32)
        self._buffer_origin = 0  # segment sample index of _buffer[0]
        self._next_start = 0  # segment sample index of the next window
        self._emitted_end = 0  # segment sample index just past the last window

    def _expected_start_at(self) -> float:
        return self._segment_start_at + self._received / self._rate

    def push(
        self, start_at: float, samples: np.ndarray, sample_rate: int, session: str = "",
        discontinuity: bool = False, final: bool = False,
    ) -> list[Window]:
        end_at = start_at + len(samples) / sample_rate
        if session == self._session and end_at <= self._heard_until:
            return []  # received already: a redelivery after a rebalance or restart
        windows: list[Window] = []
        starts_segment = (
            self._resampler is None
            or session != self._session
            or discontinuity
            or sample_rate != self._rate
            or abs(start_at - self._expected_start_at()) > GAP_TOLERANCE_S
        )
        if starts_segment:
            if self._resampler is not None:
                windows += self._flush(final=False)
                # A segment that follows another one within the same stream is a discontinuity.
                self._pending_discontinuity = True
            self._pending_discontinuity |= discontinuity
            self._reset()
            self._resampler = soxr.ResampleStream(sample_rate, ANALYSIS_RATE, 1, dtype="float32")
            self._rate = sample_rate
            self._segment_start_at = start_at
        if session != self._session:
            self._session, self._heard_until = session, 0.0
        self._heard_until = max(self._heard_until, end_at)
        self._received += len(samples)
        out = self._resampler.resample_chunk(np.asarray(samples, np.float32), last=final)
        self._buffer = np.concatenate([self._buffer, out])
        windows += self._full_windows()
        if final:
            windows += self._flush(final=True)
            self._reset()
        return windows

    def _segment_end(self) -> int:
        return self._buffer_origin + len(self._buffer)

    def _emit(self, start: int, end: int, final: bool) -> Window:
        samples = self._buffer[start - self._buffer_origin:end - self._buffer_origin].copy()
        window = Window(
            start_at=self._segment_start_at + start / ANALYSIS_RATE,
            samples=samples,
            session=self._session,
            discontinuity=self._pending_discontinuity,
            final=final,
        )
        self._pending_discontinuity = False
        self._emitted_end = end
        return window

    def _full_windows(self) -> list[Window]:
        windows = []
        while self._segment_end() - self._next_start >= self.window:
            windows.append(self._emit(self._next_start, self._next_start + self.window, final=False))
            self._next_start += self.hop
        drop = self._next_start - self._buffer_origin
        self._buffer = self._buffer[drop:]
        self._buffer_origin = self._next_start
        return windows

    def _flush(self, final: bool) -> list[Window]:
        """The audio after the last window, as one last window ending at the segment's end."""
        end = self._segment_end()
        if end - self._emitted_end <= 0 and not final:
            return []
        start = max(self._buffer_origin, end - self.window)
        if end - start <= 0:
            # Nothing left to analyse, but a final flag must still reach the play logic.
            return [Window(self._segment_start_at + end / ANALYSIS_RATE, np.zeros(0, np.float32),
                           self._session, self._pending_discontinuity, final)] if final else []
        return [self._emit(start, end, final)]
