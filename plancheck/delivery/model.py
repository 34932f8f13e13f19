"""The one normalised delivery model: control points as arrays, in pymedphys' conventions.

``mu`` is cumulative monitor units per control point, ``gantry`` and
``collimator`` are bipolar IEC 61217 degrees (-180..180) as pymedphys uses them,
``mlc`` is (n, leaf_pairs, 2) in mm with pymedphys' bank order and sign, and
``jaw`` is (n, 2) Y jaws in mm, pymedphys' order and sign. Each source adds a
``from_<source>`` constructor in its own module; this class only gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plancheck.delivery.mudensity import GridSpec, delivery_mudensity


@dataclass(frozen=True, eq=False)
class Delivery:
    """Control-point arrays of one beam (or of several beams merged)."""

    mu: np.ndarray
    gantry: np.ndarray
    collimator: np.ndarray
    mlc: np.ndarray
    jaw: np.ndarray

    def __post_init__(self) -> None:
        conv = {
            "mu": np.asarray(self.mu, dtype=float).reshape(-1),
            "gantry": np.asarray(self.gantry, dtype=float).reshape(-1),
            "collimator": np.asarray(self.collimator, dtype=float).reshape(-1),
            "mlc": np.asarray(self.mlc, dtype=float),
            "jaw": np.asarray(self.jaw, dtype=float),
        }
        n = len(conv["mu"])
        if conv["mlc"].ndim != 3 or conv["mlc"].shape[0] != n or conv["mlc"].shape[2] != 2:
            raise ValueError(f"mlc must have shape (n, leaf_pairs, 2) with n={n}, got {conv['mlc'].shape}")
        if conv["jaw"].shape != (n, 2):
            raise ValueError(f"jaw must have shape ({n}, 2), got {conv['jaw'].shape}")
        for name in ("gantry", "collimator"):
            if len(conv[name]) != n:
                raise ValueError(f"{name} has {len(conv[name])} values for {n} control points")
        for name, arr in conv.items():
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    # ---- shape ---------------------------------------------------------
    @property
    def monitor_units(self) -> np.ndarray:
        return self.mu

    def __len__(self) -> int:
        return len(self.mu)

    @property
    def total_mu(self) -> float:
        return float(self.mu[-1]) if len(self.mu) else 0.0

    def replace(self, **arrays: Any) -> "Delivery":
        """A copy with some arrays replaced (used by simulated faults)."""
        fields = {k: getattr(self, k) for k in ("mu", "gantry", "collimator", "mlc", "jaw")}
        fields.update(arrays)
        return Delivery(**fields)

    def allclose(self, other: "Delivery", atol: float = 1e-6) -> bool:
        return all(
            np.shape(getattr(self, k)) == np.shape(getattr(other, k))
            and np.allclose(getattr(self, k), getattr(other, k), atol=atol)
            for k in ("mu", "gantry", "collimator", "mlc", "jaw")
        )

    @classmethod
    def merge(cls, *deliveries: "Delivery") -> "Delivery":
        """Concatenate beams into one delivery, MU kept cumulative (as pymedphys' merge)."""
        if not deliveries:
            raise ValueError("nothing to merge")
        all_mu = np.concatenate([d.mu for d in deliveries])
        steps = np.concatenate([[0.0], np.diff(all_mu)])
        mu = np.cumsum(np.clip(steps, 0, None))
        return cls(
            mu,
            np.concatenate([d.gantry for d in deliveries]),
            np.concatenate([d.collimator for d in deliveries]),
            np.concatenate([d.mlc for d in deliveries]),
            np.concatenate([d.jaw for d in deliveries]),
        )

    @classmethod
    def from_banks(
        cls,
        mu: Any,
        gantry_iec: Any,
        collimator_iec: Any,
        bank_a_mm: Any,
        bank_b_mm: Any,
        y1_mm: Any,
        y2_mm: Any,
    ) -> "Delivery":
        """From planning-system conventions (IEC angles, leaf banks A and B in leaf order,
        signed Y1/Y2 jaws in mm, as DICOM and MOSAIQ hold them) to pymedphys' conventions."""
        from plancheck.sources.normalise import bipolar

        a, b = np.atleast_2d(np.asarray(bank_a_mm, dtype=float)), np.atleast_2d(np.asarray(bank_b_mm, dtype=float))
        mlc = np.stack([b[:, ::-1], -a[:, ::-1]], axis=2)
        jaw = np.stack([np.asarray(y2_mm, dtype=float), -np.asarray(y1_mm, dtype=float)], axis=1)
        return cls(np.asarray(mu, dtype=float), bipolar(gantry_iec), bipolar(collimator_iec), mlc, jaw)

    # ---- analysis --------------------------------------------------------
    def mudensity(self, grid: GridSpec | None = None) -> np.ndarray:
        """MU density map (rows: jaw direction, columns: leaf direction) on ``grid``; axes from ``grid.axes()``.

        Equals ``pymedphys.Delivery.metersetmap()`` on the same grid (default: 1 mm, 400 mm leaf gap, Agility).
        """
        return delivery_mudensity(self, grid)

    # ---- pymedphys interop ----------------------------------------------
    def to_pymedphys(self) -> Any:
        import pymedphys

        return pymedphys.Delivery(self.mu, self.gantry, self.collimator, self.mlc, self.jaw)

    @classmethod
    def from_pymedphys(cls, delivery: Any) -> "Delivery":
        return cls(
            np.asarray(delivery.mu),
            np.asarray(delivery.gantry),
            np.asarray(delivery.collimator),
            np.asarray(delivery.mlc),
            np.asarray(delivery.jaw),
        )

    # ---- constructors from sources (each lives in its source module) -----
    @classmethod
    def from_dicom(cls, path_or_dataset: "str | Path | Any", beam: str | int | None = None) -> "Delivery":
        """Control points of one beam (by name or number) or of the whole first fraction group."""
        from plancheck.sources.rtplan import delivery_from_rtplan

        return delivery_from_rtplan(path_or_dataset, beam)

    @classmethod
    def from_mosaiq(cls, url_or_engine: Any, field_id: int) -> "Delivery":
        """Control points of one MOSAIQ field (TxField.FLD_ID) from TxFieldPoint."""
        from plancheck.sources.mosaiq.delivery import delivery_from_mosaiq

        return delivery_from_mosaiq(url_or_engine, field_id)

    @classmethod
    def from_monaco(cls, tel_path: "str | Path", beam: str | None = None) -> "Delivery":
        """A Monaco tel.1: the whole file as pymedphys reads it, or one beam (by label) from MU 0."""
        from plancheck.errors import SourceError
        from plancheck.sources.monaco.telfile import read_tel

        tel = read_tel(tel_path)
        if beam is None:
            return tel.delivery()
        deliveries = tel.beam_deliveries()
        if beam not in deliveries:
            raise SourceError(f"no beam {beam!r} (beams: {', '.join(deliveries)})", where=str(tel_path))
        return deliveries[beam]

    def to_tel(self, path: "str | Path", label: str = "1", **options: Any) -> Path:
        """Write this delivery as a one-beam Monaco tel.1 (options as ``write_tel``)."""
        from plancheck.sources.monaco.writer import write_tel

        return write_tel({label: self}, path, **options)

    @classmethod
    def from_trf(cls, path: "str | Path") -> "Delivery":
        """An Elekta TRF log file, as ``pymedphys.Delivery.from_trf`` reads it."""
        from plancheck.sources.trf import delivery_from_trf

        return delivery_from_trf(path)

    @classmethod
    def from_icom(cls, stream_or_path: "bytes | str | Path") -> "Delivery":
        """Control points of an iCOM stream (bytes, a raw file or an ``.xz`` archive), as pymedphys reads them."""
        from plancheck.sources.icom.reader import read_icom
        from plancheck.sources.icom.deliveries import delivery_from_records

        reading = read_icom(stream_or_path)
        return delivery_from_records(reading.records, reading.where)

    def to_icom(self, path: "str | Path", *, patient_id: str, patient_name: str, machine: str, start: Any, **options: Any) -> Path:
        """Write this delivery as an iCOM stream (``.xz`` compresses); options go to ``write_icom_stream``."""
        from plancheck.sources.icom.writer import write_icom_file, write_icom_stream

        stream = write_icom_stream(self, patient_id=patient_id, patient_name=patient_name, machine=machine, start=start, **options)
        return write_icom_file(path, stream)
