-- Outcome callbacks: where a tenant wants every final outcome of its events POSTed, and what is owed.
-- The signing secret is kept as webhook_secrets are (0001): signing needs it in the clear.
CREATE TABLE outcome_callbacks (
    tenant_id UUID PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per event: an outcome settled again (a redelivered record) adds nothing.
CREATE TABLE outcome_deliveries (
    tenant_id UUID NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    due_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ,
    last_error TEXT,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX outcome_deliveries_due ON outcome_deliveries (due_at) WHERE delivered_at IS NULL;
