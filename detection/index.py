"""An in-memory inverted index from hash to (track, frame), built from per-track fingerprints.

Five bytes an entry, sorted by hash and searched with numpy:
- the hashes' top 17 bits are implicit: a table of where each of the 131,072 groups starts (512 kB
  whatever the catalog, about 0.26 kB per catalog minute at 1,000 two-minute tracks);
- each entry keeps the hash's low 8 bits;
- and one 32-bit location, the track's slot and the anchor's frame packed together (64-bit when a
  catalog is too large for that, so nothing is ever truncated).
Rebuilding it when the catalog changes takes a sort.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.fingerprint import HASH_BITS, Fingerprint

#: A hash shared by this many times more entries than the catalog's hashes are on average says
#: little about which track is playing (a common interval on a common beat), while its entries
#: would make most of the votes to count: lookups skip it.
_CROWDED_FACTOR = 3
_MIN_CROWDED = 16
_LOW_BITS = 8
_GROUPS = 1 << (HASH_BITS - _LOW_BITS)


@dataclass(frozen=True)
class Postings:
    """Every index entry that shares a hash with the query: one row per (query hash, entry) pair."""

    track_slots: np.ndarray  # int32, positions in Index.track_ids
    track_frames: np.ndarray  # int32
    query_rows: np.ndarray  # int64, positions in the query


class Index:
    def __init__(self, track_ids: list[int], fingerprints: list[Fingerprint]):
        self.track_ids = np.asarray(track_ids, dtype=np.int64)
        sizes = np.array([len(fp) for fp in fingerprints], dtype=np.int64)
        if fingerprints and sizes.sum():
            hashes = np.concatenate([fp.hashes for fp in fingerprints]).astype(np.uint32)
            frames = np.concatenate([fp.frames for fp in fingerprints]).astype(np.uint64)
        else:
            hashes, frames = np.zeros(0, np.uint32), np.zeros(0, np.uint64)
        slots = np.repeat(np.arange(len(fingerprints), dtype=np.uint64), sizes)
        self._frame_bits = max(1, int(frames.max()).bit_length()) if len(frames) else 1
        slot_bits = max(1, (len(fingerprints) - 1).bit_length())
        location_type = np.uint32 if self._frame_bits + slot_bits <= 32 else np.uint64
        order = np.argsort(hashes, kind="stable")
        hashes = hashes[order]
        distinct = int(np.count_nonzero(np.diff(hashes))) + 1 if len(hashes) else 1
        self._crowded = max(_MIN_CROWDED, int(_CROWDED_FACTOR * len(hashes) / distinct))
        self._low = (hashes & ((1 << _LOW_BITS) - 1)).astype(np.uint8)
        # One start past the last group too, where the search for the largest hash + 1 lands.
        starts = np.searchsorted(hashes >> _LOW_BITS, np.arange(_GROUPS + 2))
        self._group_starts = starts.astype(np.uint32 if len(hashes) < 1 << 32 else np.int64)
        self._locations = ((slots[order] << np.uint64(self._frame_bits)) | frames[order]).astype(location_type)

    @property
    def track_count(self) -> int:
        return len(self.track_ids)

    @property
    def nbytes(self) -> int:
        return self._low.nbytes + self._group_starts.nbytes + self._locations.nbytes

    def _first_at_least(self, query_hashes: np.ndarray) -> np.ndarray:
        """np.searchsorted(all hashes, query_hashes), done on the low bits within each hash's group."""
        groups = (query_hashes >> _LOW_BITS).astype(np.int64)
        low = (query_hashes & ((1 << _LOW_BITS) - 1)).astype(np.int16)
        lo = self._group_starts[groups].astype(np.int64)
        hi = self._group_starts[groups + 1].astype(np.int64)
        if len(self._low) == 0:
            return lo
        last = len(self._low) - 1
        while True:
            active = lo < hi
            if not active.any():
                return lo
            mid = (lo + hi) >> 1
            go_right = active & (self._low[np.minimum(mid, last)] < low)
            lo = np.where(go_right, mid + 1, lo)
            hi = np.where(active & ~go_right, mid, hi)

    def lookup(self, query_hashes: np.ndarray) -> Postings:
        # A hash's entries run from the first one at least as large as it to the first one larger
        # (hash + 1); one search finds both ends.
        query_hashes = query_hashes.astype(np.int64)
        bounds = self._first_at_least(np.concatenate([query_hashes, query_hashes + 1]))
        left = bounds[:len(query_hashes)]
        counts = bounds[len(query_hashes):] - left
        counts[counts > self._crowded] = 0
        total = int(counts.sum())
        if total == 0:
            empty = np.zeros(0, np.int32)
            return Postings(empty, empty, empty)
        starts = np.repeat(left - (np.cumsum(counts) - counts), counts)
        locations = self._locations[np.arange(total) + starts].astype(np.uint64)
        return Postings(
            track_slots=(locations >> np.uint64(self._frame_bits)).astype(np.int32),
            track_frames=(locations & np.uint64((1 << self._frame_bits) - 1)).astype(np.int32),
            query_rows=np.repeat(np.arange(len(counts)), counts),
        )
