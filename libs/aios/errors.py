"""Root of the AIOS exception tree; each subpackage derives its own errors from it."""


class AiosError(Exception):
    """Base class for every error AIOS raises on purpose."""
