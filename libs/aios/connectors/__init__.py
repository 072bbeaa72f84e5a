"""Connectors: how act touches the world (webhook, HTTP APIs, ERP, payments, email, log), behind one interface.

Every connector gets the action id as the idempotency key of its effect and passes it downstream
(`Idempotency-Key` header, email `Message-ID`), so a repeated attempt is recognised by the receiver.
"""
