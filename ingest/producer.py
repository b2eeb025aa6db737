"""The confluent-kafka producer every ingester publishes through."""
from __future__ import annotations

import asyncio

from confluent_kafka import Producer

from airspin.settings import Settings
from topics import AUDIO_CHUNKS


class ChunkProducer:
    """Idempotent, compressed, with delivery reports: a failed delivery is counted, never silent.

    While the broker is unreachable, accepted chunks wait in librdkafka's queue, bounded to
    `ingest_buffer_mb`, and are retried until the broker is back (they never time out).  A live
    ingester must not stall the other stations when the bound is hit: `offer` refuses the chunk and
    the caller counts the loss.  A file ingest can wait instead (`send`).
    """

    def __init__(self, settings: Settings):
        self.topic = settings.topic_name(AUDIO_CHUNKS)
        self.delivered = 0
        self.failures: list[str] = []
        self._producer = Producer({
            "bootstrap.servers": settings.kafka_bootstrap,
            "enable.idempotence": True,
            "compression.type": "lz4",
            "linger.ms": 20,
            # The Java clients' (and Faust's) partitioner: a station lands on the same partition either way.
            "partitioner": "murmur2_random",
            "message.timeout.ms": 0,  # accepted audio is retried until the broker takes it
            "queue.buffering.max.kbytes": settings.ingest_buffer_mb * 1024,
            "queue.buffering.max.messages": 10_000_000,  # the byte bound is the one that matters
        })

    def _on_delivery(self, err, _msg) -> None:
        if err is None:
            self.delivered += 1
        else:
            self.failures.append(str(err))

    @property
    def buffered(self) -> int:
        """Chunks accepted and not yet acknowledged by the broker."""
        return len(self._producer)

    def offer(self, station_id: str, value: bytes) -> bool:
        """Queue the chunk unless the buffer is full; never blocks."""
        try:
            self._producer.produce(self.topic, key=station_id.encode(), value=value,
                                   on_delivery=self._on_delivery)
            return True
        except BufferError:
            return False
        finally:
            self._producer.poll(0)

    async def serve_deliveries(self, every_s: float = 0.5) -> None:
        """Run delivery reports even while no audio comes (a broker coming back, a quiet hour)."""
        while True:
            self._producer.poll(0)
            await asyncio.sleep(every_s)

    def send(self, station_id: str, value: bytes) -> None:
        """Queue the chunk, waiting for room in the buffer."""
        while not self.offer(station_id, value):
            self._producer.poll(0.5)

    def flush(self, timeout_s: float = 60.0) -> None:
        remaining = self._producer.flush(timeout_s)
        if remaining or self.failures:
            raise RuntimeError(f"{remaining} chunks undelivered, {len(self.failures)} failed: "
                               f"{self.failures[:3]}")
