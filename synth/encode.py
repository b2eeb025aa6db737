"""Writing audio in broadcast codecs (MP3, AAC, Opus, FLAC, WAV) through FFmpeg's libraries."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np

# suffix -> (container format, codec, sample format)
_FORMATS = {
    ".mp3": ("mp3", "libmp3lame", "fltp"),
    ".m4a": ("ipod", "aac", "fltp"),
    ".opus": ("ogg", "libopus", "flt"),
    ".ogg": ("ogg", "libopus", "flt"),
    ".flac": ("flac", "flac", "s16"),
    ".wav": ("wav", "pcm_s16le", "s16"),
}


def write_audio(path: Path, samples: np.ndarray, sample_rate: int, bitrate: int = 128_000) -> Path:
    """Encode mono float32 samples to the format the file suffix names."""
    container_format, codec, sample_format = _FORMATS[path.suffix.lower()]
    if codec == "libopus":
        sample_rate_out = 48000
    else:
        sample_rate_out = sample_rate
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=sample_rate_out, layout="mono")
        if codec not in ("flac", "pcm_s16le"):
            stream.bit_rate = bitrate
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=sample_rate_out)
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for block in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(block):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
