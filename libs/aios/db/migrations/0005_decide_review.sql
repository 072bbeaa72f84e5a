-- Policies (versions by content hash, one active per tenant), reviewers and their sessions,
-- review items with claims, the outbox of completed reviews, and labelled examples for training.

CREATE TABLE policy_versions (
    tenant_id UUID NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);

-- The decide service polls max(revision) and reloads only when it grew.
CREATE SEQUENCE policy_revision;

CREATE TABLE active_policies (
    tenant_id UUID PRIMARY KEY,
    version TEXT NOT NULL,
    revision BIGINT NOT NULL DEFAULT nextval('policy_revision'),
    activated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, version) REFERENCES policy_versions (tenant_id, version) ON DELETE CASCADE
);
CREATE INDEX active_policies_revision ON active_policies (revision);

CREATE TABLE reviewers (
    reviewer_id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, username)
);

-- Only a digest of the session token is stored; the CSRF token is bound to the session.
CREATE TABLE review_sessions (
    token_hash TEXT PRIMARY KEY,
    reviewer_id UUID NOT NULL REFERENCES reviewers (reviewer_id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX review_sessions_expiry ON review_sessions (expires_at);

-- tenant_id is the event's (text, as on the topics); a reviewer sees rows whose tenant_id is theirs.
CREATE TABLE review_items (
    review_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed')),
    priority INTEGER NOT NULL,
    sla_deadline TIMESTAMPTZ NOT NULL,
    reason TEXT NOT NULL,
    rule TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    label TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    request JSONB NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_by UUID REFERENCES reviewers (reviewer_id) ON DELETE SET NULL,
    claim_expires_at TIMESTAMPTZ,
    verdict TEXT CHECK (verdict IN ('APPROVE', 'EDIT_APPROVE', 'RELABEL', 'REJECT')),
    completed_by UUID REFERENCES reviewers (reviewer_id) ON DELETE SET NULL,
    completed_at TIMESTAMPTZ,
    corrected_label TEXT,
    edited_draft TEXT,
    completion_reason TEXT,
    CHECK ((status = 'completed') = (verdict IS NOT NULL AND completed_at IS NOT NULL))
);
CREATE INDEX review_items_queue ON review_items (tenant_id, sla_deadline, priority) WHERE status = 'pending';

-- Written in the transaction that completes the item; a publisher produces and marks rows.
CREATE TABLE review_outbox (
    id BIGSERIAL PRIMARY KEY,
    review_id TEXT NOT NULL UNIQUE REFERENCES review_items (review_id) ON DELETE CASCADE,
    record JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX review_outbox_unpublished ON review_outbox (id) WHERE published_at IS NULL;

CREATE TABLE labelled_examples (
    review_id TEXT PRIMARY KEY REFERENCES review_items (review_id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('APPROVE', 'EDIT_APPROVE', 'RELABEL')),
    reviewer TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX labelled_examples_tenant ON labelled_examples (tenant_id, created_at);
