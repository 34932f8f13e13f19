"""Sources: one module per system, each turning what it read into rows of the collected table.

A source module exposes ``read(request) -> Reading | None`` (None when the source
is not configured) and raises :class:`plancheck.errors.SourceError` with a clear
message when it cannot read; the collector records that and goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from plancheck.errors import SourceError
from plancheck.table import Param, ParamTable

if TYPE_CHECKING:
    from plancheck.config import Config
    from plancheck.delivery.model import Delivery
    from plancheck.delivery.recording import Recording


def configured_folder(folder: Path | None, what: str, key: str, fix: str = "") -> Path | None:
    """The source's folder from plancheck.toml: None when not configured, SourceError when missing."""
    if folder is not None and not folder.is_dir():
        raise SourceError(f"{what} folder not found", where=str(folder), fix=f"set [folders] {key} in plancheck.toml{fix}")
    return folder


@dataclass
class Request:
    """What to collect: a patient, optionally a plan, and where the systems are."""

    patient_id: str
    plan: str | None
    config: Config
    # the table so far: what the sources read before this one (the Monaco source matches its beams to theirs)
    collected: ParamTable | None = None


@dataclass
class Reading:
    """What one source read: rows, control points per beam, and warnings it met."""

    rows: list[Param] = field(default_factory=list)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # every recorded delivery with its time and machine (iCOM), for matching to plan beams
    recordings: list[Recording] = field(default_factory=list)
