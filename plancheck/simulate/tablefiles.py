"""The collected table as files a person edits: one CSV per source, deliveries beside them.

Reading an edited folder validates every cell against the vocabulary: a bad
value gives an error naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
import zlib
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
WIDTHS = "leaf_pair_widths_mm"


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
    value_type = VOCABULARY[param].value_type
    text = text.strip()
    if text == "":
        return None if value_type != "text" else ""
    if value_type in ("number", "angle"):
        try:
            number = float(text)
        except ValueError:
            raise EditError(f"{param} must be a number, got {text!r}", where=where, fix="write a number such as 157.24") from None
        if not math.isfinite(number):
            raise EditError(f"{param} must be a finite number, got {text!r}", where=where, fix="write a number such as 157.24")
        return int(number) if number.is_integer() and VOCABULARY[param].unit in ("",) else number
    if value_type == "bool":
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
    arrays.update({f"{src}|{beam}|{WIDTHS}": np.array(d.leaf_pair_widths_mm) for (src, beam), d in table.deliveries.items()
                   if d.leaf_pair_widths_mm is not None})  # a leaf layout other than pymedphys' default (Varian, Halcyon, ...)
    np.savez_compressed(folder / "deliveries.npz", **arrays)
    (folder / "source_errors.json").write_text(json.dumps(table.source_errors, indent=2), encoding="utf-8")
    return paths


def decode_csv(data: bytes, path: Path) -> tuple[str, str]:
    """(text, note): UTF-8 (with or without Excel's BOM), else Windows-1252 as Excel's plain "CSV" writes it."""
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        return data.decode("cp1252"), f"{path.name} is not UTF-8 (byte offset {first_bad}); read as Windows-1252, the encoding of Excel's \"CSV\" format"
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise EditError(f"neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", where=f"{path} row {line}",
                        fix='save it from Excel as "CSV UTF-8 (comma delimited)"') from None


def _header(reader: csv.DictReader, path: Path) -> None:
    names = [str(n).strip() for n in (reader.fieldnames or [])]
    if len(names) == 1 and ";" in names[0]:
        raise EditError("columns are separated by ';', not ','", where=f"{path} row 1", fix='save it from Excel as "CSV UTF-8 (comma delimited)"')
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        raise EditError(f"missing column(s) {', '.join(missing)}; the header must be {','.join(CSV_COLUMNS)}", where=f"{path} row 1",
                        fix="restore the header row as `plancheck simulate edit` wrote it")


def _row(rec: dict[str, Any], source: str, where: str) -> Param:
    cell = {c: str(rec.get(c) or "") for c in CSV_COLUMNS}  # a short row leaves cells None
    param = cell["param"].strip()
    if param not in VOCABULARY:
        raise EditError(f"column param: unknown parameter {param!r}", where=where, fix="see `plancheck rules params`")
    row = Param(cell["scope"].strip(), cell["beam"].strip(), param, parse_value(param, cell["value"], f"{where} column value"),
                cell["unit"].strip(), source, cell["provenance"], cell["item"].strip())
    try:
        validate_row(row)
    except SchemaError as exc:
        raise EditError(str(exc), where=where) from None
    return row


def read_rows(folder: Path) -> tuple[list[tuple[Param, str]], list[str]]:
    """Every row of every ``<source>.csv`` with where it was read, and notes on how files were decoded."""
    csvs = sorted(folder.glob("*.csv"))
    if not csvs:
        raise EditError("no <source>.csv files", where=str(folder), fix="run `plancheck simulate edit PATIENT --dir DIR` first")
    rows, notes = [], []
    for path in csvs:
        text, note = decode_csv(path.read_bytes(), path)
        notes += [note] if note else []
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            _header(reader, path)
            rows += [(_row(rec, path.stem, f"{path} row {line}"), f"{path} row {line}") for line, rec in enumerate(reader, start=2)]
        except csv.Error as exc:
            raise EditError(f"not a readable CSV file ({exc})", where=f"{path} row {reader.line_num}") from None
    return rows, notes


def check_beams(rows: list[tuple[Param, str]], known_beams: set[str]) -> None:
    """A beam row under a label the case does not have is a typo: EditError naming file and row."""
    for row, where in rows:
        if row.scope == "beam" and row.beam not in known_beams:
            raise EditError(f"column beam: unknown beam {row.beam!r}", where=where, fix=f"beams are {', '.join(sorted(known_beams))}")


def read_table(folder: Path, known_beams: set[str] | None = None) -> ParamTable:
    """Read a folder written by :func:`write_table` (and edited by a person)."""
    rows, notes = read_rows(folder)
    if known_beams is not None:
        check_beams(rows, known_beams)
    return build_table(folder, rows, notes)


def build_table(folder: Path, rows: list[tuple[Param, str]], notes: list[str]) -> ParamTable:
    """The table of rows read by :func:`read_rows`, with the folder's control points and source errors."""
    table = ParamTable()
    table.rows.extend(row for row, _ in rows)
    table.warnings.extend(notes)
    table.deliveries.update(read_deliveries(folder / "deliveries.npz"))
    errors = folder / "source_errors.json"
    if errors.exists():
        try:
            saved = json.loads(errors.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EditError(f"not readable JSON ({exc})", where=str(errors), fix="restore it from the .original folder") from None
        if not isinstance(saved, dict):
            raise EditError("must be a JSON object of source: message", where=str(errors))
        table.source_errors.update({str(k): str(v) for k, v in saved.items()})
    return table


def read_deliveries(npz: Path) -> dict[tuple[str, str], Delivery]:
    """The control points saved beside the CSVs (none when the file is absent)."""
    if not npz.exists():
        return {}
    out = {}
    try:
        with np.load(npz, allow_pickle=False) as data:
            keys = {tuple(k.split("|")[:2]) for k in data.files}
            for src, beam in sorted(keys):
                widths = data[f"{src}|{beam}|{WIDTHS}"] if f"{src}|{beam}|{WIDTHS}" in data.files else None
                out[(src, beam)] = Delivery(**{n: data[f"{src}|{beam}|{n}"] for n in ARRAYS}, leaf_pair_widths_mm=widths)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise EditError(f"control points cannot be read ({exc})", where=str(npz), fix="restore it from the .original folder") from None
    return out
