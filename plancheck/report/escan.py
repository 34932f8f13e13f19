"""The delivery-comparison pages of a run as one PDF per patient in the folder MOSAIQ's eSCAN imports from."""

from __future__ import annotations

from pathlib import Path

from plancheck.checks.results import CheckRun
from plancheck.paths import format_name, path_in

DEFAULT_NAME = "{patient_id}.pdf"


def figure_paths(run: CheckRun) -> list[Path]:
    return [Path(f) for r in run.results for f in r.figures if f.lower().endswith(".png") and Path(f).exists()]


def write_escan_pdf(run: CheckRun, escan_dir: Path, name: str = DEFAULT_NAME) -> Path | None:
    """One PDF of every comparison page of ``run`` (None when the run made none), by matplotlib alone."""
    pngs = figure_paths(run)
    if not pngs:
        return None
    from matplotlib.figure import Figure  # matplotlib only when there are pages to write
    from matplotlib.image import imread

    from plancheck.delivery.figures import A4_LANDSCAPE_IN, write_pdf

    pages = []
    for png in pngs:
        fig = Figure(figsize=A4_LANDSCAPE_IN)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow(imread(png))
        ax.set_axis_off()
        pages.append(fig)
    path = path_in(escan_dir, format_name(name, patient_id=run.patient_id, kind=run.check_kind))
    return write_pdf(pages, path, title=f"plancheck delivery comparison {run.patient_id}")
