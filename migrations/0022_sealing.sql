-- Issue 18: the visitors' passport numbers, birth dates and employer addresses are stored sealed
-- with SM4-GCM ("sm4gcm:" and base64); passport_index is the keyed index (HMAC-SM3) of the
-- passport number for exact search; seal_key the data key the row is sealed under (NULL:
-- written in clear by an earlier version, sealed by the sealing job).
ALTER TABLE group_visitors ADD COLUMN passport_index TEXT;
ALTER TABLE group_visitors ADD COLUMN seal_key BIGINT;
CREATE INDEX visitors_passport_index ON group_visitors (passport_index);
CREATE INDEX visitors_seal_key ON group_visitors (seal_key);

-- Stored files are sealed too (in the folder or the bucket); seal_key is the data key the file
-- is known to be sealed under (NULL: not yet checked by the sealing job).
ALTER TABLE files ADD COLUMN seal_key BIGINT;
CREATE INDEX files_seal_key ON files (seal_key);
