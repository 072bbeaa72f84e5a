"""What became of an event, assembled from the outcome topics: for callers who wait (`Prefer: wait=N`),
for `GET /v1/events/{id}` and for tenants' outcome callbacks."""
