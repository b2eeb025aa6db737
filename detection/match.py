"""Matching a window's fingerprint against the index: vote for (track, speed, time offset).

A song that is really playing puts many hashes on one line between window time and track time, whose
slope is the speed the station plays it at; chance collisions scatter.  Each query hash is looked up
under every speed hypothesis (its anchor cell shifted, see detection.fingerprint), hits vote for
(track, hypothesis, offset) cells, and the best cells are then fitted with a line: the hits on it are
the score, its slope the speed, and its intercept where in the track the window started.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from detection.fingerprint import (ANCHOR_CELLS, ANCHOR_CELLS_PER_OCTAVE, ANCHOR_STEP, FRAME_SECONDS,
                                   Fingerprint, pair_gaps, set_cells, with_time_neighbours)
from detection.index import Index, Postings

#: Anchor shifts tried: ±3 cells of 2.2% cover speed changes of about ±6%.
MAX_SHIFT = 3
#: A line steeper or flatter than this is no station's playout (they change speed by a few percent)
#: but another song with a similar pattern of notes at another tempo.
MAX_SPEED_CHANGE = 0.06
_SHIFTS = np.arange(-MAX_SHIFT, MAX_SHIFT + 1)
#: Offsets vote in buckets this many frames wide: a hit's speed is known to a cell, its offset to a few frames.
_BUCKET_FRAMES = 4
#: Hits within this many frames of the fitted line count.
_INLIER_FRAMES = 1.5
#: A vote cell's key: (track slot * _KEY_SHIFTS + shift index) above _BUCKET_BITS of offset bucket.
_BUCKET_BITS = 22
_BUCKET_MASK = (1 << _BUCKET_BITS) - 1
_BUCKET_BIAS = 1 << (_BUCKET_BITS - 2)
_KEY_SHIFTS = 2 * MAX_SHIFT + 3  # room for a neighbour on either side, so a fit never reaches another track
#: How many vote cells (each away from those fitted before) are fitted with a line.
_CANDIDATES = 4
#: How many cells, the fullest along the offset axis, are ranked by their whole neighbourhood.
_SHORTLIST = 64


@dataclass(frozen=True)
class MatchParams:
    #: Hashes that must lie on one line before a window counts as a match.
    min_score: int = 12
    #: The winner must beat the best other track by this factor.
    min_margin: float = 2.0
    #: ...and its hashes must spread over this many seconds: a burst from one chord that happens to
    #: resemble another song's is not a match.
    min_span_s: float = 1.0
    #: Other alignments this strong are reported as hints (see Verdict).
    hint_score: int = 5
    #: At most this many hints a window.
    max_hints: int = 3
    #: Hashes on a line already known (the track, offset and speed an airing is at) that show it is
    #: still, or already, heard: at least this many, and more than chance would put there but once
    #: in echo_false_rate windows.  A known line is one of a few, not one of every track and offset,
    #: so it needs far fewer hashes than a match (min_score).
    echo_score: int = 4
    echo_false_rate: float = 1e-4
    #: A line heard so dates its first and last hits from runs of more hits within EXTENT_RUN_S than
    #: chance would put there but once in extent_false_rate runs (any two, where chance puts fewer).
    extent_false_rate: float = 0.01


@dataclass(frozen=True)
class Match:
    track_id: int
    #: Where in the track the window started, in seconds of the track.
    track_offset_s: float
    #: How fast the station plays the track: 1.03 is 3% fast (pitch and tempo together).
    speed: float
    #: Hashes on the winning line.
    score: int
    #: The probability that this is the right track at the right place (see calibrated_confidence).
    confidence: float
    #: Window-relative seconds of the first agreeing hash's anchor peak and of the last one's target
    #: peak: the audible extent of the track.
    first_hit_s: float
    last_hit_s: float


@dataclass(frozen=True)
class Verdict:
    """What one window says: its match, if any, and hints.

    Hints are the window's other alignments, strongest first: at a boundary between two airings the
    window holds both, and the later airing's start is read from its hint; talk over an intro leaves
    too few hashes to match, but enough to date the start of an airing that the following windows
    confirm.  A hint needs no margin over other tracks, since it is only ever used to extend an airing
    of the same track at the same alignment.
    """

    match: Match | None = None
    hints: tuple[Match, ...] = ()


def same_line(a: Match, b: Match) -> bool:
    """Whether two findings in one window are one track at one alignment."""
    return a.track_id == b.track_id and abs(a.track_offset_s - b.track_offset_s) <= 2 * _BUCKET_FRAMES * FRAME_SECONDS


def match(index: Index, query: Fingerprint, params: MatchParams = MatchParams()) -> Match | None:
    return judge(index, query, params).match


@dataclass(frozen=True)
class _Hits:
    """Every (query hash, index entry) pair under every speed hypothesis, sorted by vote cell."""

    query_frames: np.ndarray
    track_frames: np.ndarray
    keys: np.ndarray  # vote cell of each hit: (slot, shift, offset bucket)
    query_rows: np.ndarray  # which query hash each hit is
    target_frames: np.ndarray  # query frame of each query hash's target peak


class LastLookup:
    """A station's last window's hashes, with every hypothesis, and the index's postings for them.

    Windows overlap by half, so most hashes of a window's first half are the last window's, in the
    same order, a window's start later: the postings of that run are taken from here instead of
    read again (reading the index took a third of a station's time).
    """

    def __init__(self, shift_frames: int):
        self.shift_frames = shift_frames  # frames from one window's start to the next's
        self._start(None)

    def _start(self, index: Index | None) -> None:
        """Remember nothing yet, of this index (postings name its tracks' slots: the catalog changes)."""
        self._index = weakref.ref(index) if index is not None else None
        self.frames = np.zeros(0, np.int32)  # the query's, from the first a next window may share
        self.hashes = np.zeros(0, np.uint32)
        self.hash_of_row = np.zeros(0, np.int64)  # of each row looked up, counted from there
        self.postings = Postings.none()

    def lookup(self, index: Index, query: Fingerprint, row_hashes: np.ndarray, hash_of_row: np.ndarray) -> Postings:
        """index.lookup(row_hashes), where row i looks up (a hypothesis of) query hash hash_of_row[i]."""
        if self._index is None or self._index() is not index:
            self._start(index)
        # The run: from past the start, where peaks with half a neighbourhood cut off differ, on
        # while hashes and frames agree.
        first = int(np.searchsorted(query.frames, _EDGE_FRAMES))
        earlier = int(np.searchsorted(self.frames, query.frames[first] + self.shift_frames)) if first < len(query) else 0
        most = min(len(query) - first, len(self.frames) - earlier)
        agree = ((query.hashes[first:first + most] == self.hashes[earlier:earlier + most])
                 & (query.frames[first:first + most] + self.shift_frames == self.frames[earlier:earlier + most]))
        run = int(np.argmin(agree)) if not agree.all() else most
        row_begin, row_end = np.searchsorted(hash_of_row, [first, first + run])
        was_begin, was_end = np.searchsorted(self.hash_of_row, [earlier, earlier + run])
        taken_begin, taken_end = np.searchsorted(self.postings.query_rows, [was_begin, was_end])
        fresh = index.lookup(np.concatenate([row_hashes[:row_begin], row_hashes[row_end:]]))
        split = int(np.searchsorted(fresh.query_rows, row_begin))
        taken = slice(taken_begin, taken_end)
        postings = Postings(
            track_slots=np.concatenate([fresh.track_slots[:split], self.postings.track_slots[taken], fresh.track_slots[split:]]),
            track_frames=np.concatenate([fresh.track_frames[:split], self.postings.track_frames[taken],
                                         fresh.track_frames[split:]]),
            query_rows=np.concatenate([fresh.query_rows[:split], self.postings.query_rows[taken] - was_begin + row_begin,
                                       fresh.query_rows[split:] + (row_end - row_begin)]),
        )
        # Keep what the next window may share: the rows of hashes from a window's start on.
        keep_hash = int(np.searchsorted(query.frames, self.shift_frames + _EDGE_FRAMES))
        keep_row = int(np.searchsorted(hash_of_row, keep_hash))
        keep_posting = int(np.searchsorted(postings.query_rows, keep_row))
        self.frames, self.hashes = query.frames[keep_hash:], query.hashes[keep_hash:]
        self.hash_of_row = hash_of_row[keep_row:] - keep_hash
        self.postings = Postings(postings.track_slots[keep_posting:], postings.track_frames[keep_posting:],
                                 postings.query_rows[keep_posting:] - keep_row)
        return postings


#: A window's peaks this close to its start see only part of their neighbourhood: they (and the
#: hashes from them) may differ from the last window's at the same audio.
_EDGE_FRAMES = 16


def _hits(index: Index, query: Fingerprint, shift_indices: np.ndarray = np.arange(len(_SHIFTS)),
          slot: int | None = None, last: LastLookup | None = None) -> _Hits:
    """The hits under the given speed hypotheses (only on the track in `slot`, if given); `last`: the
    station's last lookup, for a window of a station's stream under every hypothesis."""
    anchors = (query.hashes // ANCHOR_STEP).astype(np.int64)
    shifted = anchors[None, :] - _SHIFTS[shift_indices, None]
    usable = (shifted >= 0) & (shifted < ANCHOR_CELLS)
    # Rows hash by hash, so that a run of hashes is a run of rows (see LastLookup).
    hash_of_row, tried = set_cells(usable.T)
    shift_of_row = shift_indices[tried]
    row_hashes = query.hashes[hash_of_row].astype(np.int64) - _SHIFTS[shift_of_row] * ANCHOR_STEP
    postings: Postings = (index.lookup(row_hashes, slot) if last is None
                          else last.lookup(index, query, row_hashes, hash_of_row))
    shift_index = shift_of_row[postings.query_rows]
    rows = hash_of_row[postings.query_rows]
    query_frames = query.frames[rows].astype(np.float64)
    track_frames = postings.track_frames.astype(np.float64)
    # Offsets are taken at the window's middle, where a speed known only to a cell errs least.
    middle = (query.frames[0] + query.frames[-1]) / 2
    offsets = track_frames - _SPEEDS[shift_index] * (query_frames - middle)
    buckets = np.floor(offsets / _BUCKET_FRAMES).astype(np.int64) + _BUCKET_BIAS
    keys = ((postings.track_slots.astype(np.int64) * _KEY_SHIFTS + shift_index + 1) << _BUCKET_BITS) + buckets
    order = np.argsort(keys)
    return _Hits(query_frames[order], track_frames[order], keys[order],
                 rows[order], query.frames + pair_gaps(query.hashes))


def _speed(shift: float) -> float:
    return 2.0 ** (shift / ANCHOR_CELLS_PER_OCTAVE)


_SPEEDS = np.array([_speed(shift) for shift in _SHIFTS])


def _slot_of(cells: np.ndarray | int) -> np.ndarray | int:
    return (cells >> _BUCKET_BITS) // _KEY_SHIFTS


def _shift_of(cell: int) -> int:
    return (cell >> _BUCKET_BITS) % _KEY_SHIFTS - MAX_SHIFT - 1


def _fullest_cells(sorted_keys: np.ndarray) -> np.ndarray:
    """The most promising vote cells, those whose 3 x 3 neighbourhood (what a fit gathers) holds the most
    hits first.

    A line between two speed hypotheses and two offset buckets splits its hits over four cells, so a
    faint one (talk over an intro) may fill no single cell more than chance does; summed, it stands out.
    Cells that are neighbours in offset are neighbours in key order and are summed for every cell; the
    neighbours in speed are looked up only for a shortlist.
    """
    starts = np.flatnonzero(np.diff(sorted_keys, prepend=-1))
    cells = sorted_keys[starts]
    counts = np.diff(starts, append=len(sorted_keys))
    row = counts.copy()
    adjacent = np.diff(cells) == 1
    row[:-1] += np.where(adjacent, counts[1:], 0)
    row[1:] += np.where(adjacent, counts[:-1], 0)
    shortlist = np.argpartition(-row, _SHORTLIST)[:_SHORTLIST] if len(row) > _SHORTLIST else np.arange(len(row))
    near = row[shortlist]
    for speed_step in (-1 << _BUCKET_BITS, 1 << _BUCKET_BITS):
        neighbours = cells[shortlist] + speed_step
        at = np.minimum(np.searchsorted(cells, neighbours), len(cells) - 1)
        near += np.where(cells[at] == neighbours, row[at], 0)
    return cells[shortlist[np.argsort(-near, kind="stable")]]


@dataclass(frozen=True)
class _Line:
    slot: int
    speed: float
    start_frame: float  # track frame at query frame 0
    hits: np.ndarray  # query frames of the hits on the line (their anchors)
    ends: np.ndarray  # query frames of their targets: the song is heard at least that far

    @property
    def score(self) -> int:
        return len(self.hits)


def _fit(hits: _Hits, cell: int) -> _Line:
    """The line through the hits in and around one vote cell."""
    # The cells of one slot and shift are contiguous in key order, so the 3 x 3 cells around this
    # one are three runs of the sorted hits.
    lows = cell + (np.array([-1, 0, 1]) << _BUCKET_BITS) - 1
    starts, ends = np.searchsorted(hits.keys, lows), np.searchsorted(hits.keys, lows + 2, side="right")
    near = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
    x, y = hits.query_frames[near], hits.track_frames[near]
    shift = _shift_of(cell)
    slope = _speed(shift)
    # The hits' frequencies put the speed within a cell and a half of the hypothesis: a steeper or
    # flatter line is chance hits lining up.
    slowest, fastest = _speed(shift - 1.5), _speed(shift + 1.5)
    intercept = float(np.median(y - slope * x))
    on_line = np.abs(y - slope * x - intercept) <= 2 * _INLIER_FRAMES
    for _ in range(2):
        if on_line.sum() >= 3 and np.ptp(x[on_line]) > 0:
            slope = float(np.clip(_least_squares_slope(x[on_line], y[on_line]), slowest, fastest))
            intercept = float(np.median(y[on_line] - slope * x[on_line]))
        on_line = np.abs(y - slope * x - intercept) <= _INLIER_FRAMES
    return _Line(int(_slot_of(cell)), float(slope), float(intercept), x[on_line],
                 hits.target_frames[hits.query_rows[near[on_line]]])


def _least_squares_slope(x: np.ndarray, y: np.ndarray) -> float:
    dx = x - x.mean()
    return float(dx @ (y - y.mean()) / (dx @ dx))


def _lines(hits: _Hits, cells: np.ndarray, count: int) -> list[_Line]:
    """The strongest distinct lines, fitted from the fullest cells not yet covered by a fit."""
    lines: list[_Line] = []
    fitted: list[int] = []
    for cell in cells:
        if len(fitted) == count:
            break
        if any(abs((cell >> _BUCKET_BITS) - (done >> _BUCKET_BITS)) <= 1
               and abs((cell & _BUCKET_MASK) - (done & _BUCKET_MASK)) <= 1 for done in fitted):
            continue  # within a fit already made
        fitted.append(int(cell))
        line = _fit(hits, int(cell))
        if line.score and not any(_same_line(line, other) for other in lines):
            lines.append(line)
    return sorted(lines, key=lambda line: -line.score)


@dataclass(frozen=True)
class LineReading:
    """What a window says about one line already known."""

    hits: np.ndarray  # window seconds of the anchors of the hashes on the line, in time order
    heard: Match | None  # the line as the window hears it, if more hits lie on it than chance would put there


def read_line(index: Index, query: Fingerprint, known: Match, params: MatchParams = MatchParams(),
              time_neighbours: bool = False) -> LineReading:
    """The window's hits on a line already known (a track at an offset and speed): whether it still,
    or already, hears that airing, too faintly to match.

    Meant for a dense query fingerprint (detection.fingerprint's ECHO), looked up only under the
    speed hypotheses next to the known speed, and with `time_neighbours` also under the time cells
    either side of each hash (see detection.fingerprint.with_time_neighbours): three times the
    lookups, and about three times the hits on a line heard through talk and noise.
    """
    slot = int(np.searchsorted(index.track_ids, known.track_id))
    if len(query) == 0 or slot == index.track_count or index.track_ids[slot] != known.track_id:
        return LineReading(np.zeros(0), None)
    # The hypotheses within 0.7 of a cell of the known speed: a peak near a cell's edge lands in either.
    at = np.log2(known.speed) * ANCHOR_CELLS_PER_OCTAVE + MAX_SHIFT
    hits = _hits(index, with_time_neighbours(query) if time_neighbours else query,
                 np.arange(max(0, math.floor(at - 0.3)), min(2 * MAX_SHIFT, math.ceil(at + 0.3)) + 1), slot)
    start_frame = known.track_offset_s / FRAME_SECONDS
    x, y = hits.query_frames, hits.track_frames
    on_line = np.abs(y - known.speed * x - start_frame) <= _INLIER_FRAMES
    # The track's hits off the line spread over all of it: the share of them a line's band would
    # catch by chance sets how many hits on it are news (looked up under neighbouring cells too, the
    # chance hits grow with the true ones).
    chance = len(x) * 2 * _INLIER_FRAMES / max(1, int(index.track_frames[slot]))
    times = np.sort(x[on_line]) * FRAME_SECONDS
    if len(times) < max(params.echo_score, _unlikely_count(chance, params.echo_false_rate)):
        return LineReading(times, None)
    ends = hits.target_frames[hits.query_rows[on_line]]
    # A dense read puts many chance hits on the line: two within a run's span were enough to carry a
    # song fading under the next one 3.7 s into it (on the synthetic hard day 1).
    per_run = chance * (EXTENT_RUN_S / FRAME_SECONDS) / (int(query.frames[-1]) + 1)
    together = max(2, _unlikely_count(per_run, params.extent_false_rate))
    return LineReading(times, _describe(index, _Line(slot, known.speed, start_frame, x[on_line], ends), 0.0, together))


def echo(index: Index, query: Fingerprint, known: Match, params: MatchParams = MatchParams()) -> Match | None:
    """The known line as the window hears it, if it does (see read_line)."""
    return read_line(index, query, known, params).heard


def _unlikely_count(mean: float, rate: float) -> int:
    """The smallest count that a Poisson variable of this mean reaches with probability below rate."""
    count, term, below = 0, math.exp(-mean), 0.0
    while 1.0 - below - term >= rate:  # P(X > count) is still too likely
        below += term
        count += 1
        term *= mean / count
    return count + 1


def judge(index: Index, query: Fingerprint, params: MatchParams = MatchParams(), last: LastLookup | None = None
          ) -> Verdict:
    """`last`: the station's last lookup, when the query is the next window of its stream."""
    if len(query) == 0 or index.track_count == 0:
        return Verdict()
    hits = _hits(index, query, last=last)
    if len(hits.keys) == 0:
        return Verdict()
    # A true line's hits fall into a few neighbouring cells, so the strongest lines start from the
    # fullest neighbourhoods; fitting a handful of them finds them.
    cells = _fullest_cells(hits.keys)
    lines = _lines(hits, cells, _CANDIDATES)
    plausible = [line for line in lines if abs(line.speed - 1) <= MAX_SPEED_CHANGE]
    if not plausible:
        return Verdict()
    best = plausible[0]
    others = [line.score for line in lines if line.slot != best.slot]
    if not others:  # the fits all went to the winner's track: the best other track still sets the bar
        elsewhere = cells[_slot_of(cells) != best.slot]
        others = [_fit(hits, int(elsewhere[0])).score] if len(elsewhere) else []
    runner_up = max(others, default=0)
    spread = float(np.ptp(best.hits)) * FRAME_SECONDS >= params.min_span_s
    is_match = best.score >= params.min_score and best.score >= params.min_margin * runner_up and spread
    hints = tuple(_describe(index, line, 0.0) for line in plausible[1 if is_match else 0:]
                  if line.score >= params.hint_score)[:params.max_hints]
    if not is_match:
        return Verdict(hints=hints)
    confidence = round(calibrated_confidence(best.score, index.track_count), 6)
    return Verdict(_describe(index, best, confidence), hints)


#: How likely one catalog track is to line up `score` hashes with a window of music it is not (an
#: unregistered song, speech): exp(bias - per_hash * score).  The mean of the fits that
#: bench/window_robustness.py printed for seeds 1 and 2 (500 windows of unregistered songs and speech
#: against 100 synthetic songs each); it prints how well these values predict its own windows.
FALSE_LINE = (-2.865, 0.284)


def calibrated_confidence(score: int, tracks: int) -> float:
    """One minus the chance that music not in a catalog of `tracks` tracks lines up this many hashes
    with one of them: any of the tracks might, so the chance grows with the catalog."""
    bias, per_hash = FALSE_LINE
    return 1.0 - min(1.0, tracks * math.exp(bias - per_hash * score))


def _same_line(a: _Line, b: _Line) -> bool:
    return a.slot == b.slot and abs(a.start_frame - b.start_frame) <= 2 * _BUCKET_FRAMES


#: The span within which hits on a line count as a run, which dates its extent (see _extent).
EXTENT_RUN_S = 2.0


def _extent(line: _Line, together: int = 2) -> tuple[float, float]:
    """Window seconds of the first hit with `together` hits within EXTENT_RUN_S from it, and of the
    target of the last hit with as many within EXTENT_RUN_S up to it (or the whole line's if none
    has): a lone chance hit on the line before the song starts (or after it ends) does not stretch
    the airing."""
    order = np.argsort(line.hits)
    frames, ends = line.hits[order], line.ends[order]
    span, counted = EXTENT_RUN_S / FRAME_SECONDS, np.arange(len(frames))
    opens = np.flatnonzero(np.searchsorted(frames, frames + span, side="right") - counted >= together)
    closes = np.flatnonzero(counted + 1 - np.searchsorted(frames, frames - span, side="left") >= together)
    first, last = (opens[0], closes[-1]) if len(opens) else (0, len(frames) - 1)
    return float(frames[first]) * FRAME_SECONDS, float(ends[:last + 1].max()) * FRAME_SECONDS


def _describe(index: Index, line: _Line, confidence: float, together: int = 2) -> Match:
    first_hit_s, last_hit_s = _extent(line, together)
    return Match(
        track_id=int(index.track_ids[line.slot]),
        track_offset_s=line.start_frame * FRAME_SECONDS,
        speed=round(line.speed, 5),
        score=line.score,
        confidence=confidence,
        first_hit_s=first_hit_s,
        last_hit_s=last_hit_s,
    )
