"""Read a Monaco tel.1: structure first (blocks of lines), then fields through ``layout``'s map.

The control-point blocks are Monaco's (see ``layout`` and docs/monaco.md). Every
line outside a block is skipped, as pymedphys skips it: which beam a block
belongs to is written in no published part of the file. So the file's beams are
found by pymedphys' rule: a new beam starts at every control point after the
first that adds no MU (the first control point of a dynamic beam), and they are
numbered 1, 2, ... in file order. Static (step-and-shoot) segments all add MU,
so consecutive static beams cannot be told apart this way: :meth:`TelFile.split`
cuts the blocks by a plan's control-point counts instead, and
``plancheck.sources.monaco.matching`` says which plan beam each piece is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources.monaco import layout as L
from plancheck.units import bipolar
import itertools

_MLC_ROW = re.compile(r"^ *-?\d+\.\d+(?:, *-?\d+\.\d+){9}\s*$")
_FLAG_ROW = re.compile(r"^\d(?:,\d){5}\s*$")
_DAMAGED = "the tel.1 is damaged or written in a layout plancheck does not know: export the plan from Monaco again"


@dataclass
class TelBeam:
    """The control-point blocks of one beam, as written (IEC angles, raw MLC pairs)."""

    label: str
    line: int
    lines: list[int] = field(default_factory=list)
    static: list[bool] = field(default_factory=list)
    params: list[dict[str, float]] = field(default_factory=list)
    mlc_raw: list[np.ndarray] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def array(self, name: str) -> np.ndarray:
        return np.array([p[name] for p in self.params], dtype=float)

    @property
    def segment_mu(self) -> np.ndarray:
        return self.array("segment_mu")

    @property
    def control_points(self) -> int:
        """Control points as DICOM counts them: a static segment is two."""
        return len(self.params) + sum(self.static)

    def delivery(self) -> Delivery:
        """This beam alone, MU from 0, angles made bipolar within the beam."""
        return _delivery([self], [slice(0, len(self.params))])


@dataclass
class TelFile:
    """A parsed tel.1: its control-point blocks, its beams (split where MU restarts), the layout, what the reader noticed."""

    path: Path
    layout: L.Layout
    blocks: list[Block]
    beams: list[TelBeam]
    warnings: list[str] = field(default_factory=list)

    @property
    def has_static(self) -> bool:
        return any(b.static for b in self.blocks)

    def piece(self, start: int, control_points: int, label: str = "") -> TelBeam | None:
        """The blocks from ``start`` that make ``control_points`` control points (DICOM counts: a static segment is two).

        None where they run out, or the count would end inside a static segment."""
        end, count = start, 0
        while end < len(self.blocks) and count < control_points:
            count += 2 if self.blocks[end].static else 1
            end += 1
        return _beam(label, self.blocks[start:end]) if count == control_points and end > start else None

    def run_from(self, start: int, label: str = "") -> TelBeam:
        """The blocks from ``start`` up to where MU next restarts (pymedphys' beam)."""
        end = start + 1
        while end < len(self.blocks) and self.blocks[end].params["segment_mu"] != 0:
            end += 1
        return _beam(label, self.blocks[start:end])

    def split(self, control_points: list[int]) -> list[TelBeam] | None:
        """The blocks cut into beams of these many control points each, in order; None where they do not add up."""
        beams, start = [], 0
        for n, wanted in enumerate(control_points, start=1):
            beam = self.piece(start, wanted, str(n))
            if beam is None:
                return None
            beams.append(beam)
            start += len(beam.params)
        return beams if start == len(self.blocks) else None

    def beam_deliveries(self) -> dict[str, Delivery]:
        return {beam.label: beam.delivery() for beam in self.beams}

    def delivery(self) -> Delivery:
        """The whole file as one delivery, as ``pymedphys.Delivery.from_monaco`` returns it."""
        return _delivery(self.beams, _pymedphys_segments(self.beams))


def read_tel(path: str | Path) -> TelFile:
    """Parse a tel.1; SourceError names the file, the line and what was expected."""
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise SourceError(f"cannot read tel.1 ({exc.strerror or exc})", where=str(path), fix="is the Monaco FocalData share reachable?") from None
    return parse_tel(text, path)


def parse_tel(text: str, path: Path) -> TelFile:
    lines = text.splitlines()
    parser = _Parser(path, lines)
    parser.run()
    if not parser.blocks:
        raise SourceError("no control points found", where=str(path), fix="is this a Monaco tel.1 of a calculated plan?")
    return parser.result()


# ---- structure pass -------------------------------------------------------
@dataclass
class Block:
    """One control point (Monaco "segment") as written."""

    line: int
    static: bool
    params: dict[str, float]
    mlc_raw: np.ndarray
    flags: str


class _Parser:
    """Walks the lines once: control-point blocks, and anything else (skipped)."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path, self.lines = path, lines
        self.layout: L.Layout | None = None
        self.blocks: list[Block] = []
        self.warnings: list[str] = []

    def where(self, index: int) -> str:
        return f"{self.path} line {index + 1}"

    def run(self) -> None:
        i, n = 0, len(self.lines)
        while i < n:
            line = self.lines[i]
            if _MLC_ROW.match(line):
                self.blocks.append(self._block(i))
                i += L.BLOCK_LINES
            else:
                i += 1

    # ---- field pass for one block ----------------------------------------
    def _line(self, i: int, block_start: int, expected: str) -> str:
        if i >= len(self.lines):
            raise SourceError(
                f"file ends inside the control point that starts at line {block_start + 1}; expected {expected}",
                where=self.where(len(self.lines) - 1),
                fix="the tel.1 is truncated: export the plan from Monaco again",
            )
        return self.lines[i]

    def _rows(self, block_start: int, offset: int, count: int, pattern: re.Pattern[str], what: str, shape: str) -> list[str]:
        rows = []
        for k in range(count):
            i = block_start + offset + k
            row = self._line(i, block_start, f"{what} {k + 1} of {count}")
            if not pattern.match(row):
                raise SourceError(f"expected {what} {k + 1} of {count} ({shape}), got {row.strip()[:60]!r}", where=self.where(i), fix=_DAMAGED)
            rows.append(row)
        return rows

    def _block(self, start: int) -> Block:
        mlc_rows = self._rows(start, 0, L.MLC_ROWS, _MLC_ROW, "MLC row", f"{L.MLC_PER_ROW} comma-separated positions")
        flags = [r.strip() for r in self._rows(start, L.MLC_ROWS, L.FLAG_ROWS, _FLAG_ROW, "flag row", f"{L.FLAG_PER_ROW} one-digit values")]
        i = start + L.TYPE_LINE
        code = self._line(i, start, f"'{L.DYNAMIC_CODE}' or '{L.STATIC_CODE}'").strip()
        if code not in (L.DYNAMIC_CODE, L.STATIC_CODE):
            raise SourceError(f"expected '{L.DYNAMIC_CODE}' (dynamic control point) or '{L.STATIC_CODE}' (static segment), got {code[:20]!r}",
                              where=self.where(i), fix=_DAMAGED)
        params: dict[str, float] = {}
        for k, spec in enumerate(L.PARAMETER_LINES):
            params.update(self._parameters(start + L.FIRST_PARAMETER_LINE + k, start, spec))
        mlc = np.array(",".join(mlc_rows).split(","), dtype=float)
        if not np.isfinite(mlc).all():
            raise SourceError("an MLC position is not a finite number", where=self.where(start), fix=_DAMAGED)
        return Block(start + 1, code == L.STATIC_CODE, params, mlc, "\n".join(flags))

    def _parameters(self, i: int, start: int, spec: L.LineSpec) -> dict[str, float]:
        row = self._line(i, start, f"the {spec.name} line")
        parts = row.split(",")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise SourceError(f"expected numbers on the {spec.name} line, got {row.strip()[:60]!r}", where=self.where(i), fix=_DAMAGED) from None
        if not all(math.isfinite(v) for v in values):
            raise SourceError(f"a number on the {spec.name} line is not finite ({row.strip()[:60]!r})", where=self.where(i), fix=_DAMAGED)
        if self.layout is None and spec.name == "collimator":
            self.layout = L.layout_from_width(len(values))
            if self.layout is None:
                raise SourceError(
                    f"unknown Monaco layout: the collimator line holds {len(values)} values",
                    where=self.where(i),
                    fix="plancheck reads 1 value (Monaco before 5.51.10) or 3 (5.51.10 and later); is this tel.1 from a newer Monaco?",
                )
        layout = self.layout or L.STANDARD  # only the collimator line differs between layouts
        width = layout.width(spec)
        if len(values) != width:
            raise SourceError(f"expected {width} values on the {spec.name} line (the {layout.name} layout), got {len(values)}",
                              where=self.where(i), fix=_DAMAGED)
        return dict(zip(layout.names(spec), values, strict=False))

    # ---- beams -------------------------------------------------------------
    def result(self) -> TelFile:
        assert self.layout is not None
        tel = TelFile(self.path, self.layout, self.blocks, [], self.warnings)
        start = 0
        while start < len(self.blocks):
            tel.beams.append(tel.run_from(start, str(len(tel.beams) + 1)))
            start += len(tel.beams[-1].params)
        return tel


def _beam(label: str, blocks: list[Block]) -> TelBeam:
    return TelBeam(
        label=label,
        line=blocks[0].line,
        lines=[b.line for b in blocks],
        static=[b.static for b in blocks],
        params=[b.params for b in blocks],
        mlc_raw=[b.mlc_raw for b in blocks],
        flags=[b.flags for b in blocks],
    )


# ---- deliveries -------------------------------------------------------------
def _pymedphys_segments(beams: list[TelBeam]) -> list[slice]:
    """Runs of blocks pymedphys makes angles bipolar over: split where the running MU stops growing."""
    mu = np.cumsum(np.concatenate([b.segment_mu for b in beams]))
    cuts = np.flatnonzero(np.diff(mu) == 0) + 1
    edges = [0, *cuts.tolist(), len(mu)]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def _delivery(beams: list[TelBeam], segments: list[slice]) -> Delivery:
    """Blocks to control points: cumulative MU, bipolar angles, a static segment doubled (start, end)."""
    seg_mu = np.concatenate([b.segment_mu for b in beams])
    gantry_iec = np.concatenate([b.array("gantry_deg") for b in beams])
    coll_iec = np.concatenate([b.array("collimator_deg") for b in beams])
    gantry = np.concatenate([bipolar(gantry_iec[s]) for s in segments])
    coll = np.concatenate([bipolar(coll_iec[s]) for s in segments])
    raw = np.stack([m for b in beams for m in b.mlc_raw]).reshape(len(seg_mu), L.LEAF_PAIRS, 2)
    mlc = np.stack([raw[:, ::-1, 1], -raw[:, ::-1, 0]], axis=2)
    gap = np.concatenate([b.array("jaw_gap_mm") for b in beams])
    centre = np.concatenate([b.array("jaw_centre_mm") for b in beams])
    jaw = np.stack([centre + gap / 2, -(centre - gap / 2)], axis=1)
    static = np.concatenate([np.asarray(b.static, dtype=bool) for b in beams])
    cumulative = np.cumsum(seg_mu)
    before = np.concatenate([[0.0], cumulative[:-1]])
    index = np.repeat(np.arange(len(seg_mu)), 1 + static)
    first_of_pair = np.concatenate([[True], index[1:] != index[:-1]]) & static[index]
    mu = np.where(first_of_pair, before[index], cumulative[index])
    return Delivery(mu, gantry[index], coll[index], mlc[index], jaw[index])
