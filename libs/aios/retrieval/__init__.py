"""Tenant knowledge bases: documents cut into chunks, found by BM25 over full text and dense similarity, fused."""
