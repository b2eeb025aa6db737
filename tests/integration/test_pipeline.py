"""The whole path on the real broker and database: audio chunks in, rows in PostgreSQL out."""
from __future__ import annotations

import asyncio
import csv
import io

import numpy as np
import pytest

from ingest.file import ingest_file
from ingest.producer import ChunkProducer
from topics.admin import ensure_topics
from synth.music import song
from tests.services import RATE, airspin, read_topic, wait_for_rows, write_wav
from topics import AUDIO_CHUNKS, dead_letter
from topics.records import AudioChunk

pytestmark = pytest.mark.integration

START_AT = 1_780_000_000.0  # station time of the broadcast's first sample
PLAYS_OF_STATION = (
    "SELECT t.ref, extract(epoch FROM p.start_at) AS start_at, extract(epoch FROM p.end_at) AS end_at,"
    "       p.duration_s, p.confidence, p.speed"
    " FROM plays p JOIN tracks t ON t.id = p.track_id WHERE p.station_id = $1 ORDER BY p.start_at"
)


async def ingest(settings, media_path, station, start_at=START_AT):
    return await asyncio.to_thread(ingest_file, settings, media_path, station, start_at)


async def test_broadcast_becomes_exactly_the_expected_plays(settings, pool, media, catalog, worker):
    await ingest(settings, media.broadcast, "radio-one")
    rows = await wait_for_rows(pool, PLAYS_OF_STATION, "radio-one", count=len(media.truth))
    assert [row["ref"] for row in rows] == [aired.ref for aired in media.truth]
    for row, aired in zip(rows, media.truth):
        assert abs(float(row["start_at"]) - (START_AT + aired.start_s)) <= 2.0, (row, aired)
        assert abs(float(row["end_at"]) - (START_AT + aired.end_s)) <= 2.0, (row, aired)
        assert 0 < row["confidence"] <= 1
        assert abs(row["speed"] - aired.speed) < 0.005, (row, aired)
    # REF-14 is registered but never aired; the unregistered song and the speech give nothing.
    assert "REF-14" not in {row["ref"] for row in rows}


async def test_ingesting_the_same_broadcast_again_adds_no_rows(settings, pool, media, catalog, worker):
    await ingest(settings, media.broadcast, "radio-replay")
    first = await wait_for_rows(pool, PLAYS_OF_STATION, "radio-replay", count=len(media.truth))
    assert len(first) == len(media.truth)
    emitted_before = worker.stats()["stations"]["radio-replay"]["plays"]
    await ingest(settings, media.broadcast, "radio-replay")
    # Wait until the worker has detected the replayed plays again, then check nothing was added.
    for _ in range(120):
        if worker.stats()["stations"]["radio-replay"]["plays"] >= emitted_before + len(media.truth):
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail("the replay was never processed")
    await asyncio.sleep(3)  # the sink's batch window
    again = await pool.fetch(PLAYS_OF_STATION, "radio-replay")
    assert [tuple(r) for r in again] == [tuple(r) for r in first]


async def test_malformed_chunk_is_dead_lettered_and_later_chunks_still_play(
    settings, pool, media, catalog, worker, tmp_path
):
    ensure_topics(settings)
    producer = ChunkProducer(settings)
    producer.send("radio-bad", b"this is not an audio chunk")
    producer.send("radio-bad", AudioChunk("radio-bad", 0, START_AT, 123, np.zeros(10, np.float32)).to_bytes())
    producer.flush()
    recording = write_wav(tmp_path / "later.wav", np.concatenate([media.songs["REF-12"], np.zeros(RATE, np.float32)]))
    await ingest(settings, recording, "radio-bad", START_AT + 100)

    rows = await wait_for_rows(pool, PLAYS_OF_STATION, "radio-bad", count=1)
    assert [row["ref"] for row in rows] == ["REF-12"]

    dead = read_topic(settings, dead_letter(AUDIO_CHUNKS), expect=2)
    bad = [m for m in dead if m.key() == b"radio-bad"]
    assert len(bad) == 2
    headers = [dict(m.headers()) for m in bad]
    assert bad[0].value() == b"this is not an audio chunk"
    assert headers[0]["dlt.exception"] == b"MalformedRecord"
    assert b"ASC1" in headers[0]["dlt.message"]
    assert b"sample rate 123" in headers[1]["dlt.message"]
    assert {h["dlt.stage"] for h in headers} == {b"fingerprint"}
    assert {h["dlt.topic"] for h in headers} == {settings.topic_name(AUDIO_CHUNKS).encode()}
    stats = worker.stats()
    assert stats["dead_letters"]["fingerprint"] >= 2
    assert stats["stations"]["radio-bad"]["dead_letters"] == 2


async def test_scan_gives_the_same_plays_as_the_stream(settings, pool, media, catalog, worker):
    await ingest(settings, media.broadcast, "radio-scan")
    streamed = await wait_for_rows(pool, PLAYS_OF_STATION, "radio-scan", count=len(media.truth))
    result = await asyncio.to_thread(
        airspin, settings, "scan", str(media.broadcast), "--station", "radio-scan",
        "--start-at", "2026-05-28T20:26:40+00:00",  # START_AT
    )
    scanned = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["track_ref"] for row in scanned] == [row["ref"] for row in streamed]
    exported = list(csv.DictReader(io.StringIO(
        (await asyncio.to_thread(airspin, settings, "plays", "export", "--station", "radio-scan")).stdout)))
    assert [(r["track_ref"], r["start_at"], r["end_at"]) for r in scanned] == \
           [(r["track_ref"], r["start_at"], r["end_at"]) for r in exported]
    assert exported[0]["title"] == "Title REF-11" and exported[0]["isrc"] == "QZ00000011"


async def test_export_filters_by_station_and_time(settings, pool, media, catalog, worker):
    await ingest(settings, media.broadcast, "radio-export")
    await wait_for_rows(pool, PLAYS_OF_STATION, "radio-export", count=len(media.truth))
    since = "2026-05-28T20:28:00+00:00"  # START_AT + 80 s: after the first song ended
    result = await asyncio.to_thread(airspin, settings, "plays", "export", "--station", "radio-export",
                                     "--since", since)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["track_ref"] for r in rows] == [a.ref for a in media.truth[1:]]
    assert {r["station"] for r in rows} == {"radio-export"}


async def test_new_catalog_tracks_are_matched_without_restarting(settings, pool, catalog, worker, tmp_path):
    folder = tmp_path / "late"
    folder.mkdir()
    write_wav(folder / "late-addition.wav", song(77, 30, RATE))
    await asyncio.to_thread(airspin, settings, "catalog", "add", str(folder))
    await asyncio.sleep(2 * settings.catalog_refresh_s)
    recording = write_wav(tmp_path / "air.wav", np.concatenate([song(77, 30, RATE), np.zeros(RATE, np.float32)]))
    await ingest(settings, recording, "radio-late")
    rows = await wait_for_rows(pool, PLAYS_OF_STATION, "radio-late", count=1)
    assert [row["ref"] for row in rows] == ["late-addition"]
