"""plancheck: plan- and chart-checks for MOSAIQ clinics.

Notebook API: ``plancheck.collect(patient_id)`` gives the collected
:class:`ParamTable`, ``plancheck.check(patient_id, kind="initial")`` a
:class:`CheckRun`, and :class:`Delivery` holds control points in pymedphys'
conventions (``Delivery.mudensity()`` maps them), and ``plancheck.gamma`` takes
``pymedphys.gamma``'s arguments.
"""

__version__ = "0.1.0"

from plancheck.api import check, check_table, collect  # noqa: E402
from plancheck.checks.results import CheckResult, CheckRun, Status  # noqa: E402
from plancheck.delivery.gamma import gamma  # noqa: E402
from plancheck.delivery.model import Delivery  # noqa: E402
from plancheck.table import Param, ParamTable  # noqa: E402

__all__ = ["CheckResult", "CheckRun", "Delivery", "Param", "ParamTable", "Status", "check", "check_table", "collect", "gamma", "__version__"]
