"""Decoding catalog files: one identity per recording's audio, whichever decoder reads it."""
from __future__ import annotations

import numpy as np
import pytest

from detection.audio import UndecodableAudio, decode_recording
from synth.encode import write_audio
from synth.music import song

RATE = 44100


def test_the_same_audio_in_flac_and_wav_is_one_recording(tmp_path):
    samples = song(31, 5, RATE)
    flac = decode_recording(write_audio(tmp_path / "a.flac", samples, RATE, stereo=True))
    wav = decode_recording(write_audio(tmp_path / "a.wav", samples, RATE, stereo=True))
    other = decode_recording(write_audio(tmp_path / "b.flac", song(32, 5, RATE), RATE, stereo=True))
    assert flac.audio_sha256 == wav.audio_sha256 != other.audio_sha256
    assert np.array_equal(flac.samples, wav.samples)


def test_stereo_is_downmixed_and_resampled(tmp_path):
    seconds = np.arange(3 * RATE) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * seconds)).astype(np.float32)
    recording = decode_recording(write_audio(tmp_path / "tone.flac", tone, RATE, stereo=True), 8000)
    assert len(recording.samples) == 3 * 8000
    assert recording.samples.dtype == np.float32
    # Two equal channels of a 0.5 peak tone (0.354 RMS) downmix 3 dB louder, as FFmpeg's downmix does.
    assert np.sqrt(np.mean(recording.samples[800:-800] ** 2)) == pytest.approx(0.5, rel=0.01)


def test_a_format_libsndfile_does_not_read_goes_through_ffmpeg(tmp_path):
    samples = song(33, 5, RATE)
    aac = decode_recording(write_audio(tmp_path / "a.m4a", samples, RATE), 8000)
    flac = decode_recording(write_audio(tmp_path / "a.flac", samples, RATE), 8000)
    assert abs(len(aac.samples) - len(flac.samples)) < 0.1 * 8000  # the encoder's padding
    # The lossy copy is the same music: its spectrum's envelope follows the lossless one's.
    spectrum = [np.abs(np.fft.rfft(r.samples[8000:32000])) for r in (aac, flac)]
    bands = [s[:12000 // 100 * 100].reshape(-1, 100).sum(axis=1) for s in spectrum]
    assert np.corrcoef(*bands)[0, 1] > 0.95


def test_garbage_is_undecodable_with_its_path(tmp_path):
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(np.random.default_rng(1).bytes(50_000))
    with pytest.raises(UndecodableAudio, match="garbage.mp3"):
        decode_recording(garbage)
