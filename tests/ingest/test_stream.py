"""A station's stream chunked into sessions; what happens when the producer's buffer is full."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from airspin.settings import Settings
from ingest.stream import StationStream
from synth.encode import write_audio
from synth.music import song
from tests.ingest.servers import serve, stream_of
from topics.records import AudioChunk

RATE = 44100


class FullBufferProducer:
    """Accepts chunks like ChunkProducer.offer, except while its buffer is 'full' (chunks 3 to 5)."""

    def __init__(self):
        self.offers = 0
        self.accepted: list[AudioChunk] = []

    def offer(self, _station_id: str, value: bytes) -> bool:
        self.offers += 1
        if 4 <= self.offers <= 6:
            return False
        self.accepted.append(AudioChunk.from_bytes(value))
        return True


async def test_chunks_refused_by_a_full_buffer_are_counted_and_the_next_audio_is_a_new_session(tmp_path):
    mp3 = write_audio(tmp_path / "s.mp3", song(1, 21, RATE), RATE).read_bytes()
    runner, base = await serve([web.get("/live.mp3", stream_of(mp3, "audio/mpeg"))])
    producer = FullBufferProducer()
    stream = StationStream(Settings(), "radio-1", f"{base}/live.mp3", producer)
    task = asyncio.create_task(stream.run())
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            if stream.status.reconnects:
                break
    finally:
        task.cancel()
        await runner.cleanup()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert stream.status.dropped_chunks == 3 and stream.status.dropped_seconds == pytest.approx(6.0)
    first = producer.accepted[0].session
    second = producer.accepted[3].session
    connection = [c for c in producer.accepted if c.session in (first, second)]  # not the reconnection's
    assert [(c.session, c.seq, c.discontinuity) for c in connection[:5]] == [
        (first, 0, True), (first, 1, False), (first, 2, False), (second, 0, True), (second, 1, False)]
    assert second != first and not any(c.discontinuity for c in connection[4:])
    # 21 s of audio: 3 chunks published, 3 lost, then 4 more, the short rest, and the end of the stream.
    assert len(connection) == 9 and connection[-1].final and len(connection[-1].samples) == 0
    assert not any(c.final for c in connection[:-1])
    assert sum(len(c.samples) for c in connection) / 16000 == pytest.approx(21 - 6, abs=0.1)
