import numpy as np

from detection.audio import resample
from detection.fingerprint import FRAME_SECONDS, fingerprint
from detection.match import match
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
