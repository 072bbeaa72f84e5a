"""The decide service: a Faust app that applies each tenant's policy to enriched events and review verdicts."""
