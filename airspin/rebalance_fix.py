"""Never skip records of a partition that has no committed offset yet.

After a rebalance Faust drops the records it had prefetched and asks aiokafka to seek every partition
to its committed offset; aiokafka only seeks where an offset above 0 was committed.  On a partition the
group never committed (a new topic, a new group) the fetcher then goes on *after* the dropped records,
and they are never processed: a station's first seconds vanish.  For such partitions we seek to the
beginning instead, which is what `consumer_auto_offset_reset="earliest"` promises; redelivery is
harmless because every stage is idempotent.
"""
from __future__ import annotations

from collections.abc import Collection

from aiokafka import AIOKafkaConsumer

_original_seek_to_committed = AIOKafkaConsumer.seek_to_committed


def seek_uncommitted_to_beginning(source_topics: Collection[str]) -> None:
    topics = frozenset(source_topics)

    async def seek_to_committed(self, *partitions):
        committed = await _original_seek_to_committed(self, *partitions)
        never_committed = [tp for tp, offset in committed.items() if not offset and tp.topic in topics]
        if never_committed:
            await self.seek_to_beginning(*never_committed)
        return committed

    AIOKafkaConsumer.seek_to_committed = seek_to_committed
