"""What the agents share in one worker: settings, the database pool, the catalog index and stats.

The pool is created when the first agent asks for it (after the worker started), never at import.
"""
from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from airspin.settings import Settings
from airspin.stats import PipelineStats
from detection.index import Index
from storage.catalog import catalog_version, load_index, stale_fingerprints, tracks_without_peaks
from storage.pool import create_pool

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.stats = PipelineStats()
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._index: Index | None = None
        self._index_version: int | None = None
        self._index_checked_at = 0.0

    async def pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await create_pool(self.settings.database_url)
        return self._pool

    async def index(self) -> Index:
        """The catalog index, reloaded when the catalog changed (checked every catalog_refresh_s)."""
        now = time.monotonic()
        if self._index is None or now - self._index_checked_at >= self.settings.catalog_refresh_s:
            self._index_checked_at = now
            pool = await self.pool()
            if await catalog_version(pool) != self._index_version:
                self._index_version, self._index = await load_index(pool)
                log.info("catalog index loaded: %d tracks, version %s",
                         self._index.track_count, self._index_version)
                if stale := await stale_fingerprints(pool):
                    log.warning("%d tracks have fingerprints of an older scheme and are not matched: "
                                "register their files again with `airspin catalog add`", stale)
                if without := await tracks_without_peaks(pool):
                    log.warning("%d tracks have no prominent peaks: edges under talk are dated from their "
                                "hashes alone; register their files again with `airspin catalog add`", without)
        return self._index
