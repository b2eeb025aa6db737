"""`airspin ingest run`: live stations over HTTP (Icecast/Shoutcast MP3 and AAC) into Kafka.

One asyncio process reads every active station.  Each connection is a session: station time is
anchored to the clock when its first audio is decoded and advanced by the sample count, chunks are
numbered from 0, and the first chunk of every new connection carries the discontinuity flag, so no
play is merged across a reconnect.  A failing station reconnects with exponential backoff and jitter
and reports its last error; it never stops the others.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

import aiohttp
from aiohttp import web
import asyncpg
import numpy as np

from airspin.settings import Settings
from ingest.decoder import StreamDecoder, codec_for
from ingest.icy import IcyDemuxer
from ingest.producer import ChunkProducer
from storage.stations import list_stations
from topics.records import AudioChunk

log = logging.getLogger(__name__)

READ_SIZE = 16384
#: No bytes for this long and the connection counts as stalled.
STALL_TIMEOUT_S = 15.0
#: Bytes without a single decoded sample before the stream counts as undecodable.
UNDECODABLE_BYTES = 256 * 1024
BACKOFF_MAX_S = 60.0


class StreamEnded(ConnectionError):
    pass


@dataclass
class StationStatus:
    connected: bool = False
    bytes: int = 0
    decoded_seconds: float = 0.0
    chunks: int = 0
    last_chunk_at: float | None = None
    reconnects: int = 0
    errors: int = 0
    last_error: str | None = None
    icy_title: str | None = None


class StationStream:
    def __init__(self, settings: Settings, station_id: str, url: str, producer: ChunkProducer,
                 clock: Callable[[], float] = time.time):
        self.settings = settings
        self.station_id = station_id
        self.url = url
        self.producer = producer
        self.clock = clock
        self.status = StationStatus()

    async def run(self) -> None:
        """Read the station until cancelled, reconnecting after every failure."""
        backoff = 1.0
        while True:
            try:
                await self._connection()
                backoff = 1.0  # the stream ended after working: reconnect promptly
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.status.errors += 1
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("station %s: %s; reconnecting in %.0f s", self.station_id, self.status.last_error, backoff)
            finally:
                self.status.connected = False
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(BACKOFF_MAX_S, backoff * 2)
            self.status.reconnects += 1

    async def _connection(self) -> None:
        rate = self.settings.ingest_sample_rate
        chunk_size = int(self.settings.chunk_seconds * rate)
        session, seq = uuid.uuid4().hex, 0
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=STALL_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http, \
                http.get(self.url, headers={"Icy-MetaData": "1"}) as response:
            response.raise_for_status()
            decoder = StreamDecoder(codec_for(response.headers.get("Content-Type")), rate)
            metaint = response.headers.get("icy-metaint")
            demuxer = IcyDemuxer(int(metaint) if metaint else None)
            self.status.connected = True
            anchor_at, pending, undecoded = None, np.zeros(0, np.float32), 0
            while True:
                data = await response.content.read(READ_SIZE)
                if not data:
                    raise StreamEnded("the server closed the stream")
                self.status.bytes += len(data)
                audio, titles = demuxer.feed(data)
                if titles:
                    self.status.icy_title = titles[-1]
                samples = decoder.feed(audio)
                undecoded = 0 if len(samples) else undecoded + len(audio)
                if undecoded > UNDECODABLE_BYTES:
                    raise ValueError(f"{undecoded} bytes without decodable audio")
                if anchor_at is None and len(samples):
                    # The decoded audio has just aired: its first sample is that long ago.
                    anchor_at = self.clock() - len(samples) / rate
                pending = np.concatenate([pending, samples])
                self.status.decoded_seconds += len(samples) / rate
                while len(pending) >= chunk_size:
                    start_at = anchor_at + seq * chunk_size / rate
                    self.producer.send(self.station_id, AudioChunk(
                        station_id=self.station_id, seq=seq, start_at=start_at, sample_rate=rate,
                        samples=pending[:chunk_size], session=session, discontinuity=seq == 0,
                        icy_title=self.status.icy_title,
                    ).to_bytes())
                    pending = pending[chunk_size:]
                    seq += 1
                    self.status.chunks += 1
                    self.status.last_chunk_at = start_at


async def ingest_stations(settings: Settings, pool: asyncpg.Pool, only: set[str] | None = None,
                          refresh_s: float = 10.0) -> None:
    """Run a StationStream per active station, following changes to the registry.

    Per-station status is served as JSON on http://web_host:ingest_web_port/stats/.
    """
    producer = ChunkProducer(settings)
    running: dict[str, tuple[str, asyncio.Task, StationStream]] = {}

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response({
            "stations": {station_id: asdict(stream.status) for station_id, (_, _, stream) in sorted(running.items())},
            "chunks_delivered": producer.delivered,
            "delivery_failures": len(producer.failures),
        })

    app = web.Application()
    app.router.add_get("/stats/", stats)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.ingest_web_port).start()
    try:
        while True:
            wanted = {row["id"]: row["stream_url"] for row in await list_stations(pool, active_only=True)
                      if row["stream_url"] and (only is None or row["id"] in only)}
            for station_id in list(running):
                url, task, _ = running[station_id]
                if wanted.get(station_id) != url:
                    task.cancel()
                    del running[station_id]
            for station_id, url in wanted.items():
                if station_id not in running:
                    stream = StationStream(settings, station_id, url, producer)
                    running[station_id] = (url, asyncio.create_task(stream.run()), stream)
                    log.info("station %s: reading %s", station_id, url)
            await asyncio.sleep(refresh_s)
    finally:
        for _, task, _ in running.values():
            task.cancel()
        await runner.cleanup()
        producer.flush()
