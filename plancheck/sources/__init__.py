"""Sources: one module per system, each turning what it read into rows of the collected table.

A source module exposes ``read(request) -> Reading | None`` (None when the source
is not configured) and raises :class:`plancheck.errors.SourceError` with a clear
message when it cannot read; the collector records that and goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plancheck.table import Param

if TYPE_CHECKING:
    from plancheck.config import Config
    from plancheck.delivery.model import Delivery


@dataclass
class Request:
    """What to collect: a patient, optionally a plan, and where the systems are."""

    patient_id: str
    plan: str | None
    config: "Config"


@dataclass
class Reading:
    """What one source read: rows, control points per beam, and warnings it met."""

    rows: list[Param] = field(default_factory=list)
    deliveries: dict[str, "Delivery"] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # every recorded delivery with its time and machine (iCOM), for matching to plan beams
    recordings: list[Any] = field(default_factory=list)
