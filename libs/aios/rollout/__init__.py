"""Staged rollout with automated canary analysis: shadow, then growing traffic shares, judged at every step."""
