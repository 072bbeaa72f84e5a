"""`email.<operation>`: send a message over SMTP (parameters `to`, `subject`, `body`, optional `cc`).

The action id becomes the message's `Message-ID` (and `X-AIOS-Action-Id`), the key mail systems
and receivers deduplicate by. smtplib runs on a worker thread, bounded by the policy's timeout.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from aios.connectors.base import ActionRequest, ActionResult, ConfiguredConnector, ConnectorConfig
from aios.connectors.errors import InvalidActionError, RemoteRefused, TransportError
from aios.connectors.policy import SMTP_RETRYABLE, RetryPolicy

MESSAGE_ID_DOMAIN = "aios.act"


class EmailConfig(ConnectorConfig):
    host: str = Field(description="SMTP server.")
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(description="From address.")
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before sending.")


def message_id(action_id: str) -> str:
    return f"<{action_id}@{MESSAGE_ID_DOMAIN}>"


def build_message(request: ActionRequest, sender: str) -> EmailMessage:
    to = request.params.get("to", "").strip()
    if not to:
        raise InvalidActionError(f"{request.action_type} needs a `to` parameter")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if request.params.get("cc"):
        message["Cc"] = request.params["cc"]
    message["Subject"] = request.params.get("subject", "")
    message["Message-ID"] = message_id(request.action_id)
    message["X-AIOS-Action-Id"] = request.action_id
    message["X-AIOS-Event-Id"] = request.event_id
    message.set_content(request.params.get("body", ""))
    return message


class EmailConnector(ConfiguredConnector[EmailConfig]):
    name: ClassVar[str] = "email"
    config_model = EmailConfig
    default_policy: ClassVar[RetryPolicy] = RetryPolicy(
        attempts=6,
        base_delay_s=5.0,
        max_delay_s=300.0,
        deadline_s=3600.0,
        timeout_s=30.0,
        retryable_statuses=SMTP_RETRYABLE,
    )

    async def execute(self, request: ActionRequest, config: Mapping[str, Any], policy: RetryPolicy) -> ActionResult:
        parsed = self.parse(config)
        message = build_message(request, parsed.sender)
        await asyncio.to_thread(_send, parsed, message, policy.timeout_s)
        return ActionResult(message_id(request.action_id))


def _send(config: EmailConfig, message: EmailMessage, timeout_s: float) -> None:
    where = f"SMTP {config.host}:{config.port}"
    try:
        with smtplib.SMTP(config.host, config.port, timeout=timeout_s) as smtp:
            if config.starttls:
                smtp.starttls()
            if config.username and config.password is not None:
                smtp.login(config.username, config.password.get_secret_value())
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()))
        raise RemoteRefused(f"{where} refused the recipients: {code} {reason!r}", code) from None
    except smtplib.SMTPResponseException as exc:
        raise RemoteRefused(f"{where} answered {exc.smtp_code}: {exc.smtp_error!r}", exc.smtp_code) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransportError(f"{where}: {type(exc).__name__}: {exc}") from None
