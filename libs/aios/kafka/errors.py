"""Errors of the Kafka layer: setup, delivery and processing."""

from __future__ import annotations

from confluent_kafka import KafkaError

from aios.errors import AiosError
from aios.kafka.deadletter import ErrorKind

RECORD_REFUSED = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_RECORD,
        KafkaError.INVALID_TIMESTAMP,
    }
)
"""Delivery errors about the record itself: sending it again fails the same way.

Every other error (broker down, timeout, unknown topic, missing rights) concerns the cluster or
its setup and is worth retrying: it passes for every record once the cause is fixed. librdkafka's
delivery reports do not say whether an error is retriable, hence the list.
"""


class KafkaSetupError(AiosError):
    """Topics or cluster state could not be brought in line with the catalogue."""


class DeliveryError(AiosError):
    """The broker did not acknowledge a produced record; offsets must not be committed past it."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        """librdkafka's error code, when the failure had one."""

    @property
    def permanent(self) -> bool:
        """True when the record itself was refused (too large, invalid): it will never be delivered."""
        return self.code in RECORD_REFUSED


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
