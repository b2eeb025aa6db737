"""Throughput of the detection path the agents run: fingerprint + match + play, against a large catalog.

    .venv/bin/python bench/pipeline_throughput.py [--tracks 1000] [--minutes 20] [--ingest-music DIR]

Prints: catalog ingest speed (decode + fingerprint of mono FLAC files, times real time per core; with
--ingest-music DIR also of every recording in DIR, by format), index size
(bytes per catalog minute, as stored and in memory) and build time, aired seconds per CPU second of
fingerprint+match+play on a broadcast, the plays found against the truth, and peak memory.
The synthetic catalog's fingerprints are cached in .cache/bench so that a second run starts at once.
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from airspin.catalog_files import find_audio_files, prepare
from detection.audio import ANALYSIS_RATE, decode_recording, pcm16_decode, pcm16_encode
from detection.fingerprint import SCHEME, Fingerprint, Peaks, catalog_fingerprint
from detection.index import Index
from detection.pipeline import chunk_recording, scan
from synth.encode import write_audio
from synth.music import babble, song

ROOT = Path(__file__).resolve().parent.parent
TRACK_SECONDS = 120.0
STATION_RATE = 16000


def catalog_fingerprints(tracks: int) -> tuple[list[Fingerprint], list[Peaks], float]:
    """Fingerprints and prominent peaks of `tracks` synthetic songs (seeds 1..tracks) and the seconds
    spent making them."""
    cache = ROOT / ".cache" / "bench" / f"catalog-{tracks}x{int(TRACK_SECONDS)}s-scheme{SCHEME}-peaks.npz"
    if cache.exists():
        with np.load(cache) as data:  # each access to an npz member reads it again: read each once
            hashes, frames, sizes = data["hashes"], data["frames"], data["sizes"]
            peak_frames, peak_bins, peak_sizes = data["peak_frames"], data["peak_bins"], data["peak_sizes"]
        return _split(hashes, frames, sizes, Fingerprint), _split(peak_frames, peak_bins, peak_sizes, Peaks), 0.0
    fps, peaks, spent = [], [], 0.0
    for seed in range(1, tracks + 1):
        samples = song(seed, TRACK_SECONDS, ANALYSIS_RATE)
        started = time.process_time()
        fp, prominent = catalog_fingerprint(samples)
        spent += time.process_time() - started
        fps.append(fp)
        peaks.append(prominent)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, hashes=np.concatenate([f.hashes for f in fps]), frames=np.concatenate([f.frames for f in fps]),
             sizes=np.array([len(f) for f in fps]), peak_frames=np.concatenate([p.frames for p in peaks]),
             peak_bins=np.concatenate([p.bins for p in peaks]), peak_sizes=np.array([len(p.frames) for p in peaks]))
    return fps, peaks, spent


def _split(first: np.ndarray, second: np.ndarray, sizes: np.ndarray, kind: type) -> list:
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [kind(first[a:b], second[a:b]) for a, b in zip(bounds, bounds[1:])]


def ingest_speed(files: int = 8) -> float:
    """Times real time per core for decode + fingerprint + hash of FLAC files, as `catalog add` does."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [write_audio(Path(folder) / f"t{i}.flac", song(50_000 + i, 180, 44100), 44100) for i in range(files)]
        started = time.process_time()
        for path in paths:
            prepare(path, {})
        return files * 180 / (time.process_time() - started)


def ingest_by_format(folder: Path) -> dict[str, tuple[int, float, float, float]]:
    """Catalog ingest of every recording in a folder, by file format: (files, audio seconds, CPU seconds
    to decode and fingerprint them as `catalog add` does, CPU seconds of that decoding)."""
    formats: dict[str, tuple[int, float, float, float]] = {}
    for path in find_audio_files([folder]):
        started = time.process_time()
        recording = decode_recording(path)
        decoded = time.process_time()
        catalog_fingerprint(recording.samples)
        done = time.process_time()
        suffix = path.suffix.lower().lstrip(".")
        files, seconds, cpu, decoding = formats.get(suffix, (0, 0.0, 0.0, 0.0))
        formats[suffix] = (files + 1, seconds + len(recording.samples) / ANALYSIS_RATE, cpu + done - started,
                           decoding + decoded - started)
    return formats


def broadcast(tracks: int, minutes: float, seed: int = 7) -> tuple[np.ndarray, list[tuple[int, float, float]]]:
    """Catalog excerpts (30 s to full length), unregistered songs and talk; truth as (track, start, end)."""
    rng = np.random.default_rng(seed)
    parts, truth, position = [], [], 0.0
    while position < minutes * 60:
        kind = rng.choice(["catalog", "catalog", "unknown", "talk"])
        if kind == "catalog":
            track = int(rng.integers(1, tracks + 1))
            length = float(rng.uniform(30, TRACK_SECONDS))
            offset = float(rng.uniform(0, TRACK_SECONDS - length))
            samples = song(track, TRACK_SECONDS, STATION_RATE)[int(offset * STATION_RATE):int((offset + length) * STATION_RATE)]
            truth.append((track, position, position + len(samples) / STATION_RATE))
        elif kind == "unknown":
            samples = song(int(rng.integers(1_000_000, 2_000_000)), float(rng.uniform(30, 90)), STATION_RATE)
        else:
            samples = babble(int(rng.integers(1 << 30)), float(rng.uniform(5, 20)), STATION_RATE)
        parts.append(samples)
        position += len(samples) / STATION_RATE
    return np.concatenate(parts), truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--ingest-music", type=Path, metavar="DIR",
                        help="also time catalog ingest of every recording in DIR, by format")
    args = parser.parse_args()

    fps, peaks, spent = catalog_fingerprints(args.tracks)
    started = time.process_time()
    index = Index(list(range(1, args.tracks + 1)), fps, peaks)
    built = time.process_time() - started
    entries = sum(len(f) for f in fps)
    catalog_minutes = args.tracks * TRACK_SECONDS / 60
    print(f"catalog: {args.tracks} tracks x {TRACK_SECONDS:.0f} s, {entries} hashes"
          + (f" (fingerprinted at {args.tracks * TRACK_SECONDS / spent:.0f}x real time)" if spent else " (cached)"))
    print(f"index size: {index.nbytes / catalog_minutes / 1000:.1f} kB per catalog minute in memory "
          f"(prominent peaks {index.peak_nbytes / catalog_minutes / 1000:.1f} of them) "
          f"({index.dropped / entries:.0%} of the hashes too common to keep), "
          f"{entries * 8 / catalog_minutes / 1000:.1f} kB stored in PostgreSQL; built in {built:.2f} CPU s")
    print(f"catalog ingest (decode FLAC + fingerprint): {ingest_speed():.0f}x real time per core")
    if args.ingest_music:
        for suffix, (files, seconds, cpu, decoding) in sorted(ingest_by_format(args.ingest_music).items()):
            print(f"catalog ingest of {args.ingest_music}, {suffix}: {files} files, {seconds:.0f} s: "
                  f"{seconds / cpu:.0f}x real time per core (decoding {decoding / cpu:.0%} of it)")

    samples, truth = broadcast(args.tracks, args.minutes)
    samples = pcm16_decode(pcm16_encode(samples))  # as the wire carries it
    aired = len(samples) / STATION_RATE
    started = time.process_time()
    plays = list(scan(index, chunk_recording(samples, STATION_RATE, 0.0, 2.0, "bench")))
    cpu = time.process_time() - started
    print(f"fingerprint+match+play: {aired:.0f} aired s in {cpu:.2f} CPU s = {aired / cpu:.0f} aired s per CPU s")

    found = 0
    for track, start, end in truth:
        if any(p.track_id == track and p.start_at < end and p.end_at > start for p in plays):
            found += 1
    false = sum(1 for p in plays if not any(p.track_id == t and p.start_at < e and p.end_at > s for t, s, e in truth))
    print(f"plays: {len(truth)} aired, {found} found, {false} false ({len(plays)} reported)")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
