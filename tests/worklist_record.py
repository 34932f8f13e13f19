"""Signed checks in a results database, for worklist and batch tests (the record helper's sign() does
the same with a password and a PDF; here only the rows the worklist reads)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.engine import Engine

from plancheck.record.db import session
from plancheck.record.models import Run, Signature, User


def sign(engine: Engine, patient_id: str, prescription: str, kind: str, as_of: dt.datetime) -> int:
    """A signed run of ``kind`` for the patient's prescription, checked as of ``as_of`` (naive local time); its id."""
    when = as_of.astimezone()
    with session(engine) as s:
        user = s.scalars(select(User).where(User.username == "curie")).first()
        if user is None:
            user = User(username="curie", role="physicist", display_name="Marie Curie")
            s.add(user)
            s.flush()
        run = Run(patient_id=patient_id, prescription=prescription, check_kind=kind, as_of=when, created_by="curie", fingerprint=f"test-{kind}-{as_of}",
                  passed=True)
        s.add(run)
        s.flush()
        s.add(Signature(run_id=run.id, user_id=user.id, signed_at=when + dt.timedelta(hours=2), meaning=f"{kind} chart check reviewed"))
        return run.id
