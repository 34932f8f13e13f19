"""What makes a result a finding, which finding it is, and which of its values a disposition judged."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from plancheck.record.models import Disposition, Finding, Result

FINDING_STATUSES = ("fail", "warn", "error")
NEEDS_DISPOSITION = ("fail", "error")  # a warning may be judged; a failure, or a check that could not run, must be before signing
_VALUE_KEYS = ("values", "items", "pass_percent", "max_gamma", "delivery")


def is_finding(result: Result) -> bool:
    return result.origin != "manual" and result.status in FINDING_STATUSES


def item_of(result: Result) -> str:
    """What in the check the result is about: the parameter compared, else the check's own item."""
    return result.param or str(result.details.get("item", "") or "")


def values_hash(result: Result) -> str:
    """SHA-256 of what the result found (status, message and the values in its details), not of when."""
    what: dict[str, Any] = {"status": result.status, "message": result.message}
    what.update({k: result.details[k] for k in _VALUE_KEYS if k in result.details})
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def valid_disposition(finding: Finding, hashed: str) -> Disposition | None:
    """The latest disposition that judged exactly these values of the finding."""
    return next((d for d in reversed(finding.dispositions) if d.values_hash == hashed), None)


def latest_disposition(finding: Finding) -> Disposition | None:
    return finding.dispositions[-1] if finding.dispositions else None
