"""Playlist files: .pls and .m3u point at a station's stream; HLS .m3u8 playlists list its segments."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from ingest.decoder import media_type

PLAYLIST_TYPES = {"audio/x-scpls", "audio/scpls", "audio/x-mpegurl", "audio/mpegurl",
                  "application/x-mpegurl", "application/vnd.apple.mpegurl"}
PLAYLIST_SUFFIXES = (".pls", ".m3u", ".m3u8")
_PLS_FILE = re.compile(r"^\s*File\d+\s*=\s*(\S+)", re.I | re.M)
_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


class PlaylistError(ValueError):
    pass


def is_playlist(url: str, content_type: str | None) -> bool:
    return media_type(content_type) in PLAYLIST_TYPES or url.split("?")[0].lower().endswith(PLAYLIST_SUFFIXES)


def is_hls(text: str) -> bool:
    return "#EXT-X-" in text


def stream_urls(text: str, base: str) -> list[str]:
    """The entries of a .pls or plain .m3u playlist, resolved against the playlist's own URL."""
    if text.lstrip().lower().startswith("[playlist]"):
        urls = _PLS_FILE.findall(text)
    else:
        urls = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not urls:
        raise PlaylistError("the playlist names no stream")
    return [urljoin(base, url) for url in urls]


@dataclass(frozen=True)
class Segment:
    sequence: int
    url: str
    duration: float
    discontinuity: bool  # the encoder or the content changed before this segment
    init_url: str | None  # fMP4: the initialisation section (EXT-X-MAP)


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration: float
    segments: list[Segment]
    ended: bool  # EXT-X-ENDLIST: no segment will be added


def _attributes(text: str) -> dict[str, str]:
    return {key: value.strip('"') for key, value in _ATTRIBUTE.findall(text)}


def variant_url(text: str, base: str) -> str | None:
    """A master playlist's first variant (the one the author lists first), or None for a media playlist."""
    lines = [line.strip() for line in text.splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF"):
            following = next((n for n in lines[i + 1:] if n and not n.startswith("#")), None)
            if following is None:
                raise PlaylistError("EXT-X-STREAM-INF without a URI")
            return urljoin(base, following)
    return None


def media_playlist(text: str, base: str) -> MediaPlaylist:
    if not text.lstrip().startswith("#EXTM3U"):
        raise PlaylistError("not an M3U8 playlist (no #EXTM3U)")
    sequence, target, duration = 0, 0.0, None
    discontinuity, init_url, ended, segments = False, None, False, []
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            target = float(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",")[0])
        elif line.startswith("#EXT-X-DISCONTINUITY") and not line.startswith("#EXT-X-DISCONTINUITY-"):
            discontinuity = True
        elif line.startswith("#EXT-X-MAP:"):
            init_url = urljoin(base, _attributes(line.split(":", 1)[1])["URI"])
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif line and not line.startswith("#"):
            segments.append(Segment(sequence, urljoin(base, line), duration or target, discontinuity, init_url))
            sequence, duration, discontinuity = sequence + 1, None, False
    if target <= 0:
        raise PlaylistError("media playlist without EXT-X-TARGETDURATION")
    return MediaPlaylist(target, segments, ended)
