"""A synthetic catalog and a broadcast built from it, with the ground truth of every catalog play."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from synth.music import babble, song

RATE = 44100


@dataclass(frozen=True)
class AiredPlay:
    ref: str
    start_s: float  # seconds into the broadcast
    end_s: float


def write_catalog(folder: Path, count: int, seconds: float = 60.0, first_seed: int = 1) -> list[Path]:
    """Songs as FLAC files with a catalog.csv sidecar giving title, artist, ISRC and rights holders."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    rows = []
    for i in range(count):
        seed = first_seed + i
        path = folder / f"song-{seed:04d}.flac"
        soundfile.write(path, song(seed, seconds, RATE), RATE)
        paths.append(path)
        rows.append({"file": path.name, "ref": f"SONG-{seed:04d}", "title": f"Synthetic Song {seed}",
                     "artist": f"Test Artist {seed % 7}", "isrc": f"XXA0126{seed:05d}",
                     "rights_holders": f"Label {seed % 3}:60;Publisher {seed % 5}:40"})
    with (folder / "catalog.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return paths


def demo_broadcast(catalog_seeds: list[int], song_seconds: float = 60.0) -> tuple[np.ndarray, list[AiredPlay]]:
    """Silence, catalog songs (one from its middle), talk, and music that is not in the catalog."""
    segments: list[tuple[np.ndarray, str | None]] = [
        (np.zeros(3 * RATE, np.float32), None),
        (song(catalog_seeds[0], song_seconds, RATE), f"SONG-{catalog_seeds[0]:04d}"),
        (babble(100, 8, RATE), None),
        (song(10_001, 30, RATE), None),  # unregistered music
        (song(catalog_seeds[1], song_seconds, RATE)[int(15 * RATE):int(45 * RATE)], f"SONG-{catalog_seeds[1]:04d}"),
        (np.zeros(4 * RATE, np.float32), None),
        (song(catalog_seeds[2], song_seconds, RATE), f"SONG-{catalog_seeds[2]:04d}"),
        (babble(101, 6, RATE), None),
    ]
    truth, position = [], 0.0
    for samples, ref in segments:
        length = len(samples) / RATE
        if ref:
            truth.append(AiredPlay(ref, position, position + length))
        position += length
    return np.concatenate([s for s, _ in segments]), truth


def write_broadcast(path: Path, samples: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, samples, RATE)
    return path
