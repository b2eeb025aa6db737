"""The catalog: registered recordings, their metadata and fingerprints."""
from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
import numpy as np

from detection.audio import AUDIO_IDENTITY
from detection.fingerprint import SCHEME, Fingerprint, Peaks
from detection.index import Index


@dataclass(frozen=True)
class TrackInfo:
    ref: str
    duration_s: float
    audio_sha256: str
    title: str | None = None
    artist: str | None = None
    isrc: str | None = None
    rights_holders: list[dict] = field(default_factory=list)
    source_path: str | None = None


class RefTaken(ValueError):
    """The reference is registered already, with different audio."""


async def add_track(pool: asyncpg.Pool, info: TrackInfo, fp: Fingerprint, peaks: Peaks) -> tuple[int, bool]:
    """Register a track with its fingerprint and prominent peaks; returns (track id, whether it was new).

    The same audio again changes nothing, unless its stored fingerprint was made by an older scheme or
    has no peaks (registered before they were kept): then the new fingerprint and peaks replace it.  A
    track registered before its audio was hashed the way it is now (see AUDIO_IDENTITY) is known by its
    reference, and takes the new hash, fingerprint and peaks.
    """
    async with pool.acquire() as conn, conn.transaction():
        existing = await conn.fetchrow(
            "SELECT t.id, f.scheme, f.peaks IS NULL AS no_peaks FROM tracks t JOIN fingerprints f ON f.track_id = t.id"
            " WHERE t.audio_sha256 = $1", info.audio_sha256)
        if existing:
            if existing["scheme"] != SCHEME or existing["no_peaks"]:
                await _replace_fingerprint(conn, existing["id"], fp, peaks)
            return existing["id"], False
        same_ref = await conn.fetchrow("SELECT id, audio_identity FROM tracks WHERE ref = $1", info.ref)
        if same_ref and same_ref["audio_identity"] < AUDIO_IDENTITY:
            await conn.execute("UPDATE tracks SET audio_sha256 = $2, audio_identity = $3 WHERE id = $1",
                               same_ref["id"], info.audio_sha256, AUDIO_IDENTITY)
            await _replace_fingerprint(conn, same_ref["id"], fp, peaks)
            return same_ref["id"], False
        if same_ref:
            raise RefTaken(f"reference {info.ref!r} is registered already with different audio")
        track_id = await conn.fetchval(
            "INSERT INTO tracks (ref, title, artist, isrc, duration_s, rights_holders, audio_sha256, audio_identity,"
            " source_path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            info.ref, info.title, info.artist, info.isrc, info.duration_s, info.rights_holders,
            info.audio_sha256, AUDIO_IDENTITY, info.source_path,
        )
        await conn.execute(
            "INSERT INTO fingerprints (track_id, hashes, frames, hash_count, scheme, peaks) VALUES ($1, $2, $3, $4, $5, $6)",
            track_id, *_fingerprint_columns(fp, peaks),
        )
        await conn.execute("UPDATE catalog_version SET version = version + 1")
        return track_id, True


async def _replace_fingerprint(conn: asyncpg.Connection, track_id: int, fp: Fingerprint, peaks: Peaks) -> None:
    await conn.execute(
        "UPDATE fingerprints SET hashes = $2, frames = $3, hash_count = $4, scheme = $5, peaks = $6 WHERE track_id = $1",
        track_id, *_fingerprint_columns(fp, peaks))
    await conn.execute("UPDATE catalog_version SET version = version + 1")


#: A stored peak is frame x _PEAK_BINS + bin.
_PEAK_BINS = 512


def _fingerprint_columns(fp: Fingerprint, peaks: Peaks) -> tuple:
    packed = np.round(peaks.frames).astype(np.int64) * _PEAK_BINS + np.round(peaks.bins).astype(np.int64)
    return (fp.hashes.astype("<u4").tobytes(), fp.frames.astype("<i4").tobytes(), len(fp), SCHEME,
            packed.astype("<i4").tobytes())


def _peaks_of(column: bytes | None) -> Peaks:
    packed = np.frombuffer(column or b"", "<i4")
    return Peaks((packed // _PEAK_BINS).astype(np.float32), (packed % _PEAK_BINS).astype(np.float32))


async def remove_track(pool: asyncpg.Pool, ref: str) -> bool:
    """Remove a track that has no plays; one with plays stays, since the play log refers to it."""
    async with pool.acquire() as conn, conn.transaction():
        track_id = await conn.fetchval("SELECT id FROM tracks WHERE ref = $1", ref)
        if track_id is None:
            return False
        if await conn.fetchval("SELECT 1 FROM plays WHERE track_id = $1 LIMIT 1", track_id):
            raise ValueError(f"track {ref!r} has plays on record; it cannot be removed")
        await conn.execute("DELETE FROM tracks WHERE id = $1", track_id)
        await conn.execute("UPDATE catalog_version SET version = version + 1")
        return True


async def list_tracks(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT t.id, t.ref, t.title, t.artist, t.isrc, t.duration_s, t.rights_holders, f.hash_count"
        " FROM tracks t JOIN fingerprints f ON f.track_id = t.id ORDER BY t.id"
    )


async def stale_fingerprints(pool: asyncpg.Pool) -> int:
    """Tracks whose fingerprint an older scheme made: register their files again to match them."""
    return await pool.fetchval("SELECT count(*) FROM fingerprints WHERE scheme <> $1", SCHEME)


async def tracks_without_peaks(pool: asyncpg.Pool) -> int:
    """Tracks registered before prominent peaks were kept: they match, but a start or end that talk
    hides from the hashes is not checked against their peaks until their files are registered again."""
    return await pool.fetchval("SELECT count(*) FROM fingerprints WHERE scheme = $1 AND peaks IS NULL", SCHEME)


async def catalog_version(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT version FROM catalog_version")


async def load_index(pool: asyncpg.Pool) -> tuple[int, Index]:
    """The whole catalog as a matching index, with the catalog version it reflects.

    Tracks fingerprinted by an older scheme are left out (their hashes mean nothing to this matcher)
    until they are registered again; stale_fingerprints counts them.
    """
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        version = await conn.fetchval("SELECT version FROM catalog_version")
        rows = await conn.fetch(
            "SELECT track_id, hashes, frames, peaks FROM fingerprints WHERE scheme = $1 ORDER BY track_id", SCHEME)
    fingerprints = [
        Fingerprint(np.frombuffer(row["hashes"], "<u4"), np.frombuffer(row["frames"], "<i4")) for row in rows
    ]
    return version, Index([row["track_id"] for row in rows], fingerprints, [_peaks_of(row["peaks"]) for row in rows])
