"""Custom commands of the `airspin` CLI, added to Faust's own (`airspin worker` etc. come from Faust)."""
from __future__ import annotations

import asyncio
import csv
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from faust.cli.faust import cli as faust_cli
from tqdm import tqdm

from airspin.settings import Settings
from detection.audio import UndecodableAudio
from detection.pipeline import chunk_recording, scan
from ingest.file import decode_as_aired
from storage import catalog, migrate, plays, stations
from storage.pool import create_pool
from topics.records import utc

EXPORT_COLUMNS = ["station", "track_ref", "title", "artist", "isrc", "start_at", "end_at",
                  "duration_s", "confidence", "speed", "station_title"]


def parse_time(text: str | None) -> datetime | None:
    """ISO 8601; a time without a zone is UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def check_url(_ctx, _param, value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL")
    return value


def check_country(_ctx, _param, value: str | None) -> str | None:
    if value is not None and not (len(value) == 2 and value.isalpha()):
        raise click.BadParameter(f"{value!r} is not a two-letter ISO 3166 country code")
    return value.upper() if value else value


def check_timezone(_ctx, _param, value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise click.BadParameter(f"unknown time zone {value!r}") from None
    return value


def write_csv(rows: list[dict]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: value.isoformat() if isinstance(value, datetime) else value
                         for key, value in row.items()})


async def with_pool(settings: Settings, work):
    pool = await create_pool(settings.database_url)
    try:
        return await work(pool)
    finally:
        await pool.close()


def register(settings: Settings) -> None:
    def run(work):
        return asyncio.run(with_pool(settings, work))

    def remove(work, what: str) -> None:
        """Run a removal that returns whether it found the thing and raises ValueError to refuse."""
        try:
            removed = run(work)
        except ValueError as exc:
            raise click.ClickException(str(exc))
        if not removed:
            raise click.ClickException(f"no {what}")
        click.echo(f"removed {what}")

    @click.group(name="db")
    def db_group():
        """Database schema."""

    @db_group.command(name="migrate")
    def db_migrate():
        """Apply pending migrations."""
        applied = run(migrate.migrate)
        click.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")

    @click.group(name="catalog")
    def catalog_group():
        """Registered recordings."""

    @catalog_group.command(name="add")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
    def catalog_add(paths):
        """Register audio files or folders (MP3, Ogg/Opus, FLAC, WAV, M4A)."""
        from airspin.catalog_files import find_audio_files, register_files

        files = find_audio_files(paths)
        with tqdm(total=len(files), unit="file", file=sys.stderr) as progress:
            report = run(lambda pool: register_files(pool, files, lambda _: progress.update()))
        for path, reason in report.failed:
            click.echo(f"failed: {path}: {reason}", err=True)
        click.echo(f"added {len(report.added)}, already registered {len(report.unchanged)}, "
                   f"failed {len(report.failed)}")
        if report.failed:
            sys.exit(1)

    @catalog_group.command(name="list")
    def catalog_list():
        """List registered tracks."""
        writer = csv.writer(sys.stdout)
        writer.writerow(["ref", "title", "artist", "isrc", "duration_s", "hashes"])
        for row in run(catalog.list_tracks):
            writer.writerow([row["ref"], row["title"], row["artist"], row["isrc"],
                             row["duration_s"], row["hash_count"]])

    @catalog_group.command(name="remove")
    @click.argument("ref")
    def catalog_remove(ref):
        """Remove a track (one with plays on record stays)."""
        remove(lambda pool: catalog.remove_track(pool, ref), f"track {ref!r}")

    @click.group(name="ingest")
    def ingest_group():
        """Publish station audio to Kafka."""

    @ingest_group.command(name="file")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--station", required=True, help="Station id (the Kafka key).")
    @click.option("--start-at", help="Station time of the first sample (ISO 8601); default now.")
    @click.option("--realtime", is_flag=True, help="Pace chunks at the speed they would air.")
    def ingest_file_command(path, station, start_at, realtime):
        """Publish a recording as a station's chunks."""
        from ingest.file import ingest_file

        start = parse_time(start_at) or datetime.now(timezone.utc)
        try:
            count = ingest_file(settings, path, station, start.timestamp(), realtime)
        except UndecodableAudio as exc:
            raise click.ClickException(str(exc))
        click.echo(f"published {count} chunks for station {station}", err=True)

    @ingest_group.command(name="run")
    @click.option("--station", "only", multiple=True, help="Only these stations (default: every active one).")
    def ingest_run_command(only):
        """Read live station streams into Kafka until interrupted."""
        from topics.admin import ensure_topics
        from ingest.stream import ingest_stations

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        ensure_topics(settings)
        try:
            run(lambda pool: ingest_stations(settings, pool, set(only) or None))
        except (KeyboardInterrupt, asyncio.CancelledError):
            pass

    @click.command(name="scan")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--station", required=True)
    @click.option("--start-at", help="Station time of the first sample (ISO 8601); default now.")
    def scan_command(path, station, start_at):
        """Detect plays in a recording without Kafka, as the stream would; prints CSV."""
        start = parse_time(start_at) or datetime.now(timezone.utc)
        try:
            samples = decode_as_aired(path, settings.ingest_sample_rate)
        except UndecodableAudio as exc:
            raise click.ClickException(str(exc))

        async def load(pool):
            return (await catalog.load_index(pool))[1], {r["id"]: r for r in await catalog.list_tracks(pool)}

        index, tracks = run(load)
        chunks = chunk_recording(samples, settings.ingest_sample_rate, start.timestamp(), settings.chunk_seconds)
        write_csv([
            {**dict(tracks[p.track_id]), "station": station, "track_ref": tracks[p.track_id]["ref"],
             "start_at": utc(p.start_at), "end_at": utc(p.end_at),
             "duration_s": round(p.duration_s, 3), "confidence": p.confidence}
            for p in scan(index, chunks)
        ])

    @click.group(name="plays")
    def plays_group():
        """The play log."""

    @plays_group.command(name="export")
    @click.option("--station")
    @click.option("--since", help="Plays ending at or after this time (ISO 8601).")
    @click.option("--until", help="Plays starting before this time (ISO 8601).")
    def plays_export(station, since, until):
        """Plays as CSV."""
        rows = run(lambda pool: plays.export_plays(pool, station, parse_time(since), parse_time(until)))
        write_csv([dict(row) for row in rows])

    @click.group(name="stations")
    def stations_group():
        """The registry of monitored stations."""

    def station_options(command):
        for option in reversed([
            click.option("--url", "stream_url", callback=check_url, help="Stream URL (Icecast/Shoutcast, HLS, .pls, .m3u)."),
            click.option("--name"),
            click.option("--country", callback=check_country, help="ISO 3166 country code."),
            click.option("--timezone", callback=check_timezone, help="IANA time zone, e.g. Europe/Paris."),
            click.option("--active/--inactive", default=None, help="Whether `ingest run` monitors it."),
        ]):
            command = option(command)
        return command

    @stations_group.command(name="add")
    @click.argument("station_id")
    @station_options
    def stations_add(station_id, **fields):
        """Register a station."""
        if not fields["stream_url"]:
            raise click.UsageError("--url is required")
        try:
            run(lambda pool: stations.add_station(pool, station_id, stations.StationChange(**fields)))
        except ValueError as exc:
            raise click.ClickException(str(exc))
        click.echo(f"added {station_id}")

    @stations_group.command(name="set")
    @click.argument("station_id")
    @station_options
    def stations_set(station_id, **fields):
        """Change a station's fields."""
        if not run(lambda pool: stations.set_station(pool, station_id, stations.StationChange(**fields))):
            raise click.ClickException(f"no station {station_id!r}")
        click.echo(f"updated {station_id}")

    @stations_group.command(name="list")
    @click.option("--active", "active_only", is_flag=True, help="Only the stations being monitored.")
    def stations_list(active_only):
        """List stations as CSV."""
        writer = csv.writer(sys.stdout)
        writer.writerow(["id", *stations.COLUMNS])
        for row in run(lambda pool: stations.list_stations(pool, active_only)):
            writer.writerow([row["id"], *(row[column] for column in stations.COLUMNS)])

    @stations_group.command(name="remove")
    @click.argument("station_id")
    def stations_remove(station_id):
        """Remove a station (one with plays on record can only be deactivated)."""
        remove(lambda pool: stations.remove_station(pool, station_id), f"station {station_id!r}")

    for command in (db_group, catalog_group, stations_group, ingest_group, scan_command, plays_group):
        faust_cli.add_command(command)
