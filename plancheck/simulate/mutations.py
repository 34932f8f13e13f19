"""How a fault changes the collected table: a small table of named operations.

Each operation takes the table and the fault's target (source, param, beam,
item, amount) and returns a changed copy; the original is never touched. An
operation that finds nothing to change raises :class:`NotApplicable`, so a fault
aimed at a source the case lacks is reported as skipped, never as caught.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from collections.abc import Callable

import numpy as np

from plancheck.checks.scope import treatment_beams
from plancheck.table import Param, ParamTable
from plancheck.vocabulary import VOCABULARY


RECORD_SCOPES = ("delivery", "task", "document")


class NotApplicable(Exception):
    """The case has nothing this fault could change (e.g. no iCOM delivery)."""


@dataclass(frozen=True)
class Target:
    op: str
    source: str = "*"  # a source name, or * for every source
    param: str = ""
    beam: str = "first"  # first (treatment beam), all, or a label
    item: str = "first"  # first, all, or an item id (delivery / task records)
    amount: Any = None


def _beams(table: ParamTable, target: Target) -> set[str]:
    beams = treatment_beams(table)
    if not beams:
        raise NotApplicable("no treatment beams")
    if target.beam == "first":
        return {beams[0]}
    if target.beam == "all":
        return set(beams)
    return {target.beam}


def _sources(table: ParamTable, target: Target) -> set[str]:
    present = set(table.sources)
    wanted = present if target.source == "*" else {target.source} & present
    if not wanted:
        raise NotApplicable(f"no {target.source} data in this case")
    return wanted


def _selected(table: ParamTable, target: Target) -> Callable[[Param], bool]:
    sources = _sources(table, target)
    scope = VOCABULARY[target.param].scope if target.param else "beam"
    beams = _beams(table, target) if scope == "beam" else set()
    items = table.items(scope, None if target.source == "*" else target.source) if scope in RECORD_SCOPES else []
    chosen_items = set(items[:1]) if target.item == "first" else (set(items) if target.item == "all" else {target.item})

    def match(row: Param) -> bool:
        if row.source not in sources or (target.param and row.param != target.param):
            return False
        if row.scope == "beam":
            return row.beam in beams
        if row.scope in RECORD_SCOPES:
            return row.item in chosen_items
        return True

    return match


def _map_values(table: ParamTable, target: Target, change: Callable[[Any], Any]) -> ParamTable:
    match = _selected(table, target)
    out = table.copy()
    hits = 0
    rows = []
    for row in table.rows:
        if match(row) and row.value is not None:
            row = replace(row, value=change(row.value))
            hits += 1
        rows.append(row)
    if not hits:
        raise NotApplicable(f"no {target.param} from {target.source} to change")
    out.rows = rows
    return out


def set_value(table: ParamTable, t: Target) -> ParamTable:
    return _map_values(table, t, lambda _: t.amount)


def scale(table: ParamTable, t: Target) -> ParamTable:
    return _map_values(table, t, lambda v: round(float(v) * float(t.amount), 4))


def offset(table: ParamTable, t: Target) -> ParamTable:
    angle = VOCABULARY[t.param].value_type == "angle"
    return _map_values(table, t, lambda v: round((float(v) + float(t.amount)) % 360.0 if angle else float(v) + float(t.amount), 4))


def offset_days(table: ParamTable, t: Target) -> ParamTable:
    import datetime as dt

    return _map_values(table, t, lambda v: (dt.datetime.fromisoformat(v) + dt.timedelta(days=float(t.amount))).isoformat())


def drop_beam(table: ParamTable, t: Target) -> ParamTable:
    sources, beams = _sources(table, t), _beams(table, t)
    out = table.copy()
    out.rows = [r for r in table.rows if not (r.source in sources and r.scope == "beam" and r.beam in beams)]
    out.deliveries = {k: v for k, v in table.deliveries.items() if not (k[0] in sources and k[1] in beams)}
    if len(out.rows) == len(table.rows):
        raise NotApplicable("no beam rows to drop")
    return out


def add_beam(table: ParamTable, t: Target) -> ParamTable:
    sources, (beam,) = _sources(table, t), sorted(_beams(table, replace(t, beam="first")))
    label = str(t.amount or "EXTRA")
    out = table.copy()
    out.rows = table.rows + [replace(r, beam=label) for r in table.rows if r.source in sources and r.scope == "beam" and r.beam == beam]
    return out


def _delivery_change(table: ParamTable, t: Target, change: Callable[[Any], Any]) -> ParamTable:
    sources, beams = _sources(table, t), _beams(table, t)
    keys = [k for k in table.deliveries if k[0] in sources and k[1] in beams]
    if not keys:
        raise NotApplicable(f"no {t.source} control points for beam(s) {', '.join(sorted(beams))}")
    out = table.copy()
    for key in keys:
        out.deliveries[key] = change(table.deliveries[key])
    # recorded deliveries of the same beams (every fraction) carry the same fault
    out.recordings = [
        (src, replace(rec, delivery=change(rec.delivery))) if src in sources and rec.field_id in beams else (src, rec)
        for src, rec in table.recordings
    ]
    return out


def shift_leaf_bank(table: ParamTable, t: Target) -> ParamTable:
    """Shift every leaf of one bank (amount = [bank index 0/1, mm])."""
    bank, mm = t.amount

    def change(d: Any) -> Any:
        mlc = np.array(d.mlc)
        mlc[:, :, int(bank)] += float(mm)
        return d.replace(mlc=mlc)

    return _delivery_change(table, t, change)


def shift_leaf_pair(table: ParamTable, t: Target) -> ParamTable:
    """Open one leaf pair (amount = [pair index, mm]) by moving both leaves out."""
    pair, mm = t.amount

    def change(d: Any) -> Any:
        mlc = np.array(d.mlc)
        mlc[:, int(pair), :] += float(mm)
        return d.replace(mlc=mlc)

    return _delivery_change(table, t, change)


def drift_leaves(table: ParamTable, t: Target) -> ParamTable:
    """A bank drifting linearly from 0 to ``amount`` mm over the delivery."""

    def change(d: Any) -> Any:
        mlc = np.array(d.mlc)
        mlc[:, :, 0] += np.linspace(0.0, float(t.amount), len(mlc))[:, None]
        return d.replace(mlc=mlc)

    return _delivery_change(table, t, change)


def short_mu(table: ParamTable, t: Target) -> ParamTable:
    """The delivery stops ``amount`` MU short: row and control points both."""
    changed = _map_values(table, replace(t, param="mu"), lambda v: round(float(v) - float(t.amount), 4))

    def change(d: Any) -> Any:
        cap = d.total_mu - float(t.amount)
        return d.replace(mu=np.minimum(np.array(d.mu), cap))

    try:
        return _delivery_change(changed, t, change)
    except NotApplicable:
        return changed


OPERATIONS: dict[str, Callable[[ParamTable, Target], ParamTable]] = {
    "set": set_value,
    "scale": scale,
    "offset": offset,
    "offset_days": offset_days,
    "drop_beam": drop_beam,
    "add_beam": add_beam,
    "shift_leaf_bank": shift_leaf_bank,
    "shift_leaf_pair": shift_leaf_pair,
    "drift_leaves": drift_leaves,
    "short_mu": short_mu,
}


def apply(table: ParamTable, targets: list[Target]) -> ParamTable:
    for target in targets:
        table = OPERATIONS[target.op](table, target)
    return table
