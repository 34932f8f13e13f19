"""Collect the patient's parameters from every configured source into one table.

Sources are read in a fixed order (MOSAIQ first: it picks the plan when none is
named). A source that fails records its error in the table and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from plancheck.config import Config
from plancheck.delivery.timing import add_model_rows
from plancheck.errors import ConnectionFailed, PatientNotFound, SourceError
from plancheck.registry import BY_NAME, PLAN_SOURCES, PRIORITY, reader
from plancheck.sources import Reading, Request
from plancheck.table import ParamTable, SchemaError

log = logging.getLogger(__name__)

Reader = Callable[[Request], Reading | None]


def readers() -> dict[str, Reader]:
    """Every source with a reader, in reading order: the most authoritative first (it picks the plan)."""
    return {name: reader(name) for name in PRIORITY if BY_NAME[name].reader is not None}


def collect(patient_id: str, plan: str | None = None, config: Config | None = None, only: tuple[str, ...] = ()) -> ParamTable:
    """The collected table for one patient (and plan); PatientNotFound when no source knows them.

    Nothing vanishes silently: a source that cannot be read, or a configured plan source that holds
    nothing for the patient, is a source error (the run cannot pass); a delivery source that holds
    nothing is a warning (no delivery may be due yet).
    """
    config = config or Config()
    table = ParamTable()
    request = Request(str(patient_id).strip(), plan, config, collected=table)
    not_found: dict[str, str] = {}
    empty: set[str] = set()
    for name, read in readers().items():
        if only and name not in only:
            continue
        try:
            reading = read(request)
        except PatientNotFound as exc:
            not_found[name] = exc.message
            continue
        except SourceError as exc:
            table.source_errors[name] = exc.message
            continue
        except ConnectionFailed as exc:  # MOSAIQ, or the documents a source finds through it (said so by its finder): the other sources still run
            table.source_errors[name] = exc.message
            continue
        except Exception as exc:
            log.debug("source %s raised", name, exc_info=True)
            table.source_errors[name] = f"{name} could not be read: unexpected {exc.__class__.__name__}: {exc}; run with --verbose and report it"
            continue
        if reading is not None and not _take(table, name, reading, request):
            empty.add(name)
    _finish(table, patient_id, not_found, empty)
    try:
        add_model_rows(table, config)
    except (ValueError, SchemaError) as exc:
        table.warnings.append(f"delivery-time model: {exc}")
    return table


def _take(table: ParamTable, name: str, reading: Reading, request: Request) -> bool:
    """Add one source's reading to the table (False when it held nothing: named, never dropped in silence)."""
    for warning in reading.warnings:
        log.warning("%s: %s", name, warning)
        table.warnings.append(f"{name}: {warning}")
    if not reading.rows:
        what = f"configured, but holds nothing for patient {request.patient_id}" + (f" (plan {request.plan})" if request.plan else "")
        if name in PLAN_SOURCES:
            table.source_errors[name] = what + ("; " + "; ".join(reading.warnings) if reading.warnings else "")
        else:
            table.warnings.append(f"{name}: {what}")
        return False
    try:
        table.extend(reading.rows)
    except SchemaError as exc:
        table.source_errors[name] = f"{name} produced a row outside the schema: {exc}"
        return True
    table.deliveries.update({(name, beam): d for beam, d in reading.deliveries.items()})
    table.recordings += [(name, rec) for rec in reading.recordings]
    if request.plan is None:
        request.plan = table.value("plan_label", source=name, scope="prescription")
    return True


def _finish(table: ParamTable, patient_id: str, not_found: dict[str, str], empty: set[str]) -> None:
    """PatientNotFound when no source holds the patient; otherwise who did not is added to the source errors."""
    if not table.rows:
        unread = set(table.source_errors) - empty
        if not_found or (empty and not unread):
            reasons = [*not_found.values(), *(f"{k}: {table.source_errors.get(k, 'holds nothing')}" for k in sorted(empty))]
            raise PatientNotFound("; ".join(reasons), fix="check the patient ID as MOSAIQ shows it (IDA), with its leading zeros")
        if table.source_errors:
            raise SourceError("no source could be read: " + "; ".join(f"{k}: {v}" for k, v in table.source_errors.items()))
        raise PatientNotFound(f"no source holds patient {patient_id!r}", fix="check the ID, and that plancheck.toml names your MOSAIQ and folders")
    table.source_errors.update(not_found)
