-- Review sessions also end after `session_idle_s` without a request (issue 20, point 8).
ALTER TABLE review_sessions ADD COLUMN last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- Data keys of envelope encryption (aios.keys.envelope), one or more per scope (a tenant), each stored
-- only wrapped by a key-encryption key that is not in this database. Secrets in webhook_secrets.secret
-- and connector_configs.config are sealed under them.
CREATE TABLE data_keys (
    key_id UUID PRIMARY KEY,
    scope TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    rewrapped_at TIMESTAMPTZ
);
CREATE INDEX data_keys_scope ON data_keys (scope, created_at);
