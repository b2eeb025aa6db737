"""An in-memory inverted index from hash to (track, frame), built from per-track fingerprints.

An entry is one number, hash code x catalog frames + location: its frame counted as if the catalog were
one recording, track after track (the track is found from where each one starts), and its hash numbered
among the hashes pairs of peaks can make, a third of the numbers HASH_BITS allows (see _code).  The
sorted numbers are stored Elias-Fano coded: each one's low bits as they are, its high bits (its bucket,
spanning about as many numbers as there are entries) as a run of ones ended by a zero, a run for every
bucket.  That is about two bits an entry over the bits that tell entries apart: some 24 bits (3 bytes)
an entry at any catalog size, where entries of a fixed width take 32 to stay byte-aligned.  A lookup
reaches its bucket's run by counting zeros, a word at a time, from the start kept for every 64th
bucket: no search, no branch per lookup.
Hashes too common to say which track is playing are not kept at all (see _CROWDED_FACTOR).
Rebuilding it when the catalog changes takes a sort.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detection.fingerprint import HASH_CELLS, PROMINENT_LOW_BIN, Fingerprint, Peaks, hash_cells

#: A hash shared by this many times more entries than the catalog's hashes are on average says
#: little about which track is playing (a common interval on a common beat), while its entries
#: would make most of the votes to count: the index leaves it out.
_CROWDED_FACTOR = 3
_MIN_CROWDED = 16


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


#: Where every 2**_SAMPLE_BITS-th bucket's run starts is kept: half a bit a bucket, and a lookup counts
#: zeros through a few words at most.
_SAMPLE_BITS = 6
_ONE = np.uint64(1)
_BYTES_ONES = np.uint64(0x0101010101010101)
_BYTES_HIGH = np.uint64(0x8080808080808080)
#: _NTH_BIT[byte, n]: where the byte's (n + 1)-th set bit is.
_NTH_BIT = np.array([[bit for bit in range(8) if byte >> bit & 1] + [0] * (8 - byte.bit_count())
                     for byte in range(256)], np.int64)


def _nth_set_bit(words: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Where each word's n-th set bit is (n from 1): the byte from running counts of set bits kept a
    byte each within the word, then the bit from a table."""
    counts = words - ((words >> _ONE) & np.uint64(0x5555555555555555))
    counts = (counts & np.uint64(0x3333333333333333)) + ((counts >> np.uint64(2)) & np.uint64(0x3333333333333333))
    counts = (counts + (counts >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    running = counts * _BYTES_ONES  # byte i: the set bits of bytes 0..i
    # A byte's high bit survives (128 + n - 1 - running) when its running count is under n.
    below = ((n - 1).astype(np.uint64) * _BYTES_ONES | _BYTES_HIGH) - running
    shift = np.bitwise_count(below & _BYTES_HIGH).astype(np.uint64) * np.uint64(8)
    before = np.where(shift > 0, ((running << np.uint64(8)) >> shift) & np.uint64(0xFF), 0).astype(np.int64)
    byte = ((words >> shift) & np.uint64(0xFF)).astype(np.int64)
    return shift.astype(np.int64) + _NTH_BIT[byte, n - before - 1]


def _fields_at(words: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The 64 bits of `words` (uint64, padded by one word) from each bit position, lowest first."""
    at, offset = bits >> 6, (bits & 63).astype(np.uint64)
    # Two shifts for the next word's part: one of 64 (offset 0) is not defined.
    return (words[at] >> offset) | ((words[at + 1] << _ONE) << (np.uint64(63) - offset))


def _pack(values: np.ndarray, width: int) -> np.ndarray:
    """`values` (uint64, each below 2**width) as consecutive width-bit fields in uint64 words, padded."""
    # A whole number of bytes each piece (a multiple of 8 values), and a bounded bit-per-byte copy.
    piece = 1 << 20
    parts = [np.packbits(((values[at:at + piece, None] >> np.arange(width, dtype=np.uint64)) & _ONE).astype(np.uint8),
                         bitorder="little")
             for at in range(0, len(values), piece)]
    return _as_words(np.concatenate([np.zeros(0, np.uint8), *parts]))


def _as_words(packed: np.ndarray) -> np.ndarray:
    """Packed bytes as little-endian uint64 words, with a spare zero word at the end for reads across."""
    return np.concatenate([packed, np.zeros(-len(packed) % 8 + 8, np.uint8)]).view("<u8")


class PeakMap:
    """The catalog's prominent peaks (see detection.fingerprint.prominent_peaks), track after track, read
    back by track and frames.

    A peak's bin (above PROMINENT_LOW_BIN) takes _PEAK_BIN_BITS; its frame, a one in a run of ones for
    each catalog frame, each run ended by a zero: some 13 bits a peak at a dozen peaks a second.  How
    many peaks come before every _PEAK_SAMPLE-th frame is kept, so a read starts near its first frame.
    """

    def __init__(self, peaks: list[Peaks], track_starts: np.ndarray, track_frames: np.ndarray):
        # A track is as long as its hashes reach: a peak past its last anchor (one with no target) is left out.
        within = [np.round(p.frames) < length for p, length in zip(peaks, track_frames)]
        at = np.concatenate([np.round(p.frames[w]).astype(np.int64) + start for p, w, start in zip(peaks, within, track_starts)]
                            + [np.zeros(0, np.int64)])
        bins = np.concatenate([np.round(p.bins[w]).astype(np.int64) for p, w in zip(peaks, within)] + [np.zeros(0, np.int64)])
        order = np.argsort(at, kind="stable")
        at, bins = at[order], bins[order]
        if len(at) and (at.min() < 0 or bins.min() < PROMINENT_LOW_BIN or bins.max() - PROMINENT_LOW_BIN >= 1 << _PEAK_BIN_BITS):
            raise ValueError("a prominent peak lies outside its track or the band")
        frames = int(track_frames.sum()) if len(at) else 0  # no peaks known: nothing to keep
        unary = np.zeros(len(at) + frames + 1, np.uint8)
        unary[at + np.arange(len(at))] = 1
        self._unary = np.packbits(unary, bitorder="little")
        self._bins = _pack((bins - PROMINENT_LOW_BIN).astype(np.uint64), _PEAK_BIN_BITS)
        self._before = np.searchsorted(at, np.arange(0, frames + 2 * _PEAK_SAMPLE, _PEAK_SAMPLE)).astype(np.uint32)
        self._frames = frames

    @property
    def nbytes(self) -> int:
        return self._unary.nbytes + self._bins.nbytes + self._before.nbytes

    def between(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Catalog frames and bins of the peaks from catalog frame `first` to `last`, in time order."""
        first, last = max(0, first), min(last, self._frames - 1)
        if last < first:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        sample, end = first // _PEAK_SAMPLE, last // _PEAK_SAMPLE + 1
        begin_bit = sample * _PEAK_SAMPLE + int(self._before[sample])
        end_bit = end * _PEAK_SAMPLE + int(self._before[end])
        bits = np.unpackbits(self._unary[begin_bit >> 3:(end_bit >> 3) + 1], bitorder="little")[begin_bit & 7:]
        bits = bits[:end_bit - begin_bit]
        ones = np.flatnonzero(bits)
        frames = sample * _PEAK_SAMPLE + ones - np.arange(len(ones))  # zeros before a one: frames passed
        rows = int(self._before[sample]) + np.arange(len(ones))
        wanted = (frames >= first) & (frames <= last)
        fields = _fields_at(self._bins, rows[wanted] * _PEAK_BIN_BITS) & np.uint64((1 << _PEAK_BIN_BITS) - 1)
        return frames[wanted], fields.astype(np.int64) + PROMINENT_LOW_BIN


_PEAK_BIN_BITS = 9
_PEAK_SAMPLE = 256


class Index:
    def __init__(self, track_ids: list[int], fingerprints: list[Fingerprint], peaks: list[Peaks] | None = None):
        """`peaks`: each track's prominent peaks, if known (see PeakMap)."""
        self.track_ids = np.asarray(track_ids, dtype=np.int64)
        lengths = np.array([int(fp.frames.max()) + 1 if len(fp) else 0 for fp in fingerprints], dtype=np.int64)
        self.track_frames = lengths
        self._track_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        positive = lengths[lengths > 0]
        self._block_bits = int(np.clip(np.floor(np.log2(positive.min())) if len(positive) else 0, 6, 16))
        block_starts = np.arange((int(lengths.sum()) >> self._block_bits) + 1, dtype=np.int64) << self._block_bits
        self._block_slots = (np.searchsorted(self._track_starts, block_starts, side="right") - 1).astype(np.int64)
        self._next_starts = np.append(self._track_starts[1:], np.iinfo(np.int64).max)
        self._frames = frames = max(1, int(lengths.sum()))
        if fingerprints and sum(len(fp) for fp in fingerprints):
            hashes = _code(np.concatenate([fp.hashes for fp in fingerprints]))
            if (hashes < 0).any():
                raise ValueError("a fingerprint holds a hash no pair of peaks makes")
            locations = np.concatenate([fp.frames.astype(np.int64) + start
                                        for fp, start in zip(fingerprints, self._track_starts)])
        else:
            hashes, locations = np.zeros(0, np.int64), np.zeros(0, np.int64)
        keys = np.sort(hashes * frames + locations).astype(np.uint64)
        hashes = (keys // np.uint64(frames)).astype(np.int64)
        run_starts = np.flatnonzero(np.diff(hashes, prepend=-1))
        run_lengths = np.diff(run_starts, append=len(hashes))
        crowded = max(_MIN_CROWDED, int(_CROWDED_FACTOR * len(hashes) / max(1, len(run_starts))))
        keys = keys[np.repeat(run_lengths <= crowded, run_lengths)]
        self.dropped = len(hashes) - len(keys)
        entries = len(keys)
        universe = _CODES * frames
        # About as many buckets as entries (Elias-Fano's choice), and no hash over more than two.
        self._low_bits = max((frames - 1).bit_length(), (universe // max(1, entries)).bit_length() - 1)
        buckets = ((universe - 1) >> self._low_bits) + 1
        high = (keys >> np.uint64(self._low_bits)).astype(np.int64)
        # A one for each entry, a zero at the end of each bucket; and spare zeros past the last one, so
        # that reads past it find empty buckets.
        unary = np.zeros(entries + buckets + 256, np.uint8)
        unary[high + np.arange(entries)] = 1
        self._unary = _as_words(np.packbits(unary, bitorder="little"))
        self._lows = _pack(keys & np.uint64((1 << self._low_bits) - 1), self._low_bits)
        sampled = np.arange(0, buckets + (1 << _SAMPLE_BITS) + 1, 1 << _SAMPLE_BITS)
        starts = np.searchsorted(high, sampled) + sampled
        self._bucket_starts = starts.astype(np.uint32 if starts[-1] < 1 << 32 else np.int64)
        # How many words a lookup may count zeros through: as many as the fullest sample's runs take.
        self._span_words = int(((starts[1:] - 1 >> 6) - (starts[:-1] >> 6) + 1).max(initial=1))
        self._entries = entries
        empty = Peaks(np.zeros(0, np.float32), np.zeros(0, np.float32))
        self._peaks = PeakMap(peaks if peaks is not None else [empty] * len(fingerprints), self._track_starts, lengths)

    @property
    def track_count(self) -> int:
        return len(self.track_ids)

    @property
    def nbytes(self) -> int:
        return (self._unary.nbytes + self._lows.nbytes + self._bucket_starts.nbytes + self._track_starts.nbytes
                + self._block_slots.nbytes + self._next_starts.nbytes + self._peaks.nbytes)

    @property
    def peak_nbytes(self) -> int:
        """What the prominent peaks take of nbytes."""
        return self._peaks.nbytes

    def peaks(self, slot: int, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Frames and bins of the prominent peaks of the track in `slot`, from its frame `first` to `last`."""
        start = int(self._track_starts[slot])
        last = min(last, int(self.track_frames[slot]) - 1)
        frames, bins = self._peaks.between(start + first, start + last)
        return frames - start, bins

    def _bucket_begins(self, buckets: np.ndarray) -> np.ndarray:
        """The bit where each bucket's run of ones starts: past as many zeros as buckets before it."""
        first = self._bucket_starts[buckets >> _SAMPLE_BITS].astype(np.int64)
        skip = buckets & ((1 << _SAMPLE_BITS) - 1)
        word = first >> 6
        # One row per word of the span, one column per lookup: the sums run down contiguous rows.
        words = self._unary[np.minimum(word + np.arange(self._span_words)[:, None], len(self._unary) - 1)]
        words[0] |= (_ONE << (first & 63).astype(np.uint64)) - _ONE
        passed = np.cumsum(64 - np.bitwise_count(words), axis=0, dtype=np.int64)
        at = np.minimum((passed < skip).sum(axis=0), self._span_words - 1)
        columns = np.arange(len(buckets))
        zeros = ~words[at, columns]
        rank = skip - passed[at, columns] + np.bitwise_count(zeros).astype(np.int64)  # which zero of the word, from 1
        return np.where(skip == 0, first, (word + at) * 64 + _nth_set_bit(zeros, np.maximum(rank, 1)) + 1)

    def lookup(self, query_hashes: np.ndarray, slot: int | None = None) -> Postings:
        """Every entry that shares a hash with the query; only the track in `slot`'s, if given (a track's
        entries of a hash are one stretch of the hash's keys, so no other track's are read)."""
        start, span = (0, self._frames) if slot is None else (int(self._track_starts[slot]), int(self.track_frames[slot]))
        if self._entries == 0 or span == 0:
            return Postings.none()
        codes = _code(query_hashes)
        asked = np.flatnonzero(codes >= 0)  # a shifted or neighbouring hash can lie outside the cells pairs fill
        first_key = codes[asked] * self._frames + start
        bucket = first_key >> self._low_bits
        spans_two = (first_key + span - 1) >> self._low_bits != bucket
        begin = self._bucket_begins(bucket)
        # The two buckets' sizes are the runs of ones there: read at once unless they are long.
        bits = _fields_at(self._unary, begin)
        count = np.bitwise_count(bits ^ (bits + _ONE)).astype(np.int64) - 1
        after = bits >> np.minimum(count + 1, 63).astype(np.uint64)
        second = np.bitwise_count(after ^ (after + _ONE)).astype(np.int64) - 1
        unsure = count + second + 2 > 64
        if unsure.any():
            ends = self._bucket_begins(np.concatenate([bucket[unsure] + 1, bucket[unsure] + 2]))
            half = int(unsure.sum())
            count[unsure] = ends[:half] - begin[unsure] - 1
            second[unsure] = ends[half:] - ends[:half] - 1
        total_counts = count + np.where(spans_two, second, 0)
        total = int(total_counts.sum())
        if total == 0:
            return Postings.none()
        owner = np.repeat(np.arange(len(bucket)), total_counts)
        within = np.arange(total) - np.repeat(np.cumsum(total_counts) - total_counts, total_counts)
        entry = (begin - bucket)[owner] + within
        lows = _fields_at(self._lows, entry * self._low_bits) & np.uint64((1 << self._low_bits) - 1)
        high = bucket[owner] + (within >= count[owner])
        locations = ((high << self._low_bits) | lows.astype(np.int64)) - first_key[owner]
        keep = (locations >= 0) & (locations < span)
        locations, owner = locations[keep], owner[keep]
        if slot is not None:
            return Postings(np.full(len(locations), slot, np.int32), locations.astype(np.int32), asked[owner])
        slots = self._block_slots[locations >> self._block_bits]
        while (past := locations >= self._next_starts[slots]).any():
            slots += past
        return Postings(
            track_slots=slots.astype(np.int32),
            track_frames=(locations - self._track_starts[slots]).astype(np.int32),
            query_rows=asked[owner],
        )


#: How many hash codes there are: one for each combination of the cells pairs fill.
_CODES = math.prod(HASH_CELLS)
#: Hashes cluster (most anchors sit in a few octaves); the index files each under its dense number x
#: _MIX mod _CODES, a one-to-one shuffle (_MIX shares no factor with _CODES) that spreads them evenly
#: over the buckets, so no lookup counts long.
_MIX = next(m for m in range(int(_CODES * 0.6180339887), _CODES) if math.gcd(m, _CODES) == 1)


def _code(hashes: np.ndarray) -> np.ndarray:
    """Each hash's shuffled dense number, or -1 for a hash with a cell no pair fills."""
    anchor, ratio, product = hash_cells(hashes)
    anchors, ratios, products = HASH_CELLS
    inside = (anchor >= 0) & (anchor < anchors) & (ratio < ratios) & (product < products)
    return np.where(inside, ((anchor * ratios + ratio) * products + product) * _MIX % _CODES, -1)
