"""Matching a window's fingerprint against the index: vote for (track, time offset) pairs.

A song that is really playing puts many hashes at one consistent offset between track time and window
time; chance collisions scatter over all offsets.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.fingerprint import FRAME_SECONDS, Fingerprint
from detection.index import Index

_OFFSET_BIAS = 1 << 21  # offsets are in frames; keeps them non-negative inside the vote key


@dataclass(frozen=True)
class MatchParams:
    #: Hashes that must agree on one (track, offset) before a window counts as a match.
    min_score: int = 12
    #: The winner must beat the best other track by this factor.
    min_margin: float = 2.0
    #: A window that matches nothing still reports its best alignment this strong, as a hint: talk
    #: over an intro leaves too few hashes to match, but enough to date the start of an airing that
    #: the following windows confirm.
    hint_score: int = 5


@dataclass(frozen=True)
class Match:
    track_id: int
    #: Track time minus window time, in seconds: where in the track the window started.
    track_offset_s: float
    #: Hashes agreeing on the winning offset.
    score: int
    #: Share of the votes the winner holds against the runner-up and chance, 0..1.
    confidence: float
    #: Window-relative seconds of the first and last agreeing hash: the audible extent of the track.
    first_hit_s: float
    last_hit_s: float


@dataclass(frozen=True)
class Verdict:
    """What one window says: its match, if any, and a hint.

    The hint is the window's strongest other alignment when it matched (at a boundary between two
    airings the window holds both, and the later airing's start is read from it), or else its best
    alignment too weak to be a match.
    """

    match: Match | None = None
    hint: Match | None = None


def match(index: Index, query: Fingerprint, params: MatchParams = MatchParams()) -> Match | None:
    return judge(index, query, params).match


def judge(index: Index, query: Fingerprint, params: MatchParams = MatchParams()) -> Verdict:
    if len(query) == 0 or index.track_count == 0:
        return Verdict()
    postings = index.lookup(query)
    if len(postings.track_slots) == 0:
        return Verdict()
    offsets = postings.track_frames.astype(np.int64) - postings.query_frames
    keys = postings.track_slots.astype(np.int64) * (2 * _OFFSET_BIAS) + offsets + _OFFSET_BIAS
    unique_keys, counts = np.unique(keys, return_counts=True)
    # Let neighbouring offsets vote together: frame rounding splits a true offset over two bins.
    smoothed = counts.copy()
    adjacent = np.diff(unique_keys) == 1
    smoothed[:-1] += np.where(adjacent, counts[1:], 0)
    smoothed[1:] += np.where(adjacent, counts[:-1], 0)
    best = int(np.argmax(smoothed))
    score = int(smoothed[best])
    best_slot = int(unique_keys[best] // (2 * _OFFSET_BIAS))
    other = unique_keys // (2 * _OFFSET_BIAS) != best_slot
    runner_up = int(smoothed[other].max()) if other.any() else 0
    if score < params.min_score or score < params.min_margin * runner_up:
        if score < params.hint_score or score < params.min_margin * runner_up:
            return Verdict()
        return Verdict(hint=_describe(index, postings, keys, unique_keys[best], score, 0.0))
    alternative = None
    elsewhere = np.abs(unique_keys - unique_keys[best]) > 2
    if elsewhere.any():
        second = int(np.flatnonzero(elsewhere)[np.argmax(smoothed[elsewhere])])
        if smoothed[second] >= 2 * params.min_score:
            alternative = _describe(index, postings, keys, unique_keys[second], int(smoothed[second]), 0.0)
    confidence = round(score / (score + runner_up + params.min_score), 4)
    return Verdict(_describe(index, postings, keys, unique_keys[best], score, confidence), hint=alternative)


def _describe(index: Index, postings, keys: np.ndarray, key: int, score: int, confidence: float) -> Match:
    hit_frames = postings.query_frames[np.abs(keys - key) <= 1]
    return Match(
        track_id=int(index.track_ids[key // (2 * _OFFSET_BIAS)]),
        track_offset_s=(key % (2 * _OFFSET_BIAS) - _OFFSET_BIAS) * FRAME_SECONDS,
        score=score,
        confidence=confidence,
        first_hit_s=float(hit_frames.min()) * FRAME_SECONDS,
        last_hit_s=float(hit_frames.max()) * FRAME_SECONDS,
    )
