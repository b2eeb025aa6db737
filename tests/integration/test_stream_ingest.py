"""`airspin ingest run` against a real Icecast server (Debian's icecast2) fed by a source client."""
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

from storage.stations import StationChange, add_station
from synth.encode import write_audio
from tests.services import AIRSPIN, RATE, environment, free_port, read_topic, wait_for_rows
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


async def play_source(port: int, mount: str, mp3: bytes) -> None:
    """A source client: send the MP3 to the mount at the pace it would air, then hang up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = base64.b64encode(f"source:{PASSWORD}".encode()).decode()
    writer.write(f"PUT {mount} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
                 f"Content-Type: audio/mpeg\r\nIce-Public: 0\r\nExpect: 100-continue\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    assert b" 100 " in status or b" 200 " in status, status
    step = BITRATE // 8 // 4  # a quarter second of audio
    started = time.monotonic()
    for i in range(0, len(mp3), step):
        writer.write(mp3[i:i + step])
        await writer.drain()
        await asyncio.sleep(max(0.0, started + (i + step) / (BITRATE / 8) - time.monotonic()))
    writer.close()


def set_title(port: int, mount: str, title: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/metadata?mount={mount}&mode=updinfo&song={urllib.request.quote(title)}",
        headers={"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()})
    urllib.request.urlopen(request, timeout=5).read()


def chunks_of(settings, station: str, expect: int) -> list[AudioChunk]:
    records = read_topic(settings, AUDIO_CHUNKS, expect=10**9, timeout_s=5)
    return sorted((AudioChunk.from_bytes(m.value()) for m in records if m.key() == station.encode()),
                  key=lambda c: (c.start_at, c.seq))


async def test_live_stream_becomes_timed_chunks_and_a_play(settings, pool, media, catalog, worker, icecast, tmp_path):
    mount = "/live.mp3"
    silence = np.zeros(14 * RATE, np.float32)  # after the song: the play closes on silence
    mp3 = write_audio(tmp_path / "air.mp3", np.concatenate([media.songs["REF-11"], silence]), RATE,
                      bitrate=BITRATE).read_bytes()
    await add_station(pool, "radio-live", StationChange(stream_url=f"http://127.0.0.1:{icecast}{mount}"))
    await add_station(pool, "radio-404", StationChange(stream_url=f"http://127.0.0.1:{icecast}/missing.mp3"))

    source = asyncio.create_task(play_source(icecast, mount, mp3))
    await asyncio.sleep(1.5)  # the mount exists once the source is connected
    log = (tmp_path / "ingest.log").open("w")
    stats_port = free_port()
    ingester = subprocess.Popen([*AIRSPIN, "ingest", "run", "--station", "radio-live", "--station", "radio-404"],
                                env=environment(settings, ingest_web_port=stats_port), stdout=log,
                                stderr=subprocess.STDOUT)
    connected_at = time.time()
    try:
        await asyncio.sleep(3)
        await asyncio.to_thread(set_title, icecast, mount, "Artist 11 - Title 11")
        await source

        rows = await wait_for_rows(
            pool, "SELECT t.ref FROM plays p JOIN tracks t ON t.id = p.track_id WHERE station_id = 'radio-live'",
            count=1, timeout_s=60)
        assert [r["ref"] for r in rows] == ["REF-11"]

        chunks = await asyncio.to_thread(chunks_of, settings, "radio-live", 10)
        assert len(chunks) >= 20
        assert chunks[0].discontinuity and chunks[0].seq == 0
        assert len({c.session for c in chunks}) == 1
        # Station time: anchored at connection, then advanced by the sample count, corrected by a
        # few milliseconds at most when the source's pace wavers.
        assert abs(chunks[0].start_at - connected_at) < 5
        assert all(abs(b.start_at - a.start_at - 2.0) < 0.01 for a, b in zip(chunks, chunks[1:]))
        assert "Artist 11 - Title 11" in {c.icy_title for c in chunks}
        with urllib.request.urlopen(f"http://127.0.0.1:{stats_port}/stats/", timeout=5) as response:
            status = json.loads(response.read())["stations"]
        assert status["radio-live"]["chunks"] >= 20 and status["radio-live"]["icy_title"] == "Artist 11 - Title 11"
        assert status["radio-404"]["errors"] >= 1 and "404" in status["radio-404"]["last_error"]
        assert not status["radio-404"]["connected"]

        # The source goes away and comes back: the ingester reconnects with a new session.
        source = asyncio.create_task(play_source(icecast, mount, mp3[: len(mp3) // 4]))
        await source
        await asyncio.sleep(2)
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
