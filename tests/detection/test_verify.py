import numpy as np

from detection.audio import ANALYSIS_RATE, resample
from detection.fingerprint import catalog_fingerprint, find_peaks, spectrogram
from detection.verify import _edge, heard_back, heard_on
from synth.music import babble, song
from tests.conftest import RATE


def rms(samples):
    return float(np.sqrt(np.mean(samples ** 2)))


def under_talk(music, gain, seed):
    talk = babble(seed, len(music) / RATE, RATE)[:len(music)]
    return music + talk * rms(music) / rms(talk) * gain


def station(before, track_audio):
    """`before`, then the track's audio: the station's samples at the analysis rate, and when the track starts."""
    return resample(np.concatenate([before, track_audio]), RATE), len(before) / RATE


def test_prominent_peaks_are_landmark_peaks_louder_than_any_other_near_them():
    samples = resample(song(3, 20, RATE), RATE)
    spec = spectrogram(samples)
    landmarks = find_peaks(spec)
    _, prominent = catalog_fingerprint(samples)
    whole = set(zip(np.round(landmarks.frames).astype(int), np.round(landmarks.bins).astype(int)))
    kept = list(zip(prominent.frames.astype(int), prominent.bins.astype(int)))
    assert 5 * 20 < len(kept) < len(whole) / 2 and set(kept) <= whole
    for frame, bin_ in kept[::7]:
        assert bin_ >= 64
        rivals = [spec[f, b] for f, b in whole
                  if abs(f - frame) <= 10 and abs(b - bin_) <= 20 and (f, b) != (frame, bin_)]
        assert all(spec[frame, bin_] >= level for level in rivals)


def test_a_song_under_talk_is_heard_back_to_its_start_from_its_prominent_peaks(catalog_songs, catalog_index):
    # 8 s of another song, then track 4 with the DJ talking 6 dB over its first 8 s: hashes first hear
    # it at 8 s in (where the talk ends); its peaks show through the talk.
    intro = under_talk(catalog_songs[4][:8 * RATE], 2.0, 21)
    samples, start = station(song(501, 8, RATE), np.concatenate([intro, catalog_songs[4][8 * RATE:12 * RATE]]))
    # The line: the track's offset 0 airs at `start` (here in station time, the samples starting at 100 s).
    assert abs(heard_back(catalog_index, spectrogram(samples), 100.0, (4, 100.0 + start, 1.0), 100.0 + start + 8.0)
               - (100.0 + start)) < 1.0
    # A line not aired there (the same track a few seconds off, another track) is not heard back.
    for other in [(4, start + 3.5, 1.0), (7, start, 1.0)]:
        assert heard_back(catalog_index, spectrogram(samples), 0.0, other, start + 8.0) == start + 8.0


def test_a_line_is_not_heard_back_into_talk_or_another_song_before_it(catalog_songs, catalog_index):
    for before in [song(502, 10, RATE), babble(22, 10, RATE) * 0.1]:
        samples, start = station(before, catalog_songs[9][:10 * RATE])
        assert abs(heard_back(catalog_index, spectrogram(samples), 0.0, (9, start, 1.0), start + 6.0) - start) < 1.0
        assert heard_back(catalog_index, spectrogram(samples), 0.0, (9, start, 1.0), start + 6.0) > start - 0.5


def test_a_song_under_talk_is_heard_on_to_its_end_and_no_further(catalog_songs, catalog_index):
    # Track 6's last 8 s under talk 6 dB over it, then another song: hashes last hear it where the talk
    # begins.
    body = catalog_songs[6][:12 * RATE].copy()
    body[4 * RATE:] = under_talk(body[4 * RATE:], 2.0, 23)
    samples = resample(np.concatenate([body, song(503, 8, RATE)]), RATE)
    assert abs(heard_on(catalog_index, spectrogram(samples), 0.0, (6, 0.0, 1.0), 4.0) - 12.0) < 1.0
    for other in [(6, -3.5, 1.0), (3, 0.0, 1.0)]:
        assert heard_on(catalog_index, spectrogram(samples), 0.0, other, 4.0) == 4.0


def test_the_edge_within_the_furthest_second_heard_is_where_chance_takes_over():
    # Seven peaks the song shows (six of them), then seven where only chance shows some: the edge is the
    # song's last, not chance's furthest.
    shows = np.array([1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0], bool)
    assert _edge(np.arange(14.0), shows, 0.4) == 6.0
    assert _edge(np.arange(14.0), np.ones(14, bool), 0.4) == 13.0  # heard through the whole second
