"""Deliveries in a stream: where one delivered beam ends, and what it delivered.

One rule decides where a delivery ends, for the listener (which splits the live
stream into archives) and for the source (which splits archives that hold more
than one beam, e.g. pymedphys' archives): a message with no patient loaded, a
new patient, a new field ID, the MU counter going down, or a silence longer than
``gap_s`` between two messages.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol
from collections.abc import Sequence

import numpy as np

from plancheck.delivery.model import Delivery
from plancheck.delivery.recording import Recording
from plancheck.delivery.mudensity import relevant_control_points
from plancheck.errors import SourceError
from plancheck.sources.icom.reader import IcomRecord

GAP_S = 120.0
MU_RESET_TOLERANCE = 1e-6


class Key(Protocol):
    """What the rule needs of a message (an IcomRecord or the listener's light peek)."""

    @property
    def patient_id(self) -> str | None: ...
    @property
    def field_id(self) -> str | None: ...
    @property
    def mu(self) -> float | None: ...
    @property
    def timestamp(self) -> dt.datetime: ...


def boundary(prev: Key | None, cur: Key, gap_s: float = GAP_S) -> str | None:
    """Why ``cur`` does not continue the delivery ``prev`` belongs to, or None when it does."""
    if cur.patient_id is None:
        return "no patient loaded"
    if prev is None or prev.patient_id is None:
        return "delivery starts"
    if prev.patient_id != cur.patient_id:
        return f"patient changed ({prev.patient_id} to {cur.patient_id})"
    if prev.field_id != cur.field_id:
        return f"field changed ({prev.field_id} to {cur.field_id})"
    if prev.mu is not None and cur.mu is not None and cur.mu < prev.mu - MU_RESET_TOLERANCE:
        return f"MU counter went back ({prev.mu:g} to {cur.mu:g})"
    silence = (cur.timestamp - prev.timestamp).total_seconds()
    if silence > gap_s:
        return f"{silence:.0f} s without a message"
    return None


def split_records(records: Sequence[IcomRecord], gap_s: float = GAP_S) -> list[list[IcomRecord]]:
    """Runs of records that each make one delivered beam (messages with no patient are left out)."""
    runs: list[list[IcomRecord]] = []
    prev: IcomRecord | None = None
    for rec in records:
        reason = boundary(prev, rec, gap_s)
        if rec.patient_id is not None:
            if reason is None:
                runs[-1].append(rec)
            else:
                runs.append([rec])
        prev = rec
    return runs


def delivery_from_records(records: Sequence[IcomRecord], where: str = "iCOM stream") -> Delivery:
    """Control points as ``pymedphys.Delivery.from_icom`` builds them.

    MU is the sum of the counter's rises from 0 (a drop adds nothing), and time
    steps with no MU change on either side are left out.
    """
    beam = [r for r in records if r.mu is not None]
    if not beam:
        raise SourceError("no message carries a delivered-MU value", where=where, fix="is this a treatment delivery rather than an idle stream?")
    for r in beam:
        if r.gantry is None or r.collimator is None or not r.has_collimation:
            missing = "gantry" if r.gantry is None else "collimator" if r.collimator is None else "collimation"
            raise SourceError(f"message has no {missing} value", where=f"{where} byte {r.offset}")
    raw_mu = np.array([r.mu for r in beam], dtype=float)
    steps = np.concatenate([[0.0], np.diff(raw_mu)])
    mu = np.cumsum(np.clip(steps, 0.0, None))
    keep = relevant_control_points(mu)
    return Delivery(
        mu[keep],
        np.array([r.gantry for r in beam])[keep],
        np.array([r.collimator for r in beam])[keep],
        np.stack([r.mlc for r in beam if r.mlc is not None])[keep],  # every one has collimation (checked above)
        np.stack([r.jaw for r in beam if r.jaw is not None])[keep],
    )


def message_times_s(records: Sequence[IcomRecord]) -> np.ndarray:
    """Seconds from the first message; messages sharing a timestamp second are spread evenly in it."""
    if not records:
        return np.zeros(0)
    t0 = records[0].timestamp
    whole = np.array([(r.timestamp - t0).total_seconds() for r in records])
    times = whole.copy()
    i = 0
    while i < len(whole):
        j = i
        while j + 1 < len(whole) and whole[j + 1] == whole[i]:
            j += 1
        count = j - i + 1
        times[i : j + 1] += np.arange(count) / count
        i = j + 1
    return times


def beam_on_time_s(records: Sequence[IcomRecord]) -> float:
    """From the message before the MU counter first rose to the last message where it rose."""
    beam = [r for r in records if r.mu is not None]
    if len(beam) < 2:
        return 0.0
    rises = np.flatnonzero(np.diff([r.mu for r in beam]) > 0) + 1
    if len(rises) == 0:
        return 0.0
    times = message_times_s(beam)
    return round(float(times[rises[-1]] - times[rises[0] - 1]), 3)


def _first(records: Sequence[IcomRecord], name: str) -> str:
    return next((getattr(r, name) for r in records if getattr(r, name)), "") or ""


def delivered_beam(run: Sequence[IcomRecord], *, key: str, path: Path | None, where: str) -> Recording:
    """Summarise one run of records (see :func:`split_records`)."""
    mus = [r.mu for r in run if r.mu is not None]
    totals = [r.total_mu for r in run if r.total_mu is not None]
    return Recording(
        key=key,
        path=path,
        offset=run[0].offset,
        patient_id=_first(run, "patient_id"),
        patient_name=_first(run, "patient_name"),
        field_id=_first(run, "field_id"),
        machine=_first(run, "machine"),
        energy=_first(run, "energy"),
        radiation_type=_first(run, "radiation_type"),
        start=run[0].timestamp,
        end=run[-1].timestamp,
        delivered_mu=float(mus[-1]) if mus else 0.0,
        total_mu=float(totals[-1]) if totals else None,
        beam_on_time_s=beam_on_time_s(run),
        delivery=delivery_from_records(run, where),
    )
