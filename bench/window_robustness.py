"""How one analysis window fares under each radio condition on its own: match rate, speed and offset.

    .venv/bin/python bench/window_robustness.py [--music DIR] [--tracks 100] [--excerpts 40] [--seed 1]

For every condition, 8-second windows are cut at random offsets from random catalog songs, the
condition is applied, and the window goes through the matcher the agents run (detection.pipeline's
fingerprint and judge).  Printed per condition: the share of windows matched to the right track, the
share matched to a wrong one, the median and worst speed error, the median offset error.  Unregistered
songs (and speech) print how many windows matched anything at all.  The station-day benchmark gives
the same conditions' effect on whole plays; this one isolates them.  The songs are held at 16 kHz:
--tracks 1000 needs about 12 GB of memory.

Windows of unregistered songs and speech also calibrate the match confidence: the benchmark prints
how often their strongest line reaches each score against what detection.match.FALSE_LINE predicts,
and the values fitted to these windows.
"""
from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soxr

from station_day import RATE, add_pink_noise, compress, load_recordings, lowpass, rms, talk
from detection.audio import ANALYSIS_RATE
from detection.fingerprint import fingerprint
from detection.index import Index
from detection.match import FALSE_LINE, judge
from ingest.file import decode_as_aired
from synth.encode import write_audio
from synth.music import song

WINDOW_S = 8.0
#: Source audio cut around a window, so that slowing it down still fills the window.
SOURCE_S = WINDOW_S * 1.1


def at_speed(speed: float) -> Callable:
    # Resampled and played at the original rate: pitch and tempo change together, as playout does.
    return lambda x, rng: soxr.resample(x, RATE, RATE / speed).astype(np.float32)


def talk_over(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    words = talk(rng, len(x) / RATE)
    words = np.pad(words, (0, len(x) - len(words)))
    return x + words * rms(x) / rms(words)  # 0 dB music-to-speech


def mp3(bitrate: int) -> Callable:
    def encode(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        with tempfile.TemporaryDirectory() as folder:
            return decode_as_aired(write_audio(Path(folder) / "w.mp3", x, RATE, bitrate=bitrate), RATE)
    return encode


def dropout(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = x.copy()
    at = int(rng.uniform(1, WINDOW_S - 3) * RATE)
    x[at:at + int(rng.uniform(1, 2) * RATE)] = 0
    return x


def telephone_band(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return lowpass(x, 3400.0)


def through_rate(rate: int) -> Callable:
    # The song delivered at another sample rate: resampled there and back by the windower's path.
    return lambda x, rng: soxr.resample(soxr.resample(x, RATE, rate), rate, RATE).astype(np.float32)


def chain(*steps: Callable) -> Callable:
    def apply(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for step in steps:
            x = step(x, rng)
        return x
    return apply


CONDITIONS: dict[str, tuple[float, Callable]] = {  # name -> (speed, transformation)
    "clean": (1.0, chain()),
    "speed 0.95": (0.95, at_speed(0.95)),
    "speed 0.97": (0.97, at_speed(0.97)),
    "speed 1.02": (1.02, at_speed(1.02)),
    "speed 1.05": (1.05, at_speed(1.05)),
    "talk-over 0 dB": (1.0, talk_over),
    "pink noise 10 dB": (1.0, lambda x, rng: add_pink_noise(x, 10.0, rng)),
    "compression": (1.0, lambda x, rng: compress(x).astype(np.float32)),
    "band 3.4 kHz": (1.0, telephone_band),
    "MP3 64 kbps": (1.0, mp3(64_000)),
    "dropout 1-2 s": (1.0, dropout),
    "44.1 kHz source": (1.0, through_rate(44100)),
    "48 kHz source": (1.0, through_rate(48000)),
    "speed 1.04+noise+MP3": (1.04, chain(at_speed(1.04), lambda x, rng: add_pink_noise(x, 10.0, rng),
                                         mp3(64_000))),
    "speed 0.96+talk-over": (0.96, chain(at_speed(0.96), talk_over)),
}


def window_of(x: np.ndarray) -> np.ndarray:
    return soxr.resample(x[:int(WINDOW_S * RATE)], RATE, ANALYSIS_RATE).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music", type=Path, help="folder of recordings (default: synthesised songs)")
    parser.add_argument("--tracks", type=int, default=100, help="synthesised catalog songs (without --music)")
    parser.add_argument("--excerpts", type=int, default=40, help="windows per condition")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--impostors", type=int, default=400, help="windows of unregistered songs (and a quarter as many of speech)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    songs = load_recordings(args.music, args.tracks, rng)
    index = Index(list(range(len(songs))),
                  [fingerprint(soxr.resample(s, RATE, ANALYSIS_RATE).astype(np.float32)) for s in songs])
    print(f"{len(songs)} catalog songs, {args.excerpts} windows of {WINDOW_S:.0f} s per condition")
    print(f"{'condition':22} {'right':>6} {'wrong':>6} {'speed err med/max':>18} {'offset err med':>15}")
    for name, (speed, transform) in CONDITIONS.items():
        right = wrong = 0
        speed_errors, offset_errors = [], []
        for _ in range(args.excerpts):
            track = int(rng.integers(len(songs)))
            offset_s = float(rng.uniform(0, len(songs[track]) / RATE - SOURCE_S))
            source = songs[track][int(offset_s * RATE):int((offset_s + SOURCE_S) * RATE)]
            found = judge(index, fingerprint(window_of(transform(source, rng)))).match
            if found is None:
                continue
            if found.track_id != track:
                wrong += 1
                continue
            right += 1
            speed_errors.append(abs(found.speed - speed))
            offset_errors.append(abs(found.track_offset_s - offset_s))
        speeds = f"{np.median(speed_errors):.4f}/{max(speed_errors):.4f}" if speed_errors else "-"
        offsets = f"{np.median(offset_errors):.3f} s" if offset_errors else "-"
        print(f"{name:22} {right / args.excerpts:6.3f} {wrong / args.excerpts:6.3f} {speeds:>18} {offsets:>15}")
    unregistered = [song(int(rng.integers(2_000_000, 3_000_000)), WINDOW_S, RATE) for _ in range(args.impostors)]
    speech = [talk(rng, WINDOW_S) for _ in range(args.impostors // 4)]
    verdicts = [judge(index, fingerprint(window_of(x))) for x in unregistered + speech]
    false = sum(verdict.match is not None for verdict in verdicts)
    print(f"unregistered songs and speech: {false} of {len(verdicts)} windows matched something")
    print_false_lines([max((hint.score for hint in v.hints), default=0) if v.match is None else v.match.score
                       for v in verdicts], len(songs))


def print_false_lines(strongest: list[int], tracks: int) -> None:
    """How often music not in the catalog lines up each number of hashes with a catalog track, against
    detection.match.FALSE_LINE; and the values fitted here (lines under 5 hashes go unreported)."""
    scores = np.array(strongest)
    bias, per_hash = FALSE_LINE
    print(f"strongest line of those windows against FALSE_LINE {FALSE_LINE} ({tracks} tracks):")
    fit_scores, fit_shares = [], []
    for score in range(5, int(scores.max(initial=0)) + 2):
        reached = int((scores >= score).sum())
        predicted = min(1.0, tracks * np.exp(bias - per_hash * score))
        print(f"  {score:3d} hashes or more: {reached:4d} windows ({reached / len(scores):.4f}), predicted {predicted:.4f}")
        if reached >= 3:
            fit_scores.append(score)
            fit_shares.append(reached / len(scores))
    if len(fit_scores) >= 2:
        slope, intercept = np.polyfit(fit_scores, np.log(fit_shares), 1)
        print(f"  fitted to these windows: FALSE_LINE = ({intercept - np.log(tracks):.3f}, {-slope:.3f})")

if __name__ == "__main__":
    main()
