"""Classify: route events to model versions and classify them in batches (torch or Triton)."""
