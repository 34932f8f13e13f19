"""The delivery-time model: hand-checked segments, the Elekta step choice, monotone properties, rows and figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymedphys
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plancheck import deliveries as loaders
from plancheck.config import Config, Machine
from plancheck.delivery import Delivery
from plancheck.delivery.timing import add_model_rows, beam_timing, dose_rate_steps, timing_figures
from plancheck.sources.rtplan import load, rows_from_dataset
from plancheck.sources.trf import read_trf, trf_rows
from plancheck.fabricate.trf import trf_from_delivery
from plancheck.table import ParamTable

VMAT = Path(pymedphys.__file__).parent / "_experimental/serviceplans/templates/vmat_example.dcm"
ELEKTA = Machine("AGILITY", type="elekta", max_gantry_speed_dps=6.0, max_dose_rate_mu_min=600.0)
VARIAN = Machine("TRUEBEAM", type="varian", max_gantry_speed_dps=4.8, max_dose_rate_mu_min=600.0)


def one_segment(d_mu: float, d_gantry: float, start: float = 0.0) -> Delivery:
    return Delivery([0.0, d_mu], [start, start + d_gantry], [0.0, 0.0], np.zeros((2, 80, 2)), np.zeros((2, 2)))


def segments(mu_steps: list[float], gantry_steps: list[float]) -> Delivery:
    n = len(mu_steps) + 1
    mu = np.concatenate([[0.0], np.cumsum(mu_steps)])
    gantry = np.concatenate([[-170.0], -170.0 + np.cumsum(gantry_steps)])
    return Delivery(mu, gantry, np.zeros(n), np.zeros((n, 80, 2)), np.zeros((n, 2)))


# ---- hand-checked ---------------------------------------------------------------------
def test_gantry_limited_segment_continuous() -> None:
    # 1 MU over 10 deg: the gantry allows 60 * 1 * 4.8 / 10 = 28.8 MU/min; the gantry runs flat out
    t = beam_timing(one_segment(1.0, 10.0), VARIAN)
    assert t.duration_s[0] == pytest.approx(10.0 / 4.8)
    assert t.gantry_speed_dps[0] == pytest.approx(4.8) and t.dose_rate_mu_min[0] == pytest.approx(28.8)
    assert t.gantry_limited[0] and t.mu_per_deg[0] == pytest.approx(0.1)


def test_gantry_limited_segment_stepped() -> None:
    # the same segment on Elekta: 36 MU/min allowed, the highest step below is 600/32 = 18.75 MU/min,
    # so it lasts 60 / 18.75 = 3.2 s and the gantry turns at 10 / 3.2 = 3.125 deg/s
    t = beam_timing(one_segment(1.0, 10.0), ELEKTA)
    assert t.dose_rate_mu_min[0] == pytest.approx(18.75) and t.duration_s[0] == pytest.approx(3.2)
    assert t.gantry_speed_dps[0] == pytest.approx(3.125) and t.gantry_limited[0]


@pytest.mark.parametrize("machine", [ELEKTA, VARIAN], ids=["elekta", "varian"])
def test_dose_rate_limited_segment(machine: Machine) -> None:
    # 10 MU over 2 deg at 600 MU/min: 1 s, the gantry at 2 deg/s
    t = beam_timing(one_segment(10.0, 2.0), machine)
    assert t.duration_s[0] == pytest.approx(1.0)
    assert t.dose_rate_mu_min[0] == pytest.approx(600.0) and t.gantry_speed_dps[0] == pytest.approx(2.0)
    assert not t.gantry_limited[0]


def test_elekta_takes_the_highest_step_the_gantry_can_follow() -> None:
    # 5 MU over 4 deg: the gantry allows 60 * 5 * 6 / 4 = 450 MU/min; steps 600, 300: 300 it is
    t = beam_timing(one_segment(5.0, 4.0), ELEKTA)
    assert t.dose_rate_mu_min[0] == pytest.approx(300.0)
    assert t.duration_s[0] == pytest.approx(1.0) and t.gantry_speed_dps[0] == pytest.approx(4.0)
    varian = beam_timing(one_segment(5.0, 4.0), Machine("V", type="varian", max_gantry_speed_dps=6.0))
    assert varian.dose_rate_mu_min[0] == pytest.approx(450.0) and varian.duration_s[0] == pytest.approx(2.0 / 3.0)


def test_exactly_at_a_step_takes_that_step() -> None:
    # 10 MU over 6 deg: the gantry allows exactly 600 MU/min
    t = beam_timing(one_segment(10.0, 6.0), ELEKTA)
    assert t.dose_rate_mu_min[0] == pytest.approx(600.0) and t.duration_s[0] == pytest.approx(1.0)


def test_below_the_lowest_step_the_gantry_sets_the_pace() -> None:
    t = beam_timing(one_segment(0.01, 10.0), ELEKTA)
    assert dose_rate_steps(ELEKTA)[-1] == pytest.approx(600 / 64)
    assert t.duration_s[0] == pytest.approx(10.0 / 6.0) and t.dose_rate_mu_min[0] == pytest.approx(0.36)


def test_clinic_steps_replace_the_defaults() -> None:
    machine = Machine("E", dose_rate_steps=(100.0, 400.0, 200.0))
    assert list(dose_rate_steps(machine)) == [400.0, 200.0, 100.0]
    # 5 MU over 4 deg allows 450 MU/min: the clinic's 400 step
    t = beam_timing(one_segment(5.0, 4.0), machine)
    assert t.dose_rate_mu_min[0] == pytest.approx(400.0) and t.duration_s[0] == pytest.approx(0.75)


def test_beam_off_moves_take_time_but_are_not_beam_on() -> None:
    d = segments([0.0, 6.0, 0.0], [12.0, 0.0, 0.0])
    t = beam_timing(d, ELEKTA)
    assert list(t.duration_s) == pytest.approx([2.0, 0.6, 0.0])
    assert t.beam_on_time_s == pytest.approx(0.6) and t.total_time_s == pytest.approx(2.6)
    assert np.isnan(t.mu_per_deg[1]) and t.max_gantry_speed_dps == pytest.approx(6.0)


def test_gantry_travel_goes_the_short_way() -> None:
    t = beam_timing(Delivery([0, 1], [179.0, -179.0], [0, 0], np.zeros((2, 80, 2)), np.zeros((2, 2))), ELEKTA)
    assert t.gantry_deg[0] == pytest.approx(2.0)


def test_decreasing_mu_is_refused() -> None:
    with pytest.raises(ValueError, match="MU must not decrease"):
        beam_timing(segments([5.0, -1.0], [1.0, 1.0]), ELEKTA)


# ---- properties -------------------------------------------------------------------------
steps = st.lists(st.tuples(st.floats(0.0, 30.0), st.floats(0.0, 40.0)), min_size=1, max_size=8)


def _pair(case: list[tuple[float, float]]) -> Delivery:
    return segments([m for m, _ in case], [g for _, g in case])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=steps, speed=st.floats(0.5, 10.0), rate=st.floats(50.0, 1400.0))
def test_limits_hold_and_steps_never_beat_continuous(case: list[tuple[float, float]], speed: float, rate: float) -> None:
    d = _pair(case)
    stepped = beam_timing(d, Machine("E", max_gantry_speed_dps=speed, max_dose_rate_mu_min=rate))
    smooth = beam_timing(d, Machine("V", type="varian", max_gantry_speed_dps=speed, max_dose_rate_mu_min=rate))
    for t in (stepped, smooth):
        assert np.all(t.gantry_speed_dps <= speed * (1 + 1e-9))
        assert np.all(t.dose_rate_mu_min <= rate * (1 + 1e-9))
        assert np.allclose(t.duration_s * t.dose_rate_mu_min / 60.0, t.mu)
    assert np.all(stepped.duration_s >= smooth.duration_s * (1 - 1e-9))
    # factor-of-two steps cost at most twice the time where the gantry allows the lowest step
    lowest = dose_rate_steps(Machine("E", max_dose_rate_mu_min=rate))[-1]
    allows = np.where(stepped.gantry_deg > 0, 60 * stepped.mu * speed / np.where(stepped.gantry_deg > 0, stepped.gantry_deg, 1), np.inf)
    ok = allows >= lowest
    assert np.all(stepped.duration_s[ok] <= 2 * smooth.duration_s[ok] * (1 + 1e-9))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=steps, speed=st.floats(0.5, 10.0), faster=st.floats(1.0, 3.0), more_mu=st.floats(1.0, 3.0))
def test_monotone(case: list[tuple[float, float]], speed: float, faster: float, more_mu: float) -> None:
    d = _pair(case)
    for kind in ("elekta", "varian"):
        slow = beam_timing(d, Machine("M", type=kind, max_gantry_speed_dps=speed))
        fast = beam_timing(d, Machine("M", type=kind, max_gantry_speed_dps=speed * faster))
        assert np.all(fast.duration_s <= slow.duration_s * (1 + 1e-9)), kind
    varian = Machine("V", type="varian", max_gantry_speed_dps=speed)
    base = beam_timing(d, varian)
    assert np.all(beam_timing(d, Machine("V", type="varian", max_gantry_speed_dps=speed, max_dose_rate_mu_min=600 * faster)).duration_s <= base.duration_s * (1 + 1e-9))
    assert np.all(beam_timing(d.replace(mu=d.mu * more_mu), varian).duration_s >= base.duration_s * (1 - 1e-9))


# ---- rows and figures ------------------------------------------------------------------------
def _planned_table() -> ParamTable:
    rows, deliveries, _ = rows_from_dataset(load(VMAT), str(VMAT))
    table = ParamTable()
    table.extend(rows)
    table.deliveries.update({("rtplan", label): d for label, d in deliveries.items()})
    return table


def test_model_rows_sit_beside_recorded_beam_on_time(tmp_path: Path) -> None:
    table = _planned_table()
    config = Config(machines={"2619": Machine("2619", max_gantry_speed_dps=6.0)})
    add_model_rows(table, config)
    model = {r.beam: r.value for r in table.select(source="model", param="beam_on_time_s")}
    assert set(model) == {"1-1", "1-2"} and table.select(source="model", param="max_gantry_speed_dps")
    assert all("2619" in r.provenance and "rtplan" in r.provenance for r in table.select(source="model"))
    for label in model:
        path = trf_from_delivery(table.deliveries[("rtplan", label)], tmp_path / f"{label}.trf", machine=config.machine("2619"), field_label=label)
        table.extend(trf_rows(read_trf(path))[0])
        recorded = table.value("beam_on_time_s", source="trf", beam=label)
        assert recorded == pytest.approx(model[label], abs=0.05)


def test_slower_gantry_gives_a_longer_estimate() -> None:
    slow = _planned_table()
    add_model_rows(slow, Config(machines={"2619": Machine("2619", type="varian", max_gantry_speed_dps=1.0)}))
    fast = _planned_table()
    add_model_rows(fast, Config(machines={"2619": Machine("2619", type="varian", max_gantry_speed_dps=6.0)}))
    for beam in ("1-1", "1-2"):
        assert slow.value("beam_on_time_s", source="model", beam=beam) > fast.value("beam_on_time_s", source="model", beam=beam)


def test_one_png_per_beam(tmp_path: Path) -> None:
    deliveries = {label: loaders.from_dicom(VMAT, beam=label) for label in ("1-1", "1-2")}
    paths = timing_figures(deliveries, lambda _label: ELEKTA, tmp_path)
    assert set(paths) == {"1-1", "1-2"}
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
