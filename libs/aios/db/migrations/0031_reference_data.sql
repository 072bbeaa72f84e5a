-- Reference data per tenant (what the business already knows: vendors, open purchase orders,
-- insurance policies), imported from CSV by `aios refdata import`, and the document facts the
-- decide service records to see patterns across a tenant's documents.
--
-- Every import is a revision of the tenant's reference data. Rows are never updated in place:
-- an import closes the rows it replaces (revision_to) and adds new ones (revision_from), so the
-- rows of any revision can be read back, and a decision names the revision it looked things up in.
-- Tenant ids are the text records carry, without a foreign key (as act's tables).

CREATE TABLE refdata_revisions (
    tenant_id TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision > 0),
    kind TEXT NOT NULL CHECK (kind IN ('vendors', 'purchase-orders', 'policies')),
    source TEXT NOT NULL,
    replaced BOOLEAN NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    imported_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, revision)
);

-- match_keys: the keys a document's vendor is matched on (tax id, name and aliases folded).
CREATE TABLE refdata_vendors (
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    aliases TEXT[] NOT NULL,
    tax_id TEXT,
    ibans TEXT[] NOT NULL,
    match_keys TEXT[] NOT NULL,
    revision_from INTEGER NOT NULL,
    revision_to INTEGER,
    CHECK (revision_to IS NULL OR revision_to > revision_from)
);
CREATE UNIQUE INDEX refdata_vendors_current ON refdata_vendors (tenant_id, name_key) WHERE revision_to IS NULL;
CREATE INDEX refdata_vendors_keys ON refdata_vendors USING GIN (match_keys) WHERE revision_to IS NULL;

CREATE TABLE refdata_purchase_orders (
    tenant_id TEXT NOT NULL,
    number TEXT NOT NULL,
    vendor TEXT NOT NULL,
    amount NUMERIC(18, 2) NOT NULL,
    currency TEXT NOT NULL,
    remaining NUMERIC(18, 2) NOT NULL,
    revision_from INTEGER NOT NULL,
    revision_to INTEGER,
    CHECK (revision_to IS NULL OR revision_to > revision_from)
);
CREATE UNIQUE INDEX refdata_purchase_orders_current
    ON refdata_purchase_orders (tenant_id, number) WHERE revision_to IS NULL;

CREATE TABLE refdata_policies (
    tenant_id TEXT NOT NULL,
    number TEXT NOT NULL,
    holder TEXT NOT NULL,
    active_from DATE NOT NULL,
    active_to DATE NOT NULL,
    loss_types TEXT[] NOT NULL,
    coverage_limit NUMERIC(18, 2) NOT NULL,
    deductible NUMERIC(18, 2) NOT NULL,
    revision_from INTEGER NOT NULL,
    revision_to INTEGER,
    CHECK (revision_to IS NULL OR revision_to > revision_from),
    CHECK (active_to >= active_from)
);
CREATE UNIQUE INDEX refdata_policies_current ON refdata_policies (tenant_id, number) WHERE revision_to IS NULL;

-- One row per decided document: what cross-document signals compare (same IBAN on claims of
-- different claimants, a vendor's IBAN changing, bursts of claims on one policy). IBANs and
-- claimant names are kept only as SHA-256 digests of their normalised form: equality is all
-- the signals need. "Earlier" is (occurred_at, event_id), the receipt order of documents.
CREATE TABLE document_facts (
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    document_type TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    vendor_key TEXT,
    iban_digest TEXT,
    claimant_digest TEXT,
    policy_number TEXT,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX document_facts_iban ON document_facts (tenant_id, iban_digest);
CREATE INDEX document_facts_vendor ON document_facts (tenant_id, vendor_key);
CREATE INDEX document_facts_policy ON document_facts (tenant_id, policy_number, occurred_at);
