"""The stations registry: what to monitor and where its stream is."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg

COLUMNS = ("name", "stream_url", "country", "timezone", "active")


@dataclass(frozen=True)
class StationChange:
    """Fields to set; None leaves a field as it is."""

    name: str | None = None
    stream_url: str | None = None
    country: str | None = None
    timezone: str | None = None
    active: bool | None = None

    def values(self) -> dict:
        return {column: getattr(self, column) for column in COLUMNS if getattr(self, column) is not None}


async def add_station(pool: asyncpg.Pool, station_id: str, change: StationChange) -> None:
    values = change.values()
    columns = ["id", *values]
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    try:
        await pool.execute(f"INSERT INTO stations ({', '.join(columns)}) VALUES ({placeholders})",
                           station_id, *values.values())
    except asyncpg.UniqueViolationError:
        raise ValueError(f"station {station_id!r} exists already; change it with `stations set`") from None


async def set_station(pool: asyncpg.Pool, station_id: str, change: StationChange) -> bool:
    values = change.values()
    if not values:
        return bool(await pool.fetchval("SELECT 1 FROM stations WHERE id = $1", station_id))
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(values, 2))
    status = await pool.execute(f"UPDATE stations SET {assignments} WHERE id = $1", station_id, *values.values())
    return status != "UPDATE 0"


async def remove_station(pool: asyncpg.Pool, station_id: str) -> bool:
    """Remove a station without plays; one with plays on record can only be deactivated."""
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchval("SELECT 1 FROM plays WHERE station_id = $1 LIMIT 1", station_id):
            raise ValueError(f"station {station_id!r} has plays on record; deactivate it with "
                             f"`stations set {station_id} --inactive`")
        return await conn.execute("DELETE FROM stations WHERE id = $1", station_id) != "DELETE 0"


async def list_stations(pool: asyncpg.Pool, active_only: bool = False) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT id, name, stream_url, country, timezone, active FROM stations"
        " WHERE NOT $1 OR active ORDER BY id", active_only)
