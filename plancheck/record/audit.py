"""The append-only audit log: every change to the record writes one entry (the database refuses edits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from plancheck.record.models import AuditEntry


def audit(s: Session, username: str, action: str, target: str = "", **detail: Any) -> AuditEntry:
    """Add an audit entry: ``action`` like ``run.store``, ``finding.dispose``, ``run.sign``, ``user.add``;
    ``target`` like ``run 12``. Never put a password or patient data beyond IDs into ``detail``."""
    entry = AuditEntry(username=username, action=action, target=target, detail=detail)
    s.add(entry)
    return entry
