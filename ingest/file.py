"""`airspin ingest file`: a recording published as a station's chunks, at full speed or in real time."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import numpy as np

from airspin.settings import Settings
from detection.audio import decode_file, pcm16_decode, pcm16_encode
from detection.pipeline import chunk_recording
from ingest.producer import ChunkProducer
from topics.admin import ensure_topics
from topics.records import AudioChunk


def decode_as_aired(path: Path, sample_rate: int) -> np.ndarray:
    """The recording as the pipeline receives it: decoded, then quantised to the wire's 16-bit PCM."""
    return pcm16_decode(pcm16_encode(decode_file(path, sample_rate)))


def ingest_file(settings: Settings, path: Path, station_id: str, start_at: float,
                realtime: bool = False) -> int:
    """Publish the recording's chunks, station time starting at ``start_at``; returns the chunk count."""
    rate = settings.ingest_sample_rate
    samples = decode_as_aired(path, rate)
    ensure_topics(settings)
    producer = ChunkProducer(settings)
    session = uuid.uuid4().hex
    wall_start = time.monotonic()
    count = 0
    chunks = chunk_recording(samples, rate, start_at, settings.chunk_seconds, session)
    for count, chunk in enumerate(chunks, 1):
        if realtime:  # a chunk is published once its last sample would have aired
            aired = chunk.start_at - start_at + len(chunk.samples) / rate
            time.sleep(max(0.0, wall_start + aired - time.monotonic()))
        producer.send(station_id, AudioChunk(
            station_id=station_id, seq=chunk.seq, start_at=chunk.start_at, sample_rate=rate,
            samples=chunk.samples, session=session, discontinuity=chunk.discontinuity, final=chunk.final,
        ).to_bytes())
    producer.flush()
    return count
