"""Turning a station's chunks into overlapping analysis windows at ANALYSIS_RATE.

Windows overlap so that a song boundary never falls in an unanalysed seam.  A gap in station time, a
change of sample rate, a new ingest session or an explicit discontinuity starts a new segment: its
first window carries the discontinuity flag so that no play is merged across it.

Within a session the ingester numbers chunks without gaps and flags every break in the broadcast, so
a missing sequence number is a delivery problem, not a break: a chunk that comes early (Kafka clients
can deliver a prefetched record out of order around a rebalance) is held until the ones before it
arrive; if they never do, the hole is bridged without a discontinuity, so a play is not split by a
few lost seconds.  A chunk received already (redelivered after a restart) is skipped.
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
#: Early chunks held while waiting for a missing one; past this (or at the final chunk) it is lost.
MAX_HELD_CHUNKS = 5


@dataclass(frozen=True)
class Chunk:
    """A piece of one station's audio as an ingester publishes it."""

    start_at: float  # station time (UTC epoch seconds) of the first sample
    samples: np.ndarray  # mono float32
    sample_rate: int
    session: str = ""  # one ingest run: a file, a stream connection
    seq: int = 0  # 0, 1, 2, ... within the session
    discontinuity: bool = False
    final: bool = False
    #: What the station says is playing (ICY StreamTitle), if it says anything.
    icy_title: str | None = None


@dataclass(frozen=True)
class Window:
    start_at: float  # station time (UTC epoch seconds) of the first sample
    samples: np.ndarray  # mono float32 at ANALYSIS_RATE
    session: str
    discontinuity: bool
    final: bool
    icy_title: str | None = None  # the station's latest claim when the window was cut

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
        self._title: str | None = None
        self._next_seq = 0
        self._held: dict[int, Chunk] = {}

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

    def push(self, chunk: Chunk) -> list[Window]:
        """Take one chunk (anything with Chunk's attributes); returns the windows it completed."""
        if chunk.session == self._session:
            if chunk.seq < self._next_seq:
                return []  # received already: a redelivery after a rebalance or restart
            if chunk.seq > self._next_seq:
                self._held[chunk.seq] = chunk
                if len(self._held) <= MAX_HELD_CHUNKS and not chunk.final:
                    return []
                self._next_seq = min(self._held)  # the missing chunks are lost; go on without them
                chunk = self._held.pop(self._next_seq)
        else:
            self._held.clear()
        windows = self._accept(chunk)
        while self._next_seq in self._held:
            windows += self._accept(self._held.pop(self._next_seq))
        return windows

    def _accept(self, chunk: Chunk) -> list[Window]:
        windows: list[Window] = []
        breaks = (chunk.session != self._session or chunk.discontinuity or chunk.sample_rate != self._rate)
        starts_segment = (
            self._resampler is None
            or breaks
            or abs(chunk.start_at - self._expected_start_at()) > GAP_TOLERANCE_S
        )
        if starts_segment:
            if self._resampler is not None:
                windows += self._flush(final=False)
                # A new session or a declared break is a discontinuity; audio lost in delivery is not.
                self._pending_discontinuity = breaks
            self._pending_discontinuity |= chunk.discontinuity
            self._reset()
            self._resampler = soxr.ResampleStream(chunk.sample_rate, ANALYSIS_RATE, 1, dtype="float32")
            self._rate = chunk.sample_rate
            self._segment_start_at = chunk.start_at
        else:
            # Within the tolerance the ingester's clock has been corrected a little: follow it.
            self._segment_start_at += chunk.start_at - self._expected_start_at()
        self._session = chunk.session
        self._title = chunk.icy_title
        self._next_seq = chunk.seq + 1
        self._received += len(chunk.samples)
        out = self._resampler.resample_chunk(np.asarray(chunk.samples, np.float32), last=chunk.final)
        self._buffer = np.concatenate([self._buffer, out])
        windows += self._full_windows()
        if chunk.final:
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
            icy_title=self._title,
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
                           self._session, self._pending_discontinuity, final, self._title)] if final else []
        return [self._emit(start, end, final)]
