"""Which plan beam each beam of a tel.1 is: matched by what it holds, never guessed.

A tel.1 names no beam (docs/monaco.md). Monaco writes the beams in the plan's
order, so the first try cuts the control-point blocks by each plan beam's
control-point count, in plan order, and keeps the cut where every piece has its
plan beam's gantry start and stop. Failing that, each beam found by MU (a new
beam where MU restarts) is matched on its own by control-point count, MU and
gantry: one plan beam fits, it is matched; several fit, it is *ambiguous* and
the candidates are named; none fits, it is *unmatched*. A beam not matched keeps
a label no plan uses (``tel.1 beam 2``), so it is compared with nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plancheck.delivery.model import Delivery
from plancheck.sources.monaco.telfile import TelBeam, TelFile

MU_TOLERANCE = 0.01  # relative: a beam found by MU alone must have its plan beam's MU within 1 %
GANTRY_TOLERANCE_DEG = 1.0


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
    reason: str

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
    why = "no plan to match it to (no RT Plan in the plan folder, no RT Plan or MOSAIQ beams collected)"
    return [BeamMatch(b, unmatched_label(n), "unmatched", why) for n, b in enumerate(tel.beams, start=1)]


def _gantry_off(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _gantry_agrees(tel: Delivery, plan: Delivery) -> bool:
    return all(_gantry_off(float(x), float(y)) <= GANTRY_TOLERANCE_DEG for x, y in ((tel.gantry[0], plan.gantry[0]), (tel.gantry[-1], plan.gantry[-1])))


def _mu_agrees(tel: Delivery, plan: Delivery) -> bool:
    return abs(tel.total_mu - plan.total_mu) <= MU_TOLERANCE * max(plan.total_mu, 1.0)


def _in_order(tel: TelFile, plan: PlanBeams) -> list[BeamMatch] | None:
    pieces = tel.split([len(d) for d in plan.beams.values()])
    if pieces is None:
        return None
    pairs = list(zip(pieces, plan.beams.items(), strict=True))
    if not all(_gantry_agrees(beam.delivery(), d) for beam, (_, d) in pairs):
        return None
    out = []
    for beam, (label, d) in pairs:
        mine = beam.delivery()
        note = "" if _mu_agrees(mine, d) else f"; MU {mine.total_mu:.2f} here, {d.total_mu:.2f} in {plan.name}"
        out.append(BeamMatch(beam, label, "matched", f"beam {label} of {plan.name} in plan order: {len(d)} control points, gantry start and stop agree{note}"))
    return out


def _fits(beam: TelBeam, d: Delivery) -> bool:
    mine = beam.delivery()
    return beam.control_points == len(d) and _mu_agrees(mine, d) and _gantry_agrees(mine, d)


def _by_content(tel: TelFile, plan: PlanBeams) -> list[BeamMatch]:
    fits = [[label for label, d in plan.beams.items() if _fits(beam, d)] for beam in tel.beams]
    claimed_by = {label: [n for n, f in enumerate(fits, start=1) if label in f] for label in plan.beams}
    out = []
    for n, (beam, labels) in enumerate(zip(tel.beams, fits, strict=True), start=1):
        what = f"{beam.control_points} control points, {beam.delivery().total_mu:.2f} MU"
        if len(labels) == 1 and len(claimed_by[labels[0]]) == 1:
            reason = f"beam {labels[0]} of {plan.name} by control points, MU and gantry ({what}), not in plan order"
            out.append(BeamMatch(beam, labels[0], "matched", reason))
        elif len(labels) > 1:
            reason = f"ambiguous: its {what} and gantry fit beams {', '.join(labels)} of {plan.name}"
            out.append(BeamMatch(beam, unmatched_label(n), "ambiguous", reason))
        elif labels:
            others = ", ".join(str(k) for k in claimed_by[labels[0]])
            reason = f"ambiguous: beam {labels[0]} of {plan.name} fits tel.1 beams {others} alike ({what})"
            out.append(BeamMatch(beam, unmatched_label(n), "ambiguous", reason))
        else:
            reason = f"unmatched: no beam of {plan.name} has its {what} and gantry"
            out.append(BeamMatch(beam, unmatched_label(n), "unmatched", reason))
    return out
