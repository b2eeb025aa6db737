"""An in-memory inverted index from hash to (track, frame), built from per-track fingerprints.

Arrays sorted by hash and searched with numpy: compact (8 bytes an entry) and fast to rebuild when the
catalog changes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.fingerprint import Fingerprint

#: Hashes shared by more entries than this say nothing about which track is playing; skip them.
_MAX_BUCKET = 2000


@dataclass(frozen=True)
class Postings:
    """Every index entry that shares a hash with the query: one row per (query hash, entry) pair."""

    track_slots: np.ndarray  # int32, positions in Index.track_ids
    track_frames: np.ndarray  # int32
    query_frames: np.ndarray  # int32


class Index:
    def __init__(self, track_ids: list[int], fingerprints: list[Fingerprint]):
        self.track_ids = np.asarray(track_ids, dtype=np.int64)
        sizes = np.array([len(fp) for fp in fingerprints], dtype=np.int64)
        if fingerprints:
            hashes = np.concatenate([fp.hashes for fp in fingerprints])
            frames = np.concatenate([fp.frames for fp in fingerprints])
        else:
            hashes, frames = np.zeros(0, np.uint32), np.zeros(0, np.int32)
        slots = np.repeat(np.arange(len(fingerprints), dtype=np.int32), sizes)
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.frames = frames[order].astype(np.int32)
        self.slots = slots[order]

    @property
    def track_count(self) -> int:
        return len(self.track_ids)

    @property
    def nbytes(self) -> int:
        return self.hashes.nbytes + self.frames.nbytes + self.slots.nbytes

    def lookup(self, query: Fingerprint) -> Postings:
        left = np.searchsorted(self.hashes, query.hashes, side="left")
        right = np.searchsorted(self.hashes, query.hashes, side="right")
        counts = right - left
        counts[counts > _MAX_BUCKET] = 0
        total = int(counts.sum())
        if total == 0:
            empty = np.zeros(0, np.int32)
            return Postings(empty, empty, empty)
        starts = np.repeat(left - (np.cumsum(counts) - counts), counts)
        positions = np.arange(total) + starts
        return Postings(
            track_slots=self.slots[positions],
            track_frames=self.frames[positions],
            query_frames=np.repeat(query.frames, counts),
        )
