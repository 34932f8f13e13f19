"""Every source, declared once: its name, label, reader, role and configuration.

Each list of sources elsewhere (the table's schema, the order a bare name is read in,
the plan sources, the sources whose control points the delivery-time model times,
the collector's readers, plancheck.toml's folder keys) derives from :data:`SOURCES`.
A new source is one module exposing ``read(request)`` plus one entry here
(``docs/extending.md``). This module imports nothing of plancheck's: readers are
named by module path and imported only when the collector runs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    """One source of the collected table.

    ``reader`` is the module whose ``read(request)`` returns a ``Reading`` (None for the
    delivery-time model, which the collector computes from the others); ``priority``
    ranks who speaks first when a bare name is read (1 first), and the collector reads
    in that order; ``timing`` ranks the plan sources whose control points the model
    times (0: not timed); ``config_key`` is where plancheck.toml configures it;
    ``delivery_loader`` names the function of :mod:`plancheck.deliveries` that reads
    one beam's control points from it.
    """

    name: str
    label: str
    reader: str | None
    holds_plan: bool
    priority: int
    config_key: str | None = None
    timing: int = 0
    delivery_loader: str | None = None


# Declaration order is display order (report columns, the table's schema).
SOURCES: tuple[Source, ...] = (
    Source("mosaiq", "MOSAIQ", "plancheck.sources.mosaiq.reader", holds_plan=True, priority=1,
           config_key="mosaiq.url", timing=3, delivery_loader="from_mosaiq"),
    Source("plan_pdf", "Plan PDF", "plancheck.sources.pdfplan.plan", holds_plan=True, priority=2, config_key="folders.pdf"),
    Source("second_check", "Second check", "plancheck.sources.pdfplan.second_check", holds_plan=True, priority=5,
           config_key="folders.pdf"),
    Source("monaco_tel", "Monaco tel.1", "plancheck.sources.monaco.reader", holds_plan=True, priority=4,
           config_key="folders.monaco", timing=2, delivery_loader="from_monaco"),
    Source("icom", "iCOM", "plancheck.sources.icom.source", holds_plan=False, priority=6, config_key="folders.icom",
           delivery_loader="from_icom"),
    Source("rtplan", "RT Plan", "plancheck.sources.rtplan", holds_plan=True, priority=3, config_key="folders.dicom",
           timing=1, delivery_loader="from_dicom"),
    Source("trf", "TRF log", "plancheck.sources.trf", holds_plan=False, priority=7, config_key="folders.trf",
           delivery_loader="from_trf"),
    Source("model", "Delivery model", None, holds_plan=False, priority=8, config_key="machines"),
)

BY_NAME: dict[str, Source] = {s.name: s for s in SOURCES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# who speaks first when a bare name is read: the OIS, then what the physician signed
PRIORITY: tuple[str, ...] = tuple(s.name for s in sorted(SOURCES, key=lambda s: s.priority))
PLAN_SOURCES: tuple[str, ...] = tuple(n for n in PRIORITY if BY_NAME[n].holds_plan)
# whose control points the delivery-time model times, first found wins
TIMED_SOURCES: tuple[str, ...] = tuple(s.name for s in sorted(SOURCES, key=lambda s: s.timing) if s.timing)
FOLDER_KEYS: tuple[str, ...] = tuple(dict.fromkeys(s.config_key.split(".", 1)[1] for s in SOURCES
                                                    if s.config_key and s.config_key.startswith("folders.")))


def label(name: str) -> str:
    """The label a person reads for a source name (the name itself when unknown)."""
    return BY_NAME[name].label if name in BY_NAME else name


def reader(name: str) -> Callable[[Any], Any]:
    """The ``read(request)`` function of a source (imported now, not when this module loads)."""
    module = BY_NAME[name].reader
    if module is None:
        raise KeyError(f"source {name!r} has no reader: it is computed from the others")
    return importlib.import_module(module).read


def delivery_loader(name: str) -> Callable[..., Any]:
    """The :mod:`plancheck.deliveries` function that reads one beam's control points from a source."""
    loader = BY_NAME[name].delivery_loader
    if loader is None:
        raise KeyError(f"source {name!r} has no delivery loader")
    return getattr(importlib.import_module("plancheck.deliveries"), loader)
