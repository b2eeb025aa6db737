"""The ingest benchmark's machinery, on a few stations: every one keeps up and publishes chunks."""
import pytest

from airspin.settings import Settings
from bench.ingest_capacity import DiscardingProducer, measure, stations_server


@pytest.mark.parametrize("codec", ["mp3", "aac"])
async def test_a_few_stations_keep_up_with_real_time(codec):
    producer = DiscardingProducer()
    with stations_server(codec) as port:
        figures = await measure(Settings(), 4, port, seconds=4, producer=producer, warmup_s=3)
    assert figures["errors"] == 0
    assert figures["slowest"] > 0.9
    assert producer.delivered >= 4 * 3  # 2 s chunks: at least three per station in 7 s
