"""One layout per vendor's printout: Elekta Monaco, Varian Eclipse, RaySearch RayStation, RadCalc.

Each takes the plan as printed (:class:`PlanData`), a :class:`Printer` that
records every printed value, and the sections to leave out, and returns the
laid-out :class:`ReportPDF`. Section names for ``omit``: monaco ``beams``,
``geometry``, ``details``; eclipse ``fields``, ``details``; raystation ``beams``,
``geometry``; radcalc ``beams``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from plancheck.fabricate.pdf_printing import PRINTED_AT, RADCALC_DIFFS, Column, PlanData, Printer, ReportPDF, latin1

TECHNIQUE = {
    "monaco": {"VMAT": "VMAT", "STEPNSHOOT": "Step & Shoot", "DMLC": "Dynamic IMRT", "STATIC": "Static", "ARC": "Conformal Arc"},
    "eclipse": {"VMAT": "VMAT", "STEPNSHOOT": "Static MLC", "DMLC": "Sliding Window", "STATIC": "Static", "ARC": "Conformal Arc"},
    "raystation": {"VMAT": "VMAT", "STEPNSHOOT": "SMLC", "DMLC": "DMLC", "STATIC": "3D-CRT", "ARC": "Conformal arc"},
}
DIRECTION = {"CW": "CW", "CC": "CCW", "NONE": "None"}
DEMO_NOTE = "Test report made by plancheck; layout after the vendor's printout."


def _split_energy(energy: str) -> tuple[str, str]:
    """'10FFF' -> ('10', 'FFF'); '6X' -> ('6', 'X'); '9E' -> ('9', 'E')."""
    for suffix in ("FFF", "X", "E"):
        if energy.endswith(suffix):
            return energy[: -len(suffix)], suffix
    return energy, "X"


def _energy_text(vendor: str, energy: str) -> str:
    number, kind = _split_energy(energy)
    if vendor == "monaco":
        return {"X": f"{number} MV", "FFF": f"{number} MV FFF", "E": f"{number} MeV"}[kind]
    if vendor == "eclipse":
        return {"X": f"{number}X", "FFF": f"{number}X-FFF", "E": f"{number}E"}[kind]
    if vendor == "raystation":
        return {"X": number, "FFF": f"{number} FFF", "E": f"{number} MeV"}[kind]
    return energy


def _energy(p: Printer, vendor: str, label: str, beam: dict[str, Any]) -> str:
    value = beam.get("energy")
    return p.text("energy", _energy_text(vendor, value), label, recorded=value) if value else "-"


def _technique(p: Printer, vendor: str, label: str, beam: dict[str, Any]) -> str:
    value = beam.get("beam_type")
    return p.text("beam_type", TECHNIQUE[vendor].get(value, value), label, recorded=value) if value else "-"


def _direction(p: Printer, label: str, beam: dict[str, Any]) -> str:
    value = beam.get("gantry_direction")
    return p.text("gantry_direction", DIRECTION[value], label, recorded=value) if value else "-"


def _name(last_first: str, style: str) -> str:
    """'DOE^JOHN' printed as 'DOE, JOHN' (upper), 'Doe, John' (title) or 'Doe^John' (caret)."""
    parts = [x for x in str(last_first).split("^") if x]
    if style == "caret":
        return "^".join(x.title() for x in parts)
    text = ", ".join(parts)
    return text.title() if style == "title" else text.upper()


def _patient_name(p: Printer, v: dict[str, Any], style: str) -> str:
    value = v.get("patient_name", "")
    return p.text("patient_name", _name(value, style), recorded="^".join(x.upper() for x in str(value).split("^") if x))


def _status(p: Printer, v: dict[str, Any], yes: str, no: str) -> str:
    approved = bool(v.get("plan_approved"))
    p.record("plan_approved", approved)
    return p.text("plan_status", yes if approved else no)


def _algorithm(v: dict[str, Any]) -> tuple[str, str]:
    name, _, version = str(v.get("calc_algorithm", "")).rpartition(" ")
    return name, version


def _title(kind: str, v: dict[str, Any]) -> str:
    return f"{kind} {v.get('plan_label', '')} ({v.get('patient_id', '')})"


def _standard_pdf(orientation: str, left: str, right: str, sub: Callable[[], str], foot_left: str, title: str) -> ReportPDF:
    def header(pdf: ReportPDF) -> None:
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(pdf.epw / 2, 6, latin1(left))
        pdf.set_font("Helvetica", "", 12)
        pdf.cell(pdf.epw / 2, 6, latin1(right), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 7.5)
        pdf.cell(0, 4, latin1(sub()), new_x="LMARGIN", new_y="NEXT")
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.ln(3)

    def footer(pdf: ReportPDF) -> None:
        pdf.set_y(-13)
        pdf.set_font("Helvetica", "", 7)
        pdf.cell(pdf.epw * 0.75, 4, latin1(foot_left))
        pdf.cell(pdf.epw * 0.25, 4, f"Page {pdf.page_no()} of {{nb}}", align="R")

    pdf = ReportPDF(orientation, header, footer)
    pdf.set_title(latin1(title))
    pdf.add_page()
    return pdf


# ---- Elekta Monaco -------------------------------------------------------------------------

def monaco(plan: PlanData, p: Printer, omit: frozenset[str]) -> ReportPDF:
    v = plan.values
    algo, version = _algorithm(v)
    sub = f"{_name(v.get('patient_name', ''), 'upper')} | ID {v.get('patient_id', '')} | Plan {v.get('plan_label', '')}"
    pdf = _standard_pdf("P", f"Monaco {version or '6.1'}", "Plan Report", lambda: sub,
                        f"Elekta Monaco - printed {PRINTED_AT:%d-%b-%Y %H:%M}. {DEMO_NOTE}", _title("Monaco plan report", v))
    pdf.section("Patient", space=1)
    pdf.pairs([("Patient Name:", _patient_name(p, v, "upper")), ("Patient ID:", p.text("patient_id", v.get("patient_id")))])
    pdf.section("Plan")
    pdf.pairs([("Plan Name:", p.text("plan_label", v.get("plan_label"))), ("Plan Status:", _status(p, v, "Approved", "Unapproved")),
               ("Approved By:", p.text("plan_approved_by", v.get("plan_approved_by"))),
               ("Approval Date:", p.date("plan_approved_date", v.get("plan_approved_date"), "%d-%b-%Y %H:%M"))])
    pdf.section("Prescription")
    pdf.pairs([("Target:", p.text("rx_target", v.get("rx_target"))), ("Number of Fractions:", p.num("fractions", v.get("fractions"), 0)),
               ("Dose per Fraction:", p.num("dose_per_fraction_cgy", v.get("dose_per_fraction_cgy"), 3, factor=100) + " Gy"),
               ("Total Dose:", p.num("total_dose_cgy", v.get("total_dose_cgy"), 3, factor=100) + " Gy")])
    pdf.section("Dose Calculation")
    p.record("calc_algorithm", v.get("calc_algorithm"))
    pdf.pairs([("Algorithm:", algo), ("Algorithm Version:", version),
               ("Grid Spacing:", p.num("calc_grid_mm", v.get("calc_grid_mm"), 2, factor=10) + " cm"), ("Uncertainty:", "1.00 % per calculation")])
    beams = plan.beams
    if "beams" not in omit:
        pdf.wrapped_table("Beam Summary", [Column("Beam ID", 22), Column("Description", 40), Column("Machine", 22), Column("Energy", 20),
                                   Column("Delivery", 28), Column("MU", 20), Column("Dose Rate", 24)],
                  [[k, p.text("beam_name", b.get("beam_name"), k), p.text("machine", b.get("machine"), k), _energy(p, "monaco", k, b),
                    _technique(p, "monaco", k, b), p.num("mu", b.get("mu"), 2, beam=k), "600 MU/min"] for k, b in beams.items()])
    if "geometry" not in omit:
        pdf.wrapped_table("Beam Geometry", [Column("Beam ID", 17), Column("Gantry Start", 20), Column("Gantry Stop", 20), Column("Arc", 12),
                                    Column("Collimator", 18), Column("Couch", 13), Column("SSD [cm]", 17), Column("Iso X [cm]", 20),
                                    Column("Iso Y [cm]", 20), Column("Iso Z [cm]", 20)],
                  [[k, p.num("gantry_start", b.get("gantry_start"), 1, beam=k), p.num("gantry_stop", b.get("gantry_stop"), 1, beam=k),
                    _direction(p, k, b), p.num("collimator", b.get("collimator"), 1, beam=k), p.num("couch", b.get("couch"), 1, beam=k),
                    p.num("ssd_mm", b.get("ssd_mm"), 2, factor=10, beam=k),
                    *(p.num(f"iso_{a}_mm", b.get(f"iso_{a}_mm"), 2, factor=10, beam=k) for a in "xyz")] for k, b in beams.items()])
    if "details" not in omit:
        _details(pdf, beams, "Beam Details", "Beam")
    return pdf


def _details(pdf: ReportPDF, beams: dict[str, dict[str, Any]], title: str, noun: str) -> None:
    """Per-beam blocks of what the tables do not show (read by no template; they make reports realistic in length)."""
    pdf.section(title)
    for label, beam in beams.items():
        if pdf.get_y() + 22 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 5, latin1(f"{noun} {label}: {beam.get('beam_name', '')}"), new_x="LMARGIN", new_y="NEXT")
        jaws = [beam.get(f"jaw_{j}_mm") for j in ("x1", "x2", "y1", "y2")]
        cm = ["-" if j is None else f"{j / 10:.2f}" for j in jaws]
        pdf.pairs([("Control points:", str(beam.get("control_points", "-"))),
                   ("SAD:", "-" if beam.get("sad_mm") is None else f"{beam['sad_mm'] / 10:.1f} cm"),
                   ("Jaws X1 / X2:", f"{cm[0]} / {cm[1]} cm"), ("Jaws Y1 / Y2:", f"{cm[2]} / {cm[3]} cm")], size=8, line_h=4.2)


# ---- Varian Eclipse ------------------------------------------------------------------------

def _eclipse_gantry(p: Printer, label: str, beam: dict[str, Any]) -> str:
    start = p.num("gantry_start", beam.get("gantry_start"), 1, beam=label)
    if beam.get("gantry_direction") in (None, "NONE"):
        if beam.get("gantry_start") is not None:  # the reader's template fills these in for a fixed gantry
            p.record("gantry_stop", p.report.beams[label]["gantry_start"], label)
            p.record("gantry_direction", "NONE", label)
        return start
    return f"{start} {_direction(p, label, beam)} {p.num('gantry_stop', beam.get('gantry_stop'), 1, beam=label)}"


def eclipse(plan: PlanData, p: Printer, omit: frozenset[str]) -> ReportPDF:
    v = plan.values
    algo, version = _algorithm(v)
    sub = f"Patient: {_name(v.get('patient_name', ''), 'title')} ({v.get('patient_id', '')})   Course: C1   Plan: {v.get('plan_label', '')}"
    pdf = _standard_pdf("L", "Eclipse  Treatment Planning System", "Plan Report", lambda: sub,
                        f"Varian Medical Systems - printed {PRINTED_AT:%m/%d/%Y %I:%M %p}. {DEMO_NOTE}", _title("Eclipse plan report", v))
    pdf.section("Plan Information", space=1)
    pdf.pairs([("Patient Name:", _patient_name(p, v, "title")), ("Patient ID:", p.text("patient_id", v.get("patient_id"))),
               ("Plan ID:", p.text("plan_label", v.get("plan_label"))), ("Plan Status:", _status(p, v, "Treatment Approved", "Unapproved")),
               ("Approved by:", p.text("plan_approved_by", v.get("plan_approved_by"))),
               ("Approval Date:", p.date("plan_approved_date", v.get("plan_approved_date"), "%m/%d/%Y %I:%M %p"))], label_w=36)
    pdf.section("Prescription")
    rx = (f"{p.num('fractions', v.get('fractions'), 0)} x {p.num('dose_per_fraction_cgy', v.get('dose_per_fraction_cgy'), 1)} cGy"
          f" = {p.num('total_dose_cgy', v.get('total_dose_cgy'), 1)} cGy to {p.text('rx_target', v.get('rx_target'))}")
    pdf.pairs([("Prescription:", rx)], per_line=1, label_w=36)
    pdf.section("Calculation")
    p.record("calc_algorithm", v.get("calc_algorithm"))
    pdf.pairs([("Photon Volume Dose:", f"{algo} ({version})"),
               ("Calculation Grid:", p.num("calc_grid_mm", v.get("calc_grid_mm"), 2, factor=10) + " cm")], label_w=36)
    if "fields" not in omit:
        columns = [Column("Field ID", 20), Column("Field Name", 34), Column("Machine", 22), Column("Energy", 18), Column("Technique", 28),
                   Column("MU", 18, "R"), Column("Gantry Rtn [deg]", 30, "R"), Column("Coll Rtn [deg]", 24, "R"),
                   Column("Couch Rtn [deg]", 26, "R"), Column("SSD [cm]", 17, "R"), Column("Isocenter [cm]", 30, "R")]
        pdf.wrapped_table("Field Parameters", columns, [
            [k, p.text("beam_name", b.get("beam_name"), k), p.text("machine", b.get("machine"), k), _energy(p, "eclipse", k, b),
             _technique(p, "eclipse", k, b), p.num("mu", b.get("mu"), 1, beam=k), _eclipse_gantry(p, k, b),
             p.num("collimator", b.get("collimator"), 1, beam=k), p.num("couch", b.get("couch"), 1, beam=k),
             p.num("ssd_mm", b.get("ssd_mm"), 2, factor=10, beam=k),
             "(" + ", ".join(p.num(f"iso_{a}_mm", b.get(f"iso_{a}_mm"), 2, factor=10, beam=k) for a in "xyz") + ")"]
            for k, b in plan.beams.items()])
    if "details" not in omit:
        _details(pdf, plan.beams, "Field Details", "Field")
    return pdf


# ---- RaySearch RayStation ------------------------------------------------------------------

def raystation(plan: PlanData, p: Printer, omit: frozenset[str]) -> ReportPDF:
    v = plan.values
    algo, version = _algorithm(v)
    pdf = _standard_pdf("P", "RayStation 12A", "Plan report",
                        lambda: f"Patient: {_name(v.get('patient_name', ''), 'caret')} ({v.get('patient_id', '')}), plan {v.get('plan_label', '')}",
                        f"RaySearch Laboratories AB. {DEMO_NOTE}", _title("RayStation plan report", v))
    pdf.section("Patient", space=1)
    pdf.pairs([("Patient name:", _patient_name(p, v, "caret")), ("Patient ID:", p.text("patient_id", v.get("patient_id")))], label_w=30)
    pdf.section("Plan")
    approval = _status(p, v, "Approved", "Not approved")
    if v.get("plan_approved"):
        approval += (f" by {p.text('plan_approved_by', v.get('plan_approved_by'))},"
                     f" {p.date('plan_approved_date', v.get('plan_approved_date'), '%Y-%m-%d %H:%M:%S')}")
    pdf.pairs([("Plan:", p.text("plan_label", v.get("plan_label"))), ("Beam set:", "1")], label_w=30)
    pdf.pairs([("Approval:", approval)], per_line=1, label_w=30)
    pdf.section("Prescription")
    rx = (f"{p.text('rx_target', v.get('rx_target'))}, {p.num('total_dose_cgy', v.get('total_dose_cgy'), 2)} cGy in "
          f"{p.num('fractions', v.get('fractions'), 0)} fractions ({p.num('dose_per_fraction_cgy', v.get('dose_per_fraction_cgy'), 2)} cGy/fraction)")
    pdf.pairs([("Prescription:", rx)], per_line=1, label_w=30)
    pdf.section("Dose computation")
    p.record("calc_algorithm", v.get("calc_algorithm"))
    grid = p.num("calc_grid_mm", v.get("calc_grid_mm"), 2, factor=10)
    pdf.pairs([("Dose algorithm:", f"{algo} v{version}"), ("Dose grid:", f"{grid} x {grid} x {grid} cm")], label_w=30)
    beams = plan.beams
    if "beams" not in omit:
        pdf.wrapped_table("Beams", [Column("Name", 22, "C"), Column("Description", 50, "C"), Column("Machine", 26, "C"),
                            Column("Technique", 28, "C"), Column("Energy [MV]", 26, "C"), Column("MU", 24, "C")],
                  [[k, p.text("beam_name", b.get("beam_name"), k), p.text("machine", b.get("machine"), k), _technique(p, "raystation", k, b),
                    _energy(p, "raystation", k, b), p.num("mu", b.get("mu"), 2, beam=k)] for k, b in beams.items()])
    if "geometry" not in omit:
        pdf.wrapped_table("Beam geometry", [Column("Name", 18, "C"), Column("Gantry start", 21, "C"), Column("Gantry stop", 21, "C"),
                                    Column("Rotation", 17, "C"), Column("Collimator", 19, "C"), Column("Couch", 14, "C"),
                                    Column("SSD [cm]", 20, "C"), Column("Isocenter [cm]", 46, "C")],
                  [[k, p.num("gantry_start", b.get("gantry_start"), 1, beam=k), p.num("gantry_stop", b.get("gantry_stop"), 1, beam=k),
                    _direction(p, k, b), p.num("collimator", b.get("collimator"), 1, beam=k), p.num("couch", b.get("couch"), 1, beam=k),
                    p.num("ssd_mm", b.get("ssd_mm"), 2, factor=10, beam=k),
                    ", ".join(p.num(f"iso_{a}_mm", b.get(f"iso_{a}_mm"), 2, factor=10, beam=k) for a in "xyz")] for k, b in beams.items()])
    return pdf


# ---- RadCalc second check ------------------------------------------------------------------

def _radcalc_row(p: Printer, index: int, label: str, beam: dict[str, Any], v: dict[str, Any], total_mu: float) -> list[str]:
    tps_mu = float(beam.get("tps_mu", beam.get("mu") or 0.0))
    diff = float(beam.get("mu_diff_percent", RADCALC_DIFFS[index % len(RADCALC_DIFFS)]))
    tolerance = float(beam.get("mu_diff_tolerance_percent", v["mu_diff_tolerance_percent"]))
    tps_dose = float(v.get("dose_per_fraction_cgy") or 0.0) * tps_mu / total_mu if total_mu else 0.0
    printed_diff = p.num("mu_diff_percent", diff, 2, beam=label)
    return [label, _energy(p, "radcalc", label, beam), p.num("tps_mu", tps_mu, 2, beam=label),
            p.num("independent_mu", tps_mu * (1 + diff / 100), 2, beam=label),
            p.num("tps_dose_cgy", tps_dose, 1, beam=label) + " cGy",
            p.num("independent_dose_cgy", tps_dose * (1 + diff / 100), 1, beam=label) + " cGy",
            printed_diff, p.num("mu_diff_tolerance_percent", tolerance, 1, beam=label),
            "PASS" if abs(float(printed_diff)) <= tolerance else "FAIL"]


def radcalc(plan: PlanData, p: Printer, omit: frozenset[str]) -> ReportPDF:
    v = plan.values
    pdf = _standard_pdf("P", "RadCalc\u00ae 7.2.0.0", "Verification Report",
                        lambda: f"Patient: {_name(v.get('patient_name', ''), 'upper')} ({v.get('patient_id', '')})",
                        f"LifeLine Software Inc. - RadCalc independent MU verification. {DEMO_NOTE}", _title("RadCalc second check", v))
    pdf.section("Patient Information", space=1)
    pdf.pairs([("Patient Name:", _patient_name(p, v, "upper")), ("Patient ID:", p.text("patient_id", v.get("patient_id")))])
    pdf.section("Plan Information")
    pdf.pairs([("Plan Name:", p.text("plan_label", v.get("plan_label"))), ("Planning System:", str(v.get("planning_system", ""))),
               ("Calculation:", "Photon point dose (Clarkson)"), ("Dose/Fraction:", f"{float(v.get('dose_per_fraction_cgy') or 0):.1f} cGy")])
    beams = plan.beams
    total_mu = sum(float(b.get("tps_mu", b.get("mu") or 0.0)) for b in beams.values())
    if "beams" not in omit:
        pdf.wrapped_table("Beam Verification", [Column("Beam", 24), Column("Energy", 16), Column("TPS MU", 20, "R"), Column("RadCalc MU", 22, "R"),
                                         Column("TPS Dose", 22, "R"), Column("RadCalc Dose", 24, "R"), Column("% Diff", 16, "R"),
                                         Column("Tol %", 14, "R"), Column("Result", 18, "R")],
                  [_radcalc_row(p, i, k, b, v, total_mu) for i, (k, b) in enumerate(beams.items())])
    pdf.section("Review")
    approved = bool(v.get("document_approved"))
    p.record("document_approved", approved)
    pdf.pairs([("Review Status:", "Approved" if approved else "Pending"),
               ("Approved by:", p.text("document_approved_by", v.get("document_approved_by")) if approved else "-"),
               ("Date:", p.date("document_approved_date", v.get("document_approved_date"), "%m/%d/%Y") if approved else "-")], per_line=3, label_w=26)
    return pdf


LAYOUTS: dict[str, Callable[[PlanData, Printer, frozenset[str]], ReportPDF]] = {
    "monaco": monaco, "eclipse": eclipse, "raystation": raystation, "radcalc": radcalc,
}
