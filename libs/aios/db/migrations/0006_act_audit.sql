-- Act: per-tenant connector settings, the inbox of actions (one row per action id, the
-- idempotency key of its effect) with their retry schedule and saga state, and the outbox of
-- records to produce, written in the same transaction as the result they report.
-- Audit: one hash chain per tenant over every record of every aios.* topic, retention
-- checkpoints that keep a shortened chain verifiable, and auditor API keys.

-- Tenants are the ids records carry (ingest's UUIDs); no foreign key, so a record of a tenant
-- deleted later is still acted upon and audited.
CREATE TABLE connector_configs (
    tenant_id TEXT NOT NULL,
    connector TEXT NOT NULL,
    config JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connector)
);

CREATE TABLE act_decisions (
    decision_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    source_topic TEXT NOT NULL,
    source_partition INTEGER NOT NULL,
    source_offset BIGINT NOT NULL,
    source_key BYTEA,
    source_value BYTEA NOT NULL,
    trace JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- status: waiting (an earlier action of its decision has not succeeded yet), pending (due at
-- due_at), running (claimed; due_at is the end of the lease, after which another executor may
-- claim it again), succeeded, failed, compensated, cancelled (never run: an earlier one failed).
CREATE TABLE act_actions (
    action_id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL REFERENCES act_decisions (decision_id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('action', 'compensation')),
    compensates TEXT REFERENCES act_actions (action_id),
    action_type TEXT NOT NULL,
    params JSONB NOT NULL,
    compensation JSONB,
    status TEXT NOT NULL CHECK (
        status IN ('waiting', 'pending', 'running', 'succeeded', 'failed', 'compensated', 'cancelled')
    ),
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TIMESTAMPTZ,
    first_attempt_at TIMESTAMPTZ,
    external_ref TEXT,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX act_actions_due ON act_actions (due_at) WHERE status IN ('pending', 'running');
CREATE INDEX act_actions_tenant_due ON act_actions (tenant_id, due_at) WHERE status IN ('pending', 'running');
CREATE INDEX act_actions_decision ON act_actions (decision_id, kind, position);

CREATE TABLE act_outbox (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    value BYTEA NOT NULL,
    headers JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- record is the redacted record as canonical JSON text: the hash covers exactly these bytes.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    chain_seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    record_type TEXT NOT NULL,
    topic TEXT NOT NULL,
    kafka_partition INTEGER NOT NULL,
    kafka_offset BIGINT NOT NULL,
    record_time TIMESTAMPTZ NOT NULL,
    schema_id INTEGER,
    trace_id TEXT,
    record TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    appended_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (topic, kafka_partition, kafka_offset),
    UNIQUE (tenant_id, chain_seq)
);
CREATE INDEX audit_log_event ON audit_log (event_id);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, record_time);

-- The last link of each chain; appends lock it, so instances append one tenant at a time.
CREATE TABLE audit_chain_heads (
    tenant_id TEXT PRIMARY KEY,
    chain_seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Retention removes a prefix of a chain; the hash of its last removed row becomes the anchor
-- the first remaining row is verified against.
CREATE TABLE audit_checkpoints (
    tenant_id TEXT NOT NULL,
    chain_seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    removed_rows BIGINT NOT NULL,
    cutoff TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, chain_seq)
);

CREATE TABLE audit_retention (
    tenant_id TEXT PRIMARY KEY,
    days INTEGER NOT NULL CHECK (days > 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Auditors read a tenant's trail with keys of their own; only sender keys submit events.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'sender' CHECK (role IN ('sender', 'auditor'));
