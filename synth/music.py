"""Seeded synthetic songs: notes with harmonics, a bass line and percussion, different for every seed."""
from __future__ import annotations

import numpy as np


def song(seed: int, seconds: float, sample_rate: int = 16000) -> np.ndarray:
    """A mono float32 'song'.  Each seed picks its own key, tempo, melody and timbre.

    The same seed gives the same music at any sample rate (only the percussion noise differs).
    """
    rng = np.random.default_rng(seed)
    noise = np.random.default_rng([seed, 1])
    n = int(seconds * sample_rate)
    out = np.zeros(n, np.float32)
    t_note = 60.0 / rng.uniform(90, 150) / 2  # eighth notes
    root = rng.uniform(110, 220)
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12, 14, 16])
    harmonics = rng.uniform(0.2, 1.0, size=6) / np.arange(1, 7)
    note_len = int(t_note * sample_rate)
    envelope = np.exp(-np.linspace(0, rng.uniform(2, 6), note_len)).astype(np.float32)
    t = np.arange(note_len) / sample_rate
    for start in range(0, n, note_len):
        length = min(note_len, n - start)
        for voice, octave in ((0, 2.0), (1, 1.0), (2, 0.5)):
            if voice == 2 and rng.random() < 0.5:
                continue
            freq = root * octave * 2 ** (scale[rng.integers(len(scale))] / 12)
            tone = sum(h * np.sin(2 * np.pi * freq * (k + 1) * t[:length])
                       for k, h in enumerate(harmonics) if freq * (k + 1) < sample_rate / 2)
            out[start:start + length] += (0.25 * tone * envelope[:length]).astype(np.float32)
        if rng.random() < 0.6:  # percussion: a short noise burst
            burst = min(length, int(0.03 * sample_rate))
            out[start:start + burst] += (0.3 * noise.standard_normal(burst) * np.linspace(1, 0, burst)).astype(np.float32)
    return (0.8 * out / (np.abs(out).max() + 1e-9)).astype(np.float32)


def babble(seed: int, seconds: float, sample_rate: int = 16000) -> np.ndarray:
    """Speech-like sound: voiced syllables with moving formants and pauses (no espeak needed)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    out = np.zeros(n, np.float32)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.08, 0.3) * sample_rate)
        f0 = rng.uniform(90, 220)
        t = np.arange(min(length, n - pos)) / sample_rate
        pulse = np.sign(np.sin(2 * np.pi * f0 * t))
        formant = sum(np.sin(2 * np.pi * rng.uniform(300, 3000) * t) for _ in range(3))
        syllable = pulse * formant * np.hanning(len(t))
        out[pos:pos + len(t)] = 0.2 * syllable
        pos += len(t) + int(rng.uniform(0.02, 0.25) * sample_rate)
    return out
