"""`python -m services.audit`: record every aios.* topic in the audit trail and serve the auditor API."""

from __future__ import annotations

import logging

from aios.audit.service import SERVICE, run_audit
from aios.audit.settings import AuditSettings
from aios.observability.tracing import configure_tracing
from aios.runtime.catalog import ServiceRuntime


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_tracing(SERVICE)
    settings = AuditSettings()
    run_audit(settings.model_copy(update={"port": ServiceRuntime().port_or(settings.port)}))


if __name__ == "__main__":
    main()
