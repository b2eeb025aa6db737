import numpy as np
from scipy.ndimage import maximum_filter1d

from detection.audio import ANALYSIS_RATE
from detection.fingerprint import N_FFT, Peaks, _running_max, find_peaks, fingerprint, pair_gaps, pair_peaks, spectrogram


def test_running_max_is_a_sliding_maximum_with_nothing_past_the_ends():
    values = np.random.default_rng(0).standard_normal((30, 200)).astype(np.float32)
    for span in (1, 3, 17, 31):
        expected = maximum_filter1d(values, span, axis=1, mode="constant", cval=-np.inf)
        assert np.array_equal(_running_max(values, span), expected)


def test_peaks_are_placed_between_bins():
    seconds = np.arange(4 * ANALYSIS_RATE) / ANALYSIS_RATE
    for hz in (440.0, 1234.5):
        tone = (0.5 * np.sin(2 * np.pi * hz * seconds)).astype(np.float32)
        peaks = find_peaks(spectrogram(tone))
        assert len(peaks.bins) > 0
        # A Hann window's main lobe is a parabola near its top in dB: within a tenth of a bin.
        assert np.abs(peaks.bins * ANALYSIS_RATE / N_FFT - hz).max() < 0.1 * ANALYSIS_RATE / N_FFT


def test_silence_has_no_fingerprint():
    assert len(fingerprint(np.zeros(8 * ANALYSIS_RATE, np.float32))) == 0


def test_a_hash_tells_how_far_its_target_lies_from_its_anchor():
    for gap, anchor_bin, target_bin in ((4.0, 20.0, 30.0), (20.0, 100.0, 120.0), (55.0, 300.0, 250.0)):
        pair = pair_peaks(Peaks(np.array([10.0, 10.0 + gap], np.float32), np.array([anchor_bin, target_bin], np.float32)))
        assert len(pair) == 1
        assert abs(pair_gaps(pair.hashes)[0] - gap) <= 0.03 * gap
