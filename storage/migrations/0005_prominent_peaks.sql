-- A recording's prominent spectral peaks (detection.fingerprint.prominent_peaks), each as frame x 512 +
-- bin in little-endian int32: a worker checks a song already matched against them to date a start
-- that talk hides from the hashes.  Rows registered before have none (NULL): they still match, and
-- registering their files again adds the peaks.
ALTER TABLE fingerprints ADD COLUMN peaks bytea;
