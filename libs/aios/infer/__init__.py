"""Model as a service: registry models behind the Open Inference Protocol (v2 REST), batched across requests."""
