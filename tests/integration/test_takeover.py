"""Scaling out: two workers share the consumer group; when one dies, the other takes its stations."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import numpy as np
import pytest

from ingest.file import ingest_file
from topics import AUDIO_CHUNKS
from tests.services import RATE, Worker, free_port, wait_for_rows, write_wav

pytestmark = pytest.mark.integration

STATIONS = [f"takeover-{i}" for i in range(8)]
PLAYS = ("SELECT station_id, t.ref, extract(epoch FROM start_at)::float AS start_at,"
         " extract(epoch FROM end_at)::float AS end_at"
         " FROM plays p JOIN tracks t ON t.id = p.track_id WHERE station_id LIKE 'takeover-%' ORDER BY 1, 3")


async def ingest_everywhere(settings, recording, start_at):
    for station in STATIONS:
        await asyncio.to_thread(ingest_file, settings, recording, station, start_at)


async def test_a_killed_worker_s_stations_move_to_the_survivor(settings, pool, media, catalog, tmp_path):
    group = replace(settings, app_id=settings.app_id + "-takeover", topic_prefix=settings.topic_prefix + "to-")
    first = Worker(group, tmp_path / "first.log", web_port=free_port(), data_dir=str(tmp_path / "first"))
    second = Worker(group, tmp_path / "second.log", web_port=free_port(), data_dir=str(tmp_path / "second"))
    try:
        first.wait_ready()
        second.wait_ready()
        chunks_topic = group.topic_name(AUDIO_CHUNKS)
        first.wait_assigned(chunks_topic)
        second.wait_assigned(chunks_topic)
        recording = write_wav(tmp_path / "song.wav", np.concatenate([media.songs["REF-13"], np.zeros(RATE, np.float32)]))
        await ingest_everywhere(group, recording, 1_800_000_000)
        rows = await wait_for_rows(pool, PLAYS, count=len(STATIONS), timeout_s=120)
        assert sorted(r["station_id"] for r in rows) == STATIONS, [tuple(r) for r in rows]
        # Both workers own partitions: the group really is shared.
        held_by_first = set(first.stats()["stations"])
        assert held_by_first and set(second.stats()["stations"])

        first.stop(kill=True)  # no goodbye to the group: the session timeout has to notice
        killed_at = time.monotonic()
        await ingest_everywhere(group, recording, 1_800_001_000)
        rows = await wait_for_rows(pool, PLAYS, count=2 * len(STATIONS), timeout_s=120)
        took = time.monotonic() - killed_at
        # One play per station and airing: the takeover neither lost nor split one.
        assert sorted(r["station_id"] for r in rows) == sorted(STATIONS * 2), ([tuple(r) for r in rows], second.stats())
        assert held_by_first <= set(second.stats()["stations"])
        print(f"plays of the killed worker's stations landed {took:.1f} s after the kill")
    finally:
        first.stop()
        second.stop()
