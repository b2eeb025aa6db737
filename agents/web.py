"""/stats/: what this worker has seen, per station (the worker's own partitions)."""
from __future__ import annotations

import faust
from faust.web import Request, Response, View

from airspin.runtime import Runtime
from topics.records import utc


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
            return self.json(snapshot)
