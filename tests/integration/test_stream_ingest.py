"""`airspin ingest run` against a real Icecast server (Debian's icecast2) fed by ffmpeg as source client,
and against a live HLS stream written by ffmpeg."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web

from storage.stations import StationChange, add_station
from tests.services import AIRSPIN, RATE, environment, free_port, read_topic, wait_for_rows, write_wav
from topics import AUDIO_CHUNKS
from topics.records import AudioChunk

pytestmark = pytest.mark.integration

PASSWORD = "hackme-test"
BITRATE = 128_000


@pytest.fixture(scope="module")
def icecast():
    if not shutil.which("icecast2"):
        pytest.fail("icecast2 is not installed; scripts/bootstrap.sh installs it", pytrace=False)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="airspin-icecast-"))
    folder.chmod(0o777)  # icecast2 refuses to run as root: its own user writes the logs here
    config = folder / "icecast.xml"
    config.write_text(f"""<icecast>
  <limits><sources>8</sources><source-timeout>5</source-timeout></limits>
  <authentication><source-password>{PASSWORD}</source-password>
    <admin-user>admin</admin-user><admin-password>{PASSWORD}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>0</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>{folder}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><errorlog>error.log</errorlog><accesslog>access.log</accesslog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot></security>
</icecast>""")
    config.chmod(0o644)
    command = ["icecast2", "-c", str(config)]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "icecast2", "--", *command]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/status-json.xsl", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail(f"icecast2 did not start: {(folder / 'error.log').read_text() if (folder / 'error.log').exists() else ''}")
    yield port
    server.terminate()
    server.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


class Source:
    """ffmpeg as the station's source client, encoding a file to an Icecast mount in real time."""

    def __init__(self, port: int, mount: str, audio: Path, codec: list[str], content_type: str,
                 container: str, metadata: dict[str, str] | None = None):
        command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", str(audio), *codec,
                   *[arg for k, v in (metadata or {}).items() for arg in ("-metadata", f"{k}={v}")],
                   "-content_type", content_type, "-f", container,
                   f"icecast://source:{PASSWORD}@127.0.0.1:{port}{mount}"]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    async def finished(self) -> None:
        assert await asyncio.to_thread(self.process.wait) == 0


def mp3_source(port: int, mount: str, audio: Path) -> Source:
    return Source(port, mount, audio, ["-c:a", "libmp3lame", "-b:a", "128k", "-ac", "1"], "audio/mpeg", "mp3")


async def wait_for_mount(port: int, mount: str) -> None:
    """The mount exists (answers a listener) once the source is connected."""
    for _ in range(100):
        try:
            await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}{mount}", timeout=2).close())
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"no source on {mount}")


def set_title(port: int, mount: str, title: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/metadata?mount={mount}&mode=updinfo&song={urllib.request.quote(title)}",
        headers={"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()})
    urllib.request.urlopen(request, timeout=5).read()


def ingest_status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats/", timeout=5) as response:
        return json.loads(response.read())["stations"]


async def wait_status(port: int, condition, timeout_s: float = 90) -> None:
    """Wait for the ingester's status to satisfy the condition (a reconnect backs off up to 60 s)."""
    deadline = time.monotonic() + timeout_s
    while not condition(await asyncio.to_thread(ingest_status, port)):
        assert time.monotonic() < deadline, "the ingester's status never got there"
        await asyncio.sleep(0.5)


def chunks_of(settings, station: str, expect: int) -> list[AudioChunk]:
    records = read_topic(settings, AUDIO_CHUNKS, expect=10**9, timeout_s=5)
    return sorted((AudioChunk.from_bytes(m.value()) for m in records if m.key() == station.encode()),
                  key=lambda c: (c.start_at, c.seq))


async def test_live_stream_becomes_timed_chunks_and_a_play(settings, pool, media, catalog, worker, icecast, tmp_path):
    mount = "/live.mp3"
    silence = np.zeros(14 * RATE, np.float32)  # after the song, then the source hangs up: the play closes
    air = write_wav(tmp_path / "air.wav", np.concatenate([media.songs["REF-11"], silence]))
    await add_station(pool, "radio-live", StationChange(stream_url=f"http://127.0.0.1:{icecast}{mount}"))
    await add_station(pool, "radio-404", StationChange(stream_url=f"http://127.0.0.1:{icecast}/missing.mp3"))

    source = mp3_source(icecast, mount, air)
    await wait_for_mount(icecast, mount)
    log = (tmp_path / "ingest.log").open("w")
    stats_port = settings.ingest_web_port  # where the worker's /stats/ looks for the ingester
    ingester = subprocess.Popen([*AIRSPIN, "ingest", "run", "--station", "radio-live", "--station", "radio-404"],
                                env=environment(settings), stdout=log, stderr=subprocess.STDOUT)
    connected_at = time.time()
    try:
        await asyncio.sleep(3)
        await asyncio.to_thread(set_title, icecast, mount, "Artist 11 - Title 11")
        await source.finished()

        rows = await wait_for_rows(
            pool, "SELECT t.ref, p.station_title FROM plays p JOIN tracks t ON t.id = p.track_id"
                  " WHERE station_id = 'radio-live'", count=1, timeout_s=60)
        # The play, and beside it what the station said it was playing.
        assert [(r["ref"], r["station_title"]) for r in rows] == [("REF-11", "Artist 11 - Title 11")]

        chunks = await asyncio.to_thread(chunks_of, settings, "radio-live", 10)
        assert len(chunks) >= 20
        assert chunks[0].discontinuity and chunks[0].seq == 0
        assert len({c.session for c in chunks}) == 1
        # Station time: anchored at connection, then advanced by the sample count, corrected by a
        # few milliseconds now and then when the source's pace wavers.
        assert abs(chunks[0].start_at - connected_at) < 5
        full = [c for c in chunks if len(c.samples) == 2 * c.sample_rate]
        assert all(abs(b.start_at - a.start_at - 2.0) < 0.05 for a, b in zip(full, full[1:]))
        assert "Artist 11 - Title 11" in {c.icy_title for c in chunks}
        status = ingest_status(stats_port)
        assert status["radio-live"]["chunks"] >= 20 and status["radio-live"]["icy_title"] == "Artist 11 - Title 11"
        assert status["radio-404"]["errors"] >= 1 and "404" in status["radio-404"]["last_error"]
        assert not status["radio-404"]["connected"]
        # The worker's /stats/ shows the ingester's view beside its own counters.
        merged = worker.stats()
        assert merged["ingester"]["reachable"] and "radio-404" in merged["ingester"]["stations_down"]
        assert merged["stations"]["radio-live"]["ingest"]["format"] == "mp3"
        assert merged["stations"]["radio-live"]["ingest"]["icy_title"] == "Artist 11 - Title 11"

        # The source dies mid-stream and comes back: the ingester reconnects with a new session.
        source = mp3_source(icecast, mount, air)
        before = status["radio-live"]
        await wait_status(stats_port, lambda s: s["radio-live"]["connected"]
                          and s["radio-live"]["chunks"] >= before["chunks"] + 2)
        source.kill()
        source = mp3_source(icecast, mount, air)
        cut = ingest_status(stats_port)["radio-live"]
        await wait_status(stats_port, lambda s: s["radio-live"]["reconnects"] > cut["reconnects"]
                          and s["radio-live"]["chunks"] >= cut["chunks"] + 2)
        source.kill()
        later = await asyncio.to_thread(chunks_of, settings, "radio-live", 10)
        sessions = list(dict.fromkeys(c.session for c in later))
        assert len(sessions) >= 2
        first_of_new = next(c for c in later if c.session == sessions[-1])
        assert first_of_new.seq == 0 and first_of_new.discontinuity
        assert ingester.poll() is None, "the ingester must keep running"
    finally:
        ingester.terminate()
        ingester.wait(30)
        log.close()
    output = (tmp_path / "ingest.log").read_text()
    assert "station radio-404:" in output and "404" in output


async def garbage(request: web.Request) -> web.StreamResponse:
    """A 'station' sending noise bytes as MP3, forever."""
    response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
    await response.prepare(request)
    rng = np.random.default_rng(0)
    while True:
        await response.write(rng.integers(0, 256, 16384, dtype=np.uint8).tobytes())
        await asyncio.sleep(0.05)


async def test_ogg_and_hls_stations_become_timed_chunks_and_plays(settings, pool, media, catalog, worker, icecast,
                                                                  tmp_path):
    silence = np.zeros(14 * RATE, np.float32)
    ogg_air = write_wav(tmp_path / "ogg.wav", np.concatenate([media.songs["REF-13"], silence]))
    hls_air = write_wav(tmp_path / "hls.wav", np.concatenate([silence[:4 * RATE], media.songs["REF-12"], silence]))
    ogg = Source(icecast, "/live.ogg", ogg_air, ["-c:a", "libvorbis", "-b:a", "96k", "-ac", "1"], "application/ogg",
                 "ogg", metadata={"artist": "Artist 13", "title": "Title 13"})
    hls_dir = tmp_path / "hls"
    hls_dir.mkdir()
    hls = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", str(hls_air),
                            "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-f", "hls", "-hls_time", "2",
                            "-hls_list_size", "4", "-hls_flags", "delete_segments", str(hls_dir / "live.m3u8")],
                           stdin=subprocess.DEVNULL)
    app = web.Application()
    app.router.add_static("/hls", hls_dir)
    app.router.add_get("/garbage.mp3", garbage)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    http_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    await add_station(pool, "radio-ogg", StationChange(stream_url=f"http://127.0.0.1:{icecast}/live.ogg"))
    await add_station(pool, "radio-hls", StationChange(stream_url=f"http://127.0.0.1:{http_port}/hls/live.m3u8"))
    await add_station(pool, "radio-garbage", StationChange(stream_url=f"http://127.0.0.1:{http_port}/garbage.mp3"))
    await wait_for_mount(icecast, "/live.ogg")
    while not (hls_dir / "live.m3u8").exists():
        await asyncio.sleep(0.2)

    stats_port = free_port()
    log = (tmp_path / "ingest.log").open("w")
    ingester = subprocess.Popen([*AIRSPIN, "ingest", "run", "--station", "radio-ogg", "--station", "radio-hls",
                                 "--station", "radio-garbage"],
                                env=environment(settings, ingest_web_port=stats_port), stdout=log,
                                stderr=subprocess.STDOUT)
    connected_at = time.time()
    try:
        rows = await wait_for_rows(
            pool, "SELECT p.station_id, t.ref, p.station_title FROM plays p JOIN tracks t ON t.id = p.track_id "
                  "WHERE station_id IN ('radio-ogg', 'radio-hls') ORDER BY station_id", count=2, timeout_s=120)
        assert [tuple(r) for r in rows] == [("radio-hls", "REF-12", None),
                                            ("radio-ogg", "REF-13", "Artist 13 - Title 13")]
        status = ingest_status(stats_port)
        assert (status["radio-ogg"]["format"], status["radio-hls"]["format"]) == ("ogg", "hls")
        assert status["radio-ogg"]["icy_title"] == "Artist 13 - Title 13"
        # Noise gives a clear error for its station alone, and no chunk.
        assert status["radio-garbage"]["errors"] >= 1 and status["radio-garbage"]["chunks"] == 0
        assert "without decodable audio" in status["radio-garbage"]["last_error"]
    finally:
        ingester.terminate()
        ingester.wait(30)
        log.close()
        ogg.kill()
        hls.kill()
        hls.wait()
        await runner.cleanup()

    for station in ("radio-ogg", "radio-hls"):
        chunks = await asyncio.to_thread(chunks_of, settings, station, 10)
        assert len(chunks) >= 20, station
        # Station time: the newest audio at connection is stamped about then, the rest follows the count.
        assert abs(chunks[0].start_at - connected_at) < 5, station
        first_session = [c for c in chunks if c.session == chunks[0].session and len(c.samples) == 2 * c.sample_rate]
        # The clock slews at most 2%: a whole chunk starts 2.00 ± 0.04 s after the one before.
        gaps = [round(b.start_at - a.start_at, 3) for a, b in zip(first_session, first_session[1:])]
        assert all(abs(gap - 2.0) < 0.05 for gap in gaps), (station, gaps)
    assert "Artist 13 - Title 13" in {c.icy_title for c in await asyncio.to_thread(chunks_of, settings, "radio-ogg", 10)}
