"""The demo clinic's chart-check record: two users and last week's signed weekly check of 00017R.

Last week's check is the real weekly check of 00017R on what MOSAIQ and the linac held seven days
before the demo's today (deliveries and recordings after that day left out), judged by the demo
physicist and signed, all dated relative to the day the demo is built. So this week's check shows
what happened since as new (the override, the treatment break, the overdue task, the leaf pair off
at the linac) and last week's findings folded, with who judged them and when. The users' passwords
are made at random for each build and returned, to be shown once: they are stored nowhere.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from plancheck.api import check_table
from plancheck.collector import collect
from plancheck.config import Config
from plancheck.demo.patients import DEMO_TODAY
from plancheck.record.db import open_record, results_url, session
from plancheck.record.findings import dispose, review
from plancheck.record.models import User
from plancheck.record.signoff import ready_to_sign, seal, tick
from plancheck.record.store import store_run
from plancheck.record.users import add_user, get_user
from plancheck.table import ParamTable

PATIENT = "00017R"
USERS = (("morgan", "admin", "Morgan Demo (QA lead)"), ("alice", "physicist", "Alice Demo"))
SIGNER = "alice"
MEANING = "weekly chart check reviewed"
# last week's judgements, by check: (verdict, assignee, comment); the rest are acknowledged
JUDGEMENTS = {
    "delivery.no_qa_mode": ("accepted", "", "fraction 2 was delivered in QA mode after a console restart; the dose was given, confirmed with the therapists"),
    "rx.approved": ("to_be_fixed", "Dr. Demo", "prescription to be approved before the next fraction"),
    "rx.cumulative_dose": ("acknowledged", "", "dose summary follows the fractions recorded; rechecked at the next weekly check"),
    "second_check.within_tolerance": ("to_be_fixed", "dosimetry", "RadCalc to be repeated on the approved plan"),
}
FIX_IN_MOSAIQ = ("to_be_fixed", "dosimetry", "MOSAIQ field data to be corrected from the approved plan")


@dataclass(frozen=True)
class DemoRecord:
    url: str
    passwords: dict[str, str]  # shown once by `plancheck demo`, stored nowhere
    signed_run: int
    signed_at: dt.datetime


def table_as_of(table: ParamTable, when: dt.datetime) -> ParamTable:
    """``table`` as it stood at ``when``: delivery records and linac recordings made after it left out."""
    later = {(r.source, r.item) for r in table.rows if r.scope == "delivery" and r.param == "delivered_at" and str(r.value) > when.isoformat()}
    out = table.copy()
    out.rows = [r for r in table.rows if (r.source, r.item) not in later]
    out.recordings = [(src, rec) for src, rec in table.recordings if rec.start <= when]
    emptied = {src for src, _ in table.recordings} - {src for src, _ in out.recordings}
    out.deliveries = {key: d for key, d in table.deliveries.items() if key[0] not in emptied}
    return out


def _aware(when: dt.datetime) -> dt.datetime:
    return when.astimezone()  # the demo's clinic time is the machine's local time


def _judge(s: Session, run_id: int, user: User, at: dt.datetime) -> None:
    for n, view in enumerate(review(s, run_id).new):
        check_id = view.result.check_id
        verdict, assignee, comment = JUDGEMENTS.get(check_id, FIX_IN_MOSAIQ if check_id.startswith("implicit.") else ("acknowledged", "", "reviewed"))
        d = dispose(s, view.finding.id, verdict=verdict, comment=comment, assignee=assignee, user=user, run_id=run_id)
        d.created = at + dt.timedelta(minutes=n)
    for m in review(s, run_id).manual:
        tick(s, run_id, m.result.check_id, ticked=True, user=user).created = at + dt.timedelta(minutes=30)


def build_demo_record(config: Config, today: dt.datetime = DEMO_TODAY) -> DemoRecord:
    """Make the demo's record afresh (a SQLite file is replaced): two users, and last week's signed weekly check of 00017R."""
    last_week = today - dt.timedelta(days=7)
    url = results_url(config)
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database:
        Path(database).unlink(missing_ok=True)  # rebuilt each time, as the clinic
    engine = open_record(url)
    passwords = {name: secrets.token_urlsafe(9) for name, _, _ in USERS}
    table = table_as_of(collect(PATIENT, None, config), last_week)
    run = check_table(table, patient_id=PATIENT, kind="weekly", config=config, today=last_week)
    with session(engine) as s:
        admin: User | None = None
        for name, role, display in USERS:
            added = add_user(s, name, role=role, password=passwords[name], display_name=display, actor=admin)
            admin = admin or added
        signer = get_user(s, SIGNER)
        stored, _ = store_run(s, run, as_of=_aware(last_week), created_by="batch")
        stored.created = _aware(last_week - dt.timedelta(hours=6))  # the nightly batch, 02:00
        _judge(s, stored.id, signer, _aware(last_week + dt.timedelta(hours=1)))
        signed_at = _aware(last_week + dt.timedelta(hours=2))
        seal(s, ready_to_sign(s, stored.id), signer=signer, meaning=MEANING, config=config, signed_at=signed_at)
        run_id = stored.id
    engine.dispose()
    return DemoRecord(url, passwords, run_id, signed_at)
