"""Every topic of the pipeline, named once, and its Faust declaration.

    audio-chunks  --fingerprint agent-->  window-matches  --play agent-->  plays  --sink agent-->  PostgreSQL

Each consuming stage has a dead-letter topic, ``<topic>-dlt``, for the records it could not process.
All topics carry raw bytes; the agents decode with topics.records so a malformed record is caught per
record and dead-lettered instead of stopping the stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import faust

from airspin.settings import Settings

AUDIO_CHUNKS = "audio-chunks"
WINDOW_MATCHES = "window-matches"
PLAYS = "plays"
PLAY_STATE_TABLE = "play-state"
#: The topics the agents consume, in pipeline order; each has a dead-letter topic.
PIPELINE_TOPICS = (AUDIO_CHUNKS, WINDOW_MATCHES, PLAYS)


def dead_letter(topic: str) -> str:
    return f"{topic}-dlt"


@dataclass(frozen=True)
class Topics:
    audio_chunks: faust.TopicT
    window_matches: faust.TopicT
    plays: faust.TopicT
    audio_chunks_dlt: faust.TopicT
    window_matches_dlt: faust.TopicT
    plays_dlt: faust.TopicT


def declare(app: faust.App, settings: Settings) -> Topics:
    def topic(base: str, partitions: int) -> faust.TopicT:
        # internal: the worker creates the topic with these partitions if it does not exist yet.
        return app.topic(settings.topic_name(base), key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="raw", partitions=partitions,
                         internal=True)

    # Dead letters are few: one partition keeps them in the order they failed.
    return Topics(
        audio_chunks=topic(AUDIO_CHUNKS, settings.partitions),
        window_matches=topic(WINDOW_MATCHES, settings.partitions),
        plays=topic(PLAYS, settings.partitions),
        audio_chunks_dlt=topic(dead_letter(AUDIO_CHUNKS), 1),
        window_matches_dlt=topic(dead_letter(WINDOW_MATCHES), 1),
        plays_dlt=topic(dead_letter(PLAYS), 1),
    )
