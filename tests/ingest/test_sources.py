"""Station URLs of every supported kind, served by a local aiohttp server, read into decoded audio."""
from __future__ import annotations

from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp import web

from ingest.playlist import media_playlist, stream_urls, variant_url
from ingest.sources import Counter, StreamEnded, Undecodable, station_audio
from synth.encode import write_audio, write_hls
from synth.music import song
from tests.ingest.servers import LiveHls, serve, stream_of, text_of

RATE = 44100
OUT_RATE = 16000


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    music = song(5, 6, RATE)
    return {
        "mp3": write_audio(folder / "s.mp3", music, RATE),
        "ogg": write_audio(folder / "s.ogg", music, RATE),
        "hls": write_hls(folder / "hls", music, RATE, segment_seconds=1.0, fmp4=True),
    }


async def read_all(url: str):
    pieces, titles, gaps, counter = [], [], 0, Counter()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(StreamEnded):
            async for decoded in station_audio(http, url, OUT_RATE, counter):
                pieces.append(decoded.samples)
                titles += decoded.titles
                gaps += decoded.gap
    return np.concatenate(pieces), titles, gaps, counter


async def test_a_pls_playlist_leads_to_an_mp3_stream_with_its_icy_titles(media):
    runner, base = await serve([
        web.get("/station.pls", text_of("[playlist]\nNumberOfEntries=1\nFile1=/live.mp3\n", "audio/x-scpls")),
        web.get("/live.mp3", stream_of(media["mp3"].read_bytes(), "audio/mpeg", "Artist - Song")),
    ])
    try:
        samples, titles, _, counter = await read_all(f"{base}/station.pls")
    finally:
        await runner.cleanup()
    assert abs(len(samples) / OUT_RATE - 6.0) < 0.1
    assert titles and set(titles) == {"Artist - Song"}
    assert counter.format == "mp3"


async def test_an_ogg_opus_stream_through_an_m3u_file(media):
    runner, base = await serve([
        web.get("/station.m3u", text_of("#EXTM3U\n/live.ogg\n", "audio/x-mpegurl")),
        web.get("/live.ogg", stream_of(media["ogg"].read_bytes(), "application/ogg")),
    ])
    try:
        samples, _, _, counter = await read_all(f"{base}/station.m3u")
    finally:
        await runner.cleanup()
    assert abs(len(samples) / OUT_RATE - 6.0) < 0.1 and counter.format == "ogg"
    assert np.sqrt(np.mean(samples ** 2)) > 0.05  # music, not silence


async def test_a_live_hls_stream_is_followed_from_its_live_edge(media):
    live = LiveHls(media["hls"], aired_before_s=2.5)
    runner, base = await serve([
        web.get("/master.m3u8", text_of("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000\naudio/index.m3u8\n",
                                        "application/vnd.apple.mpegurl")),
        web.get("/audio/index.m3u8", live.playlist),
        web.get("/audio/{name}", live.file),
    ])
    try:
        samples, _, gaps, counter = await read_all(f"{base}/master.m3u8")
    finally:
        await runner.cleanup()
    # 2.5 s in, segments 0 and 1 are listed: joined at 1 (the live edge), then every later segment once.
    expected = sum(s.duration for s in live.full.segments[1:])
    assert abs(len(samples) / OUT_RATE - expected) < 0.05 and gaps == 0 and counter.format == "hls"


async def test_an_hls_segment_missed_is_reported_as_a_gap(media):
    live = LiveHls(media["hls"], window=2, slow_segment="index1.m4s")
    runner, base = await serve([web.get("/index.m3u8", live.playlist), web.get("/{name}", live.file)])
    try:
        _, _, gaps, _ = await read_all(f"{base}/index.m3u8")
    finally:
        await runner.cleanup()
    assert gaps == 1


async def test_garbage_is_undecodable():
    runner, base = await serve([web.get("/noise.mp3", stream_of(bytes(range(256)) * 2048, "audio/mpeg"))])
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(Undecodable, match="without decodable audio"):
                async for _ in station_audio(http, f"{base}/noise.mp3", OUT_RATE, Counter()):
                    pass
    finally:
        await runner.cleanup()


def test_playlists_parse():
    assert stream_urls("[playlist]\nFile1=http://a/b\nFile2=c\n", "http://x/y.pls") == ["http://a/b", "http://x/c"]
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow/i.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhigh/i.m3u8\n"
    assert variant_url(master, "http://x/m.m3u8") == "http://x/low/i.m3u8"
    playlist = media_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:6.0,\na.ts\n"
                              "#EXT-X-DISCONTINUITY\n#EXTINF:5.5,\nb.ts\n", "http://x/p/i.m3u8")
    assert [(s.sequence, s.url, s.duration, s.discontinuity) for s in playlist.segments] == [
        (7, "http://x/p/a.ts", 6.0, False), (8, "http://x/p/b.ts", 5.5, True)]
    assert not playlist.ended
