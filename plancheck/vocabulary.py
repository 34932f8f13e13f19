"""The shared parameter vocabulary: every param a source may emit, kept in one place.

Each entry names the parameter, its unit after normalisation at the source, the
scope it belongs to, its value type, the default tolerance (and action level)
used by implicit cross-source checks, and a one-line description. Rule sets may
override tolerances; sources must not emit a name that is not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParamSpec:
    """One vocabulary entry."""

    name: str
    scope: str
    value_type: str  # "number", "text", "bool", "date", "angle"
    unit: str = ""
    tolerance: float | None = None  # |a - b| <= tolerance passes
    action: float | None = None  # tolerance < |a - b| <= action warns; beyond fails
    compare: bool = True  # take part in implicit cross-source checks
    description: str = ""


SCOPES = ("patient", "prescription", "beam", "delivery", "task", "document")

_SPECS = [
    # patient
    ParamSpec("patient_id", "patient", "text", description="Patient ID as people type it (MOSAIQ IDA)"),
    ParamSpec("patient_name", "patient", "text", description="LAST^FIRST, upper case"),
    ParamSpec("birth_date", "patient", "date", description="Date of birth, ISO 8601"),
    # prescription / plan
    ParamSpec("plan_label", "prescription", "text", compare=False, description="Plan or site name the sources use"),
    ParamSpec("site_name", "prescription", "text", compare=False, description="MOSAIQ site (prescription) name"),
    ParamSpec("technique", "prescription", "text", description="Prescribed technique: 3D, IMRT, VMAT, ELECTRON, ..."),
    ParamSpec("rx_modality", "prescription", "text", description="Prescribed modality, photon or electron (MOSAIQ Site.Modality)"),
    ParamSpec("rx_energy", "prescription", "text", description="Prescribed energy, e.g. 6X, 10FFF, 6E"),
    ParamSpec("dose_per_fraction_cgy", "prescription", "number", "cGy", 0.05, 0.5, description="Prescribed dose per fraction"),
    ParamSpec("total_dose_cgy", "prescription", "number", "cGy", 0.05, 0.5, description="Prescribed total dose"),
    ParamSpec("fractions", "prescription", "number", "", 0, 0, description="Number of fractions prescribed"),
    ParamSpec("frac_pattern", "prescription", "text", compare=False, description="Fractionation pattern, e.g. 5x/week"),
    ParamSpec("rx_status", "prescription", "text", compare=False, description="Prescription status: approved, pending, hold, complete, void"),
    ParamSpec("rx_approved", "prescription", "bool", compare=False, description="Prescription approved (sanctioned)"),
    ParamSpec("rx_approved_by", "prescription", "text", compare=False, description="Who approved the prescription"),
    ParamSpec("rx_approved_date", "prescription", "date", compare=False, description="When the prescription was approved"),
    ParamSpec("rx_edited_date", "prescription", "date", compare=False, description="When the prescription was last edited"),
    ParamSpec("plan_approved", "prescription", "bool", compare=False, description="Treatment plan approved"),
    ParamSpec("plan_approved_by", "prescription", "text", compare=False, description="Who approved the plan"),
    ParamSpec("plan_approved_date", "prescription", "date", compare=False, description="When the plan was approved"),
    ParamSpec("beam_count", "prescription", "number", "", 0, 0, description="Number of treatment beams"),
    ParamSpec("fractions_delivered", "prescription", "number", "", compare=False, description="Fractions delivered so far"),
    ParamSpec("dose_delivered_cgy", "prescription", "number", "cGy", compare=False, description="Cumulative dose delivered"),
    ParamSpec("fractions_scheduled", "prescription", "number", "", compare=False, description="Treatment sessions scheduled"),
    ParamSpec("first_treatment_date", "prescription", "date", compare=False, description="Date of the first delivered fraction"),
    ParamSpec("last_treatment_date", "prescription", "date", compare=False, description="Date of the latest delivered fraction"),
    ParamSpec("longest_break_days", "prescription", "number", "days", compare=False, description="Longest gap between treatment days"),
    ParamSpec("last_check_date", "prescription", "date", compare=False, description="When a physics chart check was last completed"),
    ParamSpec("calc_algorithm", "prescription", "text", description="Dose calculation algorithm and version"),
    ParamSpec("calc_grid_mm", "prescription", "number", "mm", 0.01, 0.1, description="Dose calculation grid size"),
    # beam
    ParamSpec("beam_name", "beam", "text", description="Beam description (MOSAIQ Field_Name, DICOM BeamDescription)"),
    ParamSpec("beam_number", "beam", "number", "", compare=False, description="Beam number within the plan"),
    ParamSpec("setup_field", "beam", "bool", description="Set-up (imaging) field, not a treatment beam"),
    ParamSpec("machine", "beam", "text", description="Treatment machine name, upper case"),
    ParamSpec("energy", "beam", "text", description="Nominal energy: 6X, 10FFF, 6E, ..."),
    ParamSpec("modality", "beam", "text", description="photon or electron"),
    ParamSpec("beam_type", "beam", "text", description="STATIC, STEPNSHOOT, ARC, VMAT, DMLC"),
    ParamSpec("mu", "beam", "number", "MU", 0.5, 1.0, description="Monitor units"),
    ParamSpec("control_points", "beam", "number", "", 0, 0, description="Number of control points"),
    ParamSpec("gantry_start", "beam", "angle", "deg", 0.1, 1.0, description="Gantry angle at the first control point, IEC 61217"),
    ParamSpec("gantry_stop", "beam", "angle", "deg", 0.1, 1.0, description="Gantry angle at the last control point, IEC 61217"),
    ParamSpec("gantry_direction", "beam", "text", description="CW, CC or NONE"),
    ParamSpec("collimator", "beam", "angle", "deg", 0.1, 1.0, description="Collimator angle, IEC 61217"),
    ParamSpec("couch", "beam", "angle", "deg", 0.1, 1.0, description="Couch (patient support) angle, IEC 61217"),
    ParamSpec("jaw_x1_mm", "beam", "number", "mm", 0.5, 1.0, description="X1 jaw at the first control point (negative when on the X1 side)"),
    ParamSpec("jaw_x2_mm", "beam", "number", "mm", 0.5, 1.0, description="X2 jaw at the first control point"),
    ParamSpec("jaw_y1_mm", "beam", "number", "mm", 0.5, 1.0, description="Y1 jaw at the first control point (negative when on the Y1 side)"),
    ParamSpec("jaw_y2_mm", "beam", "number", "mm", 0.5, 1.0, description="Y2 jaw at the first control point"),
    ParamSpec("ssd_mm", "beam", "number", "mm", 5.0, 10.0, description="Source-to-skin distance"),
    ParamSpec("sad_mm", "beam", "number", "mm", 0.5, 1.0, description="Source-axis distance"),
    ParamSpec("iso_x_mm", "beam", "number", "mm", 0.5, 1.0, description="Isocentre x (patient coordinates)"),
    ParamSpec("iso_y_mm", "beam", "number", "mm", 0.5, 1.0, description="Isocentre y"),
    ParamSpec("iso_z_mm", "beam", "number", "mm", 0.5, 1.0, description="Isocentre z"),
    ParamSpec("beam_on_time_s", "beam", "number", "s", 10.0, 30.0, description="Beam-on time (estimated or recorded)"),
    ParamSpec("max_gantry_speed_dps", "beam", "number", "deg/s", compare=False, description="Highest gantry speed in the delivery"),
    ParamSpec("beam_approved", "beam", "bool", compare=False, description="Field approved (sanctioned)"),
    ParamSpec("beam_edited_date", "beam", "date", compare=False, description="When the field was last edited"),
    ParamSpec("tps_mu", "beam", "number", "MU", compare=False, description="MU the planning system calculated (second check)"),
    ParamSpec("independent_mu", "beam", "number", "MU", compare=False, description="MU of the independent calculation"),
    ParamSpec("mu_diff_percent", "beam", "number", "%", compare=False, description="Second-check difference"),
    ParamSpec("mu_diff_tolerance_percent", "beam", "number", "%", compare=False, description="Second-check tolerance"),
    # delivery history: one item per delivered beam
    ParamSpec("delivered_mu", "delivery", "number", "MU", compare=False, description="Monitor units delivered"),
    ParamSpec("delivered_at", "delivery", "date", compare=False, description="Date and time of the delivery"),
    ParamSpec("delivered_dose_cgy", "delivery", "number", "cGy", compare=False, description="Dose delivered by this record"),
    ParamSpec("fraction_number", "delivery", "number", "", compare=False, description="Fraction the delivery belongs to"),
    ParamSpec("qa_mode", "delivery", "bool", compare=False, description="Delivered in QA mode"),
    ParamSpec("overridden", "delivery", "bool", compare=False, description="A parameter was overridden at the console"),
    ParamSpec("override_comment", "delivery", "text", compare=False, description="Comment recorded with an override"),
    ParamSpec("partial", "delivery", "bool", compare=False, description="Partially treated (beam not completed)"),
    ParamSpec("delivery_machine", "delivery", "text", compare=False, description="Machine that delivered"),
    # tasks (QCL)
    ParamSpec("task_description", "task", "text", compare=False, description="QCL task description"),
    ParamSpec("task_due", "task", "date", compare=False, description="QCL task due date"),
    ParamSpec("task_complete", "task", "bool", compare=False, description="QCL task completed"),
    ParamSpec("task_completed_at", "task", "date", compare=False, description="When the QCL task was completed"),
    # documents
    ParamSpec("document_title", "document", "text", compare=False, description="Document title"),
    ParamSpec("document_approved", "document", "bool", compare=False, description="Document signed or approved"),
    ParamSpec("document_newest", "document", "bool", compare=False, description="Newest non-void version of its type"),
    # --- plan PDF and second-check sources (plancheck/sources/pdfplan) ---
    ParamSpec("rx_target", "prescription", "text", compare=False, description="Target the prescription is written to (structure or volume)"),
    ParamSpec("plan_status", "prescription", "text", compare=False, description="Plan approval state as the planning system prints it"),
    ParamSpec("tps_dose_cgy", "beam", "number", "cGy", compare=False, description="Point dose the planning system calculated (second check)"),
    ParamSpec("independent_dose_cgy", "beam", "number", "cGy", compare=False, description="Point dose of the independent calculation"),
    ParamSpec("document_approved_by", "document", "text", compare=False, description="Who signed or approved the document"),
    ParamSpec("document_approved_date", "document", "date", compare=False, description="When the document was signed or approved"),
]

VOCABULARY: dict[str, ParamSpec] = {}
for _spec in _SPECS:
    # modality appears at two scopes; the vocabulary keys on name, scopes are checked per row
    VOCABULARY.setdefault(_spec.name, _spec)

SCOPES_OF: dict[str, set[str]] = {}
for _spec in _SPECS:
    SCOPES_OF.setdefault(_spec.name, set()).add(_spec.scope)


def spec(name: str) -> ParamSpec:
    """The vocabulary entry for ``name``; KeyError names the unknown parameter."""
    try:
        return VOCABULARY[name]
    except KeyError:
        raise KeyError(f"unknown parameter {name!r}: not in plancheck's vocabulary (plancheck/vocabulary.py)") from None
