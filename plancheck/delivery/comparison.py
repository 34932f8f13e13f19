"""One delivery comparison: planned and delivered MU density on one grid, and their gamma."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np

from plancheck.delivery.gamma import gamma, pass_rate
from plancheck.delivery.model import Delivery
from plancheck.delivery.mudensity import GridSpec

# the clinic's notebook setting (PyMedPhys' iCOM-vs-Monaco comparison)
DEFAULT_GAMMA = {"dose_percent_threshold": 2, "distance_mm_threshold": 0.5, "lower_percent_dose_cutoff": 20, "local_gamma": True, "max_gamma": 2}


@dataclass
class Comparison:
    """What a comparison page shows: who and what was compared, the maps, and gamma."""

    patient: str
    plan: str
    beam: str
    delivered_at: str
    files: Sequence[str]
    axes: dict[str, np.ndarray]  # GridSpec.axes(): "mlc" (columns) and "jaw" (rows), mm
    planned: np.ndarray
    delivered: np.ndarray
    gamma: np.ndarray
    gamma_options: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_GAMMA))

    @property
    def pass_rate(self) -> float:
        """Percent of calculated points with gamma below 1."""
        return pass_rate(self.gamma)

    @property
    def max_gamma(self) -> float:
        return float(np.nanmax(self.gamma))

    @property
    def criteria(self) -> str:
        """The gamma setting in words, e.g. ``2 %/0.5 mm local, cutoff 20 %, max γ 2``."""
        o = {**DEFAULT_GAMMA, "local_gamma": False, "max_gamma": None, **self.gamma_options}
        text = f"{o['dose_percent_threshold']:g} %/{o['distance_mm_threshold']:g} mm {'local' if o['local_gamma'] else 'global'}"
        text += f", cutoff {o['lower_percent_dose_cutoff']:g} %"
        return text + (f", max γ {o['max_gamma']:g}" if o["max_gamma"] is not None else "")

    def save(self, path: str | Path) -> Path:
        """Keep the comparison as a compressed NumPy archive (about 20 kB a beam), so its page can be drawn
        later, by another process (the report writer): the maps as arrays, the labels as one JSON string."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        labels = {"patient": self.patient, "plan": self.plan, "beam": self.beam, "delivered_at": self.delivered_at,
                  "files": list(self.files), "gamma_options": self.gamma_options}
        with path.open("wb") as handle:
            np.savez_compressed(handle, labels=np.array(json.dumps(labels)), mlc=self.axes["mlc"], jaw=self.axes["jaw"],
                                planned=self.planned, delivered=self.delivered, gamma=self.gamma)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Comparison:
        """A comparison kept by :meth:`save` (never a pickle: the archive holds plain arrays and text)."""
        with np.load(path, allow_pickle=False) as data:
            labels = json.loads(str(data["labels"]))
            return cls(labels["patient"], labels["plan"], labels["beam"], labels["delivered_at"], tuple(labels["files"]),
                       {"mlc": data["mlc"], "jaw": data["jaw"]}, data["planned"], data["delivered"], data["gamma"], labels["gamma_options"])


def compare(
    planned: Delivery,
    delivered: Delivery,
    *,
    patient: str = "",
    plan: str = "",
    beam: str = "",
    delivered_at: str = "",
    files: Sequence[str] = (),
    grid: GridSpec | None = None,
    **gamma_options: Any,
) -> Comparison:
    """MU density of both deliveries on one grid and gamma of delivered against planned (clinic default 2 %/0.5 mm local)."""
    grid = grid or planned.grid()
    options = {**DEFAULT_GAMMA, **gamma_options}
    axes = grid.axes()
    plan_map, delivered_map = planned.mudensity(grid), delivered.mudensity(grid)
    coordinates = (axes["jaw"], axes["mlc"])
    values = gamma(coordinates, plan_map, coordinates, delivered_map, **options)
    return Comparison(patient, plan, beam, delivered_at, tuple(files), axes, plan_map, delivered_map, values, options)
