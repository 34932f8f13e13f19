"""plancheck: plan- and chart-checks for MOSAIQ clinics.

Notebook API: ``plancheck.collect(patient_id)`` gives the collected
:class:`ParamTable`, ``plancheck.check(patient_id, kind="initial")`` a
:class:`CheckRun`, and :class:`Delivery` holds control points in pymedphys'
conventions (``Delivery.mudensity()`` maps them; ``plancheck.deliveries.from_dicom``
and its siblings read one), and ``plancheck.gamma`` takes ``pymedphys.gamma``'s arguments.

The names are loaded on first use, so that ``plancheck --help`` does not import
numpy, pandas, pydicom and matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from plancheck.version import __version__

# public name -> module that defines it
_API = {
    "check": "plancheck.api",
    "check_table": "plancheck.api",
    "collect": "plancheck.api",
    "CheckResult": "plancheck.checks.results",
    "CheckRun": "plancheck.checks.results",
    "Status": "plancheck.checks.results",
    "gamma": "plancheck.delivery.gamma",
    "Delivery": "plancheck.delivery.model",
    "Param": "plancheck.table",
    "ParamTable": "plancheck.table",
}

if TYPE_CHECKING:
    from plancheck.api import check, check_table, collect
    from plancheck.checks.results import CheckResult, CheckRun, Status
    from plancheck.delivery.gamma import gamma
    from plancheck.delivery.model import Delivery
    from plancheck.table import Param, ParamTable


_MODULES = ("deliveries",)  # submodules reachable as attributes, loaded on first use


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"plancheck.{name}")
    if name not in _API:
        raise AttributeError(f"module 'plancheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API, *_MODULES])


__all__ = ["CheckResult", "CheckRun", "Delivery", "Param", "ParamTable", "Status", "__version__", "check", "check_table", "collect", "gamma"]
