"""The one settings object, read from environment variables with safe local defaults.

Every component receives it explicitly; nothing reads the environment elsewhere.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    #: Kafka bootstrap servers, comma separated (host:port, no scheme).
    kafka_bootstrap: str = "127.0.0.1:9092"
    #: PostgreSQL connection URL.
    database_url: str = "postgresql://airspin:airspin@127.0.0.1:5432/airspin"
    #: Faust application id: the consumer group every worker joins.
    app_id: str = "airspin"
    #: Partitions of every pipeline topic (and so of the play-state table).
    partitions: int = 4
    #: Prefix for every topic name, so that test runs and deployments can share a broker.
    topic_prefix: str = ""
    #: Web server for /stats: loopback unless told otherwise.
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    #: The live ingester's own /stats/ page (same host).
    ingest_web_port: int = 6067
    #: Seconds a crashed worker keeps its partitions before the group hands them over.
    session_timeout_s: float = 10.0
    #: Seconds between checks for catalog changes (new tracks are matched without a restart).
    catalog_refresh_s: float = 10.0
    #: Seconds of audio in one chunk published by an ingester.
    chunk_seconds: float = 2.0
    #: Sample rate of published chunks: 16 kHz mono keeps a station under 32 kB/s on the wire.
    ingest_sample_rate: int = 16000
    #: Memory for audio the live ingester has accepted while the broker is unreachable; past it,
    #: chunks are dropped and counted (about 32 kB per station-second at 16 kHz).
    ingest_buffer_mb: int = 512
    #: Where the worker's /stats/ reads the live ingester's status (empty: the local ingester's port).
    ingest_stats_url: str = ""
    #: Sink batching: at most this many plays per database transaction, or what came within the wait.
    sink_batch_size: int = 200
    sink_batch_wait_s: float = 1.0
    #: Database attempts before a play goes to the dead-letter topic.
    sink_attempts: int = 4
    #: Faust's data directory (table state); per worker.
    data_dir: str = ".cache/faust"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Read AIRSPIN_<FIELD> variables (plus the conventional DATABASE_URL and KAFKA_BOOTSTRAP)."""
        env = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            raw = env.get(f"AIRSPIN_{field.name.upper()}")
            if raw is None and field.name in ("database_url", "kafka_bootstrap"):
                raw = env.get(field.name.upper())
            if raw is not None:
                values[field.name] = _parse(raw, field.type)
        return cls(**values)

    def ingest_stats_location(self) -> str:
        return self.ingest_stats_url or f"http://{self.web_host}:{self.ingest_web_port}/stats/"

    def topic_name(self, base: str) -> str:
        return f"{self.topic_prefix}{base}"


def _parse(raw: str, type_name: str):
    if type_name == "int":
        return int(raw)
    if type_name == "float":
        return float(raw)
    return raw
