import numpy as np
from scipy.ndimage import maximum_filter1d

from detection.audio import ANALYSIS_RATE
from detection.fingerprint import (N_FFT, Fingerprint, Peaks, _running_max, find_peaks, fingerprint, pair_gaps, pair_peaks,
                                  set_cells, spectrogram, with_time_neighbours)


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


def pair(target_frame: float, anchor_bin: float = 100.0, target_bin: float = 120.0) -> Fingerprint:
    return pair_peaks(Peaks(np.array([10.0, target_frame], np.float32), np.array([anchor_bin, target_bin], np.float32)))


def test_time_neighbours_hold_the_hash_of_a_pair_whose_target_came_a_little_late():
    on_time, late = pair(30.0), pair(30.3)
    assert late.hashes[0] != on_time.hashes[0]
    neighbours = with_time_neighbours(on_time)
    assert late.hashes[0] in neighbours.hashes
    # Only the time x frequency cell moves, one either way; the anchor and its frame stay.
    assert sorted(neighbours.hashes.astype(np.int64) - int(on_time.hashes[0])) == [-1, 0, 1]
    assert set(neighbours.frames) == {10}


def test_time_neighbours_stop_at_the_ends_of_the_cell_range():
    # A pair as close in time and as low as pairs go sits in the first cell: nothing below it, and a
    # step below would borrow from the frequency-ratio cell.
    closest = pair(13.0, 12.0, 14.0)
    neighbours = with_time_neighbours(closest)
    assert len(neighbours) == 2 and sorted(neighbours.hashes - closest.hashes[0]) == [0, 1]


def test_a_spectrogram_whose_first_frames_are_known_computes_only_the_rest_and_matches_the_whole():
    samples = np.random.default_rng(5).standard_normal(8 * ANALYSIS_RATE).astype(np.float32)
    whole = spectrogram(samples)
    assert np.array_equal(spectrogram(samples, whole[:100]), whole)
    marked = whole[:100] + 1.0  # frames passed in are taken as they are, not recomputed
    assert np.array_equal(spectrogram(samples, marked)[:100], marked)
    assert np.array_equal(spectrogram(samples, marked)[100:], whole[100:])


def test_set_cells_are_numpy_s_nonzero_row_by_row():
    mask = np.random.default_rng(2).random((37, 53)) < 0.1
    rows, columns = set_cells(mask)
    assert [rows.tolist(), columns.tolist()] == [part.tolist() for part in np.nonzero(mask)]
    assert [part.tolist() for part in set_cells(mask.T)] == [part.tolist() for part in np.nonzero(mask.T)]
