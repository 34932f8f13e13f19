"""Write a Monaco tel.1 from any Delivery, in the block layout ``layout`` declares.

The file holds the control-point blocks only, beam after beam in the order given,
as Monaco writes them (docs/monaco.md): nothing in it names a beam, and the reader
matches its beams to the plan's. ``annotate=True`` adds comment lines before each
beam (``# beam: <label>``, its description, machine and energy); pymedphys and
plancheck's reader skip them, so a test can show that they change nothing.

Precision: every number is written with 6 decimals (MLC and jaws in mm, angles
in degrees, MU). MU is written per control point as the difference of the
cumulative MU rounded to 1e-6 MU, so the cumulative MU read back is within
5e-7 MU of the original however many control points there are; a jaw comes
back within 7.5e-7 mm (it is stored as gap and centre). Monaco itself writes
fewer decimals (pymedphys compares its tel.1 with DICOM to 0.01 MU, degree
and mm and to 0.1 mm for leaves); the reader takes any number of decimals.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Iterator, Mapping

import numpy as np

from plancheck.delivery.model import Delivery
from plancheck.sources.monaco import layout as L

DECIMALS = 6
_SCALE = 10**DECIMALS
DEFAULT_VERSION = "5.51.10"


def write_tel(
    deliveries_by_beam: Mapping[str, Delivery],
    path: str | Path,
    *,
    beam_info: Mapping[str, Mapping[str, str]] | None = None,
    monaco_version: str = DEFAULT_VERSION,
    annotate: bool = False,
) -> Path:
    """Write the beams, in order, to ``path``; with ``annotate``, ``beam_info[label]`` may give description, machine, energy.

    ``monaco_version`` chooses the block layout (before 5.51.10: one value on the
    collimator line; from 5.51.10: three).
    """
    version = L.parse_version(monaco_version)
    layout = L.layout_for_version(version) if version else None
    if layout is None:
        raise ValueError(f"unknown Monaco version {monaco_version!r}: plancheck writes the layouts of Monaco 5.0 to 6.x")
    lines: list[str] = []
    if annotate:
        lines += ["# plancheck tel.1: Monaco control-point blocks; '#' lines are comments no reader needs", f"# monaco_version: {monaco_version}"]
    for label, delivery in deliveries_by_beam.items():
        if annotate:
            lines.append(f"# beam: {label}")
            for key, value in (beam_info or {}).get(label, {}).items():
                if value:
                    lines.append(f"# {key}: {value}")
        lines.extend(beam_lines(delivery, layout, label))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return path


def beam_lines(delivery: Delivery, layout: L.Layout, label: str = "") -> Iterator[str]:
    """The control-point blocks of one beam."""
    if delivery.mlc.shape[1] != L.LEAF_PAIRS:
        raise ValueError(f"beam {label!r}: a tel.1 holds {L.LEAF_PAIRS} leaf pairs, this delivery has {delivery.mlc.shape[1]}")
    if len(delivery) == 0:
        raise ValueError(f"beam {label!r} has no control points")
    static = is_step_and_shoot(delivery)
    picks = np.arange(0, len(delivery), 2) if static else np.arange(len(delivery))
    micro = np.round(np.asarray(delivery.mu) * _SCALE).astype(np.int64)
    segment = micro[picks + 1] - micro[picks] if static else np.diff(np.concatenate([[0], micro]))
    for k, cp in enumerate(picks):
        yield from _block(delivery, int(cp), int(segment[k]), static, layout)


def is_step_and_shoot(d: Delivery) -> bool:
    """Pairs of control points with one shape each and no MU between pairs, from 0 MU: static segments."""
    n = len(d)
    if n < 2 or n % 2 or d.mu[0] != 0:
        return False
    first, second = slice(0, n, 2), slice(1, n, 2)
    same = all(np.array_equal(a[first], a[second]) for a in (d.gantry, d.collimator, d.mlc, d.jaw))
    return same and bool(np.array_equal(d.mu[2:n:2], d.mu[1 : n - 1 : 2]))


def _block(d: Delivery, cp: int, segment_micro_mu: int, static: bool, layout: L.Layout) -> Iterator[str]:
    mlc = d.mlc[cp]
    raw = np.stack([-mlc[::-1, 1], mlc[::-1, 0]], axis=1).reshape(-1)  # (bank A, bank B) per leaf pair
    for r in range(L.MLC_ROWS):
        yield ",".join(_num(v) for v in raw[r * L.MLC_PER_ROW : (r + 1) * L.MLC_PER_ROW])
    digit = L.STATIC_CODE[0] if static else L.DYNAMIC_CODE[0]
    yield from [",".join([digit] * L.FLAG_PER_ROW)] * L.FLAG_ROWS
    yield L.STATIC_CODE if static else L.DYNAMIC_CODE
    jaw2, jaw1 = float(d.jaw[cp, 0]), float(d.jaw[cp, 1])
    values = {
        "gantry_deg": float(d.gantry[cp]) % 360.0,
        "collimator_deg": float(d.collimator[cp]) % 360.0,
        "jaw_gap_mm": jaw2 + jaw1,
        "jaw_centre_mm": (jaw2 - jaw1) / 2,
    }
    for spec in L.PARAMETER_LINES:
        names = layout.names(spec)
        yield ",".join(_micro(segment_micro_mu) if n == "segment_mu" else _num(values.get(n, 0.0)) for n in names)


def _num(value: float) -> str:
    text = f"{value:.{DECIMALS}f}"
    return text[1:] if text == "-0." + "0" * DECIMALS else text


def _micro(units: int) -> str:
    """An integer count of 1e-6 MU as exact decimal text."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), _SCALE)
    return f"{sign}{whole}.{frac:0{DECIMALS}d}"
