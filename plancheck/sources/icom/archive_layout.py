"""Where the iCOM listener archives deliveries, as the ``icom`` source reads them back.

``patients/<ID>_<NAME>/<YYYYMMDD_HHMMSS>.xz`` per delivery; bytes that could not be read
go to ``unknown_error_in_record/<ID>_<NAME>/``, pieces set aside during a delivery with
``_set_aside`` in their name. The service (:mod:`plancheck.icom_service.archive`) writes
this layout and the source reads it; both take it from here.
"""

from __future__ import annotations

from plancheck.paths import safe_name

PATIENTS = "patients"
UNREADABLE = "unknown_error_in_record"
SET_ASIDE_SUFFIX = "_set_aside"


def folder_name(patient_id: str, patient_name: str | None) -> str:
    """``<ID>_<NAME>``, each part made safe and bounded by :func:`plancheck.paths.safe_name`."""
    return f"{safe_name(patient_id)}_{safe_name(patient_name or '', default='')}"


def patient_prefix(patient_id: str) -> str:
    """The start of every archive folder name of one patient."""
    return f"{safe_name(patient_id)}_"
