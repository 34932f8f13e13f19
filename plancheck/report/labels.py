"""Readable names for parameters, taken from the vocabulary's descriptions: ``dose_per_fraction_cgy`` -> ``Dose per fraction (cGy)``.

A short name is the description's first clause (before a comma or a bracket);
a few descriptions open with words a table does not need ("Prescribed", "Nominal"),
and a few parameters are better known by their abbreviation (MU, SSD).
"""

from __future__ import annotations

import re

from plancheck.vocabulary import VOCABULARY

_SHORT = {  # where the description's first clause is not what a physicist calls it
    "mu": "MU",
    "tps_mu": "MU, planning system",
    "independent_mu": "MU, independent",
    "mu_diff_percent": "Second-check MU difference",
    "mu_diff_tolerance_percent": "Second-check MU tolerance",
    "ssd_mm": "SSD",
    "sad_mm": "SAD",
    "gantry_start": "Gantry start",
    "gantry_stop": "Gantry stop",
    "gantry_direction": "Gantry direction",
    "jaw_x1_mm": "Jaw X1",
    "jaw_x2_mm": "Jaw X2",
    "jaw_y1_mm": "Jaw Y1",
    "jaw_y2_mm": "Jaw Y2",
    "patient_name": "Patient name",
    "beam_name": "Beam name",
    "tps_dose_cgy": "Point dose, planning system",
    "independent_dose_cgy": "Point dose, independent",
    "max_gantry_speed_dps": "Highest gantry speed",
    "patient_id": "Patient ID",
    "plan_label": "Plan label",
    "site_name": "MOSAIQ site",
    "rx_modality": "Prescribed modality",
    "rx_energy": "Prescribed energy",
    "fractions": "Fractions",
    "rx_approved_by": "Prescription approved by",
    "rx_approved_date": "Prescription approved on",
    "rx_edited_date": "Prescription edited on",
    "plan_approved": "Plan approved",
    "plan_approved_by": "Plan approved by",
    "plan_approved_date": "Plan approved on",
    "beam_count": "Treatment beams",
    "fractions_delivered": "Fractions delivered",
    "dose_delivered_cgy": "Dose delivered",
    "fractions_scheduled": "Sessions scheduled",
    "first_treatment_date": "First treatment",
    "last_treatment_date": "Latest treatment",
    "longest_break_days": "Longest break",
    "last_check_date": "Last chart check",
    "calc_algorithm": "Calculation algorithm",
    "calc_grid_mm": "Calculation grid",
    "beam_number": "Beam number",
    "setup_field": "Set-up field",
    "machine": "Machine",
    "modality": "Modality",
    "beam_type": "Beam type",
    "control_points": "Control points",
    "collimator": "Collimator",
    "couch": "Couch",
    "beam_edited_date": "Field edited on",
    "delivered_mu": "MU delivered",
    "delivered_at": "Delivered at",
    "delivered_dose_cgy": "Dose delivered",
    "fraction_number": "Fraction",
    "qa_mode": "QA mode",
    "overridden": "Overridden",
    "override_comment": "Override comment",
    "delivery_machine": "Machine",
    "task_description": "Task",
    "task_due": "Due",
    "task_complete": "Complete",
    "task_completed_at": "Completed at",
    "document_title": "Title",
    "document_approved": "Approved",
    "document_newest": "Newest version",
    "document_approved_by": "Approved by",
    "document_approved_date": "Approved on",
    "rx_target": "Prescription target",
    "plan_status": "Plan status",
}
_DROP = re.compile(r"^(Prescribed|Nominal)\s+", re.IGNORECASE)
_CLAUSE = re.compile(r"\s*[,(:;]|\s+e\.g\.|\s+-\s")


def short_name(param: str) -> str:
    """The parameter's name in words, without its unit."""
    if param in _SHORT:
        return _SHORT[param]
    spec = VOCABULARY.get(param)
    if spec is None or not spec.description:
        return param.replace("_", " ").capitalize()
    text = _DROP.sub("", _CLAUSE.split(spec.description, maxsplit=1)[0]).strip()
    return text[:1].upper() + text[1:] if text else param


def param_label(param: str) -> str:
    """``Dose per fraction (cGy)``, ``MU``: the short name with its unit where the unit adds something."""
    name = short_name(param)
    spec = VOCABULARY.get(param)
    unit = spec.unit if spec else ""
    return f"{name} ({unit})" if unit and not name.startswith(unit) else name
