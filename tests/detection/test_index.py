import numpy as np

from detection.fingerprint import ANCHOR_STEP, HASH_CELLS, Fingerprint
from detection.index import _CODES, _MIX, Index

RATIO_STEP = ANCHOR_STEP >> 8  # the ratio cell sits above the product's bits, as the anchor above the ratio's


def hash_of(anchor: int, ratio: int, product: int) -> int:
    return anchor * ANCHOR_STEP + ratio * RATIO_STEP + product


def some_hashes(rng, count: int) -> np.ndarray:
    """Hashes with every cell one that pairs of peaks fill."""
    cells = [rng.integers(0, cells, count) for cells in HASH_CELLS]
    return np.array([hash_of(*map(int, c)) for c in zip(*cells)], np.uint32)


def fingerprint_of(rng, entries: int, frames: int) -> Fingerprint:
    # Few distinct hashes, so buckets hold many entries, some spread over group boundaries.
    hashes = rng.choice(some_hashes(rng, 300), entries).astype(np.uint32)
    return Fingerprint(hashes, np.sort(rng.integers(0, frames, entries)).astype(np.int32))


def test_lookup_finds_exactly_the_entries_sharing_each_query_hash():
    rng = np.random.default_rng(3)
    tracks = [fingerprint_of(rng, int(rng.integers(0, 400)), 40_000) for _ in range(50)]
    index = Index(list(range(100, 150)), tracks)
    biggest = max(tracks, key=len)
    query = np.concatenate([biggest.hashes[:40], some_hashes(rng, 20)]).astype(np.uint32)
    found = index.lookup(query)
    got = sorted(zip(found.track_slots.tolist(), found.track_frames.tolist(), found.query_rows.tolist()))
    expected = sorted((slot, int(frame), row)
                      for row, q_hash in enumerate(query)
                      for slot, fp in enumerate(tracks)
                      for h, frame in zip(fp.hashes, fp.frames) if h == q_hash)
    assert got == expected and len(got) > 40


def test_a_lookup_for_one_track_finds_exactly_that_track_s_entries():
    rng = np.random.default_rng(4)
    tracks = [fingerprint_of(rng, int(rng.integers(0, 400)), 40_000) for _ in range(50)]
    index = Index(list(range(100, 150)), tracks)
    query = np.concatenate([fp.hashes[:5] for fp in tracks]).astype(np.uint32)
    every = index.lookup(query)
    for slot in (0, 7, 23, 49):
        found = index.lookup(query, slot)
        assert set(found.track_slots.tolist()) <= {slot}
        got = sorted(zip(found.track_frames.tolist(), found.query_rows.tolist()))
        assert got == sorted((frame, row) for s, frame, row in zip(every.track_slots.tolist(), every.track_frames.tolist(),
                                                                  every.query_rows.tolist()) if s == slot)
        assert len(got) >= min(5, len(tracks[slot]))


def test_large_catalogs_keep_every_location_bit():
    long_track = Fingerprint(np.array([5, 6], np.uint32), np.array([0, (1 << 22) - 1], np.int32))
    index = Index(list(range(2000)), [Fingerprint(np.zeros(0, np.uint32), np.zeros(0, np.int32))] * 1999 + [long_track])
    found = index.lookup(np.array([6], np.uint32))
    assert found.track_slots.tolist() == [1999] and found.track_frames.tolist() == [(1 << 22) - 1]


def test_catalogs_past_32_bits_of_frames_keep_every_location_bit():
    frames = np.array([0, (1 << 31) - 1], np.int32)  # three tracks of 2**31 frames: 33 bits in all
    index = Index([7, 8, 9], [Fingerprint(np.array([h, h + 1], np.uint32), frames) for h in (10, 20, 30)])
    found = index.lookup(np.array([21, 30], np.uint32))
    assert sorted(zip(found.track_slots.tolist(), found.track_frames.tolist())) == [(1, (1 << 31) - 1), (2, 0)]


def test_hashes_too_common_to_tell_tracks_apart_are_left_out_and_entries_take_about_two_bits_over_their_information():
    rng = np.random.default_rng(5)
    tracks = [Fingerprint(np.concatenate([[77] * 40, some_hashes(rng, 400)]).astype(np.uint32),
                          np.arange(440, dtype=np.int32)) for _ in range(100)]
    index = Index(list(range(100)), tracks)
    assert len(index.lookup(np.array([77], np.uint32)).track_slots) == 0  # 4,000 entries against ~1 a hash
    assert index.lookup(tracks[3].hashes[-1:]).track_slots.tolist() == [3]
    assert index.dropped == 4000
    # 40,000 entries among 10.4 million hash codes x 44,000 frames: 23.4 bits tell them apart.
    # Elias-Fano adds under two and a half; the bucket samples and the track tables (large beside
    # 440-frame tracks) add 1.25 at most.  (Numbered among all 2**25 values HASH_BITS allows, hashes
    # would take 1.7 bits more.)
    assert index.nbytes * 8 <= 40_000 * (23.4 + 2.5 + 1.25)


def test_hashes_with_a_cell_no_pair_fills_find_nothing():
    # A query hash shifted for a speed hypothesis, or moved to a neighbouring time cell, can leave the
    # cells that pairs fill: it has no code, and no entry.
    anchors, ratios, products = HASH_CELLS
    track = Fingerprint(np.array([hash_of(anchors - 1, ratios - 1, products - 1)], np.uint32), np.array([5], np.int32))
    index = Index([1], [track])
    outside = [hash_of(anchors, 0, 0), hash_of(0, ratios, 0), hash_of(0, 0, products)]
    found = index.lookup(np.array([*outside, track.hashes[0]], np.uint32))
    assert found.query_rows.tolist() == [3] and found.track_frames.tolist() == [5]


def test_an_empty_catalog_finds_nothing():
    index = Index([], [])
    assert len(index.lookup(np.array([1, 2], np.uint32)).track_slots) == 0


def test_tracks_of_a_few_frames_or_none_are_told_apart():
    # Blocks of at least 64 frames hold several of these tracks' starts: a location steps on to its own.
    frames = [[], [0], [0, 4], [0, 1, 2], [], [0, 199], [3]]
    tracks = [Fingerprint(np.full(len(f), 42, np.uint32), np.array(f, np.int32)) for f in frames]
    found = Index(list(range(len(tracks))), tracks).lookup(np.array([42], np.uint32))
    got = sorted(zip(found.track_slots.tolist(), found.track_frames.tolist()))
    assert got == sorted((slot, frame) for slot, f in enumerate(frames) for frame in f)


def test_long_runs_of_entries_and_hashes_across_two_buckets_are_found_whole():
    # Twenty hashes of thirty entries each let a hash keep 70 (too many for one read of a bucket's run),
    # and some hashes' keys straddle the boundary between two buckets.
    rng = np.random.default_rng(11)
    frames = 5_000

    def catalog(hashes: list[int], counts: list[int]) -> list[Fingerprint]:
        entries = np.repeat(hashes, counts)
        track = rng.integers(0, 4, len(entries))
        return [Fingerprint(entries[track == t].astype(np.uint32),
                            np.append(rng.integers(0, frames - 1, int((track == t).sum()) - 1), frames - 1).astype(np.int32))
                for t in range(4)]

    counts = [70] + [30] * 20 + [8] * 4
    layout = Index(list(range(4)), catalog(list(range(1, len(counts) + 1)), counts))
    # A hash's keys are its code x catalog frames + frame, filed by bucket (key >> low bits), where a
    # code numbers the hash's cells and is mixed one to one: undo both for codes whose keys cross a
    # bucket boundary.
    bucket, span = 1 << layout._low_bits, layout._frames
    unmix = pow(_MIX, -1, _CODES)
    _, ratios, products = HASH_CELLS

    def hash_of_code(code: int) -> int:
        dense = code * unmix % _CODES
        return hash_of(dense // (ratios * products), dense // products % ratios, dense % products)

    straddling = [hash_of_code((c * bucket) // span) for c in range(1, 200)
                  if (c * bucket) % span and (c * bucket) // span < _CODES][:4]
    hashes = list(range(1, len(counts) - 3)) + straddling
    tracks = catalog(hashes, counts)
    index = Index(list(range(4)), tracks)
    assert (index._low_bits, index._frames, index.dropped) == (layout._low_bits, layout._frames, 0)
    found = index.lookup(np.array(hashes, np.uint32))
    got = sorted(zip(found.track_slots.tolist(), found.track_frames.tolist(), found.query_rows.tolist()))
    expected = sorted((slot, int(frame), row) for row, q_hash in enumerate(hashes)
                      for slot, fp in enumerate(tracks) for h, frame in zip(fp.hashes, fp.frames) if h == q_hash)
    assert got == expected and len(got) == sum(counts)
    for slot in range(4):
        mine = index.lookup(np.array(hashes, np.uint32), slot)
        assert sorted(zip(mine.track_slots.tolist(), mine.track_frames.tolist(), mine.query_rows.tolist())) == [
            hit for hit in expected if hit[0] == slot]
