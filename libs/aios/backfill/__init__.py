"""Backfill: a window of a topic driven through its consumers again, after a fix, with effects kept exactly once."""
