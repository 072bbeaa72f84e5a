"""`python -m services.audit`: record every aios.* topic in the audit trail and serve the auditor API."""

from __future__ import annotations

from aios.audit.service import SERVICE, run_audit
from aios.audit.settings import AuditSettings
from aios.runtime.entry import run_service


def main() -> None:
    run_service(AuditSettings(), "port", run_audit, tracing=SERVICE)


if __name__ == "__main__":
    main()
