"""What a station's URL serves, turned into decoded audio: Icecast/Shoutcast streams (MP3, AAC/ADTS,
Ogg Vorbis/Opus, with ICY titles), HLS playlists (MPEG-TS or fMP4 segments), and the .pls/.m3u files
that point at either.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import numpy as np

from ingest.decoder import OGG_TYPES, SegmentDecoder, StreamDecoder, codec_for, media_type
from ingest.icy import IcyDemuxer
from ingest.ogg import OggDecoder
from ingest.playlist import is_hls, is_playlist, media_playlist, stream_urls, variant_url

READ_SIZE = 16384
#: No audio for this long and the connection counts as stalled.
STALL_TIMEOUT_S = 15.0
#: Bytes without a single decoded sample before the stream counts as undecodable.
UNDECODABLE_BYTES = 256 * 1024
#: Playlists are small; a "playlist" larger than this is not one.
PLAYLIST_MAX_BYTES = 1 << 20
#: Playlists pointing at playlists: how deep to follow.
MAX_INDIRECTIONS = 3


class StreamEnded(ConnectionError):
    pass


class Undecodable(ValueError):
    pass


@dataclass
class Decoded:
    samples: np.ndarray
    titles: list[str] = field(default_factory=list)
    #: Audio between the previous piece and this one was lost: station time must be re-anchored.
    gap: bool = False


class Counter:
    """What the reader saw, for the station's status."""

    def __init__(self):
        self.bytes = 0
        self.format = ""


async def station_audio(http: aiohttp.ClientSession, url: str, sample_rate: int,
                        counter: Counter) -> AsyncIterator[Decoded]:
    """Decoded audio from the station's URL until the stream ends (StreamEnded) or fails."""
    for _ in range(MAX_INDIRECTIONS + 1):
        async with http.get(url, headers={"Icy-MetaData": "1"}) as response:
            response.raise_for_status()
            content_type = response.headers.get("Content-Type")
            if not is_playlist(url, content_type):
                async for decoded in _icecast(response, content_type, sample_rate, counter):
                    yield decoded
                return
            text = await _text(response, counter)
            url = str(response.url)
        if is_hls(text):
            async for decoded in _hls(http, url, text, sample_rate, counter):
                yield decoded
            return
        url = stream_urls(text, url)[0]
    raise StreamEnded(f"more than {MAX_INDIRECTIONS} playlists in a row")


async def _text(response: aiohttp.ClientResponse, counter: Counter) -> str:
    data = await response.content.read(PLAYLIST_MAX_BYTES + 1)
    counter.bytes += len(data)
    if len(data) > PLAYLIST_MAX_BYTES:
        raise Undecodable(f"playlist at {response.url} is larger than {PLAYLIST_MAX_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


async def _icecast(response: aiohttp.ClientResponse, content_type: str | None, sample_rate: int,
                   counter: Counter) -> AsyncIterator[Decoded]:
    if media_type(content_type) in OGG_TYPES:
        counter.format = "ogg"
        decode = OggDecoder(sample_rate).feed
    else:
        codec = codec_for(content_type)
        counter.format = codec
        stream_decoder = StreamDecoder(codec, sample_rate)

        def decode(data: bytes) -> tuple[np.ndarray, list[str]]:
            return stream_decoder.feed(data), []
    metaint = response.headers.get("icy-metaint")
    demuxer = IcyDemuxer(int(metaint) if metaint else None)
    undecoded = 0
    while True:
        data = await response.content.read(READ_SIZE)
        if not data:
            raise StreamEnded("the server closed the stream")
        counter.bytes += len(data)
        audio, titles = demuxer.feed(data)
        samples, more_titles = decode(audio)
        undecoded = 0 if len(samples) else undecoded + len(audio)
        if undecoded > UNDECODABLE_BYTES:
            raise Undecodable(f"{undecoded} bytes without decodable audio")
        yield Decoded(samples, titles + more_titles)


async def _get(http: aiohttp.ClientSession, url: str, counter: Counter) -> bytes:
    async with http.get(url) as response:
        response.raise_for_status()
        data = await response.read()
    counter.bytes += len(data)
    return data


async def _hls(http: aiohttp.ClientSession, url: str, text: str, sample_rate: int,
               counter: Counter) -> AsyncIterator[Decoded]:
    counter.format = "hls"
    variant = variant_url(text, url)
    if variant:
        url, text = variant, (await _get(http, variant, counter)).decode("utf-8", errors="replace")
    decoder, init_cache = SegmentDecoder(sample_rate), {}
    next_sequence, last_new = None, time.monotonic()
    while True:
        playlist = media_playlist(text, url)
        if next_sequence is None:
            # Join at the live edge: the newest segment has just aired; older ones would be stamped late.
            fresh = playlist.segments[-1:]
        else:
            fresh = [s for s in playlist.segments if s.sequence >= next_sequence]
        for segment in fresh:
            init = b""
            if segment.init_url:
                if segment.init_url not in init_cache:
                    init_cache = {segment.init_url: await _get(http, segment.init_url, counter)}
                init = init_cache[segment.init_url]
            samples = decoder.feed(await _get(http, segment.url, counter), init)
            # Segments that left the playlist before we fetched them are lost audio, and the encoder
            # marks its own breaks: either way the station time starts afresh.
            gap = next_sequence is not None and (segment.sequence > next_sequence or segment.discontinuity)
            next_sequence = segment.sequence + 1
            yield Decoded(samples, gap=gap)
        if playlist.ended:
            raise StreamEnded("the HLS playlist ended")
        now = time.monotonic()
        if fresh:
            last_new = now
        elif now - last_new > max(STALL_TIMEOUT_S, 3 * playlist.target_duration):
            raise StreamEnded(f"no new HLS segment for {now - last_new:.0f} s")
        await asyncio.sleep(playlist.target_duration / (1 if fresh else 2))
        text = (await _get(http, url, counter)).decode("utf-8", errors="replace")
