"""Landmark fingerprints that survive a change of speed: spectral peaks paired into hashes.

Pairs of peaks survive noise and voice-over because a song only needs a fraction of its pairs to stay
intact to be found (Wang, 2003).  Stations speed songs up or slow them down by resampling, which
multiplies every frequency by the speed factor s and divides every time by it.  So each pair is
hashed on log-frequency terms (as Panako does):

- the anchor's frequency on a log scale, where a speed change is a plain shift by log2(s);
- the target's frequency relative to the anchor's (a ratio, unchanged by speed);
- the time between them times the anchor's frequency (a product, unchanged by speed).

The matcher then looks each query hash up under a few anchor shifts, one per speed hypothesis, and
the shift that finds a track tells the speed.  Peak positions are refined below the bin and the
frame, because log cells are finer than a low bin is wide.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft

from detection.audio import ANALYSIS_RATE

#: Which hashing this module makes; stored beside each catalog fingerprint (scheme 1 hashed exact bins).
SCHEME = 2

N_FFT = 1024
HOP = 256
#: Seconds per spectrogram frame: fingerprint times are frame numbers.
FRAME_SECONDS = HOP / ANALYSIS_RATE

_WINDOW = np.hanning(N_FFT).astype(np.float32)
#: A whole recording goes through the spectrogram and peak picking in blocks of this many frames,
#: which stay in cache: a third faster than in one piece.
_BLOCK_FRAMES = 256
_LOW_BIN, _HIGH_BIN = 12, 500  # ~94 Hz to ~3.9 kHz
_ABOVE_FRAME_RATIO = np.float32(10 ** (6.0 / 20))  # a peak must stand 6 dB out of its frame's median
_SILENCE_MAGNITUDE = np.float32(10 ** (-70.0 / 20))  # quieter than -70 dBFS-ish carries no peaks
_TARGET_MIN_FRAMES, _TARGET_MAX_FRAMES = 3.0, 63.0  # closer pairs time too coarsely to hash
_TARGET_MAX_OCTAVES = 1.5  # how far above or below its anchor a target may lie
#: The longest a pair lasts: audio this far past a stretch's end completes every pair anchored in it.
PAIR_SECONDS = _TARGET_MAX_FRAMES * FRAME_SECONDS

#: Anchor cells per octave: one cell is a speed step of 2.2%.
ANCHOR_CELLS_PER_OCTAVE = 32
# The invariant terms are cut as finely as refined peaks stay put: finer cells make rarer hashes
# (fewer chance hits to vote through), coarser ones survive more distortion.  Under a speed change a
# peak's time moves by about a tenth of a frame but its frequency by far less, so time is cut coarser.
_RATIO_CELLS_PER_OCTAVE = 64
_PRODUCT_CELLS_PER_OCTAVE = 32
_RATIO_BITS, _PRODUCT_BITS = 8, 9
_MIN_PRODUCT = _TARGET_MIN_FRAMES * _LOW_BIN
#: anchor cell (8 bits) | frequency ratio (8 bits) | time x frequency product (9 bits)
HASH_BITS = 8 + _RATIO_BITS + _PRODUCT_BITS
#: How many cells of each term (anchor, ratio, product) a pair can fill: peaks lie within the band and
#: targets within their zone, so a third of the numbers HASH_BITS allows are hashes (see hash_cells).
HASH_CELLS = (math.floor(math.log2((_HIGH_BIN - 0.5) / _LOW_BIN) * ANCHOR_CELLS_PER_OCTAVE) + 1,
              round(2 * _TARGET_MAX_OCTAVES * _RATIO_CELLS_PER_OCTAVE),
              math.floor(math.log2(_TARGET_MAX_FRAMES * (_HIGH_BIN - 0.5) / _MIN_PRODUCT) * _PRODUCT_CELLS_PER_OCTAVE) + 1)
#: Adding this to a hash moves its anchor one cell up: the query side of a speed hypothesis.
ANCHOR_STEP = 1 << (_RATIO_BITS + _PRODUCT_BITS)
ANCHOR_CELLS = 1 << 8


@dataclass(frozen=True)
class Fingerprint:
    """Hashes and the frame at which each one's anchor peak sits, sorted by frame."""

    hashes: np.ndarray  # uint32
    frames: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.hashes)


@dataclass(frozen=True)
class Peaks:
    """Spectral peaks with sub-frame times and sub-bin frequencies, in time order."""

    frames: np.ndarray  # float32
    bins: np.ndarray  # float32


@dataclass(frozen=True)
class Density:
    """How many peaks a fingerprint picks (each the maximum of a neighbourhood of bins by frames) and
    how many of the next peaks it pairs each anchor with."""

    freq_span: int
    time_span: int
    fanout: int


#: What the index holds of a catalog recording, and what a window looks up in it.
LANDMARKS = Density(31, 17, 5)
#: A window read again for a line already known (see detection.match.echo): neighbourhoods half the
#: size and 12 targets, so the catalog's pairs are still among its own when louder sounds crowd the
#: music (about three times the hashes).  Denser still reads no more: quarter-size neighbourhoods
#: and 15 targets also put chance hits on the line before a song starts (one synthetic play began
#: 3.5 s early).
ECHO = Density(21, 11, 12)


def spectrogram(samples: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
    """STFT magnitude scaled so that a full-scale sine peaks near 1, shape (frames, bins).

    `known`: its first frames, if known already (the audio a window shares with the one before):
    only the frames after them are computed.
    """
    if len(samples) < N_FFT:
        return np.zeros((0, N_FFT // 2 + 1), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP]
    spec = np.empty((len(frames), N_FFT // 2 + 1), np.float32)
    done = 0 if known is None else min(len(known), len(frames))
    if done:
        spec[:done] = known[:done]
    # scipy.fft keeps float32 (numpy's FFT would widen to float64 and take five times as long).
    for first in range(done, len(frames), _BLOCK_FRAMES):
        block = spec[first:first + _BLOCK_FRAMES]
        np.abs(scipy.fft.rfft(frames[first:first + _BLOCK_FRAMES] * _WINDOW, axis=1), out=block)
        block *= np.float32(4 / N_FFT)
    return spec


def _db(magnitude: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(magnitude + 1e-6)


def _vertex(before: np.ndarray, at: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Where a parabola through three neighbouring values peaks, relative to the middle one."""
    curvature = before - 2 * at + after
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (before - after) / curvature, 0.0)
    return np.clip(shift, -0.5, 0.5).astype(np.float32)


def _running_max(values: np.ndarray, span: int, out: np.ndarray | None = None) -> np.ndarray:
    """The maximum of each row's `span` values centred on each cell (span odd), -inf past the ends
    (written into `out` if given).

    Built by doubling (maxima of 2, 4, 8, ... cells, then two overlapping ones): a few passes of
    np.maximum, several times faster than a sliding-window filter.
    """
    half = span // 2
    padded = np.full((values.shape[0], values.shape[1] + 2 * half), -np.inf, values.dtype)
    padded[:, half:half + values.shape[1]] = values
    width, best = 1, padded
    while 2 * width <= span:
        best = np.maximum(best[:, :-width], best[:, width:])
        width *= 2
    return np.maximum(best[:, :values.shape[1]], best[:, span - width:span - width + values.shape[1]], out=out)


def frame_floors(spec: np.ndarray) -> np.ndarray:
    """What a peak must stand above in each frame: 6 dB over the frame's median magnitude in the band."""
    middle = (_HIGH_BIN - _LOW_BIN) // 2
    return np.partition(spec[:, _LOW_BIN:_HIGH_BIN], middle, axis=1)[:, middle] * _ABOVE_FRAME_RATIO


def find_peaks(spec: np.ndarray, freq_span: int = LANDMARKS.freq_span, time_span: int = LANDMARKS.time_span) -> Peaks:
    """Local maxima that stand out of their frame, refined between bins and frames on a dB scale.

    Picking works on magnitudes (dB order is the same), so only the peaks' neighbours are ever taken
    to dB: the logarithm of the whole spectrogram cost as much as its FFT.
    """
    if spec.shape[0] == 0:
        return Peaks(np.zeros(0, np.float32), np.zeros(0, np.float32))
    band = spec[:, _LOW_BIN:_HIGH_BIN]
    last = spec.shape[0] - 1
    # The neighbourhood maximum is separable: the maximum along frequency everywhere, then along time
    # only at the few cells that are maxima of their frequency span, of their two neighbouring
    # frames, and loud enough.
    along_freq = np.empty_like(band)
    for first in range(0, len(band), _BLOCK_FRAMES):
        _running_max(band[first:first + _BLOCK_FRAMES], freq_span, out=along_freq[first:first + _BLOCK_FRAMES])
    # (The other tests look at the maxima of their frequency span alone, one cell in twenty or so.)
    frames, bins = set_cells(band == along_freq)
    level = band[frames, bins]
    keep = (level > frame_floors(spec)[frames]) & (level > _SILENCE_MAGNITUDE)
    keep &= (frames == 0) | (level >= along_freq[np.maximum(frames - 1, 0), bins])
    keep &= (frames == last) | (level >= along_freq[np.minimum(frames + 1, last), bins])
    frames, bins, level = frames[keep], bins[keep], level[keep]
    rows = frames[:, None] + np.arange(-(time_span // 2), time_span // 2 + 1)
    around = np.where((rows >= 0) & (rows <= last), along_freq[np.clip(rows, 0, last), bins[:, None]], -np.inf)
    keep = level >= around.max(axis=1)
    frames, bins = frames[keep], bins[keep] + _LOW_BIN
    at = _db(spec[frames, bins])
    bin_shift = _vertex(_db(spec[frames, bins - 1]), at, _db(spec[frames, bins + 1]))
    frame_shift = _vertex(_db(spec[np.maximum(frames - 1, 0), bins]), at, _db(spec[np.minimum(frames + 1, last), bins]))
    return Peaks(frames + frame_shift, bins + bin_shift)


def set_cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row and column of every set cell of a 2-D mask, row by row: np.nonzero's answer, several
    times faster than its 2-D path."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def _cell(octaves: np.ndarray, per_octave: int, cells: int) -> np.ndarray:
    """Quantise a log-scale quantity into one of `cells` cells (refined peaks can stray past the band)."""
    return np.clip(np.floor(octaves * per_octave), 0, cells - 1).astype(np.uint32)


def pair_peaks(peaks: Peaks, fanout: int = LANDMARKS.fanout) -> Fingerprint:
    """Pair each anchor with the next peaks in its target zone and pack each pair into HASH_BITS."""
    n = len(peaks.frames)
    if n < 2:
        return Fingerprint(np.zeros(0, np.uint32), np.zeros(0, np.int32))
    order = np.argsort(peaks.frames, kind="stable")
    frames, log_freq = peaks.frames[order], np.log2(peaks.bins[order])
    lookahead = min(8 * fanout, n - 1)
    anchor = np.arange(n)[:, None]
    target = anchor + np.arange(1, lookahead + 1)[None, :]
    in_range = target < n
    target = np.minimum(target, n - 1)
    dt = frames[target] - frames[anchor]
    ratio = log_freq[target] - log_freq[anchor]
    valid = (in_range & (dt >= _TARGET_MIN_FRAMES) & (dt <= _TARGET_MAX_FRAMES)
             & (np.abs(ratio) < _TARGET_MAX_OCTAVES))
    valid &= np.cumsum(valid, axis=1) <= fanout  # the first `fanout` valid targets of each anchor
    a_idx, t_pos = set_cells(valid)
    anchor_log = log_freq[a_idx]
    anchor_cell = _cell(anchor_log - np.log2(_LOW_BIN), ANCHOR_CELLS_PER_OCTAVE, ANCHOR_CELLS)
    ratio_cell = _cell(ratio[a_idx, t_pos] + _TARGET_MAX_OCTAVES, _RATIO_CELLS_PER_OCTAVE, 1 << _RATIO_BITS)
    product_cell = _cell(np.log2(dt[a_idx, t_pos]) + anchor_log - np.log2(_MIN_PRODUCT),
                         _PRODUCT_CELLS_PER_OCTAVE, 1 << _PRODUCT_BITS)
    hashes = (anchor_cell << (_RATIO_BITS + _PRODUCT_BITS)) | (ratio_cell << _PRODUCT_BITS) | product_cell
    return Fingerprint(hashes, np.round(frames[a_idx]).astype(np.int32))


def with_time_neighbours(fp: Fingerprint) -> Fingerprint:
    """The fingerprint with each hash also under the time x frequency cells either side: the hashes its
    pairs would have had with their peaks' times a fraction of a frame off, as noise and talk over the
    music move them."""
    product = fp.hashes & ((1 << _PRODUCT_BITS) - 1)
    down, up = product > 0, product < (1 << _PRODUCT_BITS) - 1
    hashes = np.concatenate([fp.hashes, fp.hashes[down] - 1, fp.hashes[up] + 1])
    frames = np.concatenate([fp.frames, fp.frames[down], fp.frames[up]])
    order = np.argsort(frames, kind="stable")
    return Fingerprint(hashes[order], frames[order])


def hash_cells(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each hash's anchor, ratio and time x frequency product cells (int64)."""
    hashes = hashes.astype(np.int64)
    return (hashes >> (_RATIO_BITS + _PRODUCT_BITS), (hashes >> _PRODUCT_BITS) & ((1 << _RATIO_BITS) - 1),
            hashes & ((1 << _PRODUCT_BITS) - 1))


def pair_gaps(hashes: np.ndarray) -> np.ndarray:
    """Frames from each hash's anchor to its target, read back from the hash's cells (to about 3%)."""
    anchor, _, product = hash_cells(hashes)
    anchor_log = (anchor + 0.5) / ANCHOR_CELLS_PER_OCTAVE + np.log2(_LOW_BIN)
    product_log = (product + 0.5) / _PRODUCT_CELLS_PER_OCTAVE + np.log2(_MIN_PRODUCT)
    return np.exp2(product_log - anchor_log)


def fingerprint(samples: np.ndarray, density: Density = LANDMARKS) -> Fingerprint:
    """Fingerprint mono float32 samples at ANALYSIS_RATE."""
    return landmarks(spectrogram(np.asarray(samples, dtype=np.float32)), density)


def landmarks(spec: np.ndarray, density: Density = LANDMARKS) -> Fingerprint:
    """The fingerprint of a spectrogram."""
    return pair_peaks(find_peaks(spec, density.freq_span, density.time_span), density.fanout)


#: A catalog recording also keeps its most prominent peaks, to check a line already known against a
#: station's spectrum where talk leaves too few pairs to hash (see detection.verify): the landmark
#: peaks louder than every other within PROMINENT_BINS and PROMINENT_FRAMES either side (about 12 a
#: second), from PROMINENT_LOW_BIN (~500 Hz) up: below it, talk's voiced harmonics crowd the music's.
PROMINENT_BINS, PROMINENT_FRAMES = 20, 10
PROMINENT_LOW_BIN = 64


def prominent_peaks(spec: np.ndarray, peaks: Peaks) -> Peaks:
    """The peaks louder than every other peak near them (see PROMINENT_BINS), at whole frames and bins."""
    # Refined between frames and bins, a peak at an edge can round past it.
    frames = np.clip(np.round(peaks.frames), 0, len(spec) - 1).astype(np.int64)
    bins = np.round(peaks.bins).astype(np.int64)
    order = np.argsort(frames, kind="stable")
    frames, bins = frames[order], bins[order]
    levels = spec[frames, bins] if len(frames) else np.zeros(0, np.float32)
    # Each peak against the later ones within PROMINENT_FRAMES: the quieter of a near pair is not prominent.
    reach = int((np.searchsorted(frames, frames + PROMINENT_FRAMES, side="right") - np.arange(len(frames))).max(initial=1))
    kept = np.ones(len(frames), bool)
    for step in range(1, reach):
        a, b = np.arange(len(frames) - step), np.arange(step, len(frames))
        near = (frames[b] - frames[a] <= PROMINENT_FRAMES) & (np.abs(bins[b] - bins[a]) <= PROMINENT_BINS)
        kept[a[near & (levels[b] > levels[a])]] = False
        kept[b[near & (levels[a] >= levels[b])]] = False
    kept &= bins >= PROMINENT_LOW_BIN
    return Peaks(frames[kept].astype(np.float32), bins[kept].astype(np.float32))


def catalog_fingerprint(samples: np.ndarray) -> tuple[Fingerprint, Peaks]:
    """A catalog recording's fingerprint and its prominent peaks (mono float32 samples at ANALYSIS_RATE)."""
    spec = spectrogram(np.asarray(samples, dtype=np.float32))
    peaks = find_peaks(spec)
    return pair_peaks(peaks), prominent_peaks(spec, peaks)
