"""Incremental decoding of a compressed stream (MP3, AAC/ADTS) with FFmpeg's parsers, in memory."""
from __future__ import annotations

import av
import numpy as np

_CODECS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/aac": "aac", "audio/aacp": "aac",
           "audio/x-aac": "aac"}


class UnsupportedStream(ValueError):
    pass


def codec_for(content_type: str | None) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in _CODECS:
        raise UnsupportedStream(f"unsupported stream type {content_type!r} (MP3 and AAC are read)")
    return _CODECS[kind]


class StreamDecoder:
    """Bytes in, mono float32 samples at `sample_rate` out; no files, no subprocess."""

    def __init__(self, codec: str, sample_rate: int):
        self._codec = av.CodecContext.create(codec, "r")
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        self.invalid_packets = 0

    def feed(self, data: bytes) -> np.ndarray:
        pieces = []
        for packet in self._codec.parse(data):
            try:
                frames = self._codec.decode(packet)
            except av.InvalidDataError:
                # Tags and the torn frame a stream joined mid-way start with; garbage all along is
                # caught by the caller, which sees no audio coming.
                self.invalid_packets += 1
                continue
            for frame in frames:
                for out in self._resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
        return np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)
