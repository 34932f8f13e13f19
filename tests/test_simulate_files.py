"""Edited table files: round trip, and bad edits named by file, row and column; baselines."""

from __future__ import annotations

from pathlib import Path

import pytest

from plancheck.simulate.baseline import compare_baseline, save_baseline
from plancheck.simulate.tablefiles import EditError, read_table, write_table
from plancheck.table import ParamTable


def test_round_trip(tmp_path: Path, vmat_table: ParamTable) -> None:
    write_table(vmat_table, tmp_path)
    back = read_table(tmp_path, known_beams=set(vmat_table.beams()))
    assert sorted(map(repr, back.rows)) == sorted(map(repr, vmat_table.rows))
    assert back.deliveries.keys() == vmat_table.deliveries.keys()
    key = next(iter(back.deliveries))
    assert back.deliveries[key].allclose(vmat_table.deliveries[key])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_text_in_number_column(tmp_path: Path, vmat_table: ParamTable) -> None:
    write_table(vmat_table, tmp_path)
    _edit(tmp_path / "mosaiq.csv", "157.2387", "lots")
    with pytest.raises(EditError) as info:
        read_table(tmp_path, known_beams=set(vmat_table.beams()))
    msg = info.value.message
    assert "mosaiq.csv row" in msg and "column value" in msg and "'lots'" in msg


def test_unknown_beam(tmp_path: Path, vmat_table: ParamTable) -> None:
    write_table(vmat_table, tmp_path)
    _edit(tmp_path / "rtplan.csv", "beam,1-2,", "beam,1-9,")
    with pytest.raises(EditError, match=r"rtplan.csv row \d+.*unknown beam '1-9'"):
        read_table(tmp_path, known_beams=set(vmat_table.beams()))


def test_baseline_shows_readout_changes(tmp_path: Path, vmat_table: ParamTable) -> None:
    save_baseline(vmat_table, tmp_path, "P1", "0.1.0")
    version, diffs = compare_baseline(vmat_table, tmp_path, "P1")
    assert version == "0.1.0" and diffs == []
    changed = vmat_table.copy()
    changed.rows = [r for r in changed.rows if not (r.param == "couch" and r.source == "rtplan")]
    _, diffs = compare_baseline(changed, tmp_path, "P1")
    assert {d.what for d in diffs} == {"removed"} and all(d.key[4] == "couch" for d in diffs)


def test_excel_cp1252_csv_is_read_with_a_note(tmp_path: Path, vmat_table: ParamTable) -> None:
    """The defect: a CSV saved from Excel in Windows-1252 raised UnicodeDecodeError."""
    write_table(vmat_table, tmp_path)
    path = tmp_path / "mosaiq.csv"
    text = path.read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if ",beam_name," in row)
    edited = text.replace(line, line.replace(",beam_name,", ",beam_name,Arc \u00e9t\u00e9 ", 1))
    path.write_bytes(edited.encode("cp1252"))
    table = read_table(tmp_path, known_beams=set(vmat_table.beams()))
    assert any("Arc \u00e9t\u00e9" in str(r.value) for r in table.select(source="mosaiq", param="beam_name"))
    assert any("mosaiq.csv is not UTF-8" in w and "Windows-1252" in w for w in table.warnings)


def test_excel_utf8_bom_is_read(tmp_path: Path, vmat_table: ParamTable) -> None:
    write_table(vmat_table, tmp_path)
    path = tmp_path / "rtplan.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(read_table(tmp_path).select(source="rtplan")) == len(vmat_table.select(source="rtplan"))


def test_undecodable_csv_is_named_with_offset_and_fix(tmp_path: Path, vmat_table: ParamTable) -> None:
    write_table(vmat_table, tmp_path)
    path = tmp_path / "rtplan.csv"
    data = path.read_bytes()
    path.write_bytes(data[:40] + b"\x81\xff" + data[40:])  # 0x81 is undefined in Windows-1252
    with pytest.raises(EditError, match=r"rtplan.csv row 1.*offset 40.*CSV UTF-8"):
        read_table(tmp_path)


@pytest.mark.parametrize("column", ["beam", "param", "value"])
def test_missing_column_is_named(tmp_path: Path, vmat_table: ParamTable, column: str) -> None:
    write_table(vmat_table, tmp_path)
    path = tmp_path / "mosaiq.csv"
    lines = path.read_text().splitlines()
    index = lines[0].split(",").index(column)
    path.write_text("\n".join(",".join(c for i, c in enumerate(row.split(",")) if i != index) for row in lines) + "\n")
    with pytest.raises(EditError, match=rf"mosaiq.csv row 1: missing column\(s\) {column}"):
        read_table(tmp_path)


def test_semicolon_separated_and_non_finite_values(tmp_path: Path, vmat_table: ParamTable) -> None:
    write_table(vmat_table, tmp_path)
    path = tmp_path / "mosaiq.csv"
    original = path.read_text()
    path.write_text(original.replace(",", ";"))
    with pytest.raises(EditError, match="separated by ';'"):
        read_table(tmp_path)
    path.write_text(original.replace("157.2387", "1e400", 1))
    with pytest.raises(EditError, match=r"mosaiq.csv row \d+ column value: mu must be a finite number"):
        read_table(tmp_path)


def test_simulate_run_prints_one_line_and_exits_2_for_a_missing_beam_column(tmp_path: Path, vmat_table: ParamTable) -> None:
    """The defect: `simulate run` on a CSV without its beam column raised KeyError (exit 1, a traceback)."""
    import datetime as dt
    import json

    from typer.testing import CliRunner

    from plancheck.cli.main import app
    from plancheck.simulate.interactive import ORIGINAL, SESSION

    write_table(vmat_table, tmp_path)
    write_table(vmat_table, tmp_path / ORIGINAL)
    (tmp_path / SESSION).write_text(json.dumps({"patient_id": "P1", "plan": "", "kind": "initial", "rules": None, "config": None,
                                                 "today": dt.datetime(2026, 11, 20).isoformat()}))
    runner = CliRunner()
    assert runner.invoke(app, ["simulate", "run", str(tmp_path)]).exit_code in (0, 1)
    path = tmp_path / "mosaiq.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(",".join(row.split(",")[:1] + row.split(",")[2:]) for row in lines) + "\n")
    result = runner.invoke(app, ["simulate", "run", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "mosaiq.csv row 1: missing column(s) beam" in result.output and result.output.strip().count("\n") == 0
    path.write_bytes("\n".join(lines).replace("Arc", "\u00c4rc").encode("cp1252"))
    (tmp_path / SESSION).write_text("{not json")
    damaged = runner.invoke(app, ["simulate", "run", str(tmp_path)])
    assert damaged.exit_code == 2 and "session.json is damaged" in damaged.output


def test_damaged_control_points_file_is_named(tmp_path: Path, vmat_table: ParamTable) -> None:
    write_table(vmat_table, tmp_path)
    npz = tmp_path / "deliveries.npz"
    data = bytearray(npz.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    npz.write_bytes(bytes(data))
    with pytest.raises(EditError, match=r"deliveries\.npz.*control points cannot be read"):
        read_table(tmp_path)
