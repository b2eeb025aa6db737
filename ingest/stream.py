"""`airspin ingest run`: live stations (Icecast/Shoutcast, HLS, playlists; see ingest/sources.py) into Kafka.

One asyncio process reads every active station.  Each connection is a session: station time comes
from the sample count, anchored and kept on the clock by ingest/clock.py, chunks are numbered from 0,
and the first chunk of every session carries the discontinuity flag, so no play is merged across a
reconnect.  Audio lost inside a connection (HLS segments missed, chunks the full producer buffer had
to drop) ends the session too: the next audio starts a new one, re-anchored.  A failing station
reconnects with exponential backoff and jitter and reports its last error; it never stops the others.
"""
from __future__ import annotations

import asyncio
import logging
import random
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

import aiohttp
from aiohttp import web
import asyncpg
import numpy as np

from airspin.settings import Settings
from ingest.clock import SETTLE_S, StationClock
from ingest.producer import ChunkProducer
from ingest.sources import STALL_TIMEOUT_S, Counter, station_audio
from storage.stations import list_stations
from topics.records import AudioChunk

log = logging.getLogger(__name__)

BACKOFF_MAX_S = 60.0


@dataclass
class StationStatus:
    connected: bool = False
    format: str = ""
    bytes: int = 0
    decoded_seconds: float = 0.0
    chunks: int = 0
    last_chunk_at: float | None = None
    reconnects: int = 0
    errors: int = 0
    last_error: str | None = None
    icy_title: str | None = None
    #: Audio lost inside a connection (HLS segments missed, producer buffer full): each one re-anchors.
    gaps: int = 0
    #: Chunks refused because the producer's buffer was full (the broker has been away too long).
    dropped_chunks: int = 0
    dropped_seconds: float = 0.0


class _Session:
    """One unbroken stretch of a station's audio: its own id, sequence numbers and clock."""

    def __init__(self, sample_rate: int, started: float):
        self.id = uuid.uuid4().hex
        self.started = started  # when its first audio arrived
        self.seq = 0
        self.clock = StationClock(sample_rate)
        self.published = 0  # samples chunked so far
        self.pending = np.zeros(0, np.float32)

    def take(self, samples: np.ndarray, now: float) -> None:
        """Decoded audio that arrived at `now`, waiting to be chunked."""
        self.clock.decoded(len(samples), now)
        self.pending = np.concatenate([self.pending, samples])


class StationStream:
    def __init__(self, settings: Settings, station_id: str, url: str, producer: ChunkProducer,
                 clock: Callable[[], float] = time.time):
        self.settings = settings
        self.station_id = station_id
        self.url = url
        self.producer = producer
        self.clock = clock
        self.status = StationStatus()
        self._session: _Session | None = None

    async def run(self) -> None:
        """Read the station until cancelled, reconnecting after every failure."""
        backoff = 1.0
        while True:
            decoded_before = self.status.decoded_seconds
            try:
                await self._connection()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.status.errors += 1
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("station %s: %s; reconnecting in %.0f s", self.station_id, self.status.last_error, backoff)
            finally:
                self.status.connected = False
                self._end_session()
            if self.status.decoded_seconds > decoded_before:
                backoff = 1.0  # the stream broke after working: reconnect promptly
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(BACKOFF_MAX_S, backoff * 2)
            self.status.reconnects += 1

    async def _connection(self) -> None:
        rate = self.settings.ingest_sample_rate
        counter = Counter()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=STALL_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async for decoded in station_audio(http, self.url, rate, counter):
                self.status.connected = True
                self.status.format = counter.format
                self.status.bytes += counter.bytes
                counter.bytes = 0
                if decoded.titles:
                    self.status.icy_title = decoded.titles[-1]
                if decoded.gap:
                    self.status.gaps += 1
                    self._end_session()
                if len(decoded.samples):
                    self._take(decoded.samples)

    def _take(self, samples: np.ndarray) -> None:
        now = self.clock()
        if self._session is None:
            self._session = _Session(self.settings.ingest_sample_rate, now)
        session = self._session
        session.take(samples, now)
        self.status.decoded_seconds += len(samples) / self.settings.ingest_sample_rate
        # The server's connection burst comes in several reads: stamp nothing until it is all in.
        if now - session.started >= SETTLE_S:
            self._drain(now, final=False)

    def _drain(self, now: float, final: bool) -> None:
        """Publish the session's whole chunks (at the end, everything)."""
        rate = self.settings.ingest_sample_rate
        chunk_size = int(self.settings.chunk_seconds * rate)
        session = self._session
        while len(session.pending) >= (1 if final else chunk_size):
            chunk, session.pending = session.pending[:chunk_size], session.pending[chunk_size:]
            if not self._publish(session, chunk):
                # The audio after a loss is a new session, so no play is merged across the hole.
                rest, session = session.pending, _Session(rate, now)
                session.take(rest, now)
                self._session = session

    def _end_session(self) -> None:
        """Publish what is left of the session's audio, mark its end, and forget the session."""
        if self._session is not None:
            self._drain(self.clock(), final=True)
            if self._session.seq:
                # The stream is over: the open play closes now, not when the station comes back.
                self._publish(self._session, np.zeros(0, np.float32), final=True)
        self._session = None

    def _publish(self, session: _Session, samples: np.ndarray, final: bool = False) -> bool:
        rate = self.settings.ingest_sample_rate
        start_at = session.clock.time_of(session.published)
        session.published += len(samples)
        accepted = self.producer.offer(self.station_id, AudioChunk(
            station_id=self.station_id, seq=session.seq, start_at=start_at, sample_rate=rate,
            samples=samples, session=session.id, discontinuity=session.seq == 0, final=final,
            icy_title=self.status.icy_title,
        ).to_bytes())
        if accepted:
            session.seq += 1
            self.status.chunks += 1
            self.status.last_chunk_at = start_at
        else:
            if not self.status.dropped_chunks:
                log.error("station %s: producer buffer full (%d MB): dropping audio until the broker takes it",
                          self.station_id, self.settings.ingest_buffer_mb)
            self.status.dropped_chunks += 1
            self.status.dropped_seconds += len(samples) / rate
        return accepted


async def ingest_stations(settings: Settings, pool: asyncpg.Pool, only: set[str] | None = None,
                          refresh_s: float = 10.0) -> None:
    """Run a StationStream per active station, following changes to the registry.

    Per-station status is served as JSON on http://web_host:ingest_web_port/stats/.
    """
    producer = ChunkProducer(settings)
    # A service manager stops the ingester with SIGTERM: unwind like Ctrl-C, so buffered audio is flushed.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    running: dict[str, tuple[str, asyncio.Task, StationStream]] = {}

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response({
            "stations": {station_id: asdict(stream.status) for station_id, (_, _, stream) in sorted(running.items())},
            "chunks_delivered": producer.delivered,
            "chunks_buffered": producer.buffered,
            "delivery_failures": len(producer.failures),
        })

    app = web.Application()
    app.router.add_get("/stats/", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.ingest_web_port).start()
    deliveries = asyncio.create_task(producer.serve_deliveries())
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
        deliveries.cancel()
        for _, task, _ in running.values():
            task.cancel()
        await runner.cleanup()
        asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
        producer.flush()
