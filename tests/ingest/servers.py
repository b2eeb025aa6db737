"""Local HTTP servers that stand in for stations: Icecast-like streams, playlists, live HLS."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
from aiohttp import web

from ingest.icy import metadata_block
from ingest.playlist import media_playlist

METAINT = 8000


def icy_interleave(data: bytes, title: str) -> bytes:
    """Insert a StreamTitle block every METAINT audio bytes, as Shoutcast does."""
    block = metadata_block(title)
    return b"".join(data[i:i + METAINT] + (block if i == 0 else b"\0") for i in range(0, len(data), METAINT))


class LiveHls:
    """Serves a finished HLS rendition as if it were being produced now: a sliding window of 3."""

    def __init__(self, playlist: Path, aired_before_s: float = 0.0, window: int = 3,
                 slow_segment: str | None = None):
        self.folder = playlist.parent
        self.full = media_playlist(playlist.read_text(), "http://x/")
        self.started = time.monotonic() - aired_before_s
        self.window = window
        self.slow_segment = slow_segment  # served 4 s late: the window moves on meanwhile

    async def playlist(self, _request):
        elapsed = time.monotonic() - self.started
        ends = np.cumsum([s.duration for s in self.full.segments])
        aired = self.full.segments[:1 + int(np.sum(ends[1:] <= elapsed))]  # the first is there at once
        window = aired[-self.window:]
        lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:1", f"#EXT-X-MEDIA-SEQUENCE:{window[0].sequence}",
                 '#EXT-X-MAP:URI="init.mp4"']
        for segment in window:
            lines += [f"#EXTINF:{segment.duration:.3f},", segment.url.rsplit("/", 1)[1]]
        if len(aired) == len(self.full.segments):
            lines.append("#EXT-X-ENDLIST")
        return web.Response(text="\n".join(lines), content_type="application/vnd.apple.mpegurl")

    async def file(self, request):
        if request.match_info["name"] == self.slow_segment:
            await asyncio.sleep(4)
        return web.Response(body=(self.folder / request.match_info["name"]).read_bytes())


async def serve(routes) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def text_of(text: str, content_type: str):
    async def handler(_request):
        return web.Response(text=text, content_type=content_type)
    return handler


def stream_of(data: bytes, content_type: str, icy_title: str | None = None,
              bytes_per_s: float | None = None, once: bool = False):
    """A station serving `data`: as fast as it can, or at `bytes_per_s` as if it were airing now."""
    served = []

    async def handler(request):
        if once and served:
            raise web.HTTPNotFound(text="the broadcast is over")
        served.append(request)
        headers = {"Content-Type": content_type}
        body = data
        if icy_title and request.headers.get("Icy-MetaData") == "1":
            headers["icy-metaint"] = str(METAINT)
            body = icy_interleave(data, icy_title)
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        started = time.monotonic()
        for i in range(0, len(body), 4096):
            await response.write(body[i:i + 4096])
            if bytes_per_s:
                await asyncio.sleep(max(0.0, started + (i + 4096) / bytes_per_s - time.monotonic()))
        return response
    return handler


