import json

import numpy as np
import pytest

from detection.plays import Play, WindowResult
from topics.records import AudioChunk, MalformedRecord, PlayEvent, WindowMatch


def test_audio_chunk_round_trips_and_is_barely_larger_than_its_pcm():
    samples = np.sin(np.linspace(0, 100, 32000)).astype(np.float32) * 0.5
    chunk = AudioChunk("fm-1", 7, 1_700_000_000.25, 16000, samples, discontinuity=True)
    data = chunk.to_bytes()
    assert len(data) < len(samples) * 2 + 200
    back = AudioChunk.from_bytes(data)
    assert (back.station_id, back.seq, back.start_at, back.sample_rate, back.discontinuity, back.final) == \
           ("fm-1", 7, 1_700_000_000.25, 16000, True, False)
    assert np.max(np.abs(back.samples - samples)) < 1e-4


@pytest.mark.parametrize("data, reason", [
    (b"", "ASC1 marker"),
    (b"ASC1", "truncated"),
    (b"ASC1\x05\x00{bad}", "not JSON"),
    (b"ASC1\x10\x00" + b'{"seq": 1}      ', "pcm_s16le"),
])
def test_malformed_chunks_say_why(data, reason):
    with pytest.raises(MalformedRecord, match=reason):
        AudioChunk.from_bytes(data)


def test_chunk_with_missing_field_or_odd_payload_is_malformed():
    header = {"seq": 1, "start_at": 0, "sample_rate": 16000, "encoding": "pcm_s16le"}
    raw = json.dumps(header).encode()
    with pytest.raises(MalformedRecord, match="station_id"):
        AudioChunk.from_bytes(b"ASC1" + len(raw).to_bytes(2, "little") + raw)
    header["station_id"] = "x"
    raw = json.dumps(header).encode()
    with pytest.raises(MalformedRecord, match="odd length"):
        AudioChunk.from_bytes(b"ASC1" + len(raw).to_bytes(2, "little") + raw + b"\x01")


def test_window_match_round_trips_to_the_core_result():
    result = WindowResult(start_at=10.0, end_at=18.0, track_id=3, track_offset_s=4.5, score=40,
                          confidence=0.9, first_hit_at=10.2, last_hit_at=17.9, discontinuity=True)
    record = WindowMatch.from_bytes(WindowMatch("fm-1", result).to_bytes())
    assert record.station_id == "fm-1" and record.result == result
    with pytest.raises(MalformedRecord, match="lacks"):
        WindowMatch.from_bytes(b'{"station_id": "x"}')
    with pytest.raises(MalformedRecord, match="station_id"):
        WindowMatch.from_bytes(b'{"start_at": 1, "end_at": 9}')


def test_play_ids_are_deterministic_per_station_track_and_start():
    play = Play(track_id=5, start_at=100.0, end_at=160.0, track_offset_start_s=0.0,
                track_offset_end_s=60.0, confidence=0.9, windows=14)
    a, b = PlayEvent.of("fm-1", play), PlayEvent.of("fm-1", play)
    assert a.play_id == b.play_id
    assert PlayEvent.of("fm-2", play).play_id != a.play_id
    assert PlayEvent.from_bytes(a.to_bytes()) == a
    assert a.duration_s == 60.0
    with pytest.raises(MalformedRecord, match="not JSON"):
        PlayEvent.from_bytes(b"\xff")
