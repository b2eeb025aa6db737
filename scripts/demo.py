"""The demo: a synthesised catalog and broadcast through the real pipeline, plays printed from PostgreSQL.

Run through scripts/demo.sh, which starts Kafka and PostgreSQL first.  Leaves the worker running so
that its /stats/ page can be looked at; `scripts/demo.sh stop` stops it.
"""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airspin.settings import Settings
from ingest.file import ingest_file
from storage.migrate import migrate
from storage.plays import export_plays
from storage.pool import create_pool
from synth.broadcast import demo_broadcast, write_broadcast, write_catalog

ROOT = Path(__file__).resolve().parent.parent
AIRSPIN = str(Path(sys.executable).parent / "airspin")


def start_worker(folder: Path) -> subprocess.Popen:
    log = folder / "worker.log"
    worker = subprocess.Popen([AIRSPIN, "worker", "-l", "info"], stdout=log.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    (folder / "worker.pid").write_text(str(worker.pid))
    deadline = time.monotonic() + 120
    while "[^Worker]: Ready" not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return worker


async def main() -> None:
    settings = Settings.from_env()
    folder = ROOT / ".cache" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    pool = await create_pool(settings.database_url)
    await migrate(pool)

    catalog = write_catalog(folder / "catalog", 5)
    samples, truth = demo_broadcast([1, 3, 5])
    broadcast = write_broadcast(folder / "broadcast.flac", samples)
    aired_s = len(samples) / 44100
    print(f"catalog: {len(catalog)} synthesised songs; broadcast: {aired_s:.0f} s with 3 of them, "
          "talk, silence and a song that is not in the catalog")
    subprocess.run([AIRSPIN, "catalog", "add", str(folder / "catalog")], check=True)

    started = time.monotonic()
    start_worker(folder)
    print(f"worker ready after {time.monotonic() - started:.1f} s")

    # As if the broadcast had just aired, on a station of this run's own, so every run logs new plays.
    start_at = datetime.fromtimestamp(int(time.time() - aired_s), timezone.utc)
    station = f"demo-fm-{start_at:%H%M%S}"
    began = time.monotonic()
    await asyncio.to_thread(ingest_file, settings, broadcast, station, start_at.timestamp())
    rows = []
    while len(rows) < len(truth) and time.monotonic() - began < 120:
        await asyncio.sleep(0.2)
        rows = await export_plays(pool, station)
    took = time.monotonic() - began
    await pool.close()

    print(f"\nplays in PostgreSQL for station {station} (broadcast aired from {start_at:%H:%M:%S}):")
    for row in rows:
        print(f"  {row['track_ref']}  {row['title']:20}  {row['start_at']:%H:%M:%S.%f} -> "
              f"{row['end_at']:%H:%M:%S.%f}  {row['duration_s']:6.1f} s  confidence {row['confidence']:.3f}")
    print("expected (ground truth):")
    for play in truth:
        aired_from, aired_to = (start_at + timedelta(seconds=s) for s in (play.start_s, play.end_s))
        print(f"  {play.ref}  {'':20}  {aired_from:%H:%M:%S.%f} -> {aired_to:%H:%M:%S.%f}")
    print(f"\n{aired_s:.0f} aired seconds ingested, detected and stored in {took:.1f} s "
          f"({aired_s / took:.0f} aired seconds per wall second, end to end)")
    print(f"stats: http://{settings.web_host}:{settings.web_port}/stats/   "
          f"(worker still running; stop it with scripts/demo.sh stop)")
    if len(rows) != len(truth):
        sys.exit("the demo did not find every play")


if __name__ == "__main__":
    asyncio.run(main())
