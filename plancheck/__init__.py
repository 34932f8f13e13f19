"""plancheck: plan- and chart-checks for MOSAIQ clinics.

Notebook API: ``plancheck.collect(patient_id)`` gives the collected
:class:`ParamTable`, ``plancheck.check(patient_id, kind="initial")`` a
:class:`CheckRun`, and :class:`Delivery` holds control points in pymedphys'
conventions (``Delivery.mudensity()`` maps them), and ``plancheck.gamma`` takes
``pymedphys.gamma``'s arguments.
"""

from plancheck.delivery.gamma import gamma
from plancheck.delivery.model import Delivery
from plancheck.table import Param, ParamTable

__version__ = "0.1.0"

__all__ = ["Delivery", "Param", "ParamTable", "__version__", "gamma"]
