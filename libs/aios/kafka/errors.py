"""Errors of the Kafka layer: setup, delivery and processing."""

from aios.errors import AiosError
from aios.kafka.deadletter import ErrorKind


class KafkaSetupError(AiosError):
    """Topics or cluster state could not be brought in line with the catalogue."""


class DeliveryError(AiosError):
    """The broker did not acknowledge a produced record; offsets must not be committed past it."""


class HandlerError(AiosError):
    """A handler failed on a record more often than its retry budget allows."""


class TransientError(AiosError):
    """A dependency is briefly unavailable: retry the batch, never dead-letter its records."""


class RecordRefused(AiosError):
    """A consumed record is not handled at all (too large, undecodable): it goes to the dead letters unread."""

    def __init__(self, kind: ErrorKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
