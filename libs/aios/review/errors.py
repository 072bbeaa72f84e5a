"""Errors of the review service: what a reviewer or an operator is told when something is refused."""

from __future__ import annotations

from aios.errors import AiosError


class ReviewError(AiosError):
    """A review operation was refused."""

    status = 400


class ItemNotFound(ReviewError):
    """No such review for this reviewer's tenant (another tenant's item looks the same: absent)."""

    status = 404


class ReviewConflict(ReviewError):
    """The item cannot be changed by this reviewer now: completed, or claimed by someone else."""

    status = 409


class InvalidVerdict(ReviewError):
    """A verdict form lacks what the verdict needs (a reason to reject, a label to relabel...)."""

    status = 400


class PagesUnavailable(ReviewError):
    """A document's page cannot be read from the object store now (unreachable, gone, or altered)."""

    status = 503


class ReviewerExists(ReviewError):
    def __init__(self, username: str, tenant: str) -> None:
        super().__init__(f"tenant {tenant} already has a reviewer named {username!r}")


class ReviewerNotFound(ReviewError):
    def __init__(self, username: str, tenant: str) -> None:
        super().__init__(f"tenant {tenant} has no reviewer named {username!r}")


class WeakPassword(ReviewError):
    """Too short to resist guessing."""
