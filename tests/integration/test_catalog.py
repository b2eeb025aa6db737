"""`airspin catalog`: what a rights organisation sees when it registers its recordings."""
from __future__ import annotations

import asyncio

import pytest

from detection.audio import AUDIO_IDENTITY
from detection.fingerprint import SCHEME
from storage.catalog import load_index, stale_fingerprints, tracks_without_peaks
from synth.encode import write_audio
from synth.music import song
from tests.services import RATE, airspin

pytestmark = pytest.mark.integration


async def test_catalog_has_metadata_and_fingerprints(pool, catalog):
    rows = await pool.fetch(
        "SELECT ref, title, artist, isrc, duration_s, rights_holders, hash_count, length(peaks) / 4 AS peak_count"
        " FROM tracks JOIN fingerprints ON track_id = id WHERE ref LIKE 'REF-%' ORDER BY ref")
    assert [r["ref"] for r in rows] == ["REF-11", "REF-12", "REF-13", "REF-14"]
    first = rows[0]
    assert (first["title"], first["artist"], first["isrc"]) == ("Title REF-11", "Artist REF-11", "QZ00000011")
    assert first["rights_holders"] == [{"name": "Label A", "share": 70.0}, {"name": "Label B", "share": 30.0}]
    assert all(abs(r["duration_s"] - 40) < 0.2 and r["hash_count"] > 1000 for r in rows)
    assert all(40 * 5 < r["peak_count"] < r["hash_count"] / 2 for r in rows)  # prominent peaks, a few a second


async def test_a_broken_file_is_reported_and_the_rest_load(settings, pool, tmp_path):
    write_audio(tmp_path / "good-one.mp3", song(301, 20, RATE), RATE)
    (tmp_path / "broken.mp3").write_bytes(b"ID3 but nothing that decodes" * 50)
    write_audio(tmp_path / "good-two.flac", song(302, 20, RATE), RATE)
    result = await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path), check=False)
    assert result.returncode == 1
    assert "broken.mp3" in result.stderr and "not decodable" in result.stderr
    assert "added 2, already registered 0, failed 1" in result.stdout
    refs = {r["ref"] for r in await pool.fetch("SELECT ref FROM tracks")}
    assert {"good-one", "good-two"} <= refs and "broken" not in refs

    again = await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "good-one.mp3"))
    assert "added 0, already registered 1" in again.stdout
    assert await pool.fetchval("SELECT count(*) FROM tracks WHERE ref = 'good-one'") == 1


async def test_list_and_remove(settings, pool, tmp_path):
    write_audio(tmp_path / "short-lived.wav", song(401, 15, RATE), RATE)
    await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "short-lived.wav"))
    listing = (await asyncio.to_thread(airspin, settings, "catalog", "list")).stdout
    assert "short-lived" in listing
    await asyncio.to_thread(airspin, settings, "catalog", "remove", "short-lived")
    assert await pool.fetchval("SELECT count(*) FROM tracks WHERE ref = 'short-lived'") == 0
    missing = await asyncio.to_thread(airspin, settings, "catalog", "remove", "short-lived", check=False)
    assert missing.returncode != 0 and "no track 'short-lived'" in missing.stderr


async def test_a_fingerprint_of_an_older_scheme_is_not_matched_until_the_file_is_registered_again(
        settings, pool, tmp_path):
    write_audio(tmp_path / "old-scheme.flac", song(402, 20, RATE), RATE)
    await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "old-scheme.flac"))
    track_id = await pool.fetchval("SELECT id FROM tracks WHERE ref = 'old-scheme'")
    # As a database migrated from the exact-bin hashing holds it.
    await pool.execute("UPDATE fingerprints SET scheme = 1 WHERE track_id = $1", track_id)
    _, index = await load_index(pool)
    assert track_id not in index.track_ids.tolist()
    assert await stale_fingerprints(pool) >= 1

    again = await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "old-scheme.flac"))
    assert "already registered 1" in again.stdout
    assert await pool.fetchval("SELECT scheme FROM fingerprints WHERE track_id = $1", track_id) == SCHEME
    _, index = await load_index(pool)
    assert track_id in index.track_ids.tolist()


async def test_a_track_hashed_the_older_way_is_known_again_by_its_reference(settings, pool, tmp_path):
    write_audio(tmp_path / "hashed-before.flac", song(403, 20, RATE), RATE)
    await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "hashed-before.flac"))
    track_id, audio_sha256 = await pool.fetchrow(
        "SELECT id, audio_sha256 FROM tracks WHERE ref = 'hashed-before'")
    # As a database migrated from identity 1 holds it: another hash of the same audio.
    await pool.execute("UPDATE tracks SET audio_sha256 = 'of-8khz-mono', audio_identity = 1 WHERE id = $1", track_id)
    version = await pool.fetchval("SELECT version FROM catalog_version")

    again = await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "hashed-before.flac"))
    assert "already registered 1, failed 0" in again.stdout
    assert await pool.fetchrow("SELECT audio_sha256, audio_identity FROM tracks WHERE id = $1", track_id) == (
        audio_sha256, AUDIO_IDENTITY)
    assert await pool.fetchval("SELECT version FROM catalog_version") == version + 1

    # Once re-identified, other audio under that reference is refused as before.
    write_audio(tmp_path / "other" / "hashed-before.flac", song(404, 20, RATE), RATE)
    refused = await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "other" / "hashed-before.flac"),
                                      check=False)
    assert "registered already with different audio" in refused.stdout + refused.stderr


async def test_a_track_registered_before_peaks_were_kept_gets_them_when_its_file_is_registered_again(
        settings, pool, tmp_path):
    write_audio(tmp_path / "no-peaks.flac", song(405, 20, RATE), RATE)
    await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "no-peaks.flac"))
    track_id = await pool.fetchval("SELECT id FROM tracks WHERE ref = 'no-peaks'")
    _, index = await load_index(pool)
    slot = index.track_ids.tolist().index(track_id)
    stored = index.peaks(slot, 0, 10_000)
    assert len(stored[0]) > 20 * 5
    # As a database migrated from before peaks were kept holds it: the track still matches, without peaks.
    await pool.execute("UPDATE fingerprints SET peaks = NULL WHERE track_id = $1", track_id)
    _, index = await load_index(pool)
    assert track_id in index.track_ids.tolist() and len(index.peaks(slot, 0, 10_000)[0]) == 0
    assert await tracks_without_peaks(pool) >= 1

    version = await pool.fetchval("SELECT version FROM catalog_version")
    again = await asyncio.to_thread(airspin, settings, "catalog", "add", str(tmp_path / "no-peaks.flac"))
    assert "already registered 1" in again.stdout
    assert await pool.fetchval("SELECT version FROM catalog_version") == version + 1
    _, index = await load_index(pool)
    slot = index.track_ids.tolist().index(track_id)
    assert [a.tolist() for a in index.peaks(slot, 0, 10_000)] == [a.tolist() for a in stored]
    assert await pool.fetchval("SELECT peaks IS NULL FROM fingerprints WHERE track_id = $1", track_id) is False
