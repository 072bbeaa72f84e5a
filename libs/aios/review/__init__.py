"""The human-review service: review requests in PostgreSQL, web pages for reviewers, verdicts back to Kafka."""
