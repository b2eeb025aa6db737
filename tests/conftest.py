import numpy as np
import pytest

from detection.audio import resample
from detection.fingerprint import catalog_fingerprint
from detection.index import Index
from synth.music import song

RATE = 16000


@pytest.fixture(scope="session")
def catalog_songs() -> dict[int, np.ndarray]:
    """Ten 60-second synthetic songs keyed by track id, at 16 kHz."""
    return {track_id: song(track_id, 60, RATE) for track_id in range(1, 11)}


@pytest.fixture(scope="session")
def catalog_index(catalog_songs) -> Index:
    ids = list(catalog_songs)
    fingerprints, peaks = zip(*(catalog_fingerprint(resample(catalog_songs[i], RATE)) for i in ids))
    return Index(ids, list(fingerprints), list(peaks))


# Fixtures on the real broker and database, for every test folder that needs them.
from tests.services import (  # noqa: E402,F401
    base_settings, catalog, database_url, kafka, media, pool, run_id, settings, worker,
)
