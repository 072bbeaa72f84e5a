"""Python SDK for the ingest API: submit events from RPA bots and systems, with safe retries.

with AiosClient("https://aios.example.com", api_key) as aios:
    event_id = aios.submit("support.ticket", "I was charged twice", {"customer": "C-1182"})
    answer = aios.submit("support.ticket", "Is my card blocked?", wait=5)   # the outcome, if it comes in 5 s
    if answer.outcome is not None and answer.outcome["kind"] == "decided": ...
"""

from aios.client.async_ import AsyncAiosClient
from aios.client.errors import ClientError, EventNotFound, Reason, SubmitFailed, SubmitRejected
from aios.client.protocol import Submitted
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
    "Submitted",
]
