"""Closing a run: manual checks ticked, every failure judged, then the electronic signature.

The elements of 21 CFR 11.50 and 11.200: a unique user who gives their password again at signing, the
time, and the signature's meaning; the signed record is written as a PDF to the eSCAN folder for MOSAIQ
and an audit entry is added. A signed run never changes (the service refuses first; the database's
triggers refuse behind it); a correction is an amendment, a new open run that names the signed one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from plancheck.paths import format_name, path_in
from plancheck.record.audit import audit
from plancheck.record.errors import RecordRefused, RecordUsageError, SignedRunFrozen, SignOffRefused
from plancheck.record.models import ManualTick, Result, Run, RunFinding, Signature, User, utcnow
from plancheck.record.review import Review, build_review
from plancheck.record.signed_pdf import local, write_signed_pdf
from plancheck.record.store import get_run
from plancheck.record.users import authenticate, require

if TYPE_CHECKING:
    from plancheck.config import Config

SIGNED_NAME = "{patient_id}_{kind}_check_{date}_run{run}.pdf"  # [escan] signed_file_name


def refuse_if_signed(s: Session, run: Run) -> None:
    """A clear refusal before the database's own trigger would refuse."""
    if run.state != "signed":
        return
    sig = s.scalars(select(Signature).where(Signature.run_id == run.id)).first()
    by = f" by {sig.user.username} on {local(sig.signed_at)}" if sig else ""
    raise SignedRunFrozen(f"run {run.id} is signed{by} and cannot change", fix=f"record an amendment: plancheck amend {run.id} --reason ...")


def tick(s: Session, run_id: int, check_id: str, *, ticked: bool, user: User) -> ManualTick:
    """Tick (or untick) a manual check of an open run; who and when are stored, the latest tick counts."""
    require(user, "physicist")
    run = get_run(s, run_id)
    refuse_if_signed(s, run)
    manual = [r.check_id for r in run.results if r.origin == "manual"]
    if check_id not in manual:
        raise RecordUsageError(f"run {run_id} has no manual check {check_id!r}", fix=f"use one of {', '.join(manual) or '(none)'}")
    mark = ManualTick(run_id=run.id, check_id=check_id, ticked=ticked, user_id=user.id)
    s.add(mark)
    s.flush()
    audit(s, user.username, "manual.tick" if ticked else "manual.untick", f"run {run.id}", check=check_id)
    return mark


def signed_pdf_path(run: Run, config: Config, when: dt.datetime) -> Path:
    """Where the signed record goes: the eSCAN folder (else [folders] output/signed), named by ``[escan] signed_file_name``."""
    folder = config.escan_dir or config.output_dir / "signed"
    template = str(config.extra.get("escan", {}).get("signed_file_name", SIGNED_NAME))
    name = format_name(template, patient_id=run.patient_id, kind=run.check_kind, date=f"{when.astimezone():%Y%m%d}", run=run.id)
    path, n = path_in(folder, name), 1
    while path.exists():  # a pattern without {run}: never overwrite an earlier signed record
        n += 1
        path = path_in(folder, f"{Path(name).stem}_{n}{Path(name).suffix}")
    return path


def ready_to_sign(s: Session, run_id: int) -> Review:
    """The run's review when it may be signed; refused while it is signed already, a failing result lacks a
    disposition or a manual check is unticked (asked before the password, so no one types it in vain)."""
    run = get_run(s, run_id)
    refuse_if_signed(s, run)
    review = build_review(s, run.id)
    blockers = review.blockers()
    if blockers:
        raise SignOffRefused(f"run {run.id} cannot be signed yet: {'; '.join(blockers)}",
                             fix=f"plancheck dispose FINDING --as VERDICT --comment ...; plancheck tick {run.id} CHECK")
    return review


def sign(s: Session, run_id: int, *, user: User, password: str, meaning: str, config: Config) -> Signature:
    """Sign an open run after checking ``user``'s password again; refused while a failing result lacks a
    disposition or a manual check is unticked. Writes the signed PDF to eSCAN and an audit entry."""
    review = ready_to_sign(s, run_id)
    signer = authenticate(s, user.username, password, config)
    return seal(s, review, signer=signer, meaning=meaning, config=config, signed_at=utcnow())


def seal(s: Session, review: Review, *, signer: User, meaning: str, config: Config, signed_at: dt.datetime) -> Signature:
    """Record the signature of a run found ready (:func:`ready_to_sign`) by an authenticated ``signer``: the
    PDF, the signature row, the run's state, the audit entry. Only :func:`sign` and the demo's history call it."""
    require(signer, "physicist")
    if not meaning.strip():
        raise RecordUsageError("a signature needs its meaning", fix="e.g. --meaning 'weekly chart check reviewed'")
    run = review.run
    path = signed_pdf_path(run, config, signed_at)
    partial = path.with_name(path.name + ".part")  # eSCAN imports *.pdf: nothing appears there before the record holds the signature
    write_signed_pdf(review, signer=signer, signed_at=signed_at, meaning=meaning.strip(), path=partial)
    try:
        digest = hashlib.sha256(partial.read_bytes()).hexdigest()
        signature = Signature(run_id=run.id, user_id=signer.id, signed_at=signed_at, meaning=meaning.strip(), pdf_path=str(path), pdf_sha256=digest)
        s.add(signature)
        s.flush()
        run.state = "signed"
        audit(s, signer.username, "run.sign", f"run {run.id}", meaning=meaning.strip(), signed_at=signed_at.isoformat(), pdf=str(path), sha256=digest)
        s.flush()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    return signature


def amend(s: Session, run_id: int, *, user: User, reason: str) -> Run:
    """A correction of a signed run: a new open run with the same results and findings that names it
    (``amends_id``); judge, tick and sign it as any run. The signed run stays as it was."""
    require(user, "physicist")
    if not reason.strip():
        raise RecordUsageError("an amendment needs a reason", fix="e.g. --reason 'disposition of finding 12 was wrong'")
    signed = get_run(s, run_id)
    if signed.state != "signed":
        raise RecordUsageError(f"run {run_id} is not signed; change it directly", fix=f"plancheck review {run_id}")
    pending = s.scalars(select(Run).where(Run.amends_id == signed.id, Run.state == "open")).first()
    if pending is not None:
        raise RecordRefused(f"run {run_id} already has an open amendment, run {pending.id}", fix=f"plancheck review {pending.id}")
    copy = Run(patient_id=signed.patient_id, prescription=signed.prescription, check_kind=signed.check_kind, as_of=signed.as_of,
               created_by=user.username, rule_set=signed.rule_set, version=signed.version, fingerprint=signed.fingerprint, passed=signed.passed,
               counts=dict(signed.counts), sources=dict(signed.sources), source_errors=dict(signed.source_errors), warnings=list(signed.warnings),
               payload=signed.payload, report_dir=signed.report_dir, amends_id=signed.id)
    s.add(copy)
    s.flush()
    s.add_all(Result(run_id=copy.id, position=r.position, check_id=r.check_id, name=r.name, origin=r.origin, status=r.status, beam=r.beam,
                     param=r.param, message=r.message, details=r.details, finding_id=r.finding_id) for r in signed.results)
    changes = s.scalars(select(RunFinding).where(RunFinding.run_id == signed.id))
    s.add_all(RunFinding(run_id=copy.id, finding_id=rf.finding_id, change=rf.change) for rf in changes)
    s.flush()
    audit(s, user.username, "run.amend", f"run {copy.id}", amends=signed.id, reason=reason.strip())
    return copy
