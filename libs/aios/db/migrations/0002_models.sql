-- Model registry: immutable versions per model name, and movable aliases that point workers at them.
-- Workers poll max(revision) (one index-only query) and reload only when it grew.

CREATE TABLE model_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version > 0),
    artifact_uri TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    metrics JSONB NOT NULL DEFAULT '{}'::jsonb,
    labels TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

CREATE SEQUENCE model_alias_revision;

-- NULLS NOT DISTINCT: the global alias (tenant NULL) is unique too, not one per insert.
CREATE TABLE model_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL CHECK (alias IN ('production', 'canary', 'shadow')),
    tenant TEXT,
    version INTEGER NOT NULL,
    share DOUBLE PRECISION NOT NULL DEFAULT 1.0 CHECK (share >= 0 AND share <= 1),
    revision BIGINT NOT NULL DEFAULT nextval('model_alias_revision'),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (name, alias, tenant),
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
);
CREATE INDEX model_aliases_revision ON model_aliases (revision);
