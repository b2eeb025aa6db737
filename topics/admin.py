"""Creating the pipeline's topics with their partition counts, before anything produces or subscribes.

The broker would otherwise auto-create a produced-to topic with its default partition count, and a
Faust worker subscribes only to topics that exist when it starts (it looks again every five minutes).
"""
from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from airspin.settings import Settings
from topics import PIPELINE_TOPICS, dead_letter


def ensure_topics(settings: Settings) -> None:
    """Create whichever of the pipeline's topics do not exist yet."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = [NewTopic(settings.topic_name(name), settings.partitions, 1) for name in PIPELINE_TOPICS]
    wanted += [NewTopic(settings.topic_name(dead_letter(name)), 1, 1) for name in PIPELINE_TOPICS]
    for future in admin.create_topics(wanted, request_timeout=30).values():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
