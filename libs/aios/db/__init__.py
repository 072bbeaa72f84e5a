"""PostgreSQL plumbing every service shares: opening pools and applying schema migrations."""
