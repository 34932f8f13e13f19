"""Hand-made CheckRuns for the report tests: a mismatch, failing, erroring and manual checks."""

from __future__ import annotations

from pathlib import Path

from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.table import Param, ParamTable

PATIENT_ID = "PC-0042"
SCRIPT = '<script>alert("x")</script>'

# (beam, param, value, unit) as every source reads them; the sample then changes a few
_BEAMS = {
    "G0": {"energy": "6X", "mu": 100.0, "gantry_start": 0.0, "collimator": 0.0, "ssd_mm": 950.0, "jaw_x1_mm": -50.0},
    "G180": {"energy": "6X", "mu": 100.0, "gantry_start": 180.0, "collimator": 0.0, "ssd_mm": 910.5, "jaw_x1_mm": -50.0},
    "VMAT1": {"energy": "10FFF", "mu": 412.37, "gantry_start": 181.0, "collimator": 30.0, "ssd_mm": 900.0, "jaw_x1_mm": -45.25},
}
_UNITS = {"mu": "MU", "gantry_start": "deg", "collimator": "deg", "ssd_mm": "mm", "jaw_x1_mm": "mm", "energy": ""}
SOURCES = ("mosaiq", "plan_pdf", "rtplan")


def sample_table() -> ParamTable:
    table = ParamTable()
    for source in SOURCES:
        table.add(
            Param("patient", "", "patient_id", PATIENT_ID, "", source, "Ident"),
            Param("patient", "", "patient_name", "O'NEIL^MARY", "", source, "Patient"),
            Param("prescription", "", "dose_per_fraction_cgy", 200.0, "cGy", source, "Site"),
            Param("prescription", "", "fractions", 25 if source != "plan_pdf" else 30, "", source, "Site"),
        )
        for beam, params in _BEAMS.items():
            for param, value in params.items():
                if source == "mosaiq" and beam == "G180" and param == "mu":
                    value = 102.0  # the mismatch
                if source == "rtplan" and beam == "VMAT1" and param == "gantry_start":
                    value = 181.4  # within action level: a warning
                table.add(Param("beam", beam, param, value, _UNITS[param], source, f"{source} row {beam}"))
    table.add(Param("beam", "G0", "beam_name", SCRIPT, "", "plan_pdf", "page 2"))
    table.add(Param("beam", "G0", "beam_name", "AP", "", "mosaiq", "TxField 11"))
    table.add(Param("prescription", "", "rx_approved", False, "", "mosaiq", "Site 7"))
    for fraction in range(1, 4):
        for beam in ("G0", "G180"):
            item = f"TrackTreatment {fraction}-{beam}"
            table.add(
                Param("delivery", beam, "delivered_mu", 100.0, "MU", "mosaiq", item, item=item),
                Param("delivery", beam, "fraction_number", fraction, "", "mosaiq", item, item=item),
            )
    table.add(Param("task", "", "task_description", "Weekly chart check", "", "mosaiq", "QCLTask 9", item="QCL 9"))
    table.add(Param("task", "", "task_complete", False, "", "mosaiq", "QCLTask 9", item="QCL 9"))
    table.source_errors["monaco_tel"] = "tel.1 folder /data/monaco/PC-0042 not found; set [folders] monaco in plancheck.toml"
    return table


def sample_results() -> list[CheckResult]:
    results = []
    for beam, params in _BEAMS.items():
        for param in params:
            status, message = Status.PASS, ""
            values = dict.fromkeys(SOURCES, params[param])
            if (beam, param) == ("G180", "mu"):
                status, message = Status.FAIL, "mosaiq 102 MU differs from plan_pdf, rtplan 100 MU (tolerance 0.5 MU)"
                values["mosaiq"] = 102.0
            if (beam, param) == ("VMAT1", "gantry_start"):
                status, message = Status.WARN, "rtplan 181.4 deg differs from mosaiq, plan_pdf 181 deg (tolerance 0.1, action 1)"
                values["rtplan"] = 181.4
            details = {"values": values, "reference": "mosaiq"}  # as plancheck.checks.implicit.compare_param keeps them
            name = f"{param} agrees across sources"
            results.append(CheckResult(f"agree.{param}", name, "implicit", status, message, beam=beam, param=param, details=details))
    fractions = {"values": {"mosaiq": 25, "plan_pdf": 30, "rtplan": 25}, "reference": "mosaiq"}
    message = "plan_pdf 30 differs from mosaiq, rtplan 25"
    results.append(CheckResult("agree.fractions", "fractions agree", "implicit", Status.FAIL, message, param="fractions", details=fractions))
    results += [
        CheckResult("rx.approved", "Prescription approved", "explicit", Status.FAIL, "prescription is not approved in MOSAIQ"),
        CheckResult("beam.energy_matches_rx", "Beam energy matches prescription", "explicit", Status.PASS, "all beams 6X/10FFF"),
        CheckResult("delivery.mu_density", "MU density: iCOM vs plan", "explicit", Status.ERROR, "no iCOM log for beam G180: the linac may not have been listening", beam="G180"),
        CheckResult("plan.calc_grid", "Calculation grid at most 3 mm", "explicit", Status.NOT_APPLICABLE, "no calc grid in any source"),
        CheckResult("plan.couch_kick", "Couch angle within limits", "explicit", Status.WARN, "couch 10 deg on a coplanar technique", beam="VMAT1"),
        CheckResult("manual.contours", "Contours reviewed by physician", "manual", Status.MANUAL),
        CheckResult("manual.setup_photos", "Set-up photos present", "manual", Status.MANUAL, "check the Images tab"),
        CheckResult("manual.bolus", "Bolus documented", "manual", Status.PASS, "ticked by A. Physicist"),
    ]
    return results


def write_figure(path: Path) -> Path:
    """A real PNG figure, drawn by matplotlib as the delivery checks draw theirs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.5), dpi=60)
    ax.plot([0, 1, 2, 3], [100, 101, 99.5, 100], marker="o")
    ax.set_title("MU per control point")
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def sample_run(created: str = "2024-05-01T14:03:09", figure_dir: Path | None = None) -> CheckRun:
    """The sample run; with ``figure_dir`` the warning check carries a real PNG and the error a missing one."""
    results = sample_results()
    if figure_dir is not None:
        by_id = {r.id: r for r in results}
        by_id["plan.couch_kick"].figures.append(str(write_figure(figure_dir / "couch.png")))
        by_id["delivery.mu_density"].figures.append(str(figure_dir / "never_written.png"))
    return CheckRun(PATIENT_ID, "BREAST_L", "initial", "photon-3d", sample_table(), results, created=created, version="0.1.0",
            warnings=["plan_pdf: page 3 has no Beam table; beams read from page 2"])
