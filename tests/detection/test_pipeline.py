import numpy as np

from detection.fingerprint import fingerprint
from detection.match import match
from detection.pipeline import chunk_recording, scan
from synth.music import babble, song
from tests.conftest import RATE


def silence(seconds):
    return np.zeros(int(seconds * RATE), np.float32)


def test_broadcast_yields_one_play_per_airing_with_boundaries(catalog_songs, catalog_index):
    start = 1_700_000_000.0
    parts = [silence(5), catalog_songs[2], babble(1, 10, RATE), song(77, 30, RATE),
             catalog_songs[5][10 * RATE:40 * RATE], silence(3)]
    broadcast = np.concatenate(parts)
    plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, start, 2.0)))
    assert [p.track_id for p in plays] == [2, 5]
    first, second = plays
    assert abs(first.start_at - (start + 5)) < 1.0 and abs(first.end_at - (start + 65)) < 1.0
    assert abs(second.start_at - (start + 105)) < 1.0 and abs(second.end_at - (start + 135)) < 1.0
    assert abs(second.track_offset_start_s - 10) < 1.0


def test_same_track_aired_twice_back_to_back_is_two_plays(catalog_songs, catalog_index):
    broadcast = np.concatenate([catalog_songs[6][:30 * RATE], catalog_songs[6][:30 * RATE]])
    plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
    assert [p.track_id for p in plays] == [6, 6]
    assert abs(plays[0].start_at - 0) < 1.0 and abs(plays[1].start_at - 30) < 1.0


def test_chunk_size_does_not_change_plays(catalog_songs, catalog_index):
    broadcast = np.concatenate([silence(2), catalog_songs[8][:40 * RATE], silence(2)])
    a = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
    b = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 4.0)))
    assert len(a) == len(b) == 1
    assert abs(a[0].start_at - b[0].start_at) < 0.5 and abs(a[0].end_at - b[0].end_at) < 0.5


def test_a_talk_over_intro_too_loud_to_match_still_dates_the_start_of_the_play(catalog_songs, catalog_index):
    intro = catalog_songs[4][:10 * RATE].copy()
    talk = babble(9, 10, RATE)
    rms = lambda x: float(np.sqrt(np.mean(x ** 2)))  # noqa: E731
    intro += talk * rms(intro) / rms(talk) * 1.4  # the DJ talks 3 dB over the first 10 s of the song
    # The last 8 s of the talk-over do not match on their own (the play would start 6.7 s late)...
    assert match(catalog_index, fingerprint(intro[2 * RATE:])) is None
    broadcast = np.concatenate([silence(6), intro, catalog_songs[4][10 * RATE:40 * RATE], silence(3)])
    plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
    # ...but they leave a hint that dates the start of the airing the next windows confirm.
    assert [p.track_id for p in plays] == [4]
    assert abs(plays[0].start_at - 6.0) < 3.0 and abs(plays[0].end_at - 46.0) < 1.0
