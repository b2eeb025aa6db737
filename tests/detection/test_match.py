from dataclasses import replace

import numpy as np
import pytest

from detection.audio import ANALYSIS_RATE, resample
from detection.index import Index
from detection.fingerprint import ECHO, FRAME_SECONDS, HOP, catalog_fingerprint, fingerprint
from detection.match import (LastLookup, Match, _Line, _extent, _hits, _unlikely_count, calibrated_confidence, echo, match,
                             read_line)
from synth.music import babble, song
from tests.conftest import RATE


def query(samples):
    return fingerprint(resample(samples, RATE))


def test_excerpt_matches_its_track_and_offset(catalog_songs, catalog_index):
    excerpt = catalog_songs[3][20 * RATE:28 * RATE]
    found = match(catalog_index, query(excerpt))
    assert found is not None
    assert found.track_id == 3
    assert abs(found.track_offset_s - 20.0) <= 2 * FRAME_SECONDS


def rms(samples):
    return float(np.sqrt(np.mean(samples ** 2)))


def test_excerpt_under_talk_over_and_noise_still_matches(catalog_songs, catalog_index):
    rng = np.random.default_rng(1)
    excerpt = catalog_songs[7][30 * RATE:38 * RATE]
    talk = babble(2, 8, RATE)
    noise = rng.standard_normal(len(excerpt)).astype(np.float32)
    # talk at 0 dB music-to-speech, noise 10 dB below the music
    noisy = excerpt + talk * rms(excerpt) / rms(talk) + noise * rms(excerpt) / rms(noise) / 10 ** 0.5
    found = match(catalog_index, query(noisy))
    assert found is not None and found.track_id == 7


def test_unregistered_music_speech_and_silence_do_not_match(catalog_index):
    assert match(catalog_index, query(song(999, 8, RATE))) is None
    assert match(catalog_index, query(babble(5, 8, RATE))) is None
    assert match(catalog_index, query(np.zeros(8 * RATE, np.float32))) is None


def test_same_song_at_another_sample_rate_matches(catalog_songs, catalog_index):
    at_44k = resample(catalog_songs[4][10 * RATE:18 * RATE], RATE, 44100)
    found = match(catalog_index, fingerprint(resample(at_44k, 44100)))
    assert found is not None and found.track_id == 4


@pytest.mark.parametrize("speed", [0.95, 0.96, 0.98, 0.995, 1.01, 1.03, 1.05])
def test_a_resampled_song_matches_with_its_speed_and_offset(catalog_songs, catalog_index, speed):
    # Played `speed` times as fast: pitch and tempo together, as a station resampling a song does.
    excerpt = catalog_songs[6][30 * RATE:40 * RATE]
    aired = resample(excerpt, RATE, int(RATE / speed))[:8 * RATE]
    found = match(catalog_index, query(aired))
    assert found is not None and found.track_id == 6
    assert abs(found.speed - speed) < 0.005
    assert abs(found.track_offset_s - 30.0) <= 2 * FRAME_SECONDS


def test_a_faster_song_under_noise_and_talk_over_still_matches(catalog_songs, catalog_index):
    rng = np.random.default_rng(4)
    aired = resample(catalog_songs[9][10 * RATE:20 * RATE], RATE, int(RATE / 1.04))[:8 * RATE]
    talk = babble(3, 8, RATE)
    pink = np.cumsum(rng.standard_normal(len(aired))).astype(np.float32)
    pink -= np.convolve(pink, np.ones(400) / 400, mode="same")  # brown noise, high-passed: roughly pink
    noisy = aired + talk * rms(aired) / rms(talk) + pink * rms(aired) / rms(pink) / 10 ** 0.5
    found = match(catalog_index, query(noisy))
    assert found is not None and found.track_id == 9 and abs(found.speed - 1.04) < 0.01


def test_unregistered_songs_at_any_speed_do_not_match(catalog_index):
    for seed, speed in ((500, 1.0), (501, 0.96), (502, 1.04), (503, 0.98)):
        aired = resample(song(seed, 10, RATE), RATE, int(RATE / speed))[:8 * RATE]
        assert match(catalog_index, query(aired)) is None


@pytest.mark.parametrize("speed", [1.07, 1.08])
def test_a_song_played_faster_than_any_station_plays_does_not_match(catalog_songs, catalog_index, speed):
    # No playout changes speed by 7%; a line that steep is another song with a similar pattern of
    # notes at another tempo (an unregistered song matched a catalog song so at 1.07).
    aired = resample(catalog_songs[6][30 * RATE:40 * RATE], RATE, int(RATE / speed))[:8 * RATE]
    assert match(catalog_index, query(aired)) is None


def test_a_known_line_under_talk_too_loud_to_match_is_read_in_a_dense_fingerprint(catalog_songs, catalog_index):
    intro = catalog_songs[10][:8 * RATE]
    talk = babble(9, 8, RATE)
    aired = intro + talk * rms(intro) / rms(talk) * 3.0  # the DJ 10 dB over the song's first 8 s
    assert match(catalog_index, query(aired)) is None
    dense = fingerprint(resample(aired, RATE), ECHO)
    heard = echo(catalog_index, dense, Match(10, 0.0, 1.0, 0, 0.0, 0.0, 0.0))
    assert heard is not None and heard.track_id == 10 and heard.first_hit_s < 1.0
    # The same hashes say nothing of another alignment or another track.
    assert echo(catalog_index, dense, Match(10, 20.0, 1.0, 0, 0.0, 0.0, 0.0)) is None
    assert echo(catalog_index, dense, Match(3, 0.0, 1.0, 0, 0.0, 0.0, 0.0)) is None


def test_time_neighbours_read_more_of_a_sped_up_line_under_talk(catalog_songs, catalog_index):
    # Resampled and talked over, the music's peaks move by fractions of a frame, and many of its pairs
    # fall into the next time x frequency cell.
    intro = resample(catalog_songs[2][:9 * RATE], RATE, int(RATE / 1.03))[:8 * RATE]
    talk = babble(9, 8, RATE)
    dense = fingerprint(resample(intro + talk * rms(intro) / rms(talk) * 6.0, RATE), ECHO)
    known = Match(2, 0.0, 1.03, 0, 0.0, 0.0, 0.0)
    exact, widened = read_line(catalog_index, dense, known), read_line(catalog_index, dense, known, time_neighbours=True)
    assert widened.heard is not None and len(widened.hits) >= 1.4 * len(exact.hits)
    # The extra lookups hear no more of another alignment than the exact ones do.
    elsewhere = Match(2, 20.0, 1.03, 0, 0.0, 0.0, 0.0)
    assert read_line(catalog_index, dense, elsewhere, time_neighbours=True).heard is None


def test_a_line_is_echoed_only_with_more_hits_than_chance_would_put_on_it():
    assert _unlikely_count(0.0, 1e-4) == 1
    assert _unlikely_count(0.02, 1e-4) == 3  # P(X >= 3) ~ 1.3e-6, P(X >= 2) ~ 2e-4
    assert _unlikely_count(2.0, 1e-4) == 10  # P(X >= 10) ~ 4.6e-5, P(X >= 9) ~ 2.4e-4


def test_a_line_s_extent_runs_between_hits_that_chance_would_not_put_so_close():
    # Hits every half second from 1 to 4 s, then two 1.5 s apart at 7.5 and 9 s (anchors; each
    # target 0.5 s later).  Any two hits within 2 s make a run; where a dense read puts more chance
    # hits on the line, a run needs more, and the lone pair no longer stretches the line to 9.5 s.
    seconds = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 7.5, 9.0])
    line = _Line(0, 1.0, 0.0, seconds / FRAME_SECONDS, (seconds + 0.5) / FRAME_SECONDS)
    assert np.allclose(_extent(line), (1.0, 9.5))
    assert np.allclose(_extent(line, together=3), (1.0, 4.5))
    # With no run at all, the whole line.
    assert np.allclose(_extent(replace(line, hits=line.hits[[0, 8]], ends=line.ends[[0, 8]]), together=3), (1.0, 9.5))


def test_confidence_grows_with_the_score_and_falls_with_the_size_of_the_catalog():
    assert 0 <= calibrated_confidence(12, 100) < calibrated_confidence(20, 100) < calibrated_confidence(40, 100) <= 1
    assert calibrated_confidence(20, 1000) < calibrated_confidence(20, 10)
    assert calibrated_confidence(200, 1000) > 0.999


def test_a_match_reports_the_calibrated_confidence_of_its_score(catalog_songs, catalog_index):
    clean = match(catalog_index, query(catalog_songs[3][20 * RATE:28 * RATE]))
    assert clean.confidence == round(calibrated_confidence(clean.score, catalog_index.track_count), 6)
    assert clean.confidence > 0.99



def same_hits(a, b) -> bool:
    return all(np.array_equal(getattr(a, name), getattr(b, name)) for name in a.__dataclass_fields__)


def test_the_next_window_of_a_stream_reads_only_the_hashes_it_does_not_share_with_the_last(
        catalog_songs, catalog_index, monkeypatch):
    audio = resample(np.concatenate([catalog_songs[4][:20 * RATE], catalog_songs[7][:20 * RATE]]), RATE)
    hop = 125 * HOP  # windows 4 s apart, as the pipeline cuts them
    rows_read, plain_lookup = [], catalog_index.lookup

    def counted(row_hashes, slot=None):
        rows_read.append(len(row_hashes))
        return plain_lookup(row_hashes, slot)

    last = LastLookup(125)
    for start in range(0, len(audio) - 2 * hop + 1, hop):
        window = fingerprint(audio[start:start + 2 * hop])
        monkeypatch.setattr(catalog_index, "lookup", counted)
        remembered, plain = _hits(catalog_index, window, last=last), _hits(catalog_index, window)
        monkeypatch.setattr(catalog_index, "lookup", plain_lookup)
        assert same_hits(remembered, plain)  # the very same hits, in the same order
    rows_read, rows_asked = rows_read[0::2], rows_read[1::2]
    assert len(rows_read) == 9 and rows_read[0] == rows_asked[0]
    # Every later window finds a long run of the last one's hashes, and reads the rest only.
    assert all(read < 0.85 * asked for read, asked in zip(rows_read[1:], rows_asked[1:])), (rows_read, rows_asked)
    assert sum(rows_read[1:]) < 0.8 * sum(rows_asked[1:])


def test_windows_that_do_not_go_on_from_the_last_get_the_hits_of_a_plain_lookup(catalog_songs, catalog_index):
    last = LastLookup(125)
    for song_id, start in ((2, 0), (2, 3), (5, 10), (5, 30), (5, 34), (5, 34)):
        window = query(catalog_songs[song_id][start * RATE:(start + 8) * RATE])
        assert same_hits(_hits(catalog_index, window, last=last), _hits(catalog_index, window))


def test_a_window_after_the_catalog_changed_reads_the_new_index_afresh(catalog_songs, catalog_index):
    # The worker rebuilds its index when the catalog changes: slots then name other tracks.
    reordered = Index(catalog_index.track_ids[::-1].tolist(),
                      [catalog_fingerprint(resample(catalog_songs[int(i)], RATE))[0] for i in catalog_index.track_ids[::-1]])
    audio = resample(catalog_songs[6][:12 * RATE], RATE)
    last = LastLookup(125)
    _hits(catalog_index, fingerprint(audio[:8 * ANALYSIS_RATE]), last=last)
    window = fingerprint(audio[4 * ANALYSIS_RATE:12 * ANALYSIS_RATE])
    assert same_hits(_hits(reordered, window, last=last), _hits(reordered, window))
