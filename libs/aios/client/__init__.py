"""Python SDK for the ingest API: submit events from RPA bots and systems, with safe retries.

with AiosClient("https://aios.example.com", api_key) as aios:
    event_id = aios.submit("support.ticket", "I was charged twice", {"customer": "C-1182"})
"""

from aios.client.async_ import AsyncAiosClient
from aios.client.errors import ClientError, EventNotFound, Reason, SubmitFailed, SubmitRejected
from aios.client.retry import RetryPolicy
from aios.client.sync import AiosClient

__all__ = [
    "AiosClient",
    "AsyncAiosClient",
    "ClientError",
    "EventNotFound",
    "Reason",
    "RetryPolicy",
    "SubmitFailed",
    "SubmitRejected",
]
