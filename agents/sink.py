"""Play events -> PostgreSQL, in batches, idempotently; offsets are acknowledged after the commit."""
from __future__ import annotations

import asyncio
import logging

import asyncpg
import faust

from agents.dead_letters import dead_letter
from airspin.runtime import Runtime
from storage.plays import insert_plays, record_failed
from topics import Topics
from topics.records import PlayEvent

log = logging.getLogger(__name__)


def is_outage(exc: BaseException) -> bool:
    """The database cannot be reached or is shutting down: no play is at fault."""
    return isinstance(exc, (
        OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError, asyncpg.TooManyConnectionsError,
    ))


async def _write(runtime: Runtime, plays: list[PlayEvent]) -> None:
    """One transaction, retried with backoff.

    Through an outage it retries until the database is back (the stream waits, nothing is
    acknowledged); any other error is raised after `sink_attempts` tries, for the plays to be isolated.
    """
    attempt = 0
    while True:
        try:
            pool = await runtime.pool()
            async with pool.acquire() as conn, conn.transaction():
                runtime.stats.plays_written += await insert_plays(conn, plays)
            return
        except Exception as exc:
            attempt += 1
            if not is_outage(exc) and attempt >= runtime.settings.sink_attempts:
                raise
            log.warning("sink: writing %d plays failed (%s: %s); retrying", len(plays), type(exc).__name__, exc)
            await asyncio.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)))


def register(app: faust.App, topics: Topics, runtime: Runtime) -> None:
    settings = runtime.settings

    async def give_up(event: faust.EventT, play: PlayEvent | None, exc: Exception) -> None:
        await dead_letter(topics.plays_dlt, event, "sink", exc, runtime.stats)
        if play is not None:
            try:
                await record_failed(await runtime.pool(), play, f"{type(exc).__name__}: {exc}")
            except Exception as record_exc:  # the dead-letter topic already holds it
                log.error("sink: could not record failed play %s: %s", play.play_id, record_exc)

    @app.agent(topics.plays, concurrency=1)
    async def sink_plays(stream):
        # take_events acknowledges a batch only after this loop body returns, i.e. after the commit.
        async for events in stream.take_events(settings.sink_batch_size, within=settings.sink_batch_wait_s):
            decoded: list[tuple[faust.EventT, PlayEvent]] = []
            for event in events:
                try:
                    decoded.append((event, PlayEvent.from_bytes(event.value)))
                except Exception as exc:
                    await give_up(event, None, exc)
            if not decoded:
                continue
            try:
                await _write(runtime, [play for _, play in decoded])
            except Exception:
                # Isolate the plays that cannot be written from those that can.
                for event, play in decoded:
                    try:
                        await _write(runtime, [play])
                    except Exception as exc:
                        await give_up(event, play, exc)
