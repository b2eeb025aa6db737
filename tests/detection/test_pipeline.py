from dataclasses import replace

import numpy as np
import pytest

from detection.audio import ANALYSIS_RATE, pcm16_encode, resample
from detection import pipeline
from detection.fingerprint import FRAME_SECONDS, HOP, PAIR_SECONDS, fingerprint, spectrogram
from detection.match import LineReading, Match, MatchParams, Verdict, match, read_line
from detection.pipeline import Recall, chunk_recording, scan
from detection.windows import Window
from synth.music import babble, song
from tests.conftest import RATE


def rms(samples):
    return float(np.sqrt(np.mean(samples ** 2)))


def silence(seconds):
    return np.zeros(int(seconds * RATE), np.float32)


def test_broadcast_yields_one_play_per_airing_with_boundaries(catalog_songs, catalog_index):
    start = 1_700_000_000.0
    parts = [silence(5), catalog_songs[2], babble(1, 10, RATE), song(77, 30, RATE),
             catalog_songs[5][10 * RATE:40 * RATE], silence(3)]
    broadcast = np.concatenate(parts)
    plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, start, 2.0)))
    assert [p.track_id for p in plays] == [2, 5]
    first, second = plays
    assert abs(first.start_at - (start + 5)) < 1.0 and abs(first.end_at - (start + 65)) < 1.0
    assert abs(second.start_at - (start + 105)) < 1.0 and abs(second.end_at - (start + 135)) < 1.0
    assert abs(second.track_offset_start_s - 10) < 1.0


def test_same_track_aired_twice_back_to_back_is_two_plays(catalog_songs, catalog_index):
    broadcast = np.concatenate([catalog_songs[6][:30 * RATE], catalog_songs[6][:30 * RATE]])
    plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
    assert [p.track_id for p in plays] == [6, 6]
    assert abs(plays[0].start_at - 0) < 1.0 and abs(plays[1].start_at - 30) < 1.0


def test_chunk_size_does_not_change_plays(catalog_songs, catalog_index):
    broadcast = np.concatenate([silence(2), catalog_songs[8][:40 * RATE], silence(2)])
    a = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
    b = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 4.0)))
    assert len(a) == len(b) == 1
    assert abs(a[0].start_at - b[0].start_at) < 0.5 and abs(a[0].end_at - b[0].end_at) < 0.5


def talk_over(track, gain):
    """The first 10 s of a catalog song with babble over them, `gain` times as loud as the music."""
    intro = track[:10 * RATE].copy()
    talk = babble(9, 10, RATE)
    return intro + talk * rms(intro) / rms(talk) * gain


def test_a_talk_over_intro_too_loud_to_match_still_dates_the_start_of_the_play(catalog_songs, catalog_index):
    intro = talk_over(catalog_songs[2], 2.0)  # the DJ talks 6 dB over the first 10 s of the song
    # The last 8 s of the talk-over do not match on their own (the play would start 6 s late)...
    assert match(catalog_index, fingerprint(resample(intro[2 * RATE:], RATE))) is None
    broadcast = np.concatenate([silence(6), intro, catalog_songs[2][10 * RATE:40 * RATE], silence(3)])
    plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
    # ...but they leave a hint that dates the start of the airing the next windows confirm.
    assert [p.track_id for p in plays] == [2]
    assert abs(plays[0].start_at - 6.0) < 1.0 and abs(plays[0].end_at - 46.0) < 1.0


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_talk_over_at_0_and_6_db_leaves_the_start_of_each_play_within_a_second(catalog_songs, catalog_index, gain):
    # Songs 4 and 10 hold no hash of their first 2-3 s under talk at 0 dB: their starts are read back
    # from a dense fingerprint of the windows before their first match.
    for track_id in (2, 4, 7, 10):
        intro = talk_over(catalog_songs[track_id], gain)
        broadcast = np.concatenate([silence(6), intro, catalog_songs[track_id][10 * RATE:40 * RATE], silence(3)])
        plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
        assert [p.track_id for p in plays] == [track_id]
        assert abs(plays[0].start_at - 6.0) < 1.0 and abs(plays[0].end_at - 46.0) < 1.0


def test_talk_over_the_outro_at_0_db_leaves_the_end_of_each_play_within_a_second(catalog_songs, catalog_index):
    for track_id in (2, 4, 9):
        song_body = catalog_songs[track_id][10 * RATE:40 * RATE].copy()
        talk = babble(11, 10, RATE)
        song_body[-10 * RATE:] += talk * rms(song_body[-10 * RATE:]) / rms(talk)
        broadcast = np.concatenate([silence(6), song_body, babble(12, 10, RATE) * 0.05, silence(3)])
        plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
        assert [p.track_id for p in plays] == [track_id]
        assert abs(plays[0].start_at - 6.0) < 1.0 and abs(plays[0].end_at - 36.0) < 1.0


@pytest.mark.parametrize("speed", [0.95, 0.97, 1.02, 1.05])
def test_a_station_playing_a_song_faster_or_slower_logs_one_play_with_its_speed(catalog_songs, catalog_index, speed):
    aired = resample(catalog_songs[5][5 * RATE:55 * RATE], RATE, int(RATE / speed))
    broadcast = np.concatenate([silence(4), aired, babble(3, 10, RATE)])
    plays = list(scan(catalog_index, chunk_recording(broadcast, RATE, 0.0, 2.0)))
    assert [p.track_id for p in plays] == [5]
    play = plays[0]
    aired_s = 50 / speed
    assert abs(play.start_at - 4) < 1.0 and abs(play.end_at - (4 + aired_s)) < 1.0
    assert abs(play.speed - speed) < 0.005
    assert abs(play.track_offset_start_s - 5) < 1.0 and abs(play.track_offset_end_s - 55) < 1.0


def test_a_new_line_heard_only_at_a_later_frame_phase_is_dated_in_the_window_s_own_time(
        catalog_songs, catalog_index, monkeypatch):
    window = resample(np.concatenate([silence(3), catalog_songs[3][10 * RATE:15 * RATE]]), RATE)
    known = Match(track_id=3, track_offset_s=7.0, speed=1.0, score=0, confidence=0.0, first_hit_s=0.0, last_hit_s=0.0)
    at_first_phase = pipeline._hits_at_phases(catalog_index, window, known, MatchParams())
    calls = []

    def faint_at_the_first_phase(*args, **kwargs):
        calls.append(args)
        reading = read_line(*args, **kwargs)
        return LineReading(reading.hits[:1], None) if len(calls) == 1 else reading

    monkeypatch.setattr(pipeline, "read_line", faint_at_the_first_phase)
    at_second_phase = pipeline._hits_at_phases(catalog_index, window, known, MatchParams())
    assert len(calls) == 2
    # The second phase skips a fraction of a frame; the hits it finds are the same music, at most a
    # frame away once taken back to the window's start.
    assert abs(at_second_phase[0] - at_first_phase[0]) <= FRAME_SECONDS
    assert abs(at_second_phase[-1] - at_first_phase[-1]) <= FRAME_SECONDS
    assert abs(at_first_phase[0] - 3.0) < 0.5 and at_first_phase[-1] > 6.0


def test_a_phase_that_hears_nothing_of_a_new_line_ends_the_search(catalog_index, monkeypatch):
    known = Match(track_id=3, track_offset_s=7.0, speed=1.0, score=0, confidence=0.0, first_hit_s=0.0, last_hit_s=0.0)
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return read_line(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_line", counted)
    assert pipeline._hits_at_phases(catalog_index, resample(silence(8), RATE), known, MatchParams()) is None
    assert len(calls) == 1


def test_hits_too_few_to_hear_a_line_count_only_where_the_line_is_known_to_be(catalog_index, monkeypatch):
    # Under talk, a read back into the evidence finds a few of the line's hits, too few for a read that
    # long to hear it on its own; it reaches where the line matched, so they are taken, from both
    # frame phases.  A read of older audio alone must hear the line.
    known = Match(track_id=3, track_offset_s=7.0, speed=1.0, score=0, confidence=0.0, first_hit_s=0.0, last_hit_s=0.0)
    monkeypatch.setattr(pipeline, "read_line", lambda *args, **kwargs: LineReading(np.array([1.0, 2.0]), None))
    samples = resample(silence(8), RATE)
    hits = pipeline._hits_at_phases(catalog_index, samples, known, MatchParams(), present=True)
    skipped = HOP // pipeline.ECHO_PHASES / ANALYSIS_RATE
    assert np.allclose(hits, [1.0, 1.0 + skipped, 2.0, 2.0 + skipped])
    assert pipeline._hits_at_phases(catalog_index, samples, known, MatchParams()) is None


def test_reading_back_the_start_moves_only_through_hits_that_link_up_to_the_evidence():
    evidence = 100.0
    # Hits a second or two apart lead back from the evidence; a chance hit 2.5 s before them does not.
    assert pipeline._linked_start(np.array([93.0, 95.5, 98.0, 99.0]), evidence) == 98.0
    # Two hits a second apart link from 3 s before the evidence; one alone does not, nor two a
    # fraction of a second apart (one moment of sound).
    assert pipeline._linked_start(np.array([96.2, 97.2]), evidence) == 96.2
    assert pipeline._linked_start(np.array([97.2]), evidence) == evidence
    assert pipeline._linked_start(np.array([96.9, 97.2]), evidence) == evidence
    # Hits after the evidence (the read overlaps it by a second) say nothing of the start.
    assert pipeline._linked_start(np.array([100.5, 100.8]), evidence) == evidence


def test_paired_hits_link_from_further_back_when_no_other_line_was_heard_since():
    # Talk over an intro hides the line for seconds. Two hits a second apart 4.5 s before the evidence
    # link if nothing else the catalog knows was heard after them (the talk is not in the catalog)...
    evidence = 100.0
    assert pipeline._linked_start(np.array([94.5, 95.5]), evidence, others_until=90.0) == 94.5
    # ...not while another song was still heard (a chance likeness in it), nor from further than
    # FREE_LINK_S, nor a lone hit.
    assert pipeline._linked_start(np.array([94.5, 95.5]), evidence, others_until=96.0) == evidence
    assert pipeline._linked_start(np.array([93.5, 94.5]), evidence, others_until=90.0) == evidence
    assert pipeline._linked_start(np.array([95.5]), evidence, others_until=90.0) == evidence
    # With nothing else heard, hits a fraction of a second apart pair too (a struck chord in a quiet
    # intro); while another song plays they are one moment of sound, no more than one hit.
    assert pipeline._linked_start(np.array([95.2, 95.5]), evidence, others_until=90.0) == 95.2
    assert pipeline._linked_start(np.array([97.2, 97.5]), evidence, others_until=98.0) == evidence


def test_reading_back_is_told_when_another_line_was_last_heard(catalog_index, monkeypatch):
    # The remembered windows heard another track until 9 s, and hinted at the new line itself (which
    # is no other line); hits 4.5 s before the evidence, after 9 s, link; with the other track heard
    # until 16 s, they do not.
    for other_until, start in ((9.0, 14.5), (16.0, 19.0)):
        recall, latest, _, _ = _remembered_song(monkeypatch, [[14.5, 15.5], [], []])
        recall.heard.extend([[((7, -30.0, 1.0), 0.5, 6.0)], [((7, -30.0, 1.0), 4.5, other_until), ((4, 0.4, 1.0), 10.0, 11.0)],
                             []])
        assert pipeline._heard_since(catalog_index, recall, latest, (4, 0.0, 1.0), 19.0, MatchParams()) == start


def _remembered_song(monkeypatch, hits_by_read):
    """Three remembered windows and a latest one of a song, with reads that find the given hits
    (station seconds), one list per read; returns (recall, latest window, audio, the reads' samples
    and whether each was told the line is present)."""
    audio = resample(song(40, 20, RATE), RATE)
    recall = Recall()
    for start_at in (0.0, 4.0, 8.0):
        recall.earlier.append((start_at, pcm16_encode(audio[_at(start_at):_at(start_at + 8)])))
    latest = Window(start_at=12.0, samples=audio[_at(12):_at(20)], session="", discontinuity=False, final=False)
    reads = []

    def scripted(index, samples, known, params, present=False):
        reads.append((samples, present))
        return np.array(hits_by_read[len(reads) - 1]) - known.track_offset_s  # the line (4, 0.0, 1.0): offset = start

    monkeypatch.setattr(pipeline, "_hits_at_phases", scripted)
    return recall, latest, audio, reads


def _at(seconds):
    return int(seconds * ANALYSIS_RATE)


@pytest.mark.parametrize("other_until, present", [(18.0, [True, False, False]), (None, [True, True, True])])
def test_reading_back_runs_the_latest_window_to_the_evidence_and_older_ones_as_far_as_their_pairs_reach(
        catalog_index, monkeypatch, other_until, present):
    # A pair whose target lies past a window's end is not in that window's own fingerprint: each read
    # goes on through the later windows' audio.  The latest remembered window's read runs to a second
    # past the evidence; an older one's up to a second past the start so far, or its pairs' reach.
    recall, latest, audio, reads = _remembered_song(monkeypatch, [[16.0, 17.5], [14.5], [10.0]])
    if other_until is not None:
        recall.heard.extend([[], [], [((7, -30.0, 1.0), 8.5, other_until)]])
    assert pipeline._heard_since(catalog_index, recall, latest, (4, 0.0, 1.0), 19.0, MatchParams()) == 14.5
    ends = [20.0, 12.0 + PAIR_SECONDS, 8.0 + PAIR_SECONDS]
    # The latest window's read reaches into the evidence, where the line is known to be; an older
    # one's hits count as present too where no other song was heard after the start so far (here,
    # another track until 18 s, after the start read back to).
    assert [was_present for _, was_present in reads] == present
    for (read, _), start_at, end in zip(reads, (8.0, 4.0, 0.0), ends, strict=True):
        assert abs(len(read) - (end - start_at) * ANALYSIS_RATE) <= 1
        assert np.allclose(read, audio[_at(start_at):_at(start_at) + len(read)], atol=1e-4)


def test_a_read_back_that_links_no_earlier_hit_ends_the_search(catalog_index, monkeypatch):
    # The hit 4 s before the evidence is too far to link, and the older windows lie further back still.
    recall, latest, _, reads = _remembered_song(monkeypatch, [[15.0], [15.0], [15.0]])
    assert pipeline._heard_since(catalog_index, recall, latest, (4, 0.0, 1.0), 19.0, MatchParams()) == 19.0
    assert len(reads) == 1


def _two_windows_read_back(catalog_index, monkeypatch, verdicts, moved_back_s):
    """Analyse windows at 12 and 16 s that judge gives these verdicts, with every read back moving the
    start `moved_back_s` earlier; returns the reads' (line, from) and the window results."""
    verdicts = iter(verdicts)
    monkeypatch.setattr(pipeline, "judge", lambda index, query, params, last: next(verdicts))
    reads = []

    def read_back(index, recall, window, line, heard_at, params):
        reads.append((line, heard_at))
        return heard_at - moved_back_s

    monkeypatch.setattr(pipeline, "_heard_since", read_back)
    recall, results = Recall(), []
    for start_at in (12.0, 16.0):
        window = Window(start_at=start_at, samples=np.zeros(8 * ANALYSIS_RATE, np.float32), session="",
                        discontinuity=False, final=False)
        results.append(pipeline.analyse(catalog_index, window, recall=recall))
    return reads, results


@pytest.mark.parametrize("next_speed, reads_again", [(1.0, True), (1.018, False)])
def test_a_new_line_is_read_back_again_at_the_next_window_s_speed_when_its_first_was_off(
        catalog_index, monkeypatch, next_speed, reads_again):
    # The window that first matches a line hears a few of its hits and puts it 2% fast; the next
    # window, hearing the line throughout, says how fast it really is.  Read back at 2% off, a faint
    # intro's hits drift off the line, so the start is read back again, from where the first read
    # stopped, at the surer speed; a speed within RESPEED of the first is not worth the read.
    reads, results = _two_windows_read_back(
        catalog_index, monkeypatch,
        [Verdict(Match(4, 10.0, 1.02, 14, 1.0, 6.5, 8.0)), Verdict(Match(4, 14.0, next_speed, 60, 1.0, 0.0, 8.0))], 1.5)
    assert reads[0] == ((4, 12.0 - 10.0 / 1.02, 1.02), 18.5)
    assert results[0].first_hit_at == 17.0
    if reads_again:
        assert reads[1] == ((4, 16.0 - 14.0 / next_speed, next_speed), 17.0)
        assert results[1].first_hit_at == 15.5
    else:
        assert len(reads) == 1 and results[1].first_hit_at == 16.0


def test_a_line_the_window_only_hints_at_is_still_read_in_the_dense_fingerprint(catalog_index, monkeypatch):
    # A song fading under the next one: the window's sparse fingerprint still hints at it, but the
    # dense read hears it for longer, and that dates the end of its play.
    matched = Match(4, 10.0, 1.0, 60, 1.0, 0.0, 8.0)
    hinted = replace(matched, track_offset_s=14.0, score=5, last_hit_s=2.0)
    verdicts = iter([Verdict(matched), Verdict(hints=(hinted,))])
    monkeypatch.setattr(pipeline, "judge", lambda index, query, params, last: next(verdicts))
    dense_reads = []

    def dense_echo(index, query, known, params):
        dense_reads.append(known)
        return replace(known, score=9, first_hit_s=0.0, last_hit_s=6.0)

    monkeypatch.setattr(pipeline, "echo", dense_echo)
    recall = Recall()
    for start_at in (12.0, 16.0):
        window = Window(start_at=start_at, samples=silence(8), session="", discontinuity=False, final=False)
        result = pipeline.analyse(catalog_index, window, recall=recall)
    assert [(known.track_id, known.track_offset_s) for known in dense_reads] == [(4, 14.0)]
    assert [4, 2.0, 16.0, 22.0] in result.hints


@pytest.mark.parametrize("first_hinted_s, next_last_s, read_back", [(3.0, 7.5, True), (4.5, 7.5, False), (3.0, 3.5, False)])
def test_a_line_two_windows_in_a_row_hint_at_on_hits_of_their_own_is_read_back(
        catalog_index, monkeypatch, first_hinted_s, next_last_s, read_back):
    # A quiet intro under noise, hinted at and not matched: once the next window hints at its line
    # too, the hint's first hit is read back as a match's would be.  Two hints that rest on the four
    # seconds the windows share (the first window's from 4.5 s on, or the next one's up to 3.5 s) may
    # be one chance likeness.
    first = Match(4, 10.0, 1.0, 6, 0.0, first_hinted_s, 7.5)
    reads, results = _two_windows_read_back(
        catalog_index, monkeypatch,
        [Verdict(hints=(first,)), Verdict(hints=(replace(first, track_offset_s=14.0, first_hit_s=1.0, last_hit_s=next_last_s),))],
        3.0)
    assert results[0].hints == [[4, 2.0, 12.0 + first_hinted_s, 19.5]]
    assert reads == ([((4, 2.0, 1.0), 17.0)] if read_back else [])
    assert results[1].hints == [[4, 2.0, 14.0 if read_back else 17.0, 16.0 + next_last_s]]


def test_a_window_takes_the_spectrogram_frames_of_the_audio_it_shares_with_the_last_window():
    audio = np.random.default_rng(8).standard_normal(20 * ANALYSIS_RATE).astype(np.float32)
    hop = pipeline.HOP_FRAMES * HOP  # a window starts this many samples after the last
    first, second = (Window(0.0, audio[at:at + 8 * ANALYSIS_RATE], "s", False, False) for at in (0, hop))
    recall = Recall()
    assert np.array_equal(recall.spectrogram(first), spectrogram(first.samples))
    shared, frames = recall.overlap
    recall.overlap = (shared, frames + 1.0)  # marked, to see where the second window's frames come from
    spec = recall.spectrogram(second)
    assert np.array_equal(spec[:len(frames)], frames + 1.0)
    assert np.array_equal(spec[len(frames):], spectrogram(second.samples)[len(frames):])
    # A window that does not go on from the last (audio lost between) is computed whole.
    later = Window(30.0, audio[3 * hop:3 * hop + 8 * ANALYSIS_RATE], "s", False, False)
    recall.overlap = (recall.overlap[0], recall.overlap[1] + 1.0)
    assert np.array_equal(recall.spectrogram(later), spectrogram(later.samples))
