"""Incremental decoding of live audio with FFmpeg's libraries, in memory: no files, no subprocess.

Icecast streams (MP3, AAC/ADTS) go through FFmpeg's parsers byte by byte; HLS segments (MPEG-TS or
fragmented MP4) are whole files, demuxed one by one into one long-lived decoder so that nothing is
lost or doubled at segment boundaries.  Ogg has its own page splitter (ingest/ogg.py).
"""
from __future__ import annotations

import io

import av
import numpy as np

_CODECS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/aac": "aac", "audio/aacp": "aac",
           "audio/x-aac": "aac"}
OGG_TYPES = {"application/ogg", "audio/ogg", "audio/opus", "audio/vorbis", "audio/x-ogg"}


class UnsupportedStream(ValueError):
    pass


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def codec_for(content_type: str | None) -> str:
    kind = media_type(content_type)
    if kind not in _CODECS:
        raise UnsupportedStream(f"unsupported stream type {content_type!r} (MP3, AAC, Ogg and HLS are read)")
    return _CODECS[kind]


def _mono(resampler: av.AudioResampler, frames) -> list[np.ndarray]:
    return [out.to_ndarray().reshape(-1) for frame in frames for out in resampler.resample(frame)]


def _joined(pieces: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)


class StreamDecoder:
    """Bytes in, mono float32 samples at `sample_rate` out."""

    def __init__(self, codec: str, sample_rate: int):
        self._codec = av.CodecContext.create(codec, "r")
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        self.invalid_packets = 0

    def feed(self, data: bytes) -> np.ndarray:
        pieces = []
        for packet in self._codec.parse(data):
            try:
                # Tags and the torn frame a stream joined mid-way start with are invalid; garbage all
                # along is caught by the caller, which sees no audio coming.
                pieces += _mono(self._resampler, self._codec.decode(packet))
            except av.InvalidDataError:
                self.invalid_packets += 1
        return _joined(pieces)


class SegmentDecoder:
    """HLS segments in (MPEG-TS, or fMP4 with its initialisation section), mono float32 out."""

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate
        self._codec: av.CodecContext | None = None
        self._parameters: tuple | None = None
        self._resampler: av.AudioResampler | None = None
        self.invalid_packets = 0

    def feed(self, segment: bytes, init: bytes = b"") -> np.ndarray:
        try:
            container = av.open(io.BytesIO(init + segment), "r")
        except av.FFmpegError as exc:
            raise UnsupportedStream(f"undecodable HLS segment: {exc}") from exc
        with container:
            if not container.streams.audio:
                raise UnsupportedStream("HLS segment without an audio stream")
            stream = container.streams.audio[0]
            parameters = (stream.codec_context.name, bytes(stream.codec_context.extradata or b""))
            if parameters != self._parameters:  # first segment, or the encoder changed
                self._codec = av.CodecContext.create(parameters[0], "r")
                if parameters[1]:
                    self._codec.extradata = parameters[1]
                self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
                self._parameters = parameters
            pieces = []
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                try:
                    pieces += _mono(self._resampler, self._codec.decode(packet))
                except av.InvalidDataError:
                    self.invalid_packets += 1
        return _joined(pieces)
