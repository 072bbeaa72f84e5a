"""Tenant knowledge bases: documents cut into chunks, found by full-text rank and dense similarity, fused by RRF."""
