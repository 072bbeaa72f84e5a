"""Draft replies grounded in retrieved passages, behind one `Generator` interface (extractive or Triton)."""
