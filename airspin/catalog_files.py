"""Registering recordings from files: decode, fingerprint, read metadata (tags or a CSV sidecar)."""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from detection.audio import ANALYSIS_RATE, decode_recording, read_tags
from detection.fingerprint import Fingerprint, Peaks, catalog_fingerprint
from storage.catalog import TrackInfo, add_track

AUDIO_SUFFIXES = {".mp3", ".ogg", ".oga", ".opus", ".flac", ".wav", ".m4a", ".aac", ".mp4"}
#: Per-folder metadata: columns file, ref, title, artist, isrc, rights_holders ("Name:60;Other:40").
SIDECAR_NAME = "catalog.csv"


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def find_audio_files(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        else:
            found.append(path)
    return found


def read_sidecar(folder: Path) -> dict[str, dict[str, str]]:
    sidecar = folder / SIDECAR_NAME
    if not sidecar.exists():
        return {}
    with sidecar.open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle) if row.get("file")}


def parse_rights_holders(text: str | None) -> list[dict]:
    holders = []
    for part in filter(None, (text or "").split(";")):
        name, _, share = part.rpartition(":")
        if not name:
            raise ValueError(f"rights holder {part!r} is not NAME:SHARE")
        holders.append({"name": name.strip(), "share": float(share)})
    return holders


def prepare(path: Path, sidecar: dict[str, dict[str, str]]) -> tuple[TrackInfo, Fingerprint, Peaks]:
    """Decode and fingerprint one file (with its prominent peaks); raises UndecodableAudio or ValueError
    with the reason."""
    recording = decode_recording(path, ANALYSIS_RATE)
    tags = read_tags(path)
    row = sidecar.get(path.name, {})
    info = TrackInfo(
        ref=row.get("ref") or path.stem,
        duration_s=round(len(recording.samples) / ANALYSIS_RATE, 3),
        audio_sha256=recording.audio_sha256,
        title=row.get("title") or tags.get("title"),
        artist=row.get("artist") or tags.get("artist"),
        isrc=row.get("isrc") or tags.get("isrc") or tags.get("tsrc"),
        rights_holders=parse_rights_holders(row.get("rights_holders")),
        source_path=str(path),
    )
    return info, *catalog_fingerprint(recording.samples)


async def register_files(
    pool: asyncpg.Pool, files: list[Path], on_file: Callable[[Path], None] = lambda _: None
) -> LoadReport:
    report = LoadReport()
    sidecars: dict[Path, dict] = {}
    for path in files:
        try:
            sidecar = sidecars.setdefault(path.parent, read_sidecar(path.parent))
            info, fp, peaks = prepare(path, sidecar)
            _, is_new = await add_track(pool, info, fp, peaks)
            (report.added if is_new else report.unchanged).append(str(path))
        except (ValueError, OSError) as exc:  # one bad file is reported; the rest still load
            report.failed.append((str(path), str(exc)))
        on_file(path)
    return report
