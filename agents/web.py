"""/stats/: what this worker has seen, per station (the worker's own partitions), with the live
ingester's view of the same stations merged in, so one page tells whether a quiet station is off air,
failing at its source, or stuck in the pipeline."""
from __future__ import annotations

import aiohttp
import faust
from faust.web import Request, Response, View

from airspin.runtime import Runtime
from topics.records import utc

#: What the ingester says about a station that is worth seeing beside the pipeline's counters.
INGEST_FIELDS = ("connected", "format", "reconnects", "errors", "last_error", "dropped_chunks", "icy_title")


async def ingester_stats(url: str) -> dict | None:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as http:
            async with http.get(url) as response:
                response.raise_for_status()
                return await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None  # no ingester there (file ingests only, or another host): nothing to merge


def register(app: faust.App, runtime: Runtime) -> None:
    @app.page("/stats/")
    class StatsView(View):
        async def get(self, request: Request) -> Response:
            snapshot = runtime.stats.snapshot()
            for counters in snapshot["stations"].values():
                if counters["last_chunk_at"] is not None:
                    counters["last_chunk_at"] = utc(counters["last_chunk_at"]).isoformat()
            snapshot["assigned_partitions"] = sorted(
                f"{tp.topic}:{tp.partition}" for tp in app.assignor.assigned_actives())
            url = runtime.settings.ingest_stats_location()
            ingest = await ingester_stats(url)
            snapshot["ingester"] = {"url": url, "reachable": ingest is not None}
            if ingest is not None:
                ingest_stations = ingest.get("stations", {})
                snapshot["ingester"].update(
                    chunks_buffered=ingest.get("chunks_buffered"),
                    delivery_failures=ingest.get("delivery_failures"),
                    # Stations that send nothing never reach this worker's partitions: list them here.
                    stations_down=sorted(s for s, status in ingest_stations.items() if not status.get("connected")),
                )
                for station_id, counters in snapshot["stations"].items():
                    if station_id in ingest_stations:
                        counters["ingest"] = {k: ingest_stations[station_id].get(k) for k in INGEST_FIELDS}
            return self.json(snapshot)
