"""Interactive "simulate errors": write the collected table for a person to edit, then run the
checks on the edited table and show, check by check, what changed. Nothing is written to any
source system."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plancheck.api import check_table, rule_library
from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.collector import collect
from plancheck.config import Config, load_config
from plancheck.errors import PlancheckError
from plancheck.simulate.tablefiles import EditError, build_table, check_beams, read_rows, read_table, write_table
from plancheck.table import Param, ParamTable

SESSION = "session.json"
ORIGINAL = ".original"

README = """# Simulate errors: edit, then run

These files are the parameters plancheck collected for patient {patient_id} (plan {plan}),
one CSV per source: {sources}.

1. Change values to plant errors, as a real mistake would look: an energy on one beam in
   mosaiq.csv, an MU in rtplan.csv, a prescription flag, a delivery record ...
   Keep the header; `value` must fit the parameter (numbers, true/false, ISO dates).
   You may delete rows (a value missing from a source) or copy a beam's rows under a new
   beam label in one file (an extra beam).
2. Run:  plancheck simulate run {folder}
   It runs the {kind} checks on the edited table and lists, check by check, what changed
   against the unedited table: newly failing, newly passing, new warnings.

deliveries.npz holds the control points (MU, gantry, collimator, MLC, jaws) per source and beam.
The unedited copy is kept in {original}/; nothing here is written back to MOSAIQ or any file.
"""


def prepare(patient_id: str, folder: Path, *, plan: str | None, kind: str, config_path: Path | None, rules: str | None, today: dt.datetime) -> list[Path]:
    config = load_config(config_path)
    table = collect(patient_id, plan, config)
    paths = write_table(table, folder)
    write_table(table, folder / ORIGINAL)
    plan_label = next((r.value for r in table.select(param="plan_label")), "") or ""
    session = {"patient_id": patient_id, "plan": plan_label, "kind": kind, "rules": rules,
               "config": str(config_path.resolve()) if config_path else None, "today": today.isoformat()}
    (folder / SESSION).write_text(json.dumps(session, indent=2), encoding="utf-8")
    (folder / "README.md").write_text(
        README.format(patient_id=patient_id, plan=plan_label, sources=", ".join(p.name for p in paths), folder=folder, kind=kind, original=ORIGINAL),
        encoding="utf-8",
    )
    return paths


@dataclass
class Change:
    id: str
    beam: str
    before: Status | None
    after: Status | None
    message: str

    @property
    def label(self) -> str:
        bad = (Status.FAIL, Status.ERROR)
        if self.after in bad and self.before not in bad:
            return "newly failing"
        if self.before in bad and self.after not in bad:
            return "newly passing"
        if self.after == Status.WARN and self.before != Status.WARN:
            return "new warning"
        return "changed"


def compare_runs(before: CheckRun, after: CheckRun) -> list[Change]:
    def key(r: CheckResult) -> tuple[str, str, str]:
        return (r.id, r.beam, r.param)

    old = {key(r): r for r in before.results}
    new = {key(r): r for r in after.results}
    changes = []
    for k in list(dict.fromkeys([*old, *new])):
        a, b = old.get(k), new.get(k)
        shown = b or a
        if shown is not None and (a.status if a else None) != (b.status if b else None):
            changes.append(Change(k[0], k[1], a.status if a else None, b.status if b else None, shown.message))
    return changes


def run_edited(folder: Path) -> tuple[CheckRun, CheckRun, list[Change]]:
    session_path = folder / SESSION
    if not session_path.exists():
        raise PlancheckError("not a simulate folder (no session.json)", where=str(folder), fix="run `plancheck simulate edit PATIENT --dir DIR` first")
    session = _session(session_path)
    config = load_config(session["config"]) if session.get("config") else Config()
    original = read_table(folder / ORIGINAL)
    rows, notes = read_rows(folder)
    check_beams(rows, set(original.beams()) | _new_beams([row for row, _ in rows], original))
    edited = build_table(folder, rows, notes)
    kwargs = dict(patient_id=session["patient_id"], kind=session["kind"], config=config, rules=session.get("rules"), today=session["today"])
    before = check_table(original, **kwargs)
    # the edited table is checked by the same rule set (an edit must not switch it), unless it was chosen per
    # modality ("photon-3d+electron"): then each beam's set is chosen again from the edited table
    same = before.rule_set if before.rule_set in rule_library(config).raw else None
    after = check_table(edited, **kwargs | {"rules": session.get("rules") or same})
    return before, after, compare_runs(before, after)


def _session(path: Path) -> dict[str, Any]:
    """session.json as written by :func:`prepare`; EditError when it was damaged."""
    try:
        session = json.loads(path.read_text(encoding="utf-8"))
        session["today"] = dt.datetime.fromisoformat(session["today"])
        if not all(isinstance(session.get(k), str) for k in ("patient_id", "kind")):
            raise KeyError("patient_id")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise EditError(f"session.json is damaged ({exc.__class__.__name__}: {exc})", where=str(path), fix="run `plancheck simulate edit` again") from None
    return session


NEW_BEAM_MIN_ROWS = 5  # a whole beam copied under a new label is an extra beam; a stray label is a typo


def _new_beams(rows: list[Param], original: ParamTable) -> set[str]:
    """Beam labels a person added deliberately (a full set of beam rows under a new label)."""
    counts = Counter(r.beam for r in rows if r.scope == "beam")
    known = set(original.beams())
    return {b for b, n in counts.items() if b not in known and n >= NEW_BEAM_MIN_ROWS}
