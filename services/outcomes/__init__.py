"""Outcome notifier: what became of each event, from the outcome topics into Redis."""
