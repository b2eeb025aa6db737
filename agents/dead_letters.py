"""Sending a record a stage could not process to its dead-letter topic, with the reason."""
from __future__ import annotations

import logging
from collections.abc import Mapping

import faust

from airspin.stats import PipelineStats

log = logging.getLogger(__name__)


async def dead_letter(dlt: faust.TopicT, event: faust.EventT, stage: str, exc: BaseException,
                      stats: PipelineStats) -> None:
    """Publish the original key, value and headers plus why and where it failed; wait for the broker."""
    message = event.message
    original = message.headers or []
    headers = list(original.items()) if isinstance(original, Mapping) else list(original)
    headers += [
        ("dlt.stage", stage.encode()),
        ("dlt.exception", type(exc).__name__.encode()),
        ("dlt.message", str(exc)[:4000].encode()),
        ("dlt.topic", message.topic.encode()),
        ("dlt.partition", str(message.partition).encode()),
        ("dlt.offset", str(message.offset).encode()),
    ]
    log.warning("%s: %s at %s[%s]@%s -> %s", stage, exc, message.topic, message.partition,
                message.offset, dlt.get_topic_name())
    # Await delivery: the source offset is committed once this record is done.
    await (await dlt.send(key=message.key, value=message.value, headers=headers))
    stats.dead_letters[stage] += 1
    if message.key:  # records are keyed by station
        stats.station(message.key.decode(errors="replace")).dead_letters += 1
