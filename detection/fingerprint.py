"""Landmark fingerprints: spectral peaks paired into hashes (Wang, 2003).

A hash is (anchor frequency, target frequency, time between them); pairs of peaks survive noise and
voice-over because a song only needs a fraction of its pairs to stay intact to be found.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy.ndimage import maximum_filter

from detection.audio import ANALYSIS_RATE

N_FFT = 1024
HOP = 256
#: Seconds per spectrogram frame: fingerprint times are frame numbers.
FRAME_SECONDS = HOP / ANALYSIS_RATE

_WINDOW = np.hanning(N_FFT).astype(np.float32)
_LOW_BIN, _HIGH_BIN = 6, 500  # ~47 Hz to ~3.9 kHz
_PEAK_FREQ_SPAN, _PEAK_TIME_SPAN = 31, 17  # neighbourhood in which a peak must be the maximum
_PEAK_MIN_DB_ABOVE_FRAME = 6.0  # a peak must stand out of its frame's median by this much
_SILENCE_DB = -70.0  # frames quieter than this (dBFS-ish) carry no peaks
_FANOUT = 5  # targets paired with each anchor
_TARGET_MAX_FRAMES = 63  # fits 6 bits
_TARGET_MAX_BINS = 127
#: anchor bin (9 bits) | target bin (9 bits) | frames between them (6 bits)
HASH_BITS = 24


@dataclass(frozen=True)
class Fingerprint:
    """Hashes and the frame at which each one's anchor peak sits, sorted by frame."""

    hashes: np.ndarray  # uint32
    frames: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.hashes)


def spectrogram_db(samples: np.ndarray) -> np.ndarray:
    """Log-magnitude STFT, shape (frames, bins)."""
    if len(samples) < N_FFT:
        return np.zeros((0, N_FFT // 2 + 1), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP]
    # scipy.fft keeps float32 (numpy's FFT would widen to float64 and take five times as long).
    spectrum = scipy.fft.rfft(frames * _WINDOW, axis=1)
    return 20.0 * np.log10(np.abs(spectrum) / (N_FFT / 4) + 1e-6)


def find_peaks(spec_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frames and bins of local maxima that stand out of their frame."""
    if spec_db.shape[0] == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    band = spec_db[:, _LOW_BIN:_HIGH_BIN]
    local_max = maximum_filter(band, size=(_PEAK_TIME_SPAN, _PEAK_FREQ_SPAN), mode="constant", cval=-np.inf)
    frame_median = np.median(band, axis=1, keepdims=True)
    is_peak = (band == local_max) & (band > frame_median + _PEAK_MIN_DB_ABOVE_FRAME) & (band > _SILENCE_DB)
    frames, bins = np.nonzero(is_peak)
    return frames.astype(np.int32), (bins + _LOW_BIN).astype(np.int32)


def pair_peaks(frames: np.ndarray, bins: np.ndarray) -> Fingerprint:
    """Pair each anchor with the next peaks in its target zone and pack each pair into 24 bits."""
    n = len(frames)
    if n < 2:
        return Fingerprint(np.zeros(0, np.uint32), np.zeros(0, np.int32))
    order = np.lexsort((bins, frames))
    frames, bins = frames[order], bins[order]
    lookahead = min(8 * _FANOUT, n - 1)
    steps = np.arange(1, lookahead + 1)
    anchor = np.arange(n)[:, None]
    target = anchor + steps[None, :]
    in_range = target < n
    target = np.minimum(target, n - 1)
    dt = frames[target] - frames[anchor]
    df = bins[target] - bins[anchor]
    valid = in_range & (dt >= 1) & (dt <= _TARGET_MAX_FRAMES) & (np.abs(df) <= _TARGET_MAX_BINS)
    # keep the first _FANOUT valid targets of each anchor
    valid &= np.cumsum(valid, axis=1) <= _FANOUT
    a_idx, t_pos = np.nonzero(valid)
    t_idx = target[a_idx, t_pos]
    hashes = (
        (bins[a_idx].astype(np.uint32) << 15)
        | (bins[t_idx].astype(np.uint32) << 6)
        | dt[a_idx, t_pos].astype(np.uint32)
    )
    return Fingerprint(hashes.astype(np.uint32), frames[a_idx].astype(np.int32))


def fingerprint(samples: np.ndarray) -> Fingerprint:
    """Fingerprint mono float32 samples at ANALYSIS_RATE."""
    return pair_peaks(*find_peaks(spectrogram_db(np.asarray(samples, dtype=np.float32))))
