"""Decoding and conditioning audio: any container FFmpeg reads, to mono float32 at a chosen rate."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soxr

#: Every fingerprint is computed at this rate; 8 kHz keeps the band where music survives radio.
ANALYSIS_RATE = 8000


class UndecodableAudio(ValueError):
    """The file holds no audio that FFmpeg can decode."""


def decode_file(path: str | Path, sample_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """Decode a whole recording to mono float32 samples in [-1, 1] at ``sample_rate``."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise UndecodableAudio(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            # FFmpeg's resampler does the downmix and the rate change in one pass.
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            pieces = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except UndecodableAudio:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise UndecodableAudio(f"{path}: not decodable audio ({getattr(exc, 'strerror', None) or exc})") from exc
    if not pieces:
        raise UndecodableAudio(f"{path}: decoded to no samples")
    return np.concatenate(pieces).astype(np.float32, copy=False)


def read_tags(path: str | Path) -> dict[str, str]:
    """Container and stream tags, keys lower-cased (title, artist, isrc/tsrc, ...)."""
    try:
        with av.open(str(path)) as container:
            tags = dict(container.metadata)
            if container.streams.audio:
                tags.update(container.streams.audio[0].metadata)
    except (av.FFmpegError, OSError):
        return {}
    return {key.lower(): value for key, value in tags.items()}


def resample(samples: np.ndarray, from_rate: int, to_rate: int = ANALYSIS_RATE) -> np.ndarray:
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    return soxr.resample(samples, from_rate, to_rate).astype(np.float32, copy=False)


def pcm16_encode(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] to little-endian 16-bit PCM, the chunk encoding on the wire."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def pcm16_decode(data: bytes) -> np.ndarray:
    if len(data) % 2:
        raise ValueError(f"16-bit PCM payload has an odd length ({len(data)} bytes)")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32767.0
