"""The confluent-kafka producer every ingester publishes through."""
from __future__ import annotations

from confluent_kafka import Producer

from airspin.settings import Settings
from topics import AUDIO_CHUNKS


class ChunkProducer:
    """Idempotent, compressed, with delivery reports: a failed delivery is counted, never silent."""

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
        })

    def _on_delivery(self, err, _msg) -> None:
        if err is None:
            self.delivered += 1
        else:
            self.failures.append(str(err))

    def send(self, station_id: str, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(self.topic, key=station_id.encode(), value=value,
                                       on_delivery=self._on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain, then try again
                self._producer.poll(0.5)
        self._producer.poll(0)

    def flush(self, timeout_s: float = 60.0) -> None:
        remaining = self._producer.flush(timeout_s)
        if remaining or self.failures:
            raise RuntimeError(f"{remaining} chunks undelivered, {len(self.failures)} failed: "
                               f"{self.failures[:3]}")
