"""`airspin stations`: the registry of monitored stations."""
from __future__ import annotations

import asyncio
import csv
import io

import pytest

from tests.services import airspin

pytestmark = pytest.mark.integration


async def run(settings, *args, check=True):
    return await asyncio.to_thread(airspin, settings, "stations", *args, check=check)


async def test_add_set_list_and_remove(settings, pool):
    await run(settings, "add", "jazz-fm", "--url", "http://127.0.0.1:8000/jazz.mp3", "--name", "Jazz FM",
              "--country", "FR", "--timezone", "Europe/Paris")
    await run(settings, "add", "talk-am", "--url", "http://127.0.0.1:8000/talk.m3u8", "--inactive")
    await run(settings, "set", "jazz-fm", "--name", "Jazz FM Paris", "--url", "http://127.0.0.1:8000/jazz.ogg")

    listed = {r["id"]: r for r in csv.DictReader(io.StringIO((await run(settings, "list")).stdout))}
    assert listed["jazz-fm"] == {"id": "jazz-fm", "name": "Jazz FM Paris", "stream_url": "http://127.0.0.1:8000/jazz.ogg",
                                 "country": "FR", "timezone": "Europe/Paris", "active": "True"}
    assert listed["talk-am"]["active"] == "False"
    active = csv.DictReader(io.StringIO((await run(settings, "list", "--active")).stdout))
    assert "talk-am" not in {r["id"] for r in active}

    await run(settings, "remove", "talk-am")
    assert await pool.fetchval("SELECT count(*) FROM stations WHERE id = 'talk-am'") == 0


async def test_bad_input_is_refused_with_a_reason(settings, pool):
    bad_zone = await run(settings, "add", "x-fm", "--url", "http://h/x", "--timezone", "Mars/Olympus", check=False)
    assert bad_zone.returncode != 0 and "unknown time zone 'Mars/Olympus'" in bad_zone.stderr
    bad_country = await run(settings, "add", "x-fm", "--url", "http://h/x", "--country", "France", check=False)
    assert bad_country.returncode != 0 and "two-letter" in bad_country.stderr
    bad_url = await run(settings, "add", "x-fm", "--url", "ftp://h/x", check=False)
    assert bad_url.returncode != 0 and "http:// or https://" in bad_url.stderr
    await run(settings, "add", "dup-fm", "--url", "http://h/dup")
    again = await run(settings, "add", "dup-fm", "--url", "http://h/dup", check=False)
    assert again.returncode != 0 and "exists already" in again.stderr
    missing = await run(settings, "set", "nobody-fm", "--name", "x", check=False)
    assert missing.returncode != 0 and "no station 'nobody-fm'" in missing.stderr
    assert await pool.fetchval("SELECT count(*) FROM stations WHERE id = 'x-fm'") == 0


async def test_a_station_with_plays_is_kept(settings, pool, catalog):
    await run(settings, "add", "busy-fm", "--url", "http://h/busy")
    track_id = next(iter(catalog.values()))
    await pool.execute(
        "INSERT INTO plays VALUES (gen_random_uuid(), 'busy-fm', $1, now(), now(), 0, 0, 0, 1, 2)", track_id)
    refused = await run(settings, "remove", "busy-fm", check=False)
    assert refused.returncode != 0 and "--inactive" in refused.stderr
    assert await pool.fetchval("SELECT count(*) FROM stations WHERE id = 'busy-fm'") == 1
