"""How many live stations one ingester core decodes, and the ingester's memory per station.

    .venv/bin/python bench/ingest_capacity.py [--stations 200] [--codec mp3|aac] [--seconds 30] [--kafka]

A separate process serves N Icecast-like streams on loopback, each at its real bitrate (128 kbps
stereo MP3 or 64 kbps stereo AAC/ADTS, ICY titles included), looping a synthesised song.  This
process runs the ingester's own StationStream for each of them, exactly as `airspin ingest run` does:
reading, ICY demuxing, decoding, resampling to 16 kHz mono, station clock, chunk encoding.  Without
--kafka the encoded chunks are counted and discarded, so the figure is the ingester's own cost; with
--kafka they go to the broker at settings.kafka_bootstrap through the real producer.

Prints: CPU seconds per aired second, stations per core (aired seconds per CPU second), whether every
station kept up with real time, and resident memory per station.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

from airspin.settings import Settings
from ingest.icy import metadata_block
from ingest.producer import ChunkProducer
from ingest.stream import StationStream
from synth.encode import write_audio
from synth.music import song
from topics.admin import ensure_topics

CODECS = {"mp3": (".mp3", 128_000, "audio/mpeg"), "aac": (".aac", 64_000, "audio/aac")}
METAINT = 16000
WARMUP_S = 8.0
SONG_SECONDS = 60.0


def serve_stations(path: Path, content_type: str, port: int) -> None:
    """The stations' server (its own process): every path streams the file, looped, in real time."""
    sys.stderr = open(os.devnull, "w")  # aiohttp complains about connections cut when it is stopped
    data = path.read_bytes()
    bytes_per_s = len(data) / SONG_SECONDS  # the encoder's real rate, not its nominal one
    block = metadata_block("Bench - Loop")

    async def station(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type, "icy-metaint": str(METAINT)})
        await response.prepare(request)
        started, sent, position = time.monotonic(), 0, 0
        while True:
            piece = data[position:position + METAINT]
            if len(piece) < METAINT:
                piece += data[:METAINT - len(piece)]
            position = (position + METAINT) % len(data)
            try:
                await response.write(piece + block)
            except ConnectionError:  # the benchmark is over
                return response
            sent += METAINT
            await asyncio.sleep(max(0.0, started + sent / bytes_per_s - time.monotonic()))

    app = web.Application()
    app.router.add_get("/{station}", station)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@contextlib.contextmanager
def stations_server(codec: str):
    """Start the stations' server process; yields its port."""
    suffix, bitrate, content_type = CODECS[codec]
    with tempfile.TemporaryDirectory() as folder:
        path = write_audio(Path(folder) / f"loop{suffix}", song(7, SONG_SECONDS, 44100), 44100, bitrate, stereo=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = multiprocessing.get_context("spawn").Process(
            target=serve_stations, args=(path, content_type, port), daemon=True)
        server.start()
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            yield port
        finally:
            server.terminate()
            server.join(10)


class DiscardingProducer:
    """Stands in for the broker: the chunk is fully encoded by StationStream, then dropped here."""

    delivered = 0

    def offer(self, _station_id: str, value: bytes) -> bool:
        self.delivered += 1
        return True


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def measure(settings: Settings, stations: int, port: int, seconds: float, producer,
                  warmup_s: float = WARMUP_S) -> dict:
    rss_before = rss_mb()
    streams = [StationStream(settings, f"bench-{i}", f"http://127.0.0.1:{port}/s{i}", producer)
               for i in range(stations)]
    tasks = [asyncio.create_task(s.run()) for s in streams]
    await asyncio.sleep(warmup_s)
    decoded_before = [s.status.decoded_seconds for s in streams]
    cpu_before, wall_before = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    decoded = [s.status.decoded_seconds - d for s, d in zip(streams, decoded_before)]
    rss_after = rss_mb()
    errors = sum(s.status.errors for s in streams)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "aired_s": sum(decoded), "cpu_s": cpu, "wall_s": wall, "slowest": min(decoded) / wall,
        "errors": errors, "rss_per_station_mb": (rss_after - rss_before) / stations, "rss_mb": rss_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--codec", choices=sorted(CODECS), default="mp3")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured span, after a warm-up")
    parser.add_argument("--kafka", action="store_true", help="publish to the broker instead of discarding")
    args = parser.parse_args()

    suffix, bitrate, _ = CODECS[args.codec]
    settings = Settings.from_env()
    if args.kafka:
        ensure_topics(settings)
        producer = ChunkProducer(settings)
    else:
        producer = DiscardingProducer()
    with stations_server(args.codec) as port:
        figures = asyncio.run(measure(settings, args.stations, port, args.seconds, producer))
    if args.kafka:
        producer.flush()
    per_core = figures["aired_s"] / figures["cpu_s"]
    print(f"ingest capacity: {args.stations} stations of {bitrate // 1000} kbps stereo {args.codec.upper()}, "
          f"{'published to Kafka' if args.kafka else 'chunks encoded and discarded'}")
    print(f"  measured {figures['wall_s']:.1f} s after a {WARMUP_S:.0f} s warm-up: "
          f"{figures['aired_s']:.0f} aired s decoded with {figures['cpu_s']:.1f} CPU s")
    print(f"  CPU per station: {100 * figures['cpu_s'] / figures['wall_s'] / args.stations:.3f} % of a core")
    print(f"  stations per core: {per_core:.0f}  (target >= 200 for MP3)")
    print(f"  slowest station kept {figures['slowest']:.3f}x real time; connection errors: {figures['errors']}")
    print(f"  memory: {figures['rss_mb']:.0f} MB resident for {args.stations} stations, "
          f"{figures['rss_mb'] / args.stations:.2f} MB per station all included "
          f"({figures['rss_per_station_mb']:.2f} MB each beyond the process's own); target < 20 MB per station")


if __name__ == "__main__":
    main()
