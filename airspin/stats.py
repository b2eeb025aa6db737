"""Per-station counters kept by this worker's agents and served on /stats/."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass
class StationCounters:
    chunks: int = 0
    audio_seconds: float = 0.0
    windows: int = 0
    matched_windows: int = 0
    plays: int = 0
    current_track_id: int | None = None
    last_chunk_at: float | None = None  # station time of the newest chunk's first sample
    dead_letters: int = 0


@dataclass
class PipelineStats:
    stations: dict[str, StationCounters] = field(default_factory=dict)
    dead_letters: Counter = field(default_factory=Counter)  # by stage
    plays_written: int = 0

    def station(self, station_id: str) -> StationCounters:
        return self.stations.setdefault(station_id, StationCounters())

    def snapshot(self) -> dict:
        return {
            "stations": {sid: asdict(c) for sid, c in sorted(self.stations.items())},
            "dead_letters": dict(self.dead_letters),
            "plays_written": self.plays_written,
        }
