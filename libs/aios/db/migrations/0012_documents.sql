-- Documents: what the extract service read from each stored document, one row per event, kept for
-- `GET /v1/events/{id}` and to find a tenant's duplicates (same bytes, same content under other
-- bytes, same vendor and invoice number, same claim number). Written once per event id: a
-- document read again after a crash finds its row and the same earlier duplicate.
CREATE TABLE documents (
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content_fingerprint TEXT,
    document_type TEXT NOT NULL,
    vendor_key TEXT,
    invoice_number TEXT,
    claim_number TEXT,
    extraction JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX documents_sha256 ON documents (tenant_id, sha256);
CREATE INDEX documents_fingerprint ON documents (tenant_id, content_fingerprint);
CREATE INDEX documents_invoice ON documents (tenant_id, vendor_key, invoice_number);
CREATE INDEX documents_claim ON documents (tenant_id, claim_number);
