"""Who may send events: tenants with API keys, webhook sources with signing secrets, in PostgreSQL."""
