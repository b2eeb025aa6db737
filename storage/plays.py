"""The play log: idempotent batch inserts, failures on record, and the export query."""
from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from topics.records import PlayEvent

_INSERT = """
INSERT INTO plays (id, station_id, track_id, start_at, end_at, duration_s,
                   track_offset_start_s, track_offset_end_s, confidence, windows, station_title, speed)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::timestamptz[], $5::timestamptz[],
                     $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::int[], $11::text[],
                     $12::float8[])
ON CONFLICT DO NOTHING
"""


async def insert_plays(conn: asyncpg.Connection, plays: list[PlayEvent]) -> int:
    """Insert in one statement; a play seen before (same id, or overlapping the same airing) is skipped.

    Returns the number of new rows.
    """
    stations = sorted({p.station_id for p in plays})
    await conn.execute(
        "INSERT INTO stations (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", stations
    )
    status = await conn.execute(
        _INSERT,
        [p.play_id for p in plays],
        [p.station_id for p in plays],
        [p.track_id for p in plays],
        [p.start_datetime for p in plays],
        [p.end_datetime for p in plays],
        [p.duration_s for p in plays],
        [p.track_offset_start_s for p in plays],
        [p.track_offset_end_s for p in plays],
        [p.confidence for p in plays],
        [p.windows for p in plays],
        [p.icy_title for p in plays],
        [p.speed for p in plays],
    )
    return int(status.split()[-1])


async def record_failed(pool: asyncpg.Pool, play: PlayEvent, reason: str) -> None:
    await pool.execute(
        "INSERT INTO failed_plays (play_id, payload, reason) VALUES ($1, $2, $3)",
        play.play_id, json.loads(play.to_bytes()), reason,
    )


async def export_plays(
    pool: asyncpg.Pool, station: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT p.station_id AS station, t.ref AS track_ref, t.title, t.artist, t.isrc,"
        "       p.start_at, p.end_at, p.duration_s, p.confidence, p.speed, p.station_title"
        " FROM plays p JOIN tracks t ON t.id = p.track_id"
        " WHERE ($1::text IS NULL OR p.station_id = $1)"
        "   AND ($2::timestamptz IS NULL OR p.end_at >= $2)"
        "   AND ($3::timestamptz IS NULL OR p.start_at < $3)"
        " ORDER BY p.start_at, p.station_id",
        station, since, until,
    )
