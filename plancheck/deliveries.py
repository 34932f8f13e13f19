"""Deliveries from files and systems, and back: the conveniences above the sources and the delivery model.

:class:`plancheck.delivery.model.Delivery` is pure analysis data; each function here
reads one system's control points into it (``from_dicom``, ``from_monaco``, ...) or
writes it out as test data (``to_tel``, ``to_icom``), as pymedphys'
``Delivery.from_<source>`` constructors do. A source's registration in
:mod:`plancheck.registry` names its loader here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError


def from_dicom(path_or_dataset: str | Path | Any, beam: str | int | None = None) -> Delivery:
    """Control points of one beam (by name or number) of an RT Plan, or of its whole first fraction group.

    Every layout gives one Delivery in pymedphys' conventions: a single-layer MLC as pymedphys reads it, two
    layers (Halcyon/Ethos, MRIdian) or an MLC with X jaws as the aperture they all leave open, a photon field
    without an MLC as its jaw rectangle (docs/mlc-layouts.md); a beam with none says what it lacks.
    """
    from plancheck.sources.rtplan import delivery_from_rtplan

    return delivery_from_rtplan(path_or_dataset, beam)


def from_mosaiq(url_or_engine: Any, field_id: int) -> Delivery:
    """Control points of one MOSAIQ field (TxField.FLD_ID) from TxFieldPoint."""
    from plancheck.sources.mosaiq.delivery import delivery_from_mosaiq

    return delivery_from_mosaiq(url_or_engine, field_id)


def from_monaco(tel_path: str | Path, beam: str | None = None) -> Delivery:
    """A Monaco tel.1: the whole file as pymedphys reads it, or one beam (by label) from MU 0."""
    from plancheck.sources.monaco.telfile import read_tel

    tel = read_tel(tel_path)
    if beam is None:
        return tel.delivery()
    deliveries = tel.beam_deliveries()
    if beam not in deliveries:
        raise SourceError(f"no beam {beam!r} (beams: {', '.join(deliveries)})", where=str(tel_path))
    return deliveries[beam]


def from_trf(path: str | Path) -> Delivery:
    """An Elekta TRF log file, as ``pymedphys.Delivery.from_trf`` reads it."""
    from plancheck.sources.trf import delivery_from_trf

    return delivery_from_trf(path)


def from_icom(stream_or_path: bytes | str | Path) -> Delivery:
    """Control points of an iCOM stream (bytes, a raw file or an ``.xz`` archive), as pymedphys reads them."""
    from plancheck.sources.icom.deliveries import delivery_from_records
    from plancheck.sources.icom.reader import read_icom

    reading = read_icom(stream_or_path)
    return delivery_from_records(reading.records, reading.where)


def to_tel(delivery: Delivery, path: str | Path, label: str = "1", **options: Any) -> Path:
    """Write ``delivery`` as a one-beam Monaco tel.1 (options as ``write_tel``)."""
    from plancheck.fabricate.tel import write_tel

    return write_tel({label: delivery}, path, **options)


def to_icom(delivery: Delivery, path: str | Path, *, patient_id: str, patient_name: str, machine: str, start: Any, **options: Any) -> Path:
    """Write ``delivery`` as an iCOM stream (``.xz`` compresses); options go to ``write_icom_stream``."""
    from plancheck.fabricate.icom import write_icom_file, write_icom_stream

    stream = write_icom_stream(delivery, patient_id=patient_id, patient_name=patient_name, machine=machine, start=start, **options)
    return write_icom_file(path, stream)
