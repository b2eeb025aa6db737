"""From a station's window matches to plays: one play per airing, timed in station time.

A play opens once enough consecutive windows agree on the same track at the same alignment (the station
time at which the track's first second would have aired), and closes on silence or unknown audio longer
than a gap, another confirmed track, a discontinuity in the stream, a new ingest session, or the end of
the stream.  Within a session, a window heard before (redelivered after a restart) changes nothing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


#: How many windows back (4 s apart) a new airing's start is read through the windows that hint at
#: it: a long talk-over intro, or a passage two versions of a song share, where no window beats the
#: other version by the match's margin.
HINT_WINDOWS = 8
#: ...of which this many in a row may hear nothing of it (on Debian's hard day 1, a quiet intro under
#: noise was hinted at in three windows, then in none, then matched: the start came 12 s later than
#: the hints put it).
HINT_GAP_WINDOWS = 1


@dataclass(frozen=True)
class PlayParams:
    #: Consecutive agreeing windows needed before a play is believed.
    min_windows: int = 2
    #: Windows of the same airing agree on the alignment within this many seconds.
    align_tolerance_s: float = 1.0
    #: A play ends once no agreeing window has been heard for this long.
    max_gap_s: float = 60.0
    #: Shorter matches are chance resemblances (a jingle, a sample), not airings worth a royalty.
    min_duration_s: float = 5.0


@dataclass(frozen=True)
class WindowResult:
    """What the matcher said about one window of station audio (track_id None: nothing known)."""

    start_at: float
    end_at: float
    session: str = ""
    track_id: int | None = None
    track_offset_s: float = 0.0  # where in the track the window started
    speed: float = 1.0  # how fast the station plays the track
    score: int = 0
    confidence: float = 0.0
    first_hit_at: float = 0.0
    last_hit_at: float = 0.0
    #: Hints (detection.match.Verdict.hints), as [track, alignment, first hit, last hit] in station
    #: time: the window's other airings, strongest first.  A hint never makes a play; it dates the
    #: edges of one that other windows confirm.
    hints: list = field(default_factory=list)
    discontinuity: bool = False
    final: bool = False
    icy_title: str | None = None


@dataclass(frozen=True)
class Play:
    track_id: int
    start_at: float
    end_at: float
    track_offset_start_s: float
    track_offset_end_s: float
    confidence: float  # its strongest window's (detection.match.calibrated_confidence)
    windows: int
    #: How fast the station played the track (1.03: 3% fast, pitch and tempo together).
    speed: float = 1.0
    #: What the station itself said was playing, most often, during the play: its own claim, kept for
    #: disputes and for spotting music the catalog lacks.
    icy_title: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end_at - self.start_at


@dataclass
class Airing:
    """A run of windows agreeing on one track and alignment."""

    track_id: int
    alignment_at: float  # station time at which the track's first second would have aired
    first_at: float
    last_at: float
    windows: int = 1
    confidence: float = 0.0
    speed: float = 1.0  # the mean of the windows' estimates
    titles: dict[str, int] = field(default_factory=dict)  # station-reported title -> windows

    def alignment_of(self, result: WindowResult) -> float:
        # At the airing's speed, which its windows refine: a window's own estimate, taken back to the
        # track's first second, can stray by a second from an offset a minute into the track.
        return alignment(result.start_at, result.track_offset_s, self.speed)

    def agrees(self, result: WindowResult, tolerance_s: float) -> bool:
        return result.track_id == self.track_id and abs(self.alignment_of(result) - self.alignment_at) <= tolerance_s

    def extend(self, result: WindowResult) -> None:
        self.first_at = min(self.first_at, result.first_hit_at)
        self.last_at = max(self.last_at, result.last_hit_at)
        self.speed += (result.speed - self.speed) / (self.windows + 1)
        # Anchored on the latest window, so a small error in the speed never adds up over a long song.
        self.alignment_at = self.alignment_of(result)
        self.windows += 1
        self.confidence = max(self.confidence, result.confidence)
        self.heard_title(result.icy_title)

    def heard_title(self, title: str | None) -> None:
        if title:
            self.titles[title] = self.titles.get(title, 0) + 1

    def to_play(self) -> Play:
        return Play(
            track_id=self.track_id,
            start_at=round(self.first_at, 3),
            end_at=round(self.last_at, 3),
            track_offset_start_s=round((self.first_at - self.alignment_at) * self.speed, 3),
            track_offset_end_s=round((self.last_at - self.alignment_at) * self.speed, 3),
            confidence=self.confidence,
            windows=self.windows,
            speed=round(self.speed, 4),
            icy_title=max(self.titles, key=self.titles.get) if self.titles else None,
        )


def alignment(start_at: float, track_offset_s: float, speed: float) -> float:
    """The station time at which the track's first second would have aired, from a window that
    started `track_offset_s` into the track and plays it `speed` times as fast."""
    return start_at - track_offset_s / speed


@dataclass
class StationState:
    """Everything the play logic remembers about one station; serialisable to a plain dict."""

    current: Airing | None = None
    candidate: Airing | None = None
    #: The last windows' hints (WindowResult.hints), oldest window first.
    hints: list = field(default_factory=list)
    session: str | None = None
    heard_until: float = 0.0  # station time up to which this session was heard

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "StationState":
        if not data:
            return cls()
        return cls(
            current=Airing(**data["current"]) if data.get("current") else None,
            candidate=Airing(**data["candidate"]) if data.get("candidate") else None,
            hints=[_window_hints(entry) for entry in data.get("hints", [])],
            session=data.get("session"),
            heard_until=data.get("heard_until", 0.0),
        )


def _window_hints(entry: list | None) -> list:
    """One window's hints as stored; state written before windows had several holds one or None."""
    if entry and not isinstance(entry[0], list):
        return [entry]
    return entry or []


def _same_stretch(hint: list, result: WindowResult) -> bool:
    overlap = min(hint[3], result.last_hit_at) - max(hint[2], result.first_hit_at)
    return overlap >= 0.5 * (result.last_hit_at - result.first_hit_at)


def _agreeing_hint(hints: list, airing: Airing, params: PlayParams) -> list | None:
    """The hints of a window that agree with the airing, as one: from the first of their first hits to
    the last of their last (a window may hint at an airing twice, from its own fingerprint and from
    the dense read of a line it follows, which hears a fading song for longer)."""
    agreeing = [hint for hint in hints
                if hint[0] == airing.track_id and abs(hint[1] - airing.alignment_at) <= params.align_tolerance_s]
    if not agreeing:
        return None
    return [airing.track_id, agreeing[0][1], min(hint[2] for hint in agreeing), max(hint[3] for hint in agreeing)]


def close_current(state: StationState, params: PlayParams) -> list[Play]:
    played = state.current.to_play() if state.current else None
    state.current = None
    return [played] if played and played.duration_s >= params.min_duration_s else []


def close_all(state: StationState, params: PlayParams) -> list[Play]:
    """The stream broke: the open play ends and a half-heard candidate is forgotten."""
    state.candidate = None
    state.hints = []
    return close_current(state, params)


def _confirm_candidate(state: StationState, params: PlayParams) -> list[Play]:
    confirmed, state.candidate = state.candidate, None
    closed = close_current(state, params)
    if closed and closed[0].track_id == confirmed.track_id:
        # The same track again straight away: the window at the seam heard both airings, and the
        # new one starts where the old one ended (two plays of one track never overlap).
        confirmed.first_at = max(confirmed.first_at, closed[0].end_at + 0.001)
    state.current = confirmed
    return closed


def advance(state: StationState, result: WindowResult, params: PlayParams = PlayParams()) -> list[Play]:
    """Feed one window result; returns the plays that this window closed."""
    plays: list[Play] = []
    if result.session != state.session:
        plays += close_all(state, params)
        state.session, state.heard_until = result.session, 0.0
    elif result.end_at <= state.heard_until:
        # Heard already (a redelivered window after a restart); only its end-of-stream mark is news.
        return close_all(state, params) if result.final else []
    if result.discontinuity:
        plays += close_all(state, params)
    if result.track_id is not None:
        if state.current and state.current.agrees(result, params.align_tolerance_s):
            state.current.extend(result)
            state.candidate = None
        elif state.current and result.track_id == state.current.track_id and (
                heard := _agreeing_hint(result.hints, state.current, params)) and _same_stretch(heard, result):
            # The open airing's track matched at another alignment over the same stretch of audio: a
            # passage the recording repeats (a chorus, a loop), not a new airing.  (A new airing of
            # the same track follows the old one in the window instead of overlapping it.)
            where = (result.start_at - state.current.alignment_at) * state.current.speed
            state.current.extend(replace(result, track_offset_s=where, first_hit_at=heard[2], last_hit_at=heard[3]))
            state.candidate = None
        elif state.candidate and state.candidate.agrees(result, params.align_tolerance_s):
            state.candidate.extend(result)
            if state.candidate.windows >= params.min_windows:
                plays += _confirm_candidate(state, params)
        else:
            state.candidate = Airing(
                track_id=result.track_id,
                alignment_at=alignment(result.start_at, result.track_offset_s, result.speed),
                first_at=result.first_hit_at,
                last_at=result.last_hit_at,
                confidence=result.confidence,
                speed=result.speed,
            )
            state.candidate.heard_title(result.icy_title)
            # The windows before may have heard this airing begin: behind the one they were busy
            # with, or too faintly (talk over the intro) to match.  One window between them that
            # does not hear it (a quiet bar, a louder word) does not end the walk back.
            missed = 0
            for earlier in reversed(state.hints):
                hint = _agreeing_hint(earlier, state.candidate, params)
                missed = 0 if hint else missed + 1
                if missed > HINT_GAP_WINDOWS:
                    break
                if hint:
                    state.candidate.first_at = min(state.candidate.first_at, hint[2])
            if params.min_windows <= 1:
                plays += _confirm_candidate(state, params)
    if state.current and not state.current.agrees(result, params.align_tolerance_s):
        outro = _agreeing_hint(result.hints, state.current, params)
        if outro is not None:  # the open airing still faintly heard (talk over its outro, the next song fading in)
            state.current.last_at = max(state.current.last_at, outro[3])
    state.hints = (state.hints + [result.hints])[-HINT_WINDOWS:]
    state.heard_until = max(state.heard_until, result.end_at)
    if state.current and state.heard_until - state.current.last_at > params.max_gap_s:
        plays += close_current(state, params)
    if state.candidate and state.heard_until - state.candidate.last_at > params.max_gap_s:
        state.candidate = None
    if result.final:
        plays += close_all(state, params)
    return plays
