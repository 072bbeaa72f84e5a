"""Keys held outside the database: the key-encryption keys of envelope encryption, the audit chain's MAC key
and the signing keys of decisions and verdicts."""
