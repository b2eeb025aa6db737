-- Stations, the catalog with its fingerprints, and the play log.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE stations (
    id          text PRIMARY KEY,
    name        text,
    stream_url  text,
    country     text,
    timezone    text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tracks (
    id              bigserial PRIMARY KEY,
    ref             text NOT NULL UNIQUE,      -- the rights organisation's own reference
    title           text,
    artist          text,
    isrc            text,
    duration_s      double precision NOT NULL,
    rights_holders  jsonb NOT NULL DEFAULT '[]', -- [{"name": ..., "share": percent}, ...]
    audio_sha256    text NOT NULL UNIQUE,      -- of the decoded audio: re-adding it is a no-op
    source_path     text,
    added_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per track: its hashes and anchor frames as packed little-endian arrays.
CREATE TABLE fingerprints (
    track_id    bigint PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    hashes      bytea NOT NULL,  -- uint32[]
    frames      bytea NOT NULL,  -- int32[]
    hash_count  integer NOT NULL
);

-- Bumped on every catalog change, so that workers reload the index only when it moved.
CREATE TABLE catalog_version (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version     bigint NOT NULL
);
INSERT INTO catalog_version VALUES (true, 0);

CREATE TABLE plays (
    id                    uuid PRIMARY KEY,  -- uuid5 of (station, track, start): replays collide
    station_id            text NOT NULL REFERENCES stations(id),
    track_id              bigint NOT NULL REFERENCES tracks(id),
    start_at              timestamptz NOT NULL,
    end_at                timestamptz NOT NULL,
    duration_s            double precision NOT NULL,
    track_offset_start_s  double precision NOT NULL,
    track_offset_end_s    double precision NOT NULL,
    confidence            double precision NOT NULL,
    windows               integer NOT NULL,
    recorded_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (end_at >= start_at),
    -- The same track cannot air twice at once on one station: a play re-detected after a restart
    -- (with slightly different edges) is the same play, never a second one.
    EXCLUDE USING gist (station_id WITH =, track_id WITH =, tstzrange(start_at, end_at, '[]') WITH &&)
);
CREATE INDEX plays_station_start ON plays (station_id, start_at);
CREATE INDEX plays_start ON plays (start_at);

CREATE TABLE failed_plays (
    id          bigserial PRIMARY KEY,
    play_id     uuid,
    payload     jsonb NOT NULL,
    reason      text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
