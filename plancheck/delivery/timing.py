"""How long a beam takes: dose rate and gantry speed, segment by segment between control points.

A segment delivers dMU while the gantry turns dG degrees. At dose rate r
(MU/min) it lasts 60 dMU / r seconds and the gantry must turn at
dG r / (60 dMU) deg/s, which may not exceed the machine's maximum w. So the
gantry allows any rate up to r* = 60 dMU w / dG, and the linac delivers as fast
as it can:

* continuous dose rate (Varian): r = min(R, r*) with R the maximum rate; the
  segment lasts max(60 dMU / R, dG / w).
* discrete dose-rate steps (Elekta): r is the highest step not above r*
  (default steps R, R/2, R/4, ... ``DEFAULT_STEPS`` of them; a clinic sets its
  own as ``Machine.dose_rate_steps``). Then 60 dMU / r >= dG / w, so the gantry
  is within its limit and the segment lasts 60 dMU / r. Where even the lowest
  step is above r*, the gantry runs at w, the segment lasts dG / w and the
  effective rate falls below that step.

Both cases are duration = max(60 dMU / r, dG / w) with the r above. Segments
with no MU are beam-off moves (dG / w); segments with no gantry motion run at
the chosen maximum rate. Leaf speed is not modelled. The beam-on time is the
sum over segments that deliver MU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Mapping

import numpy as np

from plancheck.config import Config, Machine
from plancheck.delivery.model import Delivery
from plancheck.paths import path_in
from plancheck.registry import TIMED_SOURCES
from plancheck.table import Param, ParamTable

DEFAULT_STEPS = 7  # R, R/2, ... R/64: 600 -> 9.375 MU/min
_REL = 1e-9


@dataclass(frozen=True)
class BeamTiming:
    """Per segment (between control point i and i+1): what was delivered, at what rate and speed, for how long."""

    mu: np.ndarray
    gantry_deg: np.ndarray
    dose_rate_mu_min: np.ndarray
    gantry_speed_dps: np.ndarray
    mu_per_deg: np.ndarray
    duration_s: np.ndarray
    gantry_limited: np.ndarray  # MU delivered below the maximum dose rate because of the gantry

    @property
    def beam_on_time_s(self) -> float:
        return float(self.duration_s[self.mu > 0].sum())

    @property
    def total_time_s(self) -> float:
        return float(self.duration_s.sum())

    @property
    def max_gantry_speed_dps(self) -> float:
        return float(self.gantry_speed_dps.max()) if len(self.gantry_speed_dps) else 0.0


def is_continuous(machine: Machine) -> bool:
    """Varian linacs vary the dose rate continuously; Elekta's come in steps."""
    return machine.type.lower() == "varian"


def dose_rate_steps(machine: Machine) -> np.ndarray:
    """The machine's dose-rate steps, highest first (factor-of-two steps below the maximum by default)."""
    if machine.dose_rate_steps:
        return np.sort(np.asarray(machine.dose_rate_steps, dtype=float))[::-1]
    return machine.max_dose_rate_mu_min / 2.0 ** np.arange(DEFAULT_STEPS)


def segment_deltas(delivery: Delivery) -> tuple[np.ndarray, np.ndarray]:
    """MU and gantry travel (degrees, the short way round) of each segment."""
    d_mu = np.diff(np.asarray(delivery.mu, dtype=float))
    d_g = np.abs(np.diff(np.asarray(delivery.gantry, dtype=float))) % 360.0
    return d_mu, np.minimum(d_g, 360.0 - d_g)


def chosen_rate(d_mu: np.ndarray, d_g: np.ndarray, machine: Machine) -> np.ndarray:
    """The dose rate (MU/min) the linac runs each segment at, before any gantry-limited slowing."""
    speed = machine.max_gantry_speed_dps
    with np.errstate(divide="ignore", invalid="ignore"):
        gantry_allows = np.where(d_g > 0, 60.0 * d_mu * speed / d_g, np.inf)
    if is_continuous(machine):
        return np.minimum(machine.max_dose_rate_mu_min, gantry_allows)
    steps = dose_rate_steps(machine)
    fits = steps[None, :] <= gantry_allows[:, None] * (1 + _REL)
    highest = np.where(fits.any(axis=1), np.argmax(fits, axis=1), len(steps) - 1)
    return steps[highest]


def beam_timing(delivery: Delivery, machine: Machine) -> BeamTiming:
    """The delivery-time model of one beam on one machine."""
    d_mu, d_g = segment_deltas(delivery)
    if np.any(d_mu < -1e-9):
        raise ValueError("MU must not decrease between control points")
    d_mu = np.clip(d_mu, 0.0, None)
    rate = chosen_rate(d_mu, d_g, machine)
    dose_time = np.where(d_mu > 0, 60.0 * d_mu / np.where(rate > 0, rate, 1.0), 0.0)
    gantry_time = d_g / machine.max_gantry_speed_dps
    duration = np.maximum(dose_time, gantry_time)
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = np.where(duration > 0, 60.0 * d_mu / duration, 0.0)
        speed = np.where(duration > 0, d_g / duration, 0.0)
        per_deg = np.where(d_g > 0, d_mu / d_g, np.nan)
    limited = (effective < machine.max_dose_rate_mu_min * (1 - _REL)) & (d_mu > 0)
    return BeamTiming(d_mu, d_g, effective, speed, per_deg, duration, limited)


# ---- rows for the collected table -----------------------------------------------
def timing_rows(deliveries: Mapping[str, Delivery], machine_for: Callable[[str], Machine], basis: str = "") -> list[Param]:
    """``beam_on_time_s`` and ``max_gantry_speed_dps`` per beam, source ``model``."""
    rows = []
    for label, delivery in deliveries.items():
        machine = machine_for(label)
        timing = beam_timing(delivery, machine)
        kind = "continuous" if is_continuous(machine) else "stepped"
        where = (f"model of {basis or 'the'} control points on {machine.name or 'default machine'} ({kind} dose "
                 f"rate to {machine.max_dose_rate_mu_min:g} MU/min, gantry to {machine.max_gantry_speed_dps:g} deg/s)")
        rows.append(Param("beam", label, "beam_on_time_s", round(timing.beam_on_time_s, 2), "s", "model", where))
        rows.append(Param("beam", label, "max_gantry_speed_dps", round(timing.max_gantry_speed_dps, 3), "deg/s", "model", where))
    return rows


def model_rows(table: ParamTable, config: Config) -> list[Param]:
    """Model rows for every beam with planned control points in the table (RT Plan, else tel.1, else MOSAIQ)."""
    chosen: dict[str, tuple[str, Delivery]] = {}
    for source in TIMED_SOURCES:
        for (src, beam), delivery in table.deliveries.items():
            if src == source and beam not in chosen and len(delivery) > 1:
                chosen[beam] = (source, delivery)
    rows = []
    for beam, (source, delivery) in chosen.items():
        name = next((str(r.value) for r in table.select(beam=beam, param="machine") if r.value), "")
        rows += timing_rows({beam: delivery}, _machine_of(config, name), basis=source)
    return rows


def _machine_of(config: Config, name: str) -> Callable[[str], Machine]:
    """The machine for every beam of a plan treated on ``name``."""
    return lambda _label: config.machine(name)


def add_model_rows(table: ParamTable, config: Config) -> None:
    """Append the model's rows, so beam-on times recorded by iCOM or TRF are compared with it."""
    table.extend(model_rows(table, config))


# ---- figure ------------------------------------------------------------------------
def plot_timing(timing: BeamTiming, path: str | Path, title: str = "") -> Path:
    """Dose rate and gantry speed against control point, as a PNG for reports."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    cps = np.arange(len(timing.mu) + 1)
    ax.stairs(timing.dose_rate_mu_min, cps, color="tab:blue", label="dose rate")
    ax.set_xlabel("control point")
    ax.set_ylabel("dose rate (MU/min)", color="tab:blue")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    twin.stairs(timing.gantry_speed_dps, cps, color="tab:orange", label="gantry speed")
    twin.set_ylabel("gantry speed (deg/s)", color="tab:orange")
    twin.set_ylim(bottom=0)
    ax.set_title(title or f"estimated beam-on time {timing.beam_on_time_s:.1f} s")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def timing_figures(deliveries: Mapping[str, Delivery], machine_for: Callable[[str], Machine], folder: str | Path) -> dict[str, Path]:
    """One PNG per beam in ``folder``, named after the beam."""
    out = {}
    for label, delivery in deliveries.items():
        timing = beam_timing(delivery, machine_for(label))
        out[label] = plot_timing(timing, path_in(folder, f"timing_{label}", suffix=".png"), f"{label}: estimated beam-on time {timing.beam_on_time_s:.1f} s")
    return out
