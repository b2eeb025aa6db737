"""Audio chunks -> window matches: window each station's audio, fingerprint, match against the catalog."""
from __future__ import annotations

import faust

from agents.dead_letters import dead_letter
from airspin.runtime import Runtime
from detection.pipeline import Recall, analyse
from detection.windows import Windower
from topics import Topics
from topics.records import AudioChunk, WindowMatch


def register(app: faust.App, topics: Topics, runtime: Runtime) -> None:
    # Per-station window buffers and recall live in memory: after a rebalance a station simply starts
    # a fresh window (and dates its next edges from hints alone), while its play state survives in the
    # changelog-backed table of the play agent.
    windowers: dict[str, Windower] = {}
    recalls: dict[str, Recall] = {}

    @app.agent(topics.audio_chunks, concurrency=1)
    async def fingerprint_chunks(stream):
        async for event in stream.events():
            try:
                chunk = AudioChunk.from_bytes(event.value)
                index = await runtime.index()
                windower = windowers.setdefault(chunk.station_id, Windower())
                counters = runtime.stats.station(chunk.station_id)
                for window in windower.push(chunk):
                    result = analyse(index, window, recall=recalls.setdefault(chunk.station_id, Recall()))
                    await topics.window_matches.send(
                        key=chunk.station_id.encode(),
                        value=WindowMatch(chunk.station_id, result).to_bytes(),
                    )
                    counters.windows += 1
                    counters.matched_windows += result.track_id is not None
                counters.chunks += 1
                counters.audio_seconds += len(chunk.samples) / chunk.sample_rate
                counters.last_chunk_at = chunk.start_at
            except Exception as exc:  # one bad record must not stop the stream
                await dead_letter(topics.audio_chunks_dlt, event, "fingerprint", exc, runtime.stats)
