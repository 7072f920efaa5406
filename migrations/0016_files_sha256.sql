-- Files are named by their content: the upload check and the orphan sweep look rows up by hash.
CREATE INDEX files_sha256 ON files (sha256);
