from pathlib import Path

import numpy as np
import pytest

from ingest.decoder import StreamDecoder, UnsupportedStream, codec_for
from ingest.icy import IcyDemuxer, metadata_block
from synth.encode import write_audio
from synth.music import song


def test_icy_metadata_is_split_from_the_audio_at_any_read_size():
    audio = bytes(range(256)) * 2
    stream = audio[:100] + metadata_block("Artist - Song") + audio[100:200] + b"\x00" + audio[200:300]
    for size in (1, 7, 64, 1000):
        demuxer, out, titles = IcyDemuxer(100), b"", []
        for i in range(0, len(stream), size):
            piece, found = demuxer.feed(stream[i:i + size])
            out, titles = out + piece, titles + found
        assert out == audio[:300] and titles == ["Artist - Song"]


def test_without_metaint_everything_is_audio():
    assert IcyDemuxer(None).feed(b"abc") == (b"abc", [])


def test_mp3_decodes_incrementally_from_arbitrary_pieces(tmp_path: Path):
    data = write_audio(tmp_path / "s.mp3", song(3, 10, 44100), 44100).read_bytes()
    decoder = StreamDecoder(codec_for("audio/mpeg"), 16000)
    rng = np.random.default_rng(0)
    total, i = 0, 0
    while i < len(data):
        size = int(rng.integers(1, 5000))
        total += len(decoder.feed(data[i:i + size]))
        i += size
    assert abs(total / 16000 - 10.0) < 0.1


def test_unsupported_stream_types_are_named():
    assert codec_for("audio/aacp") == "aac"
    with pytest.raises(UnsupportedStream, match="text/html"):
        codec_for("text/html; charset=utf-8")
