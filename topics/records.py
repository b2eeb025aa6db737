"""The records on every topic, with their wire encodings.

Audio chunks are a small JSON header followed by raw 16-bit PCM: no base64, so a chunk is barely larger
than its audio.  Matches and plays are JSON.  Decoding is strict and raises MalformedRecord with the
reason, which the consuming agent sends to the topic's dead-letter topic.
"""
from __future__ import annotations

import json
import struct
import uuid
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import datetime, timezone

import numpy as np

from detection.audio import pcm16_decode, pcm16_encode
from detection.plays import Play, WindowResult

_CHUNK_MAGIC = b"ASC1"
_HEADER_LENGTH = struct.Struct("<H")
_PLAY_NAMESPACE = uuid.UUID("6b8f9d3e-0f0a-4c55-9a56-616972737069")


class MalformedRecord(ValueError):
    """A record that cannot be decoded; the message says why."""


def _json_object(data: bytes, what: str) -> dict:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedRecord(f"{what} is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedRecord(f"{what} is not a JSON object")
    return obj


def _from_fields(cls, obj: dict, what: str):
    names = {f.name for f in fields(cls)}
    missing = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING} - obj.keys()
    if missing:
        raise MalformedRecord(f"{what} lacks {sorted(missing)}")
    try:
        return cls(**{k: v for k, v in obj.items() if k in names})
    except (TypeError, ValueError) as exc:
        raise MalformedRecord(f"{what}: {exc}") from exc


def utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc)


@dataclass(frozen=True)
class AudioChunk:
    """Station audio: mono 16-bit PCM, stamped with the station time (UTC) of its first sample."""

    station_id: str
    seq: int
    start_at: float
    sample_rate: int
    samples: np.ndarray  # float32 in [-1, 1]
    #: One ingest run (a file, a stream connection): redelivered chunks are recognised within it.
    session: str = ""
    discontinuity: bool = False
    final: bool = False
    #: What the station itself says is playing (ICY StreamTitle), when it says anything.
    icy_title: str | None = None

    def to_bytes(self) -> bytes:
        header = json.dumps({
            "station_id": self.station_id, "seq": self.seq, "start_at": self.start_at,
            "sample_rate": self.sample_rate, "session": self.session, "encoding": "pcm_s16le",
            "discontinuity": self.discontinuity, "final": self.final, "icy_title": self.icy_title,
        }).encode()
        return _CHUNK_MAGIC + _HEADER_LENGTH.pack(len(header)) + header + pcm16_encode(self.samples)

    @classmethod
    def from_bytes(cls, data: bytes) -> "AudioChunk":
        if not data or data[:4] != _CHUNK_MAGIC:
            raise MalformedRecord("audio chunk does not start with the ASC1 marker")
        if len(data) < 6:
            raise MalformedRecord("audio chunk is truncated before its header")
        (length,) = _HEADER_LENGTH.unpack_from(data, 4)
        try:
            header = json.loads(data[6:6 + length])
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedRecord(f"audio chunk header is not JSON: {exc}") from exc
        if header.get("encoding") != "pcm_s16le":
            raise MalformedRecord(f"audio chunk encoding {header.get('encoding')!r} is not pcm_s16le")
        try:
            chunk = cls(
                station_id=str(header["station_id"]),
                seq=int(header["seq"]),
                start_at=float(header["start_at"]),
                sample_rate=int(header["sample_rate"]),
                samples=pcm16_decode(data[6 + length:]),
                session=str(header.get("session", "")),
                discontinuity=bool(header.get("discontinuity", False)),
                final=bool(header.get("final", False)),
                icy_title=header.get("icy_title"),
            )
        except KeyError as exc:
            raise MalformedRecord(f"audio chunk header lacks {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise MalformedRecord(f"audio chunk: {exc}") from exc
        if not 4000 <= chunk.sample_rate <= 192000:
            raise MalformedRecord(f"audio chunk sample rate {chunk.sample_rate} is out of range")
        return chunk


@dataclass(frozen=True)
class WindowMatch:
    """The matcher's verdict on one analysis window of a station: the core's WindowResult, keyed."""

    station_id: str
    result: WindowResult

    def to_bytes(self) -> bytes:
        return json.dumps({"station_id": self.station_id, **asdict(self.result)}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "WindowMatch":
        obj = _json_object(data, "window match")
        result = _from_fields(WindowResult, obj, "window match")
        station_id = obj.get("station_id")
        if not isinstance(station_id, str):
            raise MalformedRecord("window match lacks ['station_id']")
        return cls(station_id, result)


@dataclass(frozen=True)
class PlayEvent:
    """One airing of a registered track on a station, timed in station time."""

    play_id: str
    station_id: str
    track_id: int
    start_at: float
    end_at: float
    duration_s: float
    track_offset_start_s: float
    track_offset_end_s: float
    confidence: float
    windows: int
    #: The station's own claim (ICY StreamTitle) during the play.
    icy_title: str | None = None
    #: How fast the station played the track (1.03: 3% fast).
    speed: float = 1.0

    @classmethod
    def of(cls, station_id: str, play: Play) -> "PlayEvent":
        # Deterministic: the same airing detected again (a replay, a retried batch) has the same id.
        play_id = uuid.uuid5(_PLAY_NAMESPACE, f"{station_id}|{play.track_id}|{play.start_at:.3f}")
        return cls(
            play_id=str(play_id), station_id=station_id, track_id=play.track_id,
            start_at=play.start_at, end_at=play.end_at, duration_s=round(play.duration_s, 3),
            track_offset_start_s=play.track_offset_start_s, track_offset_end_s=play.track_offset_end_s,
            confidence=play.confidence, windows=play.windows, icy_title=play.icy_title, speed=play.speed,
        )

    @property
    def start_datetime(self) -> datetime:
        return utc(self.start_at)

    @property
    def end_datetime(self) -> datetime:
        return utc(self.end_at)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "PlayEvent":
        return _from_fields(cls, _json_object(data, "play event"), "play event")
