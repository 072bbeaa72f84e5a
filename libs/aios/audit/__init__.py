"""The audit trail: every record of every aios.* topic, PII redacted, in one hash chain per tenant.

Each row stores the hash of the row before it in its tenant's chain and the SHA-256 of its own
content plus that hash, so altering, removing or inserting a row breaks the chain at that row.
Retention removes a prefix of a chain and keeps the hash at the cut as the new anchor.
"""
