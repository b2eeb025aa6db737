"""Fixtures on the real Kafka broker and PostgreSQL that scripts/kafka.sh and scripts/postgres.sh start.

Every test session gets its own database, topic prefix and consumer group, so runs never see each
other's data.  Under CI=true an unreachable service fails the run; elsewhere it skips these tests.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import numpy as np
import pytest
import soundfile
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from airspin.settings import Settings
from detection.audio import decode_file, resample
from storage.migrate import migrate
from storage.pool import create_pool
from synth.encode import write_audio
from synth.music import song

RATE = 44100
# The console script, as users run it (see README: never `faust -A agents`).
AIRSPIN = [str(Path(sys.executable).parent / "airspin")]
IN_CI = os.environ.get("CI") == "true"


def unavailable(what: str, exc: Exception):
    message = f"{what} is not reachable ({exc}); start it with scripts/test.sh"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def kafka(base_settings):
    try:
        AdminClient({"bootstrap.servers": base_settings.kafka_bootstrap}).list_topics(timeout=10)
    except Exception as exc:
        unavailable(f"Kafka at {base_settings.kafka_bootstrap}", exc)


@pytest.fixture(scope="session")
async def database_url(base_settings, run_id):
    try:
        admin = await asyncpg.connect(base_settings.database_url, timeout=10)
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    name = f"airspin_test_{run_id}"
    await admin.execute(f"CREATE DATABASE {name}")
    url = base_settings.database_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def settings(base_settings, kafka, database_url, run_id, tmp_path_factory) -> Settings:
    return replace(
        base_settings,
        database_url=database_url,
        topic_prefix=f"test-{run_id}-",
        app_id=f"airspin-test-{run_id}",
        web_port=free_port(),
        ingest_web_port=free_port(),
        data_dir=str(tmp_path_factory.mktemp("faust")),
        catalog_refresh_s=1.0,
        session_timeout_s=6.0,
    )


def environment(settings: Settings, **overrides) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in vars(settings).items():
        env[f"AIRSPIN_{name.upper()}"] = str(value)
    env.update({f"AIRSPIN_{k.upper()}": str(v) for k, v in overrides.items()})
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP", None)
    return env


def airspin(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*AIRSPIN, *args], env=environment(settings), capture_output=True,
                            text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"airspin {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
async def pool(settings):
    pool = await create_pool(settings.database_url)
    await migrate(pool)
    yield pool
    await pool.close()


# ---- media: a small catalog in several codecs and a broadcast with ground truth ----------------

SONG_SECONDS = 40.0
FAST = 1.03


@dataclass(frozen=True)
class Aired:
    ref: str
    start_s: float
    end_s: float
    speed: float = 1.0


@dataclass(frozen=True)
class Media:
    catalog_dir: Path
    broadcast: Path
    truth: list[Aired]
    songs: dict[str, np.ndarray]


def speech(text: str, folder: Path) -> np.ndarray:
    wav = folder / f"speech-{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True)
    return decode_file(wav, RATE)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Media:
    folder = tmp_path_factory.mktemp("media")
    catalog_dir = folder / "catalog"
    songs = {f"REF-{seed}": song(seed, SONG_SECONDS, RATE) for seed in (11, 12, 13, 14)}
    files = {"REF-11": "first.flac", "REF-12": "second.mp3", "REF-13": "third.wav", "REF-14": "fourth.opus"}
    for ref, name in files.items():
        write_audio(catalog_dir / name, songs[ref], RATE)
    (catalog_dir / "catalog.csv").write_text(
        "file,ref,title,artist,isrc,rights_holders\n"
        + "".join(f"{name},{ref},Title {ref},Artist {ref},QZ000000{ref[-2:]},Label A:70;Label B:30\n"
                  for ref, name in files.items())
    )
    segments = [
        (silence(3), None),
        (songs["REF-11"], "REF-11"),
        (speech("Good morning, this is airspin radio with the news and the weather.", folder), None),
        (song(4242, 30, RATE), None),  # music that is not in the catalog
        (silence(2), None),
        (songs["REF-12"][10 * RATE:35 * RATE], "REF-12"),
        (speech("And now, the next song.", folder), None),
        # The station plays this one 3% fast, resampled as broadcast playout does (pitch and tempo).
        (resample(songs["REF-13"], RATE, round(RATE / FAST)), "REF-13"),
        (silence(4), None),
    ]
    truth, position = [], 0.0
    for samples, ref in segments:
        if ref:
            truth.append(Aired(ref, position, position + len(samples) / RATE, FAST if ref == "REF-13" else 1.0))
        position += len(samples) / RATE
    broadcast = folder / "broadcast.mp3"
    write_audio(broadcast, np.concatenate([s for s, _ in segments]), RATE)
    return Media(catalog_dir, broadcast, truth, songs)


@pytest.fixture(scope="session")
async def catalog(settings, pool, media) -> dict[str, int]:
    """The media catalog registered through the CLI; ref -> track id."""
    await asyncio.to_thread(airspin, settings, "catalog", "add", str(media.catalog_dir))
    return {row["ref"]: row["id"] for row in await pool.fetch("SELECT id, ref FROM tracks")}


class Worker:
    def __init__(self, settings: Settings, log_path: Path, **overrides):
        self.settings = replace(settings, **overrides)
        self.log_path = log_path
        self.process = subprocess.Popen(
            [*AIRSPIN, "worker", "-l", "info"], env=environment(self.settings),
            stdout=log_path.open("w"), stderr=subprocess.STDOUT,
        )

    def stats(self) -> dict:
        url = f"http://127.0.0.1:{self.settings.web_port}/stats/"
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log_path.read_text()[-4000:]}")
            if "[^Worker]: Ready" in self.log_path.read_text():
                return
            time.sleep(0.5)
        raise AssertionError(f"worker not ready in {timeout_s} s:\n{self.log_path.read_text()[-4000:]}")

    def wait_assigned(self, topic: str, timeout_s: float = 60) -> list[str]:
        """Wait until this worker owns at least one partition of the topic."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            owned = [p for p in self.stats()["assigned_partitions"] if p.rsplit(":", 1)[0] == topic]
            if owned:
                return owned
            time.sleep(0.5)
        raise AssertionError(f"worker owns no partition of {topic} after {timeout_s} s")

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            (self.process.kill if kill else self.process.terminate)()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def worker(settings, catalog, tmp_path_factory):
    running = Worker(settings, tmp_path_factory.mktemp("logs") / "worker.log")
    running.wait_ready()
    yield running
    running.stop()


async def wait_for_rows(pool, query: str, *args, count: int, timeout_s: float = 90) -> list:
    """Poll until the query returns `count` rows, then once more a little later to catch extras."""
    deadline = time.monotonic() + timeout_s
    rows = []
    while time.monotonic() < deadline:
        rows = await pool.fetch(query, *args)
        if len(rows) >= count:
            await asyncio.sleep(3)
            return await pool.fetch(query, *args)
        await asyncio.sleep(0.5)
    return rows


def read_topic(settings: Settings, topic: str, expect: int, timeout_s: float = 30) -> list:
    """Every record on a topic (all partitions, from the start), waiting for at least `expect`."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"reader-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    name = settings.topic_name(topic)
    partitions = consumer.list_topics(name, timeout=10).topics[name].partitions
    consumer.assign([TopicPartition(name, p, 0) for p in partitions])
    records, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(records) < expect:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            records.append(message)
    consumer.close()
    return records


def write_wav(path: Path, samples: np.ndarray) -> Path:
    soundfile.write(path, samples, RATE)
    return path
