"""The audit service: the hash-chained lineage trail of every topic, and the auditor API."""
