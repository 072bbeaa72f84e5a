"""Who may do what: roles, the credentials that carry them, and the audit record of each admin action."""
