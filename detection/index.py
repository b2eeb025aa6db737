"""An in-memory inverted index from hash to (track, frame), built from per-track fingerprints.

Four bytes an entry, sorted by hash and searched with numpy:
- an entry's location is its frame counted as if the catalog were one recording, track after track
  (about 22 bits for a thousand two-minute tracks); the track is found from where each one starts;
- the hash's low bits fill the rest of the 32, and its high bits are implicit: a table of where each
  group of hashes starts, sized to the catalog at 32 to 64 entries a group (512 kB, or 0.26 kB per
  catalog minute, at a thousand two-minute tracks);
- entries are 64-bit in a catalog too large for that (some 38,000 hours), so nothing is truncated.
Hashes too common to say which track is playing are not kept at all (see _CROWDED_FACTOR).
Rebuilding it when the catalog changes takes a sort.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.fingerprint import HASH_BITS, Fingerprint

#: A hash shared by this many times more entries than the catalog's hashes are on average says
#: little about which track is playing (a common interval on a common beat), while its entries
#: would make most of the votes to count: the index leaves it out.
_CROWDED_FACTOR = 3
_MIN_CROWDED = 16
_GROUP_ENTRIES = 32


@dataclass(frozen=True)
class Postings:
    """Every index entry that shares a hash with the query: one row per (query hash, entry) pair."""

    track_slots: np.ndarray  # int32, positions in Index.track_ids
    track_frames: np.ndarray  # int32
    query_rows: np.ndarray  # int64, positions in the query

    @staticmethod
    def none() -> "Postings":
        empty = np.zeros(0, np.int32)
        return Postings(empty, empty, empty)


class Index:
    def __init__(self, track_ids: list[int], fingerprints: list[Fingerprint]):
        self.track_ids = np.asarray(track_ids, dtype=np.int64)
        lengths = np.array([int(fp.frames.max()) + 1 if len(fp) else 0 for fp in fingerprints], dtype=np.int64)
        self.track_frames = lengths  # how many frames each track's fingerprint spans
        self._track_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        # A location's track: the track where its block of frames starts, then the next while it lies
        # past that one's start.  Blocks no longer than most tracks keep that to a step or two.
        positive = lengths[lengths > 0]
        self._block_bits = int(np.clip(np.floor(np.log2(positive.min())) if len(positive) else 0, 6, 16))
        block_starts = np.arange((int(lengths.sum()) >> self._block_bits) + 1, dtype=np.int64) << self._block_bits
        self._block_slots = (np.searchsorted(self._track_starts, block_starts, side="right") - 1).astype(np.int64)
        self._next_starts = np.append(self._track_starts[1:], np.iinfo(np.int64).max)
        self._location_bits = max(1, int(lengths.sum()).bit_length())
        width = 32 if self._location_bits <= 32 else 64
        self._low_bits = min(HASH_BITS, width - self._location_bits)
        if fingerprints and sum(len(fp) for fp in fingerprints):
            hashes = _mix(np.concatenate([fp.hashes for fp in fingerprints])).astype(np.uint64)
            locations = np.concatenate([fp.frames.astype(np.int64) + start
                                        for fp, start in zip(fingerprints, self._track_starts)]).astype(np.uint64)
        else:
            hashes, locations = np.zeros(0, np.uint64), np.zeros(0, np.uint64)
        keys = np.sort((hashes << np.uint64(self._location_bits)) | locations)
        hashes = keys >> np.uint64(self._location_bits)
        run_starts = np.flatnonzero(np.diff(hashes.astype(np.int64), prepend=-1))
        run_lengths = np.diff(run_starts, append=len(hashes))
        self._crowded = max(_MIN_CROWDED, int(_CROWDED_FACTOR * len(hashes) / max(1, len(run_starts))))
        keys = keys[np.repeat(run_lengths <= self._crowded, run_lengths)]
        self.dropped = len(hashes) - len(keys)
        # About _GROUP_ENTRIES entries a group keeps the bisection short and the table small; a group
        # is never wider than the low bits an entry keeps.
        wanted = max(0, (len(keys) // _GROUP_ENTRIES).bit_length() - 1)
        self._group_shift = HASH_BITS - max(HASH_BITS - self._low_bits, min(HASH_BITS, wanted))
        # One start past the last group too, where the search for the largest hash + 1 lands.
        starts = np.searchsorted(keys >> np.uint64(self._location_bits + self._group_shift),
                                 np.arange((1 << (HASH_BITS - self._group_shift)) + 2))
        self._group_starts = starts.astype(np.uint32 if len(keys) < 1 << 32 else np.int64)
        self._widest_group = int(np.diff(self._group_starts.astype(np.int64)).max(initial=0))
        # Within a group, entries sort by (low hash bits, location): the entry itself.
        self._entries = (keys & np.uint64((1 << (self._low_bits + self._location_bits)) - 1)).astype(
            np.uint32 if width == 32 else np.uint64)

    @property
    def track_count(self) -> int:
        return len(self.track_ids)

    @property
    def nbytes(self) -> int:
        return (self._entries.nbytes + self._group_starts.nbytes + self._track_starts.nbytes
                + self._block_slots.nbytes + self._next_starts.nbytes)

    def _bisect(self, first: np.ndarray, size: np.ndarray, before: np.ufunc, bound: np.ndarray,
                halvings: int) -> np.ndarray:
        """The first entry not `before` (np.less or np.less_equal) `bound` in each run [first, first + size)
        of sorted entries, taking as many halvings as the longest run needs, without branching per search."""
        for _ in range(halvings):
            half = size >> 1
            below = before(self._entries[np.minimum(first + half, len(self._entries) - 1)], bound)
            below &= size > 0
            first += np.where(below, half + 1, 0)
            size = np.where(below, size - half - 1, half)
        return first

    def lookup(self, query_hashes: np.ndarray) -> Postings:
        if len(self._entries) == 0:
            return Postings.none()
        keys = _mix(query_hashes.astype(np.int64))
        group_first = self._group_starts[keys >> self._group_shift].astype(np.int64)
        group_end = self._group_starts[(keys >> self._group_shift) + 1].astype(np.int64)
        low = ((keys & ((1 << self._low_bits) - 1)) << self._location_bits).astype(self._entries.dtype)
        # A hash's entries start after those of lower hashes in its group, and end at most `crowded` later.
        left = self._bisect(group_first, group_end - group_first, np.less, low, self._widest_group.bit_length())
        right = self._bisect(left.copy(), np.minimum(group_end - left, self._crowded), np.less_equal,
                             low | self._entries.dtype.type((1 << self._location_bits) - 1), self._crowded.bit_length())
        counts = right - left
        total = int(counts.sum())
        if total == 0:
            return Postings.none()
        starts = np.repeat(left - (np.cumsum(counts) - counts), counts)
        locations = (self._entries[np.arange(total) + starts] & ((1 << self._location_bits) - 1)).astype(np.int64)
        slots = self._block_slots[locations >> self._block_bits]
        while (past := locations >= self._next_starts[slots]).any():
            slots += past
        return Postings(
            track_slots=slots.astype(np.int32),
            track_frames=(locations - self._track_starts[slots]).astype(np.int32),
            query_rows=np.repeat(np.arange(len(counts)), counts),
        )


#: Hashes cluster (most anchors sit in a few octaves); the index files each under hash x _MIX mod
#: 2**HASH_BITS, a one-to-one shuffle that spreads them evenly over the groups, so no search is long.
_MIX = 0x1E3779B1 & ((1 << HASH_BITS) - 1)


def _mix(hashes: np.ndarray) -> np.ndarray:
    return (hashes.astype(np.int64) * _MIX) & ((1 << HASH_BITS) - 1)
