"""A broker restart while stations are being ingested loses no audio the ingester accepted.

The test runs a broker of its own (scripts/kafka.sh with its own ports and folder), so stopping it
disturbs no other test.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.request
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web

from storage.stations import StationChange, add_station
from synth.encode import write_audio
from synth.music import song
from tests.ingest.servers import serve, stream_of
from tests.services import AIRSPIN, RATE, environment, free_port, read_topic
from topics import AUDIO_CHUNKS
from topics.records import AudioChunk

pytestmark = pytest.mark.integration

KAFKA_SH = Path(__file__).resolve().parents[2] / "scripts" / "kafka.sh"
AIRED_S = 36.0
BITRATE = 128_000


@pytest.fixture
def own_broker(tmp_path):
    env = {**os.environ, "KAFKA_PORT": str(free_port()), "KAFKA_CONTROLLER_PORT": str(free_port()),
           "KAFKA_INSTANCE_DIR": str(tmp_path / "kafka")}

    def kafka(action: str) -> None:
        subprocess.run([str(KAFKA_SH), action], env=env, check=True, capture_output=True, timeout=120)

    kafka("start")
    yield f"127.0.0.1:{env['KAFKA_PORT']}", kafka
    kafka("stop")


def ingest_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats/", timeout=2) as response:
        return json.loads(response.read())


async def wait_until(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except OSError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_broker_restart_during_ingest_loses_no_accepted_audio(settings, pool, own_broker, tmp_path):
    bootstrap, kafka = own_broker
    ingest_settings = replace(settings, kafka_bootstrap=bootstrap)
    mp3 = write_audio(tmp_path / "air.mp3", song(21, AIRED_S, RATE), RATE, bitrate=BITRATE).read_bytes()
    runner, base = await serve([web.get("/live.mp3", stream_of(mp3, "audio/mpeg", bytes_per_s=BITRATE / 8, once=True))])
    await add_station(pool, "radio-restart", StationChange(stream_url=f"{base}/live.mp3"))
    stats_port = free_port()
    log_path = tmp_path / "ingest.log"
    ingester = subprocess.Popen([*AIRSPIN, "ingest", "run", "--station", "radio-restart"],
                                env=environment(ingest_settings, ingest_web_port=stats_port),
                                stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    try:
        station = lambda: ingest_stats(stats_port)["stations"].get("radio-restart", {})  # noqa: E731
        await wait_until(lambda: station().get("chunks", 0) >= 3, 30, "the first chunks")
        await asyncio.to_thread(kafka, "stop")
        # The broker is away for a while: chunks keep being accepted, and wait in the buffer.
        await asyncio.sleep(8)
        during = ingest_stats(stats_port)
        assert during["chunks_buffered"] >= 3, during
        await asyncio.to_thread(kafka, "start")
        # The stream ends (the station's server then answers 404); everything is delivered.
        await wait_until(lambda: station().get("errors", 0) >= 2, AIRED_S + 30, "the end of the stream")
        final = await wait_until(lambda: (s := ingest_stats(stats_port))["chunks_buffered"] == 0 and s, 60,
                                 "the buffer to drain")
    finally:
        ingester.terminate()
        ingester.wait(60)
        await runner.cleanup()
    assert ingester.returncode == 0, log_path.read_text()[-3000:]

    records = await asyncio.to_thread(read_topic, ingest_settings, AUDIO_CHUNKS, expect=10**9, timeout_s=10)
    chunks = [AudioChunk.from_bytes(r.value()) for r in records if r.key() == b"radio-restart"]
    by_session = defaultdict(list)
    for chunk in chunks:
        by_session[chunk.session].append(chunk.seq)
    status = final["stations"]["radio-restart"]
    assert status["dropped_chunks"] == 0
    assert len(chunks) == status["chunks"] == final["chunks_delivered"]
    # One connection, every chunk once and in order: the idempotent producer kept them exact.
    assert [sorted(seqs) for seqs in by_session.values()] == [list(range(len(chunks)))]
    assert sum(len(c.samples) / c.sample_rate for c in chunks) == pytest.approx(AIRED_S, abs=0.2)
