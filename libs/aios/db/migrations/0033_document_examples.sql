-- Documents as reviewers approved them: the fields and line items after their corrections, one row per
-- completed review of a document. `aios documents feedback export` writes them as labelled documents
-- for `aios documents train`; the bytes stay in the object store, found again by tenant and SHA-256.
CREATE TABLE document_examples (
    review_id TEXT PRIMARY KEY REFERENCES review_items (review_id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    document_type TEXT NOT NULL CHECK (document_type IN ('invoice', 'claim')),
    fields JSONB NOT NULL,
    line_items JSONB NOT NULL,
    corrected TEXT[] NOT NULL,
    extractor_version TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX document_examples_tenant ON document_examples (tenant_id, created_at);
