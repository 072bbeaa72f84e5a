"""Policy as code: one YAML file per tenant, validated, versioned by content hash, evaluated rule by rule."""
