-- Per-tenant knowledge bases: documents, their chunks with a full-text vector and a sentence
-- embedding, and one row per tenant with the KB's revision and how its drafts are made.

CREATE SEQUENCE kb_revision;

-- revision grows (nextval) whenever a document of the tenant is added, replaced or removed, so
-- a service holding the tenant's embedding matrix knows with one query that it must reload.
-- generator / no_draft_labels: NULL means the retrieve-generate service's default.
CREATE TABLE kb_tenants (
    tenant_id UUID PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    revision BIGINT NOT NULL DEFAULT nextval('kb_revision'),
    generator TEXT CHECK (generator IN ('extractive', 'triton')),
    no_draft_labels TEXT[],
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE kb_documents (
    tenant_id UUID NOT NULL REFERENCES kb_tenants (tenant_id) ON DELETE CASCADE,
    document_id TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, document_id)
);

-- embedding: float32 little-endian, unit length (all-MiniLM-L6-v2: 384 values).
-- tsv: the document title (weight A) and the chunk text, 'english' configuration.
CREATE TABLE kb_chunks (
    tenant_id UUID NOT NULL,
    document_id TEXT NOT NULL,
    chunk_no INTEGER NOT NULL CHECK (chunk_no >= 0),
    text TEXT NOT NULL,
    tsv TSVECTOR NOT NULL,
    embedding BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, document_id, chunk_no),
    FOREIGN KEY (tenant_id, document_id) REFERENCES kb_documents (tenant_id, document_id) ON DELETE CASCADE
);
CREATE INDEX kb_chunks_tsv ON kb_chunks USING GIN (tsv);
