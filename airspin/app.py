"""The Faust app: topics, agents, the /stats/ page and the `airspin` CLI (Faust's own, extended).

Start workers with `airspin worker`, not `faust -A agents...`: `agents` is also the import name of an
unrelated PyPI package.
"""
from __future__ import annotations

import sys

import faust

from agents import fingerprint, plays, sink, web
from airspin import cli
from airspin.rebalance_fix import seek_uncommitted_to_beginning
from airspin.runtime import Runtime
from airspin.settings import Settings
from topics import PIPELINE_TOPICS, declare
from topics.admin import ensure_topics


def create_app(settings: Settings) -> tuple[faust.App, Runtime]:
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",  # state is rebuilt from the changelog topic on start
        datadir=settings.data_dir,
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # A crashed worker's partitions move to the others after this long, not Kafka's 45 s default.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(0.5, settings.session_timeout_s / 5),
        producer_acks=-1,
        # The web server serves our /stats/ on loopback; table contents are not exposed.
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_tables_enabled=False,
        web_router_enabled=False,
    )
    runtime = Runtime(settings)
    topics = declare(app, settings)
    seek_uncommitted_to_beginning([settings.topic_name(name) for name in PIPELINE_TOPICS])
    fingerprint.register(app, topics, runtime)
    plays.register(app, topics, runtime)
    sink.register(app, topics, runtime)
    web.register(app, runtime)
    cli.register(settings)
    return app, runtime


settings = Settings.from_env()
app, runtime = create_app(settings)


def main() -> None:
    if [arg for arg in sys.argv[1:] if not arg.startswith("-")][:1] == ["worker"]:
        # Faust subscribes only to topics that exist when the worker starts: create them first.
        ensure_topics(settings)
    app.main()
