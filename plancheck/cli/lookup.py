"""Collect a patient for a command, with the slips a person makes turned into usage errors that help.

An unknown ``--plan`` stops before any check runs (exit 2) and lists the patient's plans; an
unknown patient ID names the IDs that read the same but for case and leading zeros, from
MOSAIQ's Ident table and the configured folder sources' patient folders.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from plancheck.errors import ConnectionFailed, PatientNotFound, PlancheckError, SourceError

if TYPE_CHECKING:
    from plancheck.config import Config
    from plancheck.table import ParamTable


def collect_patient(patient_id: str, plan: str | None, cfg: Config) -> ParamTable:
    """``collect``, but an unknown plan is a usage error and an unknown ID suggests near matches."""
    from plancheck.collector import collect

    if plan:
        _plan_known_to_mosaiq(patient_id, plan, cfg)
    try:
        table = collect(patient_id, plan, cfg)
    except PatientNotFound:
        near = near_ids(patient_id, cfg)
        if not near:
            raise
        raise PatientNotFound(f"no source holds patient {patient_id!r}", fix=f"did you mean {' or '.join(near)}?") from None
    if plan:
        labels = sorted({str(r.value) for r in table.select(param="plan_label") if r.value})
        if labels and plan.casefold() not in {label.casefold() for label in labels}:
            raise _unknown_plan(patient_id, plan, labels)
    return table


def _unknown_plan(patient_id: str, plan: str, names: list[str]) -> PlancheckError:
    listed = ", ".join(repr(n) for n in names) or "none"
    return PlancheckError(f"patient {patient_id} has no plan named {plan!r} (plans: {listed})", fix="pass --plan with one of them, or leave it out")


def _plan_known_to_mosaiq(patient_id: str, plan: str, cfg: Config) -> None:
    """Usage error when MOSAIQ holds the patient but no current prescription named ``plan``; unreadable MOSAIQ: left to collect."""
    if not cfg.mosaiq_url:
        return
    from plancheck.sources.mosaiq.connect import open_mosaiq
    from plancheck.sources.mosaiq.lookup import plan_names

    try:
        names = plan_names(open_mosaiq(cfg.mosaiq_url, cfg.mosaiq_timeout_s), patient_id)
    except (SourceError, ConnectionFailed):
        return  # collect reports it, once, with the other sources
    if names is not None and plan not in names:
        raise _unknown_plan(patient_id, plan, names)


def near_ids(patient_id: str, cfg: Config) -> list[str]:
    """Patient IDs that equal ``patient_id`` but for case and leading zeros, from MOSAIQ and the folder sources."""
    from plancheck.sources.mosaiq.lookup import MAX_SUGGESTIONS, id_core, near_patient_ids

    found: set[str] = set()
    if cfg.mosaiq_url:
        from plancheck.sources.mosaiq.connect import open_mosaiq

        with contextlib.suppress(SourceError, ConnectionFailed):  # the run already said MOSAIQ could not be read
            found.update(near_patient_ids(open_mosaiq(cfg.mosaiq_url, cfg.mosaiq_timeout_s), patient_id))
    core = id_core(patient_id)
    found.update(n for n in folder_ids(cfg) if id_core(n) == core)
    found.discard(patient_id)
    return sorted(found)[:MAX_SUGGESTIONS]


def folder_ids(cfg: Config) -> set[str]:
    """Patient IDs as the folder sources file them: ``<ID>``, ``<ID>_<NAME>`` (iCOM, TRF) or ``<NAME>~<ID>`` (Monaco), two levels deep."""
    roots = [d for d in (cfg.dicom_dir, cfg.monaco_dir, cfg.trf_dir, cfg.icom_dir and cfg.icom_dir / "patients") if d is not None]
    ids: set[str] = set()
    for root in roots:
        for folder in _dirs(root, depth=2):
            name = folder.name
            ids.update({name, name.partition("_")[0], name.rpartition("~")[2]})
    return ids


def _dirs(root: Path, depth: int) -> list[Path]:
    try:
        found = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return []
    return found + [q for p in found for q in _dirs(p, depth - 1)] if depth > 1 else found
