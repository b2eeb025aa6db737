"""Writing audio in broadcast codecs (MP3, AAC/ADTS, Opus, FLAC, WAV; HLS) through FFmpeg's libraries."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np

# suffix -> (container format, codec, sample format)
_FORMATS = {
    ".mp3": ("mp3", "libmp3lame", "fltp"),
    ".aac": ("adts", "aac", "fltp"),
    ".m4a": ("ipod", "aac", "fltp"),
    ".opus": ("ogg", "libopus", "flt"),
    ".ogg": ("ogg", "libopus", "flt"),
    ".flac": ("flac", "flac", "s16"),
    ".wav": ("wav", "pcm_s16le", "s16"),
}


def write_audio(path: Path, samples: np.ndarray, sample_rate: int, bitrate: int = 128_000,
                stereo: bool = False) -> Path:
    """Encode mono float32 samples to the format the file suffix names (as two equal channels if stereo)."""
    container_format, codec, sample_format = _FORMATS[path.suffix.lower()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container_format) as container:
        _encode(container, codec, sample_format, samples, sample_rate, bitrate, "stereo" if stereo else "mono")
    return path


def write_hls(folder: Path, samples: np.ndarray, sample_rate: int, segment_seconds: float = 2.0,
              fmp4: bool = False, bitrate: int = 64_000) -> Path:
    """An HLS rendition (AAC in MPEG-TS or fragmented MP4 segments); returns its playlist."""
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "index.m3u8"
    options = {"hls_time": str(segment_seconds), "hls_list_size": "0",
               "hls_segment_type": "fmp4" if fmp4 else "mpegts"}
    with av.open(str(playlist), "w", format="hls", options=options) as container:
        _encode(container, "aac", "fltp", samples, sample_rate, bitrate)
    return playlist


def _encode(container, codec: str, sample_format: str, samples: np.ndarray, sample_rate: int,
            bitrate: int, layout: str = "mono") -> None:
    rate_out = 48000 if codec == "libopus" else sample_rate
    stream = container.add_stream(codec, rate=rate_out, layout=layout)
    if codec not in ("flac", "pcm_s16le"):
        stream.bit_rate = bitrate
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate_out)
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    if layout == "stereo":
        pcm = np.repeat(pcm, 2)  # packed s16: the channels interleaved
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
    frame.sample_rate = sample_rate
    for block in resampler.resample(frame) + resampler.resample(None):
        for packet in stream.encode(block):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
