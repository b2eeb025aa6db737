"""Ogg streams (Vorbis, Opus) as Icecast serves them: pages in, packets and stream titles out.

FFmpeg's Ogg support is a demuxer that wants a seekable file; a live stream is neither, so the pages
are split here (the format is a 27-byte header and a segment table) and the packets go straight to
the codec.  Icecast sends a new title by starting a new logical stream ("chaining") whose comment
header carries ARTIST and TITLE, so each chain starts a fresh decoder.
"""
from __future__ import annotations

import struct

import av
import numpy as np

_PAGE_HEADER = struct.Struct("<4sBBqIIIB")
_BEGINNING_OF_STREAM = 0x02


def pages(buffer: bytearray):
    """Yield (header_type, serial, [(segment data, packet ends here)]) for each whole page, consuming it."""
    while True:
        start = buffer.find(b"OggS")
        if start < 0:
            del buffer[:max(0, len(buffer) - 3)]  # keep a possible partial capture pattern
            return
        del buffer[:start]
        if len(buffer) < _PAGE_HEADER.size:
            return
        _, _, header_type, _, serial, _, _, count = _PAGE_HEADER.unpack_from(buffer)
        lacing = buffer[_PAGE_HEADER.size:_PAGE_HEADER.size + count]
        if len(lacing) < count or len(buffer) < _PAGE_HEADER.size + count + sum(lacing):
            return
        offset = _PAGE_HEADER.size + count
        segments, run = [], 0
        for i, size in enumerate(lacing):
            run += size
            if size < 255 or i == count - 1:
                segments.append((bytes(buffer[offset:offset + run]), size < 255))
                offset += run
                run = 0
        del buffer[:offset]
        yield header_type, serial, segments


def _xiph_extradata(headers: list[bytes]) -> bytes:
    """Vorbis's three header packets in the Xiph-laced layout FFmpeg's decoder takes as extradata."""
    out = bytearray([len(headers) - 1])
    for packet in headers[:-1]:
        out += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    return bytes(out) + b"".join(headers)


def _comment_title(packet: bytes, magic_length: int) -> str | None:
    """"ARTIST - TITLE" from a Vorbis comment block (Vorbis comment header or OpusTags)."""
    try:
        offset = magic_length
        (vendor,) = struct.unpack_from("<I", packet, offset)
        offset += 4 + vendor
        (count,) = struct.unpack_from("<I", packet, offset)
        offset += 4
        tags = {}
        for _ in range(count):
            (length,) = struct.unpack_from("<I", packet, offset)
            key, _, value = packet[offset + 4:offset + 4 + length].decode("utf-8", "replace").partition("=")
            tags[key.upper()] = value
            offset += 4 + length
    except struct.error:
        return None
    parts = [tags[k] for k in ("ARTIST", "TITLE") if tags.get(k)]
    return " - ".join(parts) or None


class OggDecoder:
    """Bytes of an Ogg Vorbis or Opus stream in; mono float32 at `sample_rate` and titles out."""

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate
        self._buffer = bytearray()
        self._partial = b""
        self._serial: int | None = None
        self._headers: list[bytes] = []
        self._codec: av.CodecContext | None = None
        self._resampler: av.AudioResampler | None = None
        self.invalid_packets = 0

    def feed(self, data: bytes) -> tuple[np.ndarray, list[str]]:
        self._buffer += data
        pieces, titles = [], []
        for header_type, serial, segments in pages(self._buffer):
            if header_type & _BEGINNING_OF_STREAM or serial != self._serial:
                # A new chain: new headers, and possibly a new codec or channel layout.
                self._serial, self._headers, self._codec, self._partial = serial, [], None, b""
            for data_part, complete in segments:
                self._partial += data_part
                if complete:
                    packet, self._partial = self._partial, b""
                    pieces += self._packet(packet, titles)
        samples = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)
        return samples, titles

    def _packet(self, packet: bytes, titles: list[str]) -> list[np.ndarray]:
        if self._codec is None:
            return self._header(packet, titles)
        try:
            frames = self._codec.decode(av.Packet(packet))
        except av.InvalidDataError:
            self.invalid_packets += 1
            return []
        return [out.to_ndarray().reshape(-1) for frame in frames for out in self._resampler.resample(frame)]

    def _header(self, packet: bytes, titles: list[str]) -> list[np.ndarray]:
        self._headers.append(packet)
        first = self._headers[0]
        if first.startswith(b"OpusHead"):
            if len(self._headers) == 2:  # OpusHead, OpusTags
                title = _comment_title(packet, len(b"OpusTags")) if packet.startswith(b"OpusTags") else None
                self._open("opus", first, title, titles)
        elif first.startswith(b"\x01vorbis"):
            if len(self._headers) == 3:  # identification, comment, setup
                title = _comment_title(self._headers[1], 7) if self._headers[1].startswith(b"\x03vorbis") else None
                self._open("vorbis", _xiph_extradata(self._headers), title, titles)
        else:
            raise ValueError("Ogg stream carries neither Vorbis nor Opus")
        return []

    def _open(self, codec: str, extradata: bytes, title: str | None, titles: list[str]) -> None:
        self._codec = av.CodecContext.create(codec, "r")
        self._codec.extradata = extradata
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
        if title:
            titles.append(title)
