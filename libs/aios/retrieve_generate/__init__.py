"""Retrieve-generate: classified events get passages from their tenant's knowledge base and a grounded draft."""
