"""Documents' bytes in an S3-compatible object store (SeaweedFS locally, any S3 in production)."""
