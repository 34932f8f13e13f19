"""The collected table as files a person edits: one CSV per source, deliveries beside them.

Reading an edited folder validates every cell against the vocabulary: a bad
value gives an error naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from plancheck.delivery.model import Delivery
from plancheck.errors import PlancheckError
from plancheck.table import COLUMNS, Param, ParamTable, SchemaError, validate_row
from plancheck.vocabulary import VOCABULARY

CSV_COLUMNS = [c for c in COLUMNS if c != "source"]
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}
ARRAYS = ("mu", "gantry", "collimator", "mlc", "jaw")


class EditError(PlancheckError):
    """An edited table file holds something that cannot be read back."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_value(param: str, text: str, where: str) -> Any:
    """A CSV cell back to the type the vocabulary says, or EditError naming where."""
    kind = VOCABULARY[param].kind
    text = text.strip()
    if text == "":
        return None if kind != "text" else ""
    if kind in ("number", "angle"):
        try:
            number = float(text)
        except ValueError:
            raise EditError(f"{param} must be a number, got {text!r}", where=where, fix="write a number such as 157.24") from None
        return int(number) if number.is_integer() and VOCABULARY[param].unit in ("",) else number
    if kind == "bool":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise EditError(f"{param} must be true or false, got {text!r}", where=where)
    return text


def write_table(table: ParamTable, folder: Path) -> list[Path]:
    """One CSV per source (``<source>.csv``) and the control points (``deliveries.npz``)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in table.sources:
        rows = table.select(source=source)
        if not rows:
            continue
        path = folder / f"{source}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in rows:
                writer.writerow([r.scope, r.beam, r.item, r.param, _cell(r.value), r.unit, r.provenance])
        paths.append(path)
    arrays = {f"{src}|{beam}|{name}": getattr(d, name) for (src, beam), d in table.deliveries.items() for name in ARRAYS}
    np.savez_compressed(folder / "deliveries.npz", **arrays)
    (folder / "source_errors.json").write_text(json.dumps(table.source_errors, indent=2), encoding="utf-8")
    return paths


def read_table(folder: Path, known_beams: set[str] | None = None) -> ParamTable:
    """Read a folder written by :func:`write_table` (and edited by a person)."""
    table = ParamTable()
    csvs = sorted(folder.glob("*.csv"))
    if not csvs:
        raise EditError("no <source>.csv files", where=str(folder), fix="run `plancheck simulate edit PATIENT --dir DIR` first")
    for path in csvs:
        source = path.stem
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or set(CSV_COLUMNS) - set(reader.fieldnames):
                raise EditError(f"header must be {','.join(CSV_COLUMNS)}", where=f"{path}:1")
            for line, rec in enumerate(reader, start=2):
                where = f"{path} row {line}"
                param = (rec["param"] or "").strip()
                if param not in VOCABULARY:
                    raise EditError(f"column param: unknown parameter {param!r}", where=where, fix="see `plancheck rules params`")
                beam = (rec["beam"] or "").strip()
                if known_beams is not None and rec["scope"] == "beam" and beam not in known_beams:
                    raise EditError(f"column beam: unknown beam {beam!r}", where=where, fix=f"beams are {', '.join(sorted(known_beams))}")
                row = Param(rec["scope"].strip(), beam, param, parse_value(param, rec["value"] or "", f"{where} column value"),
                            (rec["unit"] or "").strip(), source, rec["provenance"] or "", (rec["item"] or "").strip())
                try:
                    validate_row(row)
                except SchemaError as exc:
                    raise EditError(str(exc), where=where) from None
                table.rows.append(row)
    npz = folder / "deliveries.npz"
    if npz.exists():
        with np.load(npz) as data:
            keys = {tuple(k.split("|")[:2]) for k in data.files}
            for src, beam in sorted(keys):
                table.deliveries[(src, beam)] = Delivery(**{n: data[f"{src}|{beam}|{n}"] for n in ARRAYS})
    errors = folder / "source_errors.json"
    if errors.exists():
        table.source_errors.update(json.loads(errors.read_text(encoding="utf-8")))
    return table
