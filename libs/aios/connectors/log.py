"""`log.<operation>`: records the action in the service log and does nothing else.

For policies that only want a trace of what would happen, and for measuring the act pipeline
without a downstream system. Parameter values are left out of the log: they may hold personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from aios.connectors.base import ActionRequest, ActionResult, ConfiguredConnector, ConnectorConfig
from aios.connectors.policy import RetryPolicy

log = logging.getLogger(__name__)


class LogConnector(ConfiguredConnector[ConnectorConfig]):
    name: ClassVar[str] = "log"
    config_model = ConnectorConfig
    default_policy: ClassVar[RetryPolicy] = RetryPolicy(attempts=1, timeout_s=5.0)

    async def execute(self, request: ActionRequest, config: Mapping[str, Any], policy: RetryPolicy) -> ActionResult:
        log.info(
            "action %s %s for event %s of tenant %s (parameters: %s)",
            request.action_type,
            request.action_id,
            request.event_id,
            request.tenant_id,
            ", ".join(sorted(request.params)) or "none",
        )
        return ActionResult(f"log:{request.action_id}")
