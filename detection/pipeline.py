"""The detection path end to end, as the stream runs it: chunks -> windows -> matches -> plays.

The agents run these steps one topic apart; `scan` runs them in one loop over a recording, so the
stream and the offline scan give the same plays.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from detection.audio import ANALYSIS_RATE, pcm16_decode, pcm16_encode
from detection.fingerprint import ECHO, HOP, PAIR_SECONDS, fingerprint, landmarks, spectrogram
from detection.index import Index
from detection.match import LastLookup, Match, MatchParams, echo, judge, read_line, same_line
from detection.plays import Play, PlayParams, StationState, WindowResult, advance, alignment
from detection.verify import heard_back, heard_on
from detection.windows import HOP_SECONDS, Chunk, Window, Windower


def chunk_recording(
    samples: np.ndarray, sample_rate: int, start_at: float, chunk_seconds: float, session: str = ""
) -> Iterator[Chunk]:
    """Cut a decoded recording into the chunks an ingester publishes; the last one is final."""
    step = max(1, int(round(chunk_seconds * sample_rate)))
    count = max(1, -(-len(samples) // step))
    for i in range(count):
        yield Chunk(
            start_at=start_at + i * step / sample_rate,
            samples=samples[i * step:(i + 1) * step],
            sample_rate=sample_rate,
            session=session,
            seq=i,
            discontinuity=i == 0,
            final=i == count - 1,
        )


#: Windows a station's matcher keeps (4 s apart), to read back where a line first matched began.
RECALL_WINDOWS = 3
#: The few hits that first match a line give its speed only roughly (one intro on Debian's light day
#: 1 was 2% off).  Read back at a speed this far off, the line drifts from a faint intro's hits by
#: more than the read's 1.5-frame band within the look-back's 12 s, so the next window's surer speed
#: is read back at again.
RESPEED = 0.004


@dataclass
class Recall:
    """What the matcher remembers of one station, in memory only (after a restart a station's next
    edges are read from hints alone): its last windows' audio, to read back how far before its first
    match a line was already faintly heard (talk over an intro), and the lines its last window heard,
    to follow one that fades under talk or noise without matching (an outro)."""

    earlier: deque = field(default_factory=lambda: deque(maxlen=RECALL_WINDOWS))  # (start_at, PCM16 bytes)
    #: For each remembered window, every line it heard (matched, followed or hinted at) and the station
    #: times of its first and last hits there: ((track_id, alignment, speed), first hit at, last hit at).
    heard: deque = field(default_factory=lambda: deque(maxlen=RECALL_WINDOWS))
    lines: list = field(default_factory=list)  # (track_id, alignment, speed)
    #: The line the last window heard for the first time, and the start it was read back to.
    new_line: tuple | None = None  # ((track_id, alignment, speed), start)
    #: The audio the next window should start with (windows overlap by half), and the last window's
    #: spectrogram frames of it: (samples, frames).
    overlap: tuple | None = None
    last_lookup: LastLookup = field(default_factory=lambda: LastLookup(HOP_FRAMES))

    def follows(self, line: tuple[int, float, float]) -> bool:
        """Whether the last window heard this airing (matched it or followed it in the dense read)."""
        return any(_same_airing(line, followed) for followed in self.lines)

    def spectrogram(self, window: Window) -> np.ndarray:
        """The window's spectrogram.  Windows overlap by half: the frames of the audio a window shares
        with the last one are taken from that one's (computed whole, spectrograms took a tenth of a
        station's time)."""
        samples = np.asarray(window.samples, np.float32)
        known = None
        if self.overlap is not None:
            shared, frames = self.overlap
            if np.array_equal(samples[:len(shared)], shared):
                known = frames
        spec = spectrogram(samples, known)
        self.overlap = (samples[HOP_FRAMES * HOP:].copy(), spec[HOP_FRAMES:].copy())
        return spec

    def forget(self) -> None:
        self.earlier.clear()
        self.heard.clear()
        self.lines = []
        self.new_line = None

    def stretch(self, latest: Window) -> tuple[float, np.ndarray, list[tuple[float, float]]]:
        """The remembered windows and the latest one as one stretch of audio (each overlap once): the
        station time it starts at, its samples, and the (start, end) station times of the remembered
        windows in it."""
        windows = [*((start_at, pcm16_decode(pcm)) for start_at, pcm in self.earlier), (latest.start_at, latest.samples)]
        pieces, spans, end_at = [], [], windows[0][0]
        for start_at, samples in windows:
            pieces.append(samples[max(0, int(round((end_at - start_at) * ANALYSIS_RATE))):])
            end_at = start_at + len(samples) / ANALYSIS_RATE
            spans.append((start_at, end_at))
        return windows[0][0], np.concatenate(pieces), spans[:-1]


#: Spectrogram frames from one window's start to the next's.
HOP_FRAMES = round(HOP_SECONDS * ANALYSIS_RATE) // HOP


def _in_window(line: tuple[int, float, float], start_at: float) -> Match:
    """A known line as a window starting at `start_at` would find it."""
    track_id, alignment_at, speed = line
    return Match(track_id, (start_at - alignment_at) * speed, speed, 0, 0.0, 0.0, 0.0)


def _line(found: Match, start_at: float) -> tuple[int, float, float]:
    return found.track_id, alignment(start_at, found.track_offset_s, found.speed), found.speed


def _same_airing(a: tuple[int, float, float], b: tuple[int, float, float]) -> bool:
    """Whether two lines are one track at alignments the play logic counts as one airing."""
    return a[0] == b[0] and abs(a[1] - b[1]) <= PlayParams().align_tolerance_s


def analyse(index: Index, window: Window, params: MatchParams = MatchParams(), recall: Recall | None = None
            ) -> WindowResult:
    recall = recall if recall is not None else Recall()
    if window.discontinuity:
        recall.forget()
    spec = recall.spectrogram(window)
    verdict = judge(index, landmarks(spec), params, recall.last_lookup)
    fields = dict(start_at=window.start_at, end_at=window.end_at, session=window.session,
                  discontinuity=window.discontinuity, final=window.final, icy_title=window.icy_title)
    known = [_in_window(line, window.start_at) for line in recall.lines]
    new_line = None
    # Lines heard just before, of tracks other than the one this window matches: read them in a dense
    # fingerprint, even those it hints at (the sparse fingerprint stops hearing a song fading under
    # the next sooner).  A song aired again straight after itself puts its own repeats on the earlier
    # airing's line: that line ends where the new airing is matched.
    fading = [line for line in known if not (verdict.match and verdict.match.track_id == line.track_id)]
    dense = landmarks(spec, ECHO) if fading else None
    echoes = [_heard_on(index, window, spec, found)
              for line in fading if (found := echo(index, dense, line, params)) is not None]
    if verdict.match is not None:
        verdict = replace(verdict, match=_heard_on(index, window, spec, verdict.match))
    # A hint carries an airing on only where it agrees with a line followed (see detection.plays).
    verdict = replace(verdict, hints=tuple(
        _heard_on(index, window, spec, hint) if recall.follows(_line(hint, window.start_at)) else hint
        for hint in verdict.hints))
    if verdict.match is not None:
        found = verdict.match
        fields.update(track_id=found.track_id, track_offset_s=found.track_offset_s, speed=found.speed, score=found.score,
                      confidence=found.confidence, first_hit_at=window.start_at + found.first_hit_s,
                      last_hit_at=window.start_at + found.last_hit_s)
        matched_line = _line(found, window.start_at)
        if not any(same_line(found, line) for line in known):
            # A line heard for the first time: the windows before may hold its start, too faint to match.
            fields["first_hit_at"] = _heard_since(index, recall, window, matched_line, fields["first_hit_at"], params)
            new_line = (matched_line, fields["first_hit_at"])
        elif (recall.new_line and same_line(found, _in_window(recall.new_line[0], window.start_at))
              and abs(found.speed / recall.new_line[0][2] - 1) > RESPEED):
            # Heard through a whole window, the line's speed is far surer than from the few hits that
            # first matched it: read back again at this speed, from the start read back to before.
            fields["first_hit_at"] = min(fields["first_hit_at"], _heard_since(
                index, recall, window, matched_line, recall.new_line[1], params))
    hints = verdict.hints
    if verdict.match is None:
        hints = tuple(_read_back_hint(index, recall, window, hint, params) for hint in hints)
    fields["hints"] = [[hint.track_id, alignment(window.start_at, hint.track_offset_s, hint.speed),
                        window.start_at + hint.first_hit_s, window.start_at + hint.last_hit_s]
                       for hint in [*hints, *echoes]]
    recall.earlier.append((window.start_at, pcm16_encode(window.samples)))
    recall.heard.append([(_line(found, window.start_at), window.start_at + found.first_hit_s,
                          window.start_at + found.last_hit_s)
                         for found in [*filter(None, [verdict.match]), *echoes, *verdict.hints]])
    recall.new_line = new_line
    recall.lines = [_line(found, window.start_at) for found in [*filter(None, [verdict.match]), *echoes]]
    return WindowResult(**fields)


#: A line whose last hit comes this long before its window's end may go on unheard by its hashes (a
#: song fading under the next, or under talk): its prominent peaks are checked on (see detection.verify).
CHECK_ON_S = 1.0


def _heard_on(index: Index, window: Window, spec: np.ndarray, found: Match) -> Match:
    """The finding with its last hit moved on to where the line's prominent peaks last show in the window
    (`spec`: its spectrogram)."""
    if len(window.samples) / ANALYSIS_RATE - found.last_hit_s < CHECK_ON_S:
        return found
    last_at = heard_on(index, spec, window.start_at, _line(found, window.start_at),
                       window.start_at + found.last_hit_s)
    return replace(found, last_hit_s=last_at - window.start_at)


def _read_back_hint(index: Index, recall: Recall, window: Window, hint: Match, params: MatchParams) -> Match:
    """The hint with its first hit read back to where its line began (see _heard_since), if the last
    window hinted at that line too, each window on hits of its own.

    A quiet intro can go unmatched for windows, hinted at only (a struck chord under noise every few
    seconds): the play's start is then dated from the hints, and the read back that a match gets
    would come too late to reach the intro's first hits.  Two overlapping windows hint at one chance
    likeness in the audio they share (in a catalog of 1,000 songs, every fourth window would read
    back), so the last window's hint must begin before this window and this one's end after that
    one.  Lines already followed need no reading back.
    """
    line = _line(hint, window.start_at)
    if not recall.earlier or recall.follows(line):
        return hint
    earlier_at, earlier_pcm = recall.earlier[-1]
    earlier_until = earlier_at + len(earlier_pcm) / 2 / ANALYSIS_RATE  # two bytes a sample
    hinted_before = any(_same_airing(line, heard) and first_at < window.start_at
                        for heard, first_at, _ in recall.heard[-1])
    if not hinted_before or window.start_at + hint.last_hit_s <= earlier_until:
        return hint
    first_at = _heard_since(index, recall, window, line, window.start_at + hint.first_hit_s, params)
    return replace(hint, first_hit_s=first_at - window.start_at)


#: A line's first, faint hashes are few, and which few depends on where the analysis frames fall
#: against the track's own.  Reading back to a new line's start, a phase that hears a little of it, but
#: too little, is followed by the next, this many in all, a fraction of a frame apart.  (A phase that
#: hears nothing of it ends the search: most reads that fail hear nothing, and they are not worth more.
#: With time neighbours looked up, four phases dated no start better than two.)
ECHO_PHASES = 2


def _hits_at_phases(index: Index, samples: np.ndarray, known: Match, params: MatchParams,
                    present: bool = False) -> np.ndarray | None:
    """Seconds into the samples of the hits on the known line, as the first frame phase that hears the
    line finds them (see read_line, here with time neighbours); None if no phase hears it.

    `present`: the line is known to be in the samples whether or not the read hears enough of it to
    tell on its own (a read seconds longer than the evidence needs more hits to stand out of chance):
    they reach into the audio where it matched, or no other song was heard in them after the start so
    far (see _heard_since).  Then, if no phase hears it, the hits every phase found.
    """
    unheard = []
    for phase in range(ECHO_PHASES):
        skip = phase * HOP // ECHO_PHASES
        skipped = skip / ANALYSIS_RATE
        reading = read_line(index, fingerprint(samples[skip:], ECHO),
                            replace(known, track_offset_s=known.track_offset_s + skipped * known.speed), params,
                            time_neighbours=True)
        if reading.heard is not None:
            return reading.hits + skipped
        if len(reading.hits) == 0:
            break
        unheard.append(reading.hits + skipped)
    return np.sort(np.concatenate(unheard)) if present and unheard else None


#: Reading back, the start moves to a hit on the line at most LINK_S before the earliest evidence so
#: far, or at most PAIRED_LINK_S before it if another hit lies PAIR_MIN_S to PAIR_MAX_S before that
#: one.  Chance hits scatter over a read, and only a few land that close to the evidence.  Hits less
#: than half a second apart are mostly one moment of sound (several pairs of one chord's peaks), no
#: more evidence than one hit.
LINK_S = 2.0
PAIRED_LINK_S = 3.0
PAIR_MIN_S, PAIR_MAX_S = 0.5, 1.0
#: A paired hit after which the catalog heard nothing else links from this far: talk over an intro
#: leaves no hit on the line for seconds, and no other song is playing in between.  There, hits less
#: than PAIR_MIN_S apart pair too: a moment of sound (a struck chord in a quiet intro under noise)
#: that lands several hits on the line is no chance likeness to another song playing.
FREE_LINK_S = 5.0


def _linked_start(hits: np.ndarray, heard_at: float, others_until: float = float("inf")) -> float:
    """The earliest of the hits (station seconds, in time order) that links up to the evidence at
    `heard_at`, each hit to the next; `others_until`: when any other line was last heard."""
    hits = hits[hits < heard_at]
    for i in range(len(hits) - 1, -1, -1):
        gap = heard_at - hits[i]
        free = hits[i] >= others_until
        apart = hits[i] - hits[:i]
        paired = bool(np.any((apart >= (0.0 if free else PAIR_MIN_S)) & (apart <= PAIR_MAX_S)))
        reach = (FREE_LINK_S if free else PAIRED_LINK_S) if paired else LINK_S
        if gap > reach:
            break
        heard_at = hits[i]
    return heard_at


def _heard_since(index: Index, recall: Recall, window: Window, line: tuple[int, float, float], heard_at: float,
                 params: MatchParams) -> float:
    """How far back, through the remembered windows, a line first matched at `heard_at` was already
    heard.  The latest remembered window is read on through the audio after it to a second past the
    evidence, so that the hits leading into the evidence are all in one read.  Older windows are read
    to a second past the start so far, but no further than their last pairs reach into the later
    windows' audio: a pair is not cut at a window's end, and an older window is not judged on the
    later windows' evidence.  The latest window's read reaches into the evidence, so its hits count
    even when too few to hear the line on their own (a talk-over intro's last faint hits).  So do an
    older window's where the remembered windows heard no other line after the start so far: there
    only talk or noise can hide the line, not another song.  A read that links no earlier hit ends
    the search: the older windows lie further from the start still.  Hits link from further back
    where the remembered windows heard no other line since (see FREE_LINK_S)."""
    stretch_at, stretch, spans = recall.stretch(window)
    # Another line: another track, or this one at an alignment the play logic counts as another airing.
    others_until = max((last_at for heard in recall.heard for other, _, last_at in heard if not _same_airing(other, line)),
                       default=-float("inf"))
    for older, (start_at, end_at) in enumerate(reversed(spans)):
        until = heard_at + 1.0 if older == 0 else min(heard_at + 1.0, end_at + PAIR_SECONDS)
        first = int(round((start_at - stretch_at) * ANALYSIS_RATE))
        before = stretch[first:max(first, int((until - stretch_at) * ANALYSIS_RATE))]
        hits = _hits_at_phases(index, before, _in_window(line, start_at), params,
                               present=older == 0 or others_until <= heard_at)
        if hits is None:
            break
        linked = _linked_start(start_at + hits, heard_at, others_until)
        if linked == heard_at:
            break
        heard_at = linked
    return heard_back(index, spectrogram(stretch), stretch_at, line, heard_at)


def scan(index: Index, chunks: Iterable[Chunk], play_params: PlayParams = PlayParams()) -> Iterator[Play]:
    windower = Windower()
    recall = Recall()
    state = StationState()
    for chunk in chunks:
        for window in windower.push(chunk):
            yield from advance(state, analyse(index, window, recall=recall), play_params)
