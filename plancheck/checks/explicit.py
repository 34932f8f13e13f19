"""Explicit automatic checks declared in rule sets, and manual items.

An expression check is evaluated once for the patient, or once per beam,
delivery record or QCL task (``for_each``). Per-beam checks give one result per
beam, so a warning names its beam; per-record checks give one result that lists
the records at fault, each also as data (``details["findings"]``: item, status,
message). A check never raises: what it cannot evaluate ends as ``error`` with the reason.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from plancheck.checks.context import CheckContext
from plancheck.checks.check_types import CHECK_TYPES
from plancheck.checks.results import CheckResult, Status, worst
from plancheck.checks.scope import PRIORITY, TableScope, plan_beams, treatment_beams
from plancheck.rules.expr import ExprError, MissingValue
from plancheck.rules.model import ManualItem, RuleCheck

log = logging.getLogger(__name__)
_FIELD = re.compile(r"\{(\w+)\}")


def _format(template: str, scope: TableScope) -> str:
    def one(match: re.Match[str]) -> str:
        try:
            value: Any = scope.lookup(match.group(1))
        except ExprError:
            return match.group(0)
        return f"{value:g}" if isinstance(value, float) else str(value)

    return _FIELD.sub(one, template)


def _entities(check: RuleCheck, ctx: CheckContext) -> list[tuple[str, str, str]]:
    """(beam, item, item_scope) for each evaluation of the check."""
    table = ctx.table
    match check.for_each:
        case None:
            return [("", "", "")]
        case "treatment_beam" | "beam":
            beams = treatment_beams(table) if check.for_each == "treatment_beam" else plan_beams(table)[1]
            keep = ctx.beam_filter or (lambda _: True)
            return [(b, "", "") for b in beams if keep(b)]
        case "document":  # every report read (plan PDF, second check): each a document of its own
            return [("", i, "document") for i in table.items("document")]
        case scope:
            # the records of the most authoritative source that keeps them (MOSAIQ's history
            # before a linac log): one source's records, never a mix of two views of one event
            source = next((s for s in PRIORITY if table.items(scope, s)), None)
            items = table.items(scope, source) if source else []
            beam_of = {r.item: r.beam for r in table.select(scope=scope, source=source)}
            return [(beam_of.get(i, ""), i, scope) for i in items]


def _evaluate(check: RuleCheck, scope: TableScope) -> tuple[Status, str]:
    try:
        if check.when is not None and not check.when.evaluate(scope):
            return Status.NOT_APPLICABLE, "does not apply"
        assert check.expect is not None
        ok = check.expect.evaluate(scope)
    except MissingValue as exc:
        return Status.ERROR, f"cannot check: {exc}"
    except ExprError as exc:
        return Status.ERROR, f"cannot evaluate {check.expect.text if check.expect else ''!r}: {exc}"
    except Exception as exc:
        log.debug("check %s failed to evaluate", check.id, exc_info=True)
        return Status.ERROR, f"cannot evaluate: {exc.__class__.__name__}: {exc}"
    if ok:
        return Status.PASS, ""
    text = _format(check.message, scope) if check.message else f"expected {check.expect.text}"
    return (Status.WARN if check.level == "warn" else Status.FAIL), text


def _result(check: RuleCheck, status: Status, message: str, beam: str = "", **details: Any) -> CheckResult:
    return CheckResult(
        id=check.id, name=check.name, origin="explicit", status=status, message=message, beam=beam,
        details={"declared_at": check.origin, "reference": check.reference, **details},
    )


def run_expression(check: RuleCheck, ctx: CheckContext) -> list[CheckResult]:
    entities = _entities(check, ctx)
    if not entities:
        return [_result(check, Status.NOT_APPLICABLE, f"no {check.for_each} records to check")]
    outcomes = [(beam, item, *_evaluate(check, ctx.scope(beam, item, item_scope))) for beam, item, item_scope in entities]
    if check.for_each in ("beam", "treatment_beam"):
        return [_result(check, status, f"beam {beam}: {msg}" if msg else f"beam {beam}", beam) for beam, _, status, msg in outcomes]
    if check.for_each is None:
        _, _, status, msg = outcomes[0]
        return [_result(check, status, msg)]
    status = worst([s for _, _, s, _ in outcomes])
    if status == Status.NOT_APPLICABLE:
        return [_result(check, status, f"no {check.for_each} record it applies to")]
    # each record at fault as data: a view names the record as people know it without parsing the message
    findings = [{"item": item, "status": s.value, "message": msg} for _, item, s, msg in outcomes if s in (Status.FAIL, Status.WARN, Status.ERROR)]
    checked = sum(1 for *_, s, _ in outcomes if s != Status.NOT_APPLICABLE)
    message = "; ".join(f"{f['item']}: {f['message']}" for f in findings) if findings else f"{checked} {check.for_each} record(s) checked"
    return [_result(check, status, message, findings=findings)]


def run_check(check: RuleCheck, ctx: CheckContext) -> list[CheckResult]:
    """Run one explicit check of any type; never raises."""
    if check.type == "expression":
        return run_expression(check, ctx)
    try:
        return CHECK_TYPES[check.type](check, ctx)
    except Exception as exc:
        log.debug("check %s (%s) raised", check.id, check.type, exc_info=True)
        return [_result(check, Status.ERROR, f"{check.type} could not run: {exc}")]


def manual_result(item: ManualItem) -> CheckResult:
    return CheckResult(id=item.id, name=item.text, origin="manual", status=Status.MANUAL, message="to tick by hand", details={"declared_at": item.origin})
