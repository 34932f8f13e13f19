"""Which plan beam each beam of a tel.1 is: matched by what it holds, never guessed.

A tel.1 names no beam (docs/monaco.md). Monaco writes the beams in the plan's
order, so the first try cuts the control-point blocks by each plan beam's
control-point count, in plan order, and keeps the cut where every piece has its
plan beam's shape: gantry, collimator, jaws and leaves at every control point.
MU is what the checks compare, so a difference is noted, not a reason to refuse.
Failing that, each beam found by MU (a new beam where MU restarts) is matched on
its own by its shape and its MU: one plan beam fits, it is matched; several fit,
it is *ambiguous* and the candidates are named; none fits, it is *unmatched*. A
beam not matched keeps a label no plan uses (``tel.1 beam 2``), so it is
compared with nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from plancheck.delivery.model import Delivery
from plancheck.sources.monaco.telfile import TelBeam, TelFile

if TYPE_CHECKING:
    from plancheck.table import ParamTable

MU_TOLERANCE = 0.01  # relative: a beam matched out of plan order must have its plan beam's MU within 1 %
ANGLE_TOLERANCE_DEG = 1.0  # gantry and collimator, at every control point
POSITION_TOLERANCE_MM = 0.5  # jaws and leaves, at every control point (Monaco writes 0.1 mm or finer)


@dataclass(frozen=True)
class PlanBeams:
    """One plan's beams with control points, in plan order, and where they were read."""

    name: str  # e.g. "rtplan", "RT Plan RP.dcm in the plan folder"
    beams: dict[str, Delivery]


@dataclass(frozen=True)
class BeamMatch:
    """One beam of the tel.1, the plan beam it is (its label) and why."""

    beam: TelBeam
    label: str
    status: str  # matched | ambiguous | unmatched
    reason: str  # starts with the status: "matched to beam 1-1 of rtplan ...", "ambiguous: ...", "unmatched: ..."

    @property
    def matched(self) -> bool:
        return self.status == "matched"


def unmatched_label(number: int) -> str:
    return f"tel.1 beam {number}"


def match_beams(tel: TelFile, plans: Sequence[PlanBeams]) -> list[BeamMatch]:
    """The tel.1's beams matched to the first plan all of them fit, else to the plan most of them fit."""
    best: list[BeamMatch] | None = None
    for plan in plans:
        if not plan.beams:
            continue
        matches = _in_order(tel, plan) or _by_content(tel, plan)
        if all(m.matched for m in matches):
            return matches
        if best is None or sum(m.matched for m in matches) > sum(m.matched for m in best):
            best = matches
    if best is not None:
        return best
    why = "unmatched: no plan to match it to (no RT Plan in the plan folder, no RT Plan or MOSAIQ beams collected)"
    return [BeamMatch(b, unmatched_label(n), "unmatched", why) for n, b in enumerate(tel.beams, start=1)]


def _angles_agree(a: np.ndarray, b: np.ndarray) -> bool:
    off = np.abs((np.asarray(a, dtype=float) - np.asarray(b, dtype=float) + 180.0) % 360.0 - 180.0)
    return bool(np.all(off <= ANGLE_TOLERANCE_DEG))


def _shape_agrees(tel: Delivery, plan: Delivery) -> bool:
    """Same control points, each with the same gantry, collimator, jaws and leaves."""
    if len(tel) != len(plan) or tel.mlc.shape != plan.mlc.shape or tel.jaw.shape != plan.jaw.shape:
        return False
    return (_angles_agree(tel.gantry, plan.gantry) and _angles_agree(tel.collimator, plan.collimator)
            and bool(np.allclose(tel.jaw, plan.jaw, atol=POSITION_TOLERANCE_MM)) and bool(np.allclose(tel.mlc, plan.mlc, atol=POSITION_TOLERANCE_MM)))


def _mu_agrees(tel: Delivery, plan: Delivery) -> bool:
    return abs(tel.total_mu - plan.total_mu) <= MU_TOLERANCE * max(plan.total_mu, 1.0)


def _in_order(tel: TelFile, plan: PlanBeams) -> list[BeamMatch] | None:
    pieces = tel.split([len(d) for d in plan.beams.values()])
    if pieces is None:
        return None
    pairs = list(zip(pieces, plan.beams.items(), strict=True))
    if not all(_shape_agrees(beam.delivery(), d) for beam, (_, d) in pairs):
        return None
    out = []
    for beam, (label, d) in pairs:
        mine = beam.delivery()
        note = "" if _mu_agrees(mine, d) else f"; MU {mine.total_mu:.2f} here, {d.total_mu:.2f} in {plan.name}"
        reason = f"matched to beam {label} of {plan.name} in plan order ({len(d)} control points; gantry, collimator, jaws and leaves agree{note})"
        out.append(BeamMatch(beam, label, "matched", reason))
    return out


def _fits(beam: TelBeam, d: Delivery) -> bool:
    mine = beam.delivery()
    return _mu_agrees(mine, d) and _shape_agrees(mine, d)


def _by_content(tel: TelFile, plan: PlanBeams) -> list[BeamMatch]:
    """Walk the blocks: at each, the plan beams whose control points, MU and shape the next blocks have."""
    found: list[tuple[TelBeam, list[str]]] = []
    start = 0
    while start < len(tel.blocks):
        number = str(len(found) + 1)
        pieces = {label: tel.piece(start, len(d), number) for label, d in plan.beams.items()}
        fits = {label: piece for label, piece in pieces.items() if piece is not None and _fits(piece, plan.beams[label])}
        sizes = {len(piece.params) for piece in fits.values()}
        beam = next(iter(fits.values())) if len(sizes) == 1 else tel.run_from(start, number)
        found.append((beam, list(fits) if len(sizes) == 1 else []))
        start += len(beam.params)
    claimed_by = {label: [n for n, (_, f) in enumerate(found, start=1) if label in f] for label in plan.beams}
    return [_content_match(n, beam, labels, claimed_by, plan.name) for n, (beam, labels) in enumerate(found, start=1)]


def _content_match(n: int, beam: TelBeam, labels: list[str], claimed_by: dict[str, list[int]], plan: str) -> BeamMatch:
    what = f"{beam.control_points} control points, {beam.delivery().total_mu:.2f} MU"
    if len(labels) == 1 and len(claimed_by[labels[0]]) == 1:
        return BeamMatch(beam, labels[0], "matched", f"matched to beam {labels[0]} of {plan} by MU and shape ({what}), not in plan order")
    if len(labels) > 1:
        return BeamMatch(beam, unmatched_label(n), "ambiguous", f"ambiguous: its {what} and shape fit beams {', '.join(labels)} of {plan}")
    if labels:
        others = ", ".join(str(k) for k in claimed_by[labels[0]])
        return BeamMatch(beam, unmatched_label(n), "ambiguous", f"ambiguous: beam {labels[0]} of {plan} fits tel.1 beams {others} alike ({what})")
    return BeamMatch(beam, unmatched_label(n), "unmatched", f"unmatched: no beam of {plan} has its {what} and shape (gantry, collimator, jaws, leaves)")


_NOTE = re.compile(r" line (\d+); ((matched|ambiguous|unmatched)\b.*)$")


def note_of(provenance: str) -> tuple[int, str, str] | None:
    """(line, status, reason) from the provenance of a tel.1 beam's row (see ``reader.beam_rows``), None if it has none."""
    found = _NOTE.search(provenance)
    return (int(found.group(1)), found.group(3), found.group(2)) if found else None


@dataclass(frozen=True)
class TelBeamNote:
    """How one tel.1 beam in a collected table was matched, read back from its rows."""

    label: str
    line: int
    control_points: int
    mu: float
    status: str
    reason: str


def notes_in(table: ParamTable, source: str = "monaco_tel") -> list[TelBeamNote]:
    """Every tel.1 beam of the table with its match, in file order, for listing (``plancheck deliveries``)."""
    notes = []
    for row in table.select(source=source, param="mu"):
        note = note_of(row.provenance)
        if note is not None:
            points = table.value("control_points", source=source, beam=row.beam, scope="beam")
            notes.append(TelBeamNote(row.beam, note[0], int(points or 0), float(row.value or 0), note[1], note[2]))
    return sorted(notes, key=lambda n: n.line)
