"""Window matches -> play events, with each station's play state in a changelog-backed table."""
from __future__ import annotations

import faust

from agents.dead_letters import dead_letter
from airspin.runtime import Runtime
from detection.plays import StationState, advance
from topics import PLAY_STATE_TABLE, Topics
from topics.records import PlayEvent, WindowMatch


def register(app: faust.App, topics: Topics, runtime: Runtime) -> None:
    # Same partition count as window-matches: the table is co-partitioned with its source topic.
    state_table = app.Table(runtime.settings.topic_name(PLAY_STATE_TABLE), default=None,
                            partitions=runtime.settings.partitions, key_type=str)

    @app.agent(topics.window_matches, concurrency=1)
    async def track_plays(stream):
        async for event in stream.events():
            try:
                window = WindowMatch.from_bytes(event.value)
                state = StationState.from_dict(state_table.get(window.station_id))
                plays = advance(state, window.result)
                state_table[window.station_id] = state.to_dict()
                for play in plays:
                    await topics.plays.send(key=window.station_id.encode(),
                                            value=PlayEvent.of(window.station_id, play).to_bytes())
                counters = runtime.stats.station(window.station_id)
                counters.plays += len(plays)
                counters.current_track_id = state.current.track_id if state.current else None
            except Exception as exc:
                await dead_letter(topics.window_matches_dlt, event, "plays", exc, runtime.stats)
