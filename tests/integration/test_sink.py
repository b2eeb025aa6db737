"""The sink's failure path: bad play events are dead-lettered and recorded; good ones still land."""
from __future__ import annotations

import asyncio

import pytest
from confluent_kafka import Producer

from topics import PLAYS, dead_letter
from topics.records import PlayEvent
from tests.services import read_topic, wait_for_rows

pytestmark = pytest.mark.integration


def play(track_id: int, start_at: float) -> PlayEvent:
    return PlayEvent(play_id=f"00000000-0000-4000-8000-{int(start_at):012d}", station_id="radio-sink",
                     track_id=track_id, start_at=start_at, end_at=start_at + 30, duration_s=30.0,
                     track_offset_start_s=0.0, track_offset_end_s=30.0, confidence=0.9, windows=7)


async def test_unwritable_and_malformed_plays_go_to_the_dead_letter_topic(settings, pool, catalog, worker):
    good = play(catalog["REF-11"], 1_790_000_000)
    unknown_track = play(999_999, 1_790_000_100)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    for value in (good.to_bytes(), b'{"play_id": "truncated', unknown_track.to_bytes()):
        producer.produce(settings.topic_name(PLAYS), key=b"radio-sink", value=value)
    producer.flush(10)

    rows = await wait_for_rows(pool, "SELECT id::text FROM plays WHERE station_id = 'radio-sink'", count=1)
    assert [r["id"] for r in rows] == [good.play_id]

    dead = await asyncio.to_thread(read_topic, settings, dead_letter(PLAYS), 2, 60)
    reasons = {m.value(): dict(m.headers()) for m in dead if m.key() == b"radio-sink"}
    assert reasons[b'{"play_id": "truncated']["dlt.exception"] == b"MalformedRecord"
    fk = reasons[unknown_track.to_bytes()]
    assert fk["dlt.exception"] == b"ForeignKeyViolationError" and fk["dlt.stage"] == b"sink"

    # The sink records the failure just after dead-lettering it.
    failed = await wait_for_rows(pool, "SELECT play_id::text, reason, payload FROM failed_plays", count=1)
    assert [(r["play_id"], r["payload"]["track_id"]) for r in failed] == [(unknown_track.play_id, 999_999)]
    assert "ForeignKeyViolationError" in failed[0]["reason"]
