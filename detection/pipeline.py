"""The detection path end to end, as the stream runs it: chunks -> windows -> matches -> plays.

The agents run these steps one topic apart; `scan` runs them in one loop over a recording, so the
stream and the offline scan give the same plays.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
import numpy as np

from detection.fingerprint import fingerprint
from detection.index import Index
from detection.match import MatchParams, judge
from detection.plays import Play, PlayParams, StationState, WindowResult, advance, alignment
from detection.windows import Chunk, Window, Windower


def chunk_recording(
    samples: np.ndarray, sample_rate: int, start_at: float, chunk_seconds: float, session: str = ""
) -> Iterator[Chunk]:
    """Cut a decoded recording into the chunks an ingester publishes; the last one is final."""
    step = max(1, int(round(chunk_seconds * sample_rate)))
    count = max(1, -(-len(samples) // step))
    for i in range(count):
        yield Chunk(
            start_at=start_at + i * step / sample_rate,
            samples=samples[i * step:(i + 1) * step],
            sample_rate=sample_rate,
            session=session,
            seq=i,
            discontinuity=i == 0,
            final=i == count - 1,
        )


def analyse(index: Index, window: Window, params: MatchParams = MatchParams()) -> WindowResult:
    verdict = judge(index, fingerprint(window.samples), params)
    fields = dict(start_at=window.start_at, end_at=window.end_at, session=window.session,
                  discontinuity=window.discontinuity, final=window.final, icy_title=window.icy_title)
    if verdict.match is not None:
        found = verdict.match
        fields.update(track_id=found.track_id, track_offset_s=found.track_offset_s, speed=found.speed, score=found.score,
                      confidence=found.confidence, first_hit_at=window.start_at + found.first_hit_s,
                      last_hit_at=window.start_at + found.last_hit_s)
    fields["hints"] = [[hint.track_id, alignment(window.start_at, hint.track_offset_s, hint.speed),
                        window.start_at + hint.first_hit_s, window.start_at + hint.last_hit_s]
                       for hint in verdict.hints]
    return WindowResult(**fields)


def scan(index: Index, chunks: Iterable[Chunk], play_params: PlayParams = PlayParams()) -> Iterator[Play]:
    windower = Windower()
    state = StationState()
    for chunk in chunks:
        for window in windower.push(chunk):
            yield from advance(state, analyse(index, window), play_params)
