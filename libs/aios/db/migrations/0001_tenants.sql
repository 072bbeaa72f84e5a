-- Tenants, their API keys (SHA-256 digests only) and webhook sources with their signing secrets.
-- A NULL expires_at means active with no end; rotation sets it to now() + the grace period.

CREATE TABLE tenants (
    tenant_id UUID PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ
);
CREATE INDEX api_keys_tenant_id ON api_keys (tenant_id);

-- One row per source makes "a source belongs to exactly one tenant" a constraint, not a convention.
CREATE TABLE webhook_sources (
    source TEXT PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, tenant_id)
);

-- Secrets are kept in plain text because HMAC verification needs them; production should encrypt
-- this column (pgcrypto with a key from a KMS) or keep the secrets in a KMS altogether.
CREATE TABLE webhook_secrets (
    source TEXT NOT NULL,
    secret TEXT NOT NULL,
    tenant_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ,
    PRIMARY KEY (source, secret),
    FOREIGN KEY (source, tenant_id) REFERENCES webhook_sources (source, tenant_id) ON DELETE CASCADE
);
