"""The act service: performs decisions' actions through connectors."""
