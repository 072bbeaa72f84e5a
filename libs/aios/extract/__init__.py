"""The extract service: a stored document into fields, checks and an event the pipeline understands."""
