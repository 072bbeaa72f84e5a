"""The act service: runs each decision's actions through connectors exactly once in effect.

Decisions are taken into an inbox in PostgreSQL (one row per action id); executors claim due
actions, perform them, and record each result in the same transaction as the record announcing
it (an outbox that a publisher drains to Kafka). Retries are rows due later, never sleeps.
"""
