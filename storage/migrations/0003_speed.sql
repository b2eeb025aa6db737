-- Fingerprints became speed-tolerant (log-frequency hashes): the scheme says which hashing made a
-- row, so a worker never matches against hashes of another scheme, and registering the same file
-- again re-fingerprints it.  Existing rows are scheme 1.
ALTER TABLE fingerprints ADD COLUMN scheme smallint NOT NULL DEFAULT 1;
ALTER TABLE fingerprints ALTER COLUMN scheme DROP DEFAULT;

-- How fast the station played the recording (1.03: 3% fast, pitch and tempo together).
ALTER TABLE plays ADD COLUMN speed double precision;
