"""A real SMTP server (aiosmtpd) that keeps what it receives; it can refuse the first messages with a 4xx."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.http_target import free_port


class _Handler:
    def __init__(self, refuse_first: int, refusal: str) -> None:
        self.refuse_first = refuse_first
        self.refusal = refusal
        self.messages: list[Message] = []
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refused < self.refuse_first:
            self.refused += 1
            return self.refusal
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpSink:
    def __init__(self, refuse_first: int = 0, refusal: str = "451 4.3.0 try again later") -> None:
        self.handler = _Handler(refuse_first, refusal)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
