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
