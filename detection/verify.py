"""Checking a line already known against a station's spectrum: are the track's prominent peaks there?

Talk at the music's level over an intro leaves few pairs of peaks intact, so hashes stop hearing a song
seconds before it starts.  Its louder single peaks still show through: where the catalog says the
track has a prominent peak (detection.fingerprint.prominent_peaks), the station's spectrum still has a
local peak at that frame and bin far more often than where the track has none.  How often it has one
by chance depends on the audio (dense talk peaks everywhere), so each second is judged against the same
peaks shifted by whole seconds off the line: the line is heard where its own peaks show well above how
often the shifted ones do.
"""
from __future__ import annotations

import numpy as np

from detection.fingerprint import FRAME_SECONDS, frame_floors
from detection.index import Index

#: A predicted peak shows if the station's spectrum peaks within a frame of it, at its bin, at least as
#: loud as the CHECK_BINS either side and over its frame's floor (as picking a peak asks, see frame_floors).
CHECK_BINS = 3
#: The line shifted by these many seconds either way is chance's measure: far enough that the song's own
#: peaks do not line up again (it is a second or more off), near enough that it is the same audio.
NULL_SHIFTS_S = np.concatenate([-np.arange(1.1, 6.0, 0.37), np.arange(1.1, 6.0, 0.37)])
#: A second counts as heard when its share of peaks that show stands this many standard deviations above
#: the shifted lines' shares, over at least MIN_PEAKS predicted peaks.
HEARD_Z = 2.5
MIN_PEAKS = 3


def _shows(spec: np.ndarray, floors: np.ndarray, frames: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Whether the spectrum (magnitudes) peaks near each (frame, bin) above its frame's floor; positions too
    near an edge never show."""
    f, b = np.round(frames).astype(np.int64), np.round(bins).astype(np.int64)
    inside = (f >= 1) & (f < spec.shape[0] - 1) & (b >= CHECK_BINS) & (b < spec.shape[1] - CHECK_BINS)
    f, b = np.where(inside, f, 1), np.where(inside, b, CHECK_BINS)
    shows = np.zeros(len(f), bool)
    for df in (-1, 0, 1):
        level = spec[f + df, b]
        peak = level > floors[f + df]
        for db in range(1, CHECK_BINS + 1):
            peak &= (level >= spec[f + df, b - db]) & (level >= spec[f + df, b + db])
        shows |= peak
    return shows & inside


def heard_back(index: Index, spec: np.ndarray, samples_at: float, line: tuple[int, float, float],
               heard_at: float) -> float:
    """How far before `heard_at` the line (track, alignment, speed) is heard in a station's audio, from
    its spectrogram (detection.fingerprint.spectrogram of mono samples at ANALYSIS_RATE starting at
    station time `samples_at`): second by second back from `heard_at`, while each second hears it, to
    the earliest of its peaks that show there.  A second where the track has too few peaks to tell (a
    rest) is passed over."""
    return _heard_from(index, spec, samples_at, line, heard_at, -1)


def heard_on(index: Index, spec: np.ndarray, samples_at: float, line: tuple[int, float, float],
             heard_at: float) -> float:
    """How far after `heard_at` the line is heard in the audio: heard_back, forward (a song fading
    under the next one or under talk)."""
    return _heard_from(index, spec, samples_at, line, heard_at, 1)


def _heard_from(index: Index, spec: np.ndarray, samples_at: float, line: tuple[int, float, float],
                heard_at: float, direction: int) -> float:
    track_id, alignment_at, speed = line
    slot = int(np.searchsorted(index.track_ids, track_id))
    if slot == index.track_count or index.track_ids[slot] != track_id:
        return heard_at
    samples_until = samples_at + len(spec) * FRAME_SECONDS
    seconds = int(heard_at - samples_at if direction < 0 else samples_until - heard_at)
    if seconds < 1 or not samples_at <= heard_at <= samples_until:
        return heard_at
    floors = frame_floors(spec)
    # Track frames of every peak that any shift of the line puts in the samples.
    reach = float(np.abs(NULL_SHIFTS_S).max()) + 1.0
    first = int((samples_at - reach - alignment_at) * speed / FRAME_SECONDS)
    last = int((samples_until + reach - alignment_at) * speed / FRAME_SECONDS) + 1
    track_frames, bins = index.peaks(slot, max(0, first), max(0, last))
    if len(track_frames) == 0:
        return heard_at
    # Row 0: the line's own peaks, in station time; the other rows: the line shifted.
    times = alignment_at + track_frames * FRAME_SECONDS / speed + np.array([0.0, *NULL_SHIFTS_S])[:, None]
    shows = _shows(spec, floors, ((times - samples_at) / FRAME_SECONDS).ravel(),
                   np.tile(bins * speed, len(times))).reshape(times.shape)
    away = np.floor((times - heard_at) * direction)  # which second from `heard_at` each peak lies in
    counted = (away >= 0) & (away < seconds)
    cell = (np.arange(len(times))[:, None] * seconds + away)[counted].astype(np.int64)
    per = np.bincount(cell, minlength=len(times) * seconds).reshape(len(times), seconds)
    hit = np.bincount(cell, weights=shows[counted], minlength=per.size).reshape(per.shape)
    shares = np.where(per >= MIN_PEAKS, hit / np.maximum(per, 1), np.nan)
    on_line, shifted = shares[0], shares[1:]
    judged = ~np.isnan(shifted)
    n = judged.sum(axis=0)
    mean = np.where(judged, shifted, 0.0).sum(axis=0) / np.maximum(n, 1)
    spread = np.sqrt(np.where(judged, (shifted - mean) ** 2, 0.0).sum(axis=0) / np.maximum(n, 1))
    z = np.where(n > 0, (on_line - mean) / (spread + 1e-3), -np.inf)  # no shifted line to judge by: unheard
    furthest = None
    for second in range(seconds):
        if np.isnan(on_line[second]):
            continue  # a rest: too few peaks to tell
        if not z[second] >= HEARD_Z:
            break
        furthest = second
    if furthest is None:
        return heard_at
    in_second = away[0] == furthest
    edge = _edge(times[0][in_second] * direction, shows[0][in_second], float(mean[furthest]))
    if edge is None:
        return heard_at
    return min(heard_at, -edge) if direction < 0 else max(heard_at, edge)


def _edge(outward: np.ndarray, shows: np.ndarray, chance: float) -> float | None:
    """Where the line ends within the furthest second heard, in the units of `outward` (the station
    times of its peaks there, times the direction away from the evidence), given whether each shows
    and how often a peak shows by chance there.  The second is heard as a whole, but the song may
    start (or end) inside it: past that point its peaks show only by chance.  The split that makes
    the likeliest such story (the song's share before it, chance's after) dates the edge, at the
    outermost peak that shows before it."""
    order = np.argsort(outward, kind="stable")
    outward, shows = outward[order], shows[order].astype(np.float64)
    chance = float(np.clip(chance, 0.01, 0.99))
    inner = np.arange(1, len(shows) + 1)
    shown = np.cumsum(shows)
    song = np.clip(shown / inner, 0.01, 0.99)
    outer_shown = shown[-1] - shown
    outer = len(shows) - inner
    likelihood = (shown * np.log(song) + (inner - shown) * np.log(1 - song)
                  + outer_shown * np.log(chance) + (outer - outer_shown) * np.log(1 - chance))
    split = int(np.argmax(np.where(song > chance, likelihood, -np.inf))) + 1 if (song > chance).any() else 0
    heard = outward[:split][shows[:split] > 0]
    return float(heard[-1]) if len(heard) else None
