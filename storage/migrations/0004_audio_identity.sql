-- A recording's audio_sha256 is now taken over its 16-bit PCM as decoded, at the file's own rate and
-- channels (identity 2), no longer over the mono 8 kHz samples FFmpeg's resampler made of it
-- (identity 1).  Registering a file again re-identifies an older row by its reference.
ALTER TABLE tracks ADD COLUMN audio_identity smallint NOT NULL DEFAULT 1;
ALTER TABLE tracks ALTER COLUMN audio_identity DROP DEFAULT;
