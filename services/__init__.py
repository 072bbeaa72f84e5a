"""AIOS services: thin mains that wire library parts to topics."""
