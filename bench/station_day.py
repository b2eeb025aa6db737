"""A simulated station day, and how well airspin logs its plays.

    .venv/bin/python bench/station_day.py [--music DIR] [--profile light|hard] [--seed N] [--minutes M]

The generator splits the recordings (a folder of audio files, or synthesised songs without --music)
into catalog songs and songs never registered (seeded), then builds a broadcast: catalog songs aired
from 20 s to full length at random offsets, unregistered songs, DJ talk (espeak-ng when installed,
synthetic babble otherwise) alone and over intros and outros, crossfades, jingles and silences, run
through a station processing profile and encoded to MP3.  The ground truth of every catalog play is
kept.  Detection runs through detection.pipeline.scan, the functions the agents run, and the scorer
prints precision, recall, false plays per aired hour, start/end errors, and recall by play length and
by condition.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr
from scipy.signal import butter, sosfilt

from detection.audio import ANALYSIS_RATE, decode_file
from detection.fingerprint import catalog_fingerprint
from detection.index import Index
from detection.pipeline import chunk_recording, scan
from detection.plays import PlayParams
from ingest.file import decode_as_aired
from synth.encode import write_audio
from synth.music import babble, song

RATE = 16000  # the station rate chunks travel at
STEP_S = 2.0


@dataclass
class AiredPlay:
    track: int
    start_s: float
    end_s: float
    conditions: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Profile:
    name: str
    speed_range: float  # songs are sped up or slowed down by up to this factor (pitch and tempo)
    noise_snr_db: float | None
    lowpass_hz: float
    compress: bool
    mp3_bitrate: int
    dropouts_per_hour: float


PROFILES = {
    "light": Profile("light", 0.0, None, 7500, True, 128_000, 0.0),
    "hard": Profile("hard", 0.04, 10.0, 5000, True, 64_000, 20.0),
}


def load_recordings(music: Path | None, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    if music is None:
        seeds = rng.choice(1_000_000, size=count, replace=False)
        return [song(int(s), float(rng.uniform(120, 240)), RATE) for s in seeds]
    files = sorted(p for p in music.rglob("*") if p.suffix.lower() in {".mp3", ".ogg", ".flac", ".wav", ".opus"})
    recordings = []
    for path in files:
        try:
            recordings.append(decode_file(path, RATE))
        except ValueError as exc:
            print(f"skipped {path}: {exc}")
    return [r for r in recordings if len(r) > 30 * RATE]


def talk(rng: np.random.Generator, seconds: float) -> np.ndarray:
    if shutil.which("espeak-ng"):
        words = " ".join(rng.choice(["the", "weather", "traffic", "news", "next", "song", "tonight", "city",
                                     "call", "now", "music", "radio", "morning", "great", "show"], size=int(seconds * 2.5)))
        with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
            subprocess.run(["espeak-ng", "-w", wav.name, words], check=True, capture_output=True)
            speech = decode_file(wav.name, RATE)
        return speech[:int(seconds * RATE)]
    return babble(int(rng.integers(1 << 30)), seconds, RATE)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2)) + 1e-9)


def build_day(recordings: list[np.ndarray], catalog_ids: set[int], minutes: float, profile: Profile,
              rng: np.random.Generator) -> tuple[np.ndarray, list[AiredPlay]]:
    out = np.zeros(int((minutes * 60 + 400) * RATE), np.float32)
    truth: list[AiredPlay] = []
    pos = int(2 * RATE)
    end = int(minutes * 60 * RATE)
    while pos < end:
        kind = rng.choice(["catalog"] * 6 + ["unknown"] * 2 + ["talk", "jingle", "silence"])
        if kind in ("catalog", "unknown"):
            pool = sorted(catalog_ids) if kind == "catalog" else [i for i in range(len(recordings)) if i not in catalog_ids]
            track = int(rng.choice(pool))
            source = recordings[track]
            length = min(len(source) / RATE, float(rng.uniform(20, len(source) / RATE)))
            offset = float(rng.uniform(0, len(source) / RATE - length))
            piece = source[int(offset * RATE):int((offset + length) * RATE)].copy()
            conditions = set()
            if profile.speed_range:
                speed = 1 + float(rng.uniform(-profile.speed_range, profile.speed_range))
                piece = soxr.resample(piece, RATE, RATE / speed).astype(np.float32)  # pitch and tempo together
                if abs(speed - 1) > 0.01:
                    conditions.add("speed")
            if rng.random() < 0.3:  # the DJ talks over the intro
                words = talk(rng, float(rng.uniform(4, 10)))[:len(piece)]
                # at 0 dB against the music it covers: a quiet intro is talked over quietly too
                piece[:len(words)] += words * rms(piece[:len(words)]) / rms(words)
                conditions.add("talk-over")
            fade = int(rng.uniform(2, 4) * RATE) if rng.random() < 0.4 else 0
            start = max(0, pos - fade)  # crossfade into what was playing
            ramp = np.linspace(0, 1, fade, dtype=np.float32)
            piece[:fade] *= ramp
            if fade:
                out[start:start + fade] *= 1 - ramp
                conditions.add("crossfade")
            out[start:start + len(piece)] += piece
            if kind == "catalog":
                truth.append(AiredPlay(track, start / RATE, (start + len(piece)) / RATE, conditions))
            pos = start + len(piece)
        elif kind == "talk":
            speech = talk(rng, float(rng.uniform(5, 25)))
            out[pos:pos + len(speech)] += speech * 0.1 / rms(speech)
            pos += len(speech)
        elif kind == "jingle":
            jingle = song(int(rng.integers(5)) + 900_000, float(rng.uniform(3, 8)), RATE)
            out[pos:pos + len(jingle)] += jingle
            pos += len(jingle)
        else:
            pos += int(rng.uniform(0.5, 3) * RATE)
    return out[:pos], truth


def compress(x: np.ndarray) -> np.ndarray:
    """A broadcast processor: fast gain riding towards a target loudness."""
    envelope = np.sqrt(np.convolve(x ** 2, np.ones(800) / 800, mode="same")) + 1e-4
    return x * np.clip(0.15 / envelope, 0.25, 4.0) ** 0.7


def lowpass(x: np.ndarray, cutoff_hz: float) -> np.ndarray:
    return sosfilt(butter(8, cutoff_hz, fs=RATE, output="sos"), x).astype(np.float32)


def add_pink_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    white = np.fft.rfft(rng.standard_normal(len(x)))
    pink = np.fft.irfft(white / np.sqrt(np.maximum(np.arange(len(white)), 1)), n=len(x))
    return x + (pink * rms(x) / rms(pink) / 10 ** (snr_db / 20)).astype(np.float32)


def process(day: np.ndarray, profile: Profile, rng: np.random.Generator,
            truth: list[AiredPlay]) -> np.ndarray:
    x = compress(day) if profile.compress else day.copy()
    x = lowpass(x, profile.lowpass_hz)
    if profile.noise_snr_db is not None:
        x = add_pink_noise(x, profile.noise_snr_db, rng)
    for _ in range(int(profile.dropouts_per_hour * len(x) / RATE / 3600)):
        at = int(rng.uniform(0, len(x) - 3 * RATE))
        length = int(rng.uniform(1, 2) * RATE)
        x[at:at + length] = 0
        for play in truth:
            if play.start_s * RATE < at < play.end_s * RATE:
                play.conditions.add("dropout")
    x = x / max(1.0, float(np.abs(x).max()))
    with tempfile.TemporaryDirectory() as folder:
        mp3 = write_audio(Path(folder) / "day.mp3", x, RATE, bitrate=profile.mp3_bitrate)
        return decode_as_aired(mp3, RATE)


@dataclass(frozen=True)
class Scores:
    aired: int
    reported: int
    correct: int
    precision: float
    recall: float
    false_per_hour: float
    start_errors: np.ndarray
    end_errors: np.ndarray
    recall_by_group: dict[str, tuple[float, int]]


def evaluate(truth: list[AiredPlay], plays, aired_s: float) -> Scores:
    matched: dict[int, object] = {}
    false = 0
    for play in plays:  # each play counts for the unclaimed airing it overlaps most
        overlaps = {i: min(t.end_s, play.end_at) - max(t.start_s, play.start_at)
                    for i, t in enumerate(truth) if t.track == play.track_id and i not in matched}
        best = max(overlaps, key=overlaps.get, default=None)
        if best is not None and overlaps[best] > 0:
            matched[best] = play
        else:
            false += 1
    groups = [("20-60 s", lambda t: t.end_s - t.start_s < 60), ("60 s+", lambda t: t.end_s - t.start_s >= 60)] + [
        (c, lambda t, c=c: c in t.conditions) for c in ("talk-over", "crossfade", "speed", "dropout")]
    by_group = {}
    for label, keep in groups:
        members = [i for i, t in enumerate(truth) if keep(t)]
        if members:
            by_group[label] = (sum(i in matched for i in members) / len(members), len(members))
    return Scores(
        aired=len(truth), reported=len(plays), correct=len(matched),
        precision=len(matched) / max(1, len(plays)), recall=len(matched) / max(1, len(truth)),
        false_per_hour=false / (aired_s / 3600),
        start_errors=np.array([abs(p.start_at - truth[i].start_s) for i, p in matched.items()]),
        end_errors=np.array([abs(p.end_at - truth[i].end_s) for i, p in matched.items()]),
        recall_by_group=by_group,
    )


def print_scores(scores: Scores) -> None:
    print(f"plays aired {scores.aired}, reported {scores.reported}, correct {scores.correct}")
    print(f"precision {scores.precision:.3f}  recall {scores.recall:.3f}  "
          f"false plays per aired hour {scores.false_per_hour:.2f}")
    if scores.correct:
        start, end = scores.start_errors, scores.end_errors
        print(f"start error median {np.median(start):.2f} s p95 {np.percentile(start, 95):.2f} s; "
              f"end error median {np.median(end):.2f} s p95 {np.percentile(end, 95):.2f} s")
    for label, (recall, count) in scores.recall_by_group.items():
        print(f"  recall {label:10} {recall:.3f} ({count} plays)")


def simulate(profile: Profile, seed: int, minutes: float, songs: int, music: Path | None = None,
             play_params: PlayParams = PlayParams()):
    """Build, air and scan a station day; returns (scores, recordings, catalog size, aired s, CPU s,
    index kB per catalog minute, of which prominent peaks)."""
    rng = np.random.default_rng(seed)
    recordings = load_recordings(music, songs, rng)
    catalog_ids = set(rng.choice(len(recordings), size=len(recordings) * 2 // 3, replace=False).tolist())
    fingerprints, peaks = zip(*(catalog_fingerprint(soxr.resample(recordings[i], RATE, ANALYSIS_RATE).astype(np.float32))
                                for i in sorted(catalog_ids)))
    index = Index(sorted(catalog_ids), list(fingerprints), list(peaks))
    day, truth = build_day(recordings, catalog_ids, minutes, profile, rng)
    aired = process(day, profile, rng, truth)
    started = time.process_time()
    plays = list(scan(index, chunk_recording(aired, RATE, 0.0, STEP_S, "bench"), play_params))
    cpu = time.process_time() - started
    aired_s = len(aired) / RATE
    catalog_minutes = sum(len(recordings[i]) for i in catalog_ids) / RATE / 60
    return (evaluate(truth, plays, aired_s), len(recordings), len(catalog_ids), aired_s, cpu,
            index.nbytes / 1000 / catalog_minutes, index.peak_nbytes / 1000 / catalog_minutes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music", type=Path, help="folder of recordings (default: synthesised songs)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="light")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--songs", type=int, default=40, help="synthesised songs (without --music)")
    parser.add_argument("--max-gap-s", type=float, default=PlayParams.max_gap_s,
                        help="seconds without a match that end a play")
    args = parser.parse_args()
    scores, recordings, catalog, aired_s, cpu, index_kb, peaks_kb = simulate(
        PROFILES[args.profile], args.seed, args.minutes, args.songs, args.music, PlayParams(max_gap_s=args.max_gap_s))
    print(f"profile {args.profile}, seed {args.seed}: {recordings} recordings, {catalog} in the catalog, "
          f"{aired_s / 60:.0f} aired minutes ({aired_s / cpu:.0f} aired s per CPU s); "
          f"index {index_kb:.1f} kB per catalog minute (prominent peaks {peaks_kb:.2f} of them)")
    print_scores(scores)


if __name__ == "__main__":
    main()
