from dataclasses import replace

from detection.plays import PlayParams, StationState, WindowResult, advance


def hit(start, track_id, offset, final=False, discontinuity=False, session="", icy_title=None):
    return WindowResult(start_at=start, end_at=start + 8, session=session, track_id=track_id, track_offset_s=offset,
                        score=50, confidence=0.9, first_hit_at=start, last_hit_at=start + 8,
                        final=final, discontinuity=discontinuity, icy_title=icy_title)


def nothing(start, final=False, session=""):
    return WindowResult(start_at=start, end_at=start + 8, session=session, final=final)


def feed(results, params=PlayParams()):
    state, plays = StationState(), []
    for result in results:
        plays += advance(state, result, params)
    return plays, state


def test_a_single_window_is_not_a_play():
    plays, _ = feed([nothing(0), hit(4, 1, 0), nothing(8), nothing(12), nothing(16), nothing(24, final=True)])
    assert plays == []


def test_consecutive_windows_make_one_play_closed_by_silence():
    silence = [nothing(12 + 4 * i) for i in range(13)]  # heard until 68 s: 52 s after the last hit
    plays, state = feed([hit(0, 1, 0), hit(4, 1, 4), hit(8, 1, 8), *silence])
    assert plays == [] and state.current is not None  # a quiet passage, perhaps
    plays, state = feed([hit(0, 1, 0), hit(4, 1, 4), hit(8, 1, 8), *silence, nothing(64), nothing(68), nothing(72)])
    assert [(p.track_id, p.start_at, p.end_at, p.windows) for p in plays] == [(1, 0, 16, 3)]
    assert state.current is None


def test_a_quiet_passage_inside_a_song_does_not_split_its_play():
    quiet = [nothing(20 + 4 * i) for i in range(10)]  # 40 s without a match, as in an ambient break
    plays, _ = feed([hit(0, 1, 10), hit(4, 1, 14), hit(8, 1, 18), *quiet, hit(60, 1, 70), hit(64, 1, 74),
                     nothing(68, final=True)])
    assert [(p.start_at, p.end_at, p.track_offset_start_s, p.windows) for p in plays] == [(0, 72, 10, 5)]


def test_another_track_closes_the_play():
    plays, state = feed([hit(0, 1, 30), hit(4, 1, 34), hit(8, 2, 0), hit(12, 2, 4)])
    assert [(p.track_id, p.start_at, p.end_at, p.track_offset_start_s) for p in plays] == [(1, 0, 12, 30)]
    assert state.current.track_id == 2


def test_one_stray_window_inside_a_play_does_not_split_it():
    plays, _ = feed([hit(0, 1, 0), hit(4, 1, 4), hit(8, 9, 100), hit(12, 1, 12), hit(16, 1, 16, final=True)])
    assert [(p.track_id, p.start_at, p.end_at) for p in plays] == [(1, 0, 24)]


def test_discontinuity_never_merges_across_a_gap():
    plays, _ = feed([hit(0, 1, 0), hit(4, 1, 4), hit(20, 1, 20, discontinuity=True), hit(24, 1, 24, final=True)])
    assert [(p.start_at, p.end_at) for p in plays] == [(0, 12), (20, 32)]


def test_state_round_trips_through_a_dict():
    _, state = feed([hit(0, 1, 0), hit(4, 1, 4), hit(8, 2, 0)])
    restored = StationState.from_dict(state.to_dict())
    assert restored == state


def test_a_redelivered_window_is_ignored_but_a_new_session_starts_over():
    windows = [hit(0, 1, 0), hit(4, 1, 4), hit(8, 1, 8)]
    plays, state = feed(windows + [hit(4, 1, 4, discontinuity=True)] + windows[1:] + [nothing(12, final=True)])
    assert [(p.start_at, p.end_at, p.windows) for p in plays] == [(0, 16, 3)]
    replay = [hit(0, 1, 0, discontinuity=True, session="again"), hit(4, 1, 4, session="again"),
              nothing(8, final=True, session="again")]
    again, _ = feed(windows + replay)
    assert [(p.start_at, p.end_at) for p in again] == [(0, 16), (0, 12)]


def test_the_same_track_again_straight_away_never_overlaps_the_first_play():
    # Windows at the seam report the second airing's first hits before the first airing's last ones.
    first = [hit(0, 1, 0), hit(4, 1, 4), hit(8, 1, 8)]
    again = [WindowResult(start_at=s, end_at=s + 8, track_id=1, track_offset_s=s - 14, score=50, confidence=0.9,
                          first_hit_at=s - 1.5 if s == 14 else s, last_hit_at=s + 8) for s in (14, 18, 22)]
    plays, _ = feed(first + again + [nothing(30, final=True)])
    assert len(plays) == 2
    assert plays[1].start_at > plays[0].end_at


def test_a_match_too_short_to_be_an_airing_is_not_a_play():
    blip = [WindowResult(start_at=s, end_at=s + 8, track_id=3, track_offset_s=50 + s, score=13, confidence=0.5,
                         first_hit_at=s + 4.0, last_hit_at=s + 4.2) for s in (0, 4)]
    plays, _ = feed(blip + [nothing(8), nothing(12), nothing(16, final=True)])
    assert plays == []


def test_a_play_keeps_what_the_station_said_most_often_while_it_aired():
    titles = ["Jingle", "Artist - Song", "Artist - Song", "Artist - Song", None]
    plays, _ = feed([hit(4 * i, 1, 4 * i, icy_title=t) for i, t in enumerate(titles)] + [nothing(20, final=True)])
    assert [p.icy_title for p in plays] == ["Artist - Song"]
    silent, _ = feed([hit(0, 1, 0), hit(4, 1, 4), nothing(8, final=True)])
    assert [p.icy_title for p in silent] == [None]


def test_a_faint_hint_behind_a_stronger_one_still_dates_the_start():
    # The window before the airing was confirmed heard it only faintly, behind another track's line.
    faint = WindowResult(start_at=0, end_at=8, hints=[[9, 50.0, 3.0, 7.5], [1, -1.0, 1.2, 7.9]])
    plays, _ = feed([faint, hit(4, 1, 5), hit(8, 1, 9), hit(12, 1, 13), nothing(16, final=True)])
    assert [(p.track_id, p.start_at) for p in plays] == [(1, 1.2)]


def test_one_window_that_hears_nothing_of_a_faint_intro_does_not_end_the_walk_back_to_its_start():
    def faint(start):
        return WindowResult(start_at=start, end_at=start + 8, hints=[[1, -2.0, start + 1.0, start + 7.0]])
    plays, _ = feed([faint(0), nothing(4), faint(8), hit(12, 1, 14), hit(16, 1, 18), nothing(20, final=True)])
    assert [(p.track_id, p.start_at) for p in plays] == [(1, 1.0)]
    # Two such windows in a row do.
    plays, _ = feed([faint(0), nothing(4), nothing(8), faint(12), hit(16, 1, 18), hit(20, 1, 22),
                     nothing(24, final=True)])
    assert [(p.track_id, p.start_at) for p in plays] == [(1, 13.0)]


def test_a_window_hinting_at_an_airing_twice_dates_its_edges_from_both_hints():
    # A song fading under the next one: the window's own fingerprint hints at it until 21.5 s, the
    # dense read of the line it follows until 22.5 s.  The play ends at the later; a new airing heard
    # so starts at the earlier of the two first hits.
    fading = replace(hit(16, 2, 0), hints=[[1, 0.0, 16.0, 21.5], [1, 0.3, 16.0, 22.5], [3, 9.0, 16.0, 23.0]])
    plays, _ = feed([hit(0, 1, 0), hit(4, 1, 4), hit(8, 1, 8), hit(12, 1, 12), fading, hit(20, 2, 4),
                     nothing(24, final=True)])
    assert [(p.track_id, p.end_at) for p in plays][0] == (1, 22.5)
    intro = WindowResult(start_at=0, end_at=8, hints=[[1, -1.0, 3.0, 7.5], [1, -1.3, 1.5, 7.9]])
    plays, _ = feed([intro, hit(4, 1, 5), hit(8, 1, 9), nothing(12, final=True)])
    assert [(p.track_id, p.start_at) for p in plays] == [(1, 1.5)]


def test_state_saved_with_one_hint_a_window_still_loads():
    state = StationState.from_dict({"hints": [None, [1, -1.0, 1.2, 7.9]], "session": "s"})
    assert state.hints == [[], [[1, -1.0, 1.2, 7.9]]]


def test_a_repeated_passage_matching_elsewhere_in_the_track_does_not_split_the_play():
    # Windows at 12 and 16 s hear a chorus that also occurs 50 s later in the recording; they match
    # there a little better, but still hear the airing's own alignment as a hint.
    def chorus(start):
        return replace(hit(start, 1, start + 50), hints=[[1, 0.0, start, start + 8]])
    plays, _ = feed([hit(0, 1, 0), hit(4, 1, 4), hit(8, 1, 8), chorus(12), chorus(16), hit(20, 1, 20),
                     hit(24, 1, 24), nothing(28, final=True)])
    assert [(p.track_id, p.start_at, p.end_at) for p in plays] == [(1, 0, 32)]


def test_a_first_window_with_a_rough_speed_estimate_does_not_split_a_play_late_in_a_song():
    # Two minutes into a song played 2% slow; the first window put the speed at 0.99, which taken
    # back to the track's first second misplaces the airing by 1.2 s.
    def slow(start, estimate=0.98):
        return replace(hit(start, 1, round(start * 0.98, 3)), speed=estimate)
    plays, _ = feed([slow(120, 0.99)] + [slow(124 + 4 * i) for i in range(8)] + [nothing(156, final=True)])
    assert [(p.track_id, p.start_at, p.end_at) for p in plays] == [(1, 120, 160)]
    assert abs(plays[0].speed - 0.98) < 0.002
