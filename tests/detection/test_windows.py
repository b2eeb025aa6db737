import numpy as np

from detection.audio import ANALYSIS_RATE
from detection.windows import HOP_SECONDS, MAX_HELD_CHUNKS, WINDOW_SECONDS, Chunk, Windower

RATE = 16000


def chunk(start, seq, session="s", seconds=2.0, **flags):
    samples = np.random.default_rng(seq).standard_normal(int(seconds * RATE)).astype(np.float32) * 0.1
    return Chunk(start, samples, RATE, session, seq, **flags)


def push_all(windower, chunks):
    return [window for c in chunks for window in windower.push(c)]


def stream(first_seq, last_seq, session="s", t0=0.0):
    return [chunk(t0 + 2 * seq, seq, session) for seq in range(first_seq, last_seq + 1)]


# The resampler holds back a few milliseconds until it sees more input, so a window is emitted once
# audio a little past its end has arrived.

def test_windows_overlap_and_are_timed_in_station_time():
    windows = push_all(Windower(), stream(0, 8, t0=100))  # 18 s of audio
    assert [w.start_at for w in windows] == [100, 104, 108]
    assert all(len(w.samples) == WINDOW_SECONDS * ANALYSIS_RATE for w in windows)
    assert windows[1].start_at - windows[0].start_at == HOP_SECONDS


def test_redelivered_chunks_of_the_same_session_are_skipped():
    windower = Windower()
    first = push_all(windower, stream(0, 5))
    again = push_all(windower, stream(3, 5))
    later = push_all(windower, stream(6, 7))
    assert [w.start_at for w in first] == [0]
    assert again == []
    assert [(w.start_at, w.discontinuity) for w in later] == [(4, False)]


def test_an_early_chunk_waits_for_the_ones_before_it():
    in_order = push_all(Windower(), stream(0, 9))
    chunks = stream(0, 9)
    shuffled = chunks[:4] + [chunks[7]] + chunks[4:7] + chunks[7:]  # 7 early, then again in place
    reordered = push_all(Windower(), shuffled)
    assert [(w.start_at, w.discontinuity) for w in reordered] == [(w.start_at, w.discontinuity) for w in in_order]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(in_order, reordered))


def test_chunks_lost_in_delivery_are_bridged_without_a_discontinuity():
    chunks = stream(0, 4 + MAX_HELD_CHUNKS + 6)
    windows = push_all(Windower(), chunks[:3] + chunks[5:])  # seq 3 and 4 never arrive
    assert [(w.start_at, w.discontinuity) for w in windows] == [(0, False), (10, False), (14, False), (18, False), (22, False)]


def test_the_final_chunk_releases_what_is_held():
    chunks = stream(0, 8)
    final = chunk(18, 9, seconds=1.0, final=True)
    windows = push_all(Windower(), chunks[:5] + chunks[6:] + [final])  # seq 5 never arrives
    assert windows[-1].final and windows[-1].end_at == 19.0


def test_a_declared_break_starts_a_flagged_segment():
    windower = Windower()
    push_all(windower, stream(0, 3))
    after_gap = push_all(windower, [chunk(20 + 2 * i, 4 + i, discontinuity=i == 0) for i in range(5)])
    assert [(w.start_at, w.discontinuity) for w in after_gap] == [(0, False), (20, True)]


def test_a_new_session_at_earlier_times_is_processed_as_new_audio():
    windower = Windower()
    push_all(windower, stream(0, 5))
    replay = push_all(windower, stream(0, 4, session="replay"))
    assert [(w.start_at, w.session, w.discontinuity) for w in replay] == [(4, "s", False), (0, "replay", True)]


def test_the_final_chunk_flushes_the_tail():
    windower = Windower()
    windows = push_all(windower, stream(0, 2))
    windows += windower.push(chunk(6, 3, seconds=1.0, final=True))
    assert windows[-1].final and windows[-1].end_at == 7.0


def test_a_small_clock_correction_moves_later_windows_without_a_break():
    chunks = [chunk(2.0 * i + (0.1 if i >= 6 else 0.0), i) for i in range(12)]
    windows = push_all(Windower(), chunks)
    assert not any(w.discontinuity for w in windows[1:])
    # The second window is emitted after the correction arrived, so it is timed on the corrected clock.
    assert np.allclose([w.start_at for w in windows], [0.0, 4.1, 8.1, 12.1])


def test_windows_carry_the_station_title_of_their_latest_chunk():
    chunks = [chunk(2.0 * i, i, icy_title="Old - Song" if i < 5 else "New - Song") for i in range(12)]
    windows = push_all(Windower(), chunks)
    assert [w.icy_title for w in windows] == ["Old - Song", "New - Song", "New - Song", "New - Song"]
