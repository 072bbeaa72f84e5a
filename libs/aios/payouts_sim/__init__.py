"""A payout system for the demo and the tests: a small HTTP API like a payment provider's.

Create, get, list and cancel payouts; `Idempotency-Key` as Stripe has it (the same key and body
give the same payout, the same key with another body a 409); state in SQLite, so a restart keeps
every payout; faults on request (`/admin/faults`: refuse, fail N times, time out, answer slowly);
and a count of payouts per business reference (`/admin/stats`), the demo's "none made twice".
"""
