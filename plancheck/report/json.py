"""The run as JSON (``CheckRun.to_json``) and read back, so reports can be re-rendered from a saved run.

Control-point arrays (``ParamTable.deliveries``) are not part of the saved run:
reports never draw them, and the figures made from them travel as file paths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.report.view import ReportError
from plancheck.table import ParamTable, SchemaError

_RESULT_FIELDS = ("id", "name", "origin", "message", "beam", "param", "details", "figures")


def write_json(run: CheckRun, path: str | Path) -> Path:
    """Write ``run.to_json()`` to ``path`` (folders made as needed) and return the path."""
    path = Path(path)
    try:
        return run.save_json(path)
    except OSError as exc:
        raise ReportError(f"cannot write the run ({exc.strerror})", where=str(path), fix="choose a folder you can write to") from None


def load_run(path: str | Path) -> CheckRun:
    """Read a run written by :func:`write_json`; a ReportError names the file and what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot read the saved run ({exc.strerror})", where=str(path), fix="give the .json file plancheck wrote") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", where=str(path), fix="give the .json file plancheck wrote") from None
    return run_from_dict(data, where=str(path))


def run_from_dict(data: Any, where: str = "saved run") -> CheckRun:
    """The inverse of ``CheckRun.to_dict``."""
    if not isinstance(data, dict):
        raise ReportError("a saved run is a JSON object", where=where)
    missing = [k for k in ("patient_id", "plan", "check_kind", "rule_set", "results", "table") if k not in data]
    if missing:
        raise ReportError(f"not a plancheck run: no {', '.join(missing)}", where=where, fix="give the .json file plancheck wrote")
    try:
        table = ParamTable.from_records(data["table"])
    except (SchemaError, TypeError, AttributeError) as exc:
        raise ReportError(f"table row does not fit this plancheck's vocabulary: {exc}", where=where, fix="read it with the plancheck version that wrote it") from None
    table.source_errors.update(data.get("source_errors") or {})
    results = [_result(r, i, where) for i, r in enumerate(data["results"])]
    return CheckRun(
        patient_id=data["patient_id"],
        plan=data["plan"],
        check_kind=data["check_kind"],
        rule_set=data["rule_set"],
        table=table,
        results=results,
        created=data.get("created", ""),
        version=data.get("version", ""),
        warnings=list(data.get("warnings") or []),
        as_of=str(data.get("as_of") or ""),
    )


def _result(record: Any, index: int, where: str) -> CheckResult:
    try:
        status = Status(record["status"])
        fields = {k: record[k] for k in _RESULT_FIELDS if k in record}
        if "origin" not in fields and "kind" in record:  # runs saved before the rename called it kind
            fields["origin"] = record["kind"]
        return CheckResult(status=status, **fields)
    except (KeyError, ValueError, TypeError) as exc:
        raise ReportError(f"result {index} is not a check result ({exc})", where=where) from None
