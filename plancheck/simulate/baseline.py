"""Readout baselines: keep the collected table as this version of plancheck read it, and show
every difference after an upgrade (planCheck found readout bugs this way, not by hand)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plancheck.errors import PlancheckError
from plancheck.paths import path_in
from plancheck.table import ParamTable


def _key(rec: dict[str, Any]) -> tuple[str, ...]:
    return (rec["source"], rec["scope"], rec["beam"], rec["item"], rec["param"])


def baseline_path(folder: Path, patient_id: str) -> Path:
    """The patient's baseline file, its name made safe and kept inside ``folder``."""
    return path_in(folder, patient_id, suffix=".baseline.json")


def save_baseline(table: ParamTable, folder: Path, patient_id: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    records = sorted(table.to_records(), key=lambda r: tuple(str(x) for x in _key(r)))
    path = baseline_path(folder, patient_id)
    path.write_text(json.dumps({"patient_id": patient_id, "plancheck": version, "rows": records}, indent=1, default=str), encoding="utf-8")
    return path


@dataclass
class Difference:
    key: tuple[str, ...]  # source, scope, beam, item, param
    what: str  # added | removed | changed
    before: Any
    after: Any


def compare_baseline(table: ParamTable, folder: Path, patient_id: str) -> tuple[str, list[Difference]]:
    """(version that saved the baseline, differences: added, removed and changed values)."""
    path = baseline_path(folder, patient_id)
    if not path.exists():
        raise PlancheckError("no baseline saved for this patient", where=str(path), fix=f"run `plancheck baseline save {patient_id} --dir {folder}` first")
    saved = json.loads(path.read_text(encoding="utf-8"))
    old = {_key(r): r for r in saved["rows"]}
    new = {_key(r): r for r in json.loads(json.dumps(table.to_records(), default=str))}
    diffs = []
    for key in sorted(set(old) | set(new), key=lambda k: tuple(str(x) for x in k)):
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            diffs.append(Difference(key, "added" if a is None else "removed", a and a["value"], b and b["value"]))
        elif a["value"] != b["value"] or a["unit"] != b["unit"]:
            diffs.append(Difference(key, "changed", a["value"], b["value"]))
    return saved.get("plancheck", "?"), diffs
