import numpy as np

from detection.audio import ANALYSIS_RATE
from detection.windows import HOP_SECONDS, WINDOW_SECONDS, Windower

RATE = 16000


def chunk(seconds=2.0):
    return np.random.default_rng(0).standard_normal(int(seconds * RATE)).astype(np.float32) * 0.1


def push_all(windower, starts, session="s", **flags):
    windows = []
    for start in starts:
        windows += windower.push(start, chunk(), RATE, session, **flags)
    return windows


# The resampler holds back a few milliseconds until it sees more input, so a window is emitted once
# audio a little past its end has arrived.

def test_windows_overlap_and_are_timed_in_station_time():
    windows = push_all(Windower(), [100 + 2 * i for i in range(9)])  # 18 s of audio
    assert [w.start_at for w in windows] == [100, 104, 108]
    assert all(len(w.samples) == WINDOW_SECONDS * ANALYSIS_RATE for w in windows)
    assert windows[1].start_at - windows[0].start_at == HOP_SECONDS


def test_redelivered_chunks_of_the_same_session_are_skipped():
    windower = Windower()
    first = push_all(windower, [0, 2, 4, 6, 8, 10])
    again = push_all(windower, [6, 8, 10])
    later = push_all(windower, [12, 14])
    assert [w.start_at for w in first] == [0]
    assert again == []
    assert [(w.start_at, w.discontinuity) for w in later] == [(4, False)]


def test_a_gap_in_station_time_starts_a_flagged_segment():
    windower = Windower()
    push_all(windower, [0, 2, 4, 6])
    after_gap = push_all(windower, [20, 22, 24, 26, 28])
    assert [(w.start_at, w.discontinuity) for w in after_gap] == [(0, False), (20, True)]


def test_a_new_session_at_earlier_times_is_processed_as_new_audio():
    windower = Windower()
    push_all(windower, [0, 2, 4, 6, 8, 10])
    replay = push_all(windower, [0, 2, 4, 6, 8], session="replay")
    assert [(w.start_at, w.session, w.discontinuity) for w in replay] == [(4, "s", False), (0, "replay", True)]


def test_the_final_chunk_flushes_the_tail():
    windower = Windower()
    windows = push_all(windower, [0, 2, 4])
    windows += windower.push(6, chunk(1.0), RATE, "s", final=True)
    assert windows[-1].final and windows[-1].end_at == 7.0
