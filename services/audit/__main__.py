"""`python -m services.audit`: record every catalogue topic in the audit trail and serve the auditor API."""

from __future__ import annotations

from aios.audit.service import audit_worker
from aios.audit.settings import AuditSettings
from aios.runtime.entry import start_worker


def main() -> None:
    start_worker(AuditSettings(), audit_worker, port_field="port")


if __name__ == "__main__":
    main()
