"""Errors of the local stack."""

from aios.errors import AiosError


class StackError(AiosError):
    """The local stack could not be brought to the requested state."""


class ComponentFailedError(StackError):
    """A component did not become healthy; carries the tail of its log for the operator."""

    def __init__(self, component: str, reason: str, log_tail: str) -> None:
        super().__init__(f"{component} {reason}\n--- last lines of its log ---\n{log_tail}")
        self.component = component
        self.log_tail = log_tail


class MissingToolError(StackError):
    """A binary the stack needs (java, mvn, initdb, redis-server...) is not installed."""
