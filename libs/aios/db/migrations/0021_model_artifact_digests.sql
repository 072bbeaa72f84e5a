-- SHA-256 of each model version's artifact files, recorded at registration and checked at every load
-- (aios.inference.integrity); NULL for versions registered before.
ALTER TABLE model_versions ADD COLUMN artifact_sha256 TEXT;
