"""RT Plans in each vendor's collimator layout (written here with pydicom) against a brute-force rasterisation.

Layouts (evidence in docs/mlc-layouts.md): Elekta Agility (MLCX 80 x 5 mm + ASYMY), Varian Millennium 120
(ASYMX + ASYMY + MLCX 10/5/10 mm), Varian Halcyon/Ethos (MLCX1 distal 28 x 10 mm + MLCX2 proximal 29 x 10 mm,
offset 5 mm, with and without the nominal X/Y jaws) and ViewRay MRIdian (two MLCX stacks of 8.3 mm leaves
offset by half a leaf, no jaws). The brute force knows nothing of strips, ramps or pymedphys: it samples
points on a fine grid and fine time steps and asks, of each, whether every layer and jaw leaves it open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pymedphys
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from plancheck import deliveries
from plancheck.delivery import Delivery
from plancheck.delivery.mudensity import interval_samples, relevant_control_points
from plancheck.errors import SourceError
from plancheck.sources.rtplan import load, rows_from_dataset

TOLERANCE = 1e-3  # of the map maximum, at every point
AGILITY = np.linspace(-200.0, 200.0, 81)
MILLENNIUM = np.concatenate([np.arange(-200.0, -100.0, 10), np.arange(-100.0, 100.0, 5), np.arange(100.0, 201.0, 10)])
HALCYON_DISTAL, HALCYON_PROXIMAL = np.arange(-140.0, 141.0, 10), np.arange(-145.0, 146.0, 10)
MRIDIAN_LOWER, MRIDIAN_UPPER = 8.3 * (np.arange(36) - 17.5), 8.3 * (np.arange(35) - 17)  # 35 + 34 leaf pairs = 138 leaves

# (kind, boundaries or None for a jaw), in BeamLimitingDeviceSequence order
LAYOUTS: dict[str, list[tuple[str, np.ndarray | None]]] = {
    "agility": [("ASYMY", None), ("MLCX", AGILITY)],
    "millennium": [("ASYMX", None), ("ASYMY", None), ("MLCX", MILLENNIUM)],
    "halcyon": [("MLCX1", HALCYON_DISTAL), ("MLCX2", HALCYON_PROXIMAL)],
    "halcyon_nominal_jaws": [("X", None), ("Y", None), ("MLCX1", HALCYON_DISTAL), ("MLCX2", HALCYON_PROXIMAL)],
    "mridian": [("MLCX", MRIDIAN_LOWER), ("MLCX", MRIDIAN_UPPER)],
}
JAWS = {"ASYMX": (-38.0, 44.5), "ASYMY": (-36.3, 41.7), "X": (-140.0, 140.0), "Y": (-140.0, 140.0)}
SUB = 20  # brute-force points per pixel side
# Point sampling is exact only where an edge at rest lies between sample points, so every position the plans
# hold is on the brute force's lattice (a 20th of the pixel; MRIdian's grid is 0.83 mm); the code never knows.
LATTICE = {"mridian": 0.83 / SUB}


# ---- writing plans -----------------------------------------------------------------------------
def _device(kind: str, boundaries: np.ndarray | None) -> Dataset:
    d = Dataset()
    d.RTBeamLimitingDeviceType = kind
    d.NumberOfLeafJawPairs = 1 if boundaries is None else len(boundaries) - 1
    if boundaries is not None:
        d.LeafPositionBoundaries = [round(float(b), 4) for b in boundaries]
    return d


def _beam(number: int, cps: list[tuple[float, float, list[tuple[str, list[float]]]]], devices: list[tuple[str, np.ndarray | None]],
          radiation: str = "PHOTON") -> Dataset:
    beam = Dataset()
    beam.BeamNumber, beam.BeamName, beam.BeamType = number, f"B{number}", "DYNAMIC" if len(cps) > 2 else "STATIC"
    beam.RadiationType, beam.TreatmentDeliveryType, beam.TreatmentMachineName = radiation, "TREATMENT", "LINAC"
    beam.BeamLimitingDeviceSequence = Sequence([_device(k, b) for k, b in devices])
    beam.FinalCumulativeMetersetWeight, beam.NumberOfControlPoints = 1.0, len(cps)
    beam.ControlPointSequence = Sequence()
    for index, (weight, gantry, positions) in enumerate(cps):
        cp = Dataset()
        cp.ControlPointIndex, cp.CumulativeMetersetWeight, cp.GantryAngle = index, round(weight, 6), gantry
        if index == 0:
            cp.NominalBeamEnergy, cp.BeamLimitingDeviceAngle, cp.PatientSupportAngle = 6, 0.0, 0.0
        items = []
        for kind, values in positions:
            item = Dataset()
            item.RTBeamLimitingDeviceType, item.LeafJawPositions = kind, [round(float(v), 5) for v in values]
            items.append(item)
        cp.BeamLimitingDevicePositionSequence = Sequence(items)
        beam.ControlPointSequence.append(cp)
    return beam


def write_plan(path: Path, beams: list[Dataset], metersets: list[float]) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = pydicom.uid.UID("1.2.840.10008.5.1.4.1.1.481.5")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Modality, ds.PatientID, ds.PatientName, ds.RTPlanLabel = "RTPLAN", "LAYOUT1", "LAYOUT^TEST", "LAYOUTS"
    group = Dataset()
    group.FractionGroupNumber, group.NumberOfFractionsPlanned = 1, 5
    group.ReferencedBeamSequence = Sequence()
    for beam, meterset in zip(beams, metersets, strict=True):
        ref = Dataset()
        ref.ReferencedBeamNumber, ref.BeamMeterset = beam.BeamNumber, meterset
        group.ReferencedBeamSequence.append(ref)
    ds.FractionGroupSequence, ds.BeamSequence = Sequence([group]), Sequence(beams)
    ds.save_as(path, enforce_file_format=True)
    return path


# ---- apertures (IEC: bank 1 on the X1 side, leaves in boundary order) --------------------------
def aperture(boundaries: np.ndarray, phase: float, rng: np.random.Generator) -> np.ndarray:
    """Both banks of one layer: an irregular field about 60 mm across, closed (gap 0) leaves outside it."""
    y = (boundaries[:-1] + boundaries[1:]) / 2
    centre = 6 * np.cos(y / 15 + phase) + rng.uniform(-2, 2, len(y))
    half = 22 + 9 * np.sin(y / 11 + 2 * phase) + rng.uniform(-3, 3, len(y))
    inside = np.abs(y) < 45
    left, right = np.where(inside, centre - half, centre), np.where(inside, centre + half, centre)
    if len(y) == 60:  # Millennium: some leaves open past the X jaws, some closed behind them
        left[::7], right[::9] = -60.0, 70.0
    return np.concatenate([left, right])


def control_points(layout: str, kind: str, rng: np.random.Generator) -> list[tuple[float, float, list[tuple[str, list[float]]]]]:
    """``kind``: static (2 points), step (two segments) or dynamic (VMAT-like: every device moves, layers crossing)."""
    devices = LAYOUTS[layout]
    phases = {"static": [0.3, 0.3], "step": [0.3, 0.3, 1.4, 1.4], "dynamic": [0.0, 0.5, 1.0, 1.6, 1.6, 2.1, 2.4]}[kind]
    weights = {"static": [0.0, 1.0], "step": [0.0, 0.45, 0.45, 1.0], "dynamic": [0.0, 0.12, 0.3, 0.5, 0.5, 0.8, 1.0]}[kind]
    step = LATTICE.get(layout, 1.0 / SUB)
    out = []
    for index, (phase, weight) in enumerate(zip(phases, weights, strict=True)):
        positions = []
        for layer, (device, boundaries) in enumerate(devices):
            if boundaries is None:
                lo, hi = JAWS[device]
                shift = 3 * np.sin(index + layer) if kind == "dynamic" and device.startswith("ASYM") else 0.0
                positions.append((device, list(np.round(np.array([lo + shift, hi - shift / 2]) / step) * step)))
            else:
                positions.append((device, list(np.round(aperture(boundaries, phase + 0.9 * layer, rng) / step) * step)))
        out.append((weight, (10.0 * index) % 360 if kind == "dynamic" else 0.0, positions))
    return out


# ---- the brute force --------------------------------------------------------------------------
def instants(delivery: Delivery, raw_mu: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """When the MU density samples the beam, as fractional raw control points, and the MU of each sample.

    The times are pymedphys' definition (``interval_samples``: equally spaced, ends included, 10 per pixel of
    travel) applied to the Delivery's control points; a control point the reader added lies inside one raw
    interval, found from its MU. What is open at each instant is the brute force's own business.
    """
    mu = delivery.mu[relevant_control_points(delivery.mu)]
    out = []
    for m0, m1, count in zip(mu[:-1], mu[1:], interval_samples(delivery, delivery.grid()), strict=True):
        if count == 0:
            continue
        k = int(np.flatnonzero((raw_mu[:-1] <= m0 + 1e-9) & (raw_mu[1:] >= m1 - 1e-9) & (np.diff(raw_mu) > 0))[0])
        t0, t1 = (k + (m - raw_mu[k]) / (raw_mu[k + 1] - raw_mu[k]) for m in (m0, m1))
        out.append((t0 + (t1 - t0) * np.arange(count) / (count - 1), (m1 - m0) / count))
    return out


def open_span(state: list[list[np.ndarray]], devices: list[tuple[str, np.ndarray | None]], at: np.ndarray,
              y_iec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The open span along IEC X of each point row ``y_iec`` at each instant ``at``: every layer and jaw leaves it open."""
    k = np.minimum(np.floor(at).astype(int), len(state) - 2)
    f = (at - k)[:, None]
    low, high = np.full((len(at), len(y_iec)), -np.inf), np.full((len(at), len(y_iec)), np.inf)
    for d, (kind, boundaries) in enumerate(devices):
        before, after = np.array([s[d] for s in state])[k], np.array([s[d] for s in state])[k + 1]
        now = before + f * (after - before)
        if boundaries is None:
            if kind in ("ASYMY", "Y"):
                shut = (y_iec[None, :] <= now[:, :1]) | (y_iec[None, :] >= now[:, 1:])
                low, high = np.where(shut, np.inf, low), np.where(shut, -np.inf, high)
            else:
                low, high = np.maximum(low, now[:, :1]), np.minimum(high, now[:, 1:])
            continue
        pairs = len(boundaries) - 1
        leaf = np.searchsorted(boundaries, y_iec, side="right") - 1
        has = (leaf >= 0) & (leaf < pairs)
        leaf = np.clip(leaf, 0, pairs - 1)
        low = np.where(has, np.maximum(low, now[:, leaf]), np.inf)
        high = np.where(has, np.minimum(high, now[:, pairs + leaf]), -np.inf)
    return low, high


def count_points(low: np.ndarray, high: np.ndarray, first_edge: float, r: float, columns: int, sub: int) -> np.ndarray:
    """Per point row and pixel column, summed over instants: how many of the ``sub`` points per pixel lie strictly
    inside (low, high), as a difference array along the columns (cumulative sum: the counts)."""
    h = r / sub
    first = np.clip(np.floor((low - first_edge) / h - 0.5) + 1, 0, columns * sub).astype(np.int64)  # first point inside
    last = np.clip(np.ceil((high - first_edge) / h - 0.5) - 1, -1, columns * sub - 1).astype(np.int64)
    rows = np.broadcast_to(np.arange(low.shape[1]), low.shape)
    ok = last >= first
    first, last, rows = first[ok], last[ok], rows[ok]
    a, b = first // sub, last // sub
    head = np.where(a == b, last - first + 1, sub * (a + 1) - first)  # points in the first pixel
    tail = np.where(a == b, 0, last - sub * b + 1)  # points in the last pixel (when not the first)
    full = np.where(a == b, 0, sub)  # pixels in between hold every point
    width = columns + 1
    index = np.concatenate([rows * width + a, rows * width + a + 1, rows * width + a + 1, rows * width + b,
                            rows * width + b, rows * width + b + 1])
    amount = np.concatenate([head, -head, full, -full, tail, -tail]).astype(float)
    return np.bincount(index, weights=amount, minlength=low.shape[1] * width).reshape(low.shape[1], width)


def brute_force(cps: list[Any], devices: list[tuple[str, np.ndarray | None]], meterset: float, delivery: Delivery,
                sub_x: int = 1000, sub_y: int = 50) -> np.ndarray:
    """MU density on the delivery's grid in pymedphys' orientation (map x = -IEC X, map y = -IEC Y): at each instant,
    points on a fine lattice (``sub_x`` by ``sub_y`` per pixel) count where every layer and jaw leaves them open."""
    axes = delivery.grid().axes()
    r = float(axes["mlc"][1] - axes["mlc"][0])
    y_iec = -(axes["jaw"][:, None] + r * ((np.arange(sub_y) + 0.5) / sub_y - 0.5)[None, :]).reshape(-1)
    first_edge = -float(axes["mlc"][-1]) - r / 2  # IEC X of the left edge of the last map column
    state = [[np.asarray(values, dtype=float) for _, values in positions] for _, _, positions in cps]
    raw_mu = meterset * np.array([w for w, _, _ in cps])
    rows = _rows_any_leaf_opens(state, devices, y_iec)  # elsewhere every layer is shut throughout: nothing to sample
    steps = np.zeros((int(rows.sum()), len(axes["mlc"]) + 1))
    for at, weight in instants(delivery, raw_mu):
        for chunk in np.array_split(at, max(1, len(at) // 20)):
            low, high = open_span(state, devices, chunk, y_iec[rows])
            steps += weight / sub_x * count_points(low, high, first_edge, r, len(axes["mlc"]), sub_x)
    total = np.zeros((len(y_iec), len(axes["mlc"])))
    total[rows] = np.cumsum(steps, axis=1)[:, :-1]
    return total[:, ::-1].reshape(len(axes["jaw"]), sub_y, -1).mean(axis=1)


def _rows_any_leaf_opens(state: list[list[np.ndarray]], devices: list[tuple[str, np.ndarray | None]], y_iec: np.ndarray) -> np.ndarray:
    """Point rows where, at some control point, every MLC layer has an open leaf pair (all rows for a jaw-only field)."""
    rows = np.ones(len(y_iec), dtype=bool)
    for d, (_, boundaries) in enumerate(devices):
        if boundaries is None:
            continue
        pairs = len(boundaries) - 1
        positions = np.array([s[d] for s in state])
        ever_open = np.any(positions[:, :pairs] < positions[:, pairs:], axis=0)
        leaf = np.searchsorted(boundaries, y_iec, side="right") - 1
        rows &= (leaf >= 0) & (leaf < pairs) & ever_open[np.clip(leaf, 0, pairs - 1)]
    return rows


def assert_matches(ours: np.ndarray, reference: np.ndarray) -> None:
    assert ours.shape == reference.shape
    scale = float(np.max(reference))
    assert scale > 0
    worst = float(np.max(np.abs(ours - reference)))
    assert worst <= TOLERANCE * scale, f"worst difference {worst / scale:.2e} of the maximum"


@pytest.fixture(scope="session")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[Any]]]:
    """One plan per layout with three beams: static, step-and-shoot and dynamic."""
    rng = np.random.default_rng(15)
    folder = tmp_path_factory.mktemp("layouts")
    out = {}
    for layout, devices in LAYOUTS.items():
        cps = [control_points(layout, kind, rng) for kind in ("static", "step", "dynamic")]
        beams = [_beam(i + 1, c, devices) for i, c in enumerate(cps)]
        out[layout] = (write_plan(folder / f"{layout}.dcm", beams, [100.0, 150.0, 200.0]), cps)
    return out


@pytest.mark.parametrize("beam", [1, 2, 3], ids=["static", "step", "dynamic"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_mu_density_equals_brute_force(plans: dict[str, tuple[Path, list[Any]]], layout: str, beam: int) -> None:
    path, cps = plans[layout]
    delivery = deliveries.from_dicom(path, beam=beam)
    reference = brute_force(cps[beam - 1], LAYOUTS[layout], [100.0, 150.0, 200.0][beam - 1], delivery)
    assert_matches(delivery.mudensity(), reference)


@pytest.mark.parametrize("beam", [1, 2, 3])
def test_agility_equals_pymedphys_and_the_brute_force_agrees(plans: dict[str, tuple[Path, list[Any]]], beam: int) -> None:
    """pymedphys reads the Agility layout: ours equals it, which ties the brute force's orientation to pymedphys'."""
    path, cps = plans["agility"]
    ours = deliveries.from_dicom(path, beam=beam)
    ds = pydicom.dcmread(path)
    ds.BeamSequence = Sequence([ds.BeamSequence[beam - 1]])
    ds.FractionGroupSequence[0].ReferencedBeamSequence = Sequence([ds.FractionGroupSequence[0].ReferencedBeamSequence[beam - 1]])
    theirs = pymedphys.Delivery.from_dicom(ds, fraction_group_number=1)
    assert ours.allclose(Delivery.from_pymedphys(theirs))
    theirs_map = theirs.metersetmap()
    assert_matches(ours.mudensity(), theirs_map)
    assert_matches(theirs_map, brute_force(cps[beam - 1], LAYOUTS["agility"], [100.0, 150.0, 200.0][beam - 1], ours))


# ---- field-size conventions: pymedphys' order and sign whatever the layout ----------------------
def _static(devices: list[tuple[str, np.ndarray | None]], open_leaves: dict[int, dict[int, tuple[float, float]]],
            jaws: dict[str, tuple[float, float]]) -> list[Any]:
    """Two identical control points: jaws as given, every leaf closed at 0 but ``open_leaves[device][leaf]``."""
    positions = []
    for index, (kind, boundaries) in enumerate(devices):
        if boundaries is None:
            positions.append((kind, list(jaws[kind])))
            continue
        pairs = len(boundaries) - 1
        values = np.zeros(2 * pairs)
        for leaf, (bank1, bank2) in open_leaves.get(index, {}).items():
            values[leaf], values[pairs + leaf] = bank1, bank2
        positions.append((kind, list(values)))
    return [(0.0, 0.0, positions), (1.0, 0.0, positions)]


# layout, open leaves by device index {leaf (IEC order): (bank 1, bank 2)}, jaws, expected pymedphys rows {index: [mlc0, mlc1]},
# expected jaw [Y2, -Y1], leaf pairs and their width (mm)
CONVENTIONS = {
    "agility": ({1: {40: (-12.5, 20.0)}}, {"ASYMY": (-30.0, 35.0)}, {39: [20.0, 12.5], 40: [0.0, 0.0]}, [35.0, 30.0], 80, 5.0),
    # the X jaws cut a leaf that opens past them: -30 becomes X1 = -10
    "millennium": ({2: {30: (-30.0, 12.0)}}, {"ASYMX": (-10.0, 15.0), "ASYMY": (-20.0, 25.0)}, {29: [12.0, 10.0]}, [25.0, 20.0], 60, None),
    # distal leaf 14 spans [0, 10] mm, proximal leaves 14 and 15 [-5, 5] and [5, 15]: strips [0, 5] and [5, 10]
    "halcyon": ({0: {14: (-20.0, 30.0)}, 1: {14: (-25.0, 22.0), 15: (-15.0, 40.0)}}, {}, {28: [22.0, 20.0], 27: [30.0, 15.0]},
                [140.0, 140.0], 58, 5.0),
    # lower leaf 17 spans [-4.15, 4.15] mm, upper leaves 16 and 17 [-8.3, 0] and [0, 8.3]
    "mridian": ({0: {17: (-10.0, 10.0)}, 1: {16: (-30.0, 30.0), 17: (-5.0, 20.0)}}, {}, {34: [10.0, 5.0], 35: [10.0, 10.0]},
                [141.1, 141.1], 70, 4.15),
}


@pytest.mark.parametrize("layout", list(CONVENTIONS))
def test_leaf_and_jaw_positions_in_pymedphys_convention(tmp_path: Path, layout: str) -> None:
    leaves, jaws, rows, jaw, pairs, width = CONVENTIONS[layout]
    devices = LAYOUTS[layout]
    path = write_plan(tmp_path / "plan.dcm", [_beam(1, _static(devices, leaves, jaws), devices)], [100.0])
    delivery = deliveries.from_dicom(path)
    assert delivery.mlc.shape == (2, pairs, 2)
    for index, expected in rows.items():
        assert np.allclose(delivery.mlc[:, index], expected), (index, delivery.mlc[0, index])
    assert np.count_nonzero(delivery.mlc[0]) == sum(np.count_nonzero(v) for v in rows.values())
    assert np.allclose(delivery.jaw, jaw)
    widths = np.array(delivery.leaf_widths)
    expected_widths = np.diff(MILLENNIUM)[::-1] if width is None else np.full(pairs, width)
    assert np.allclose(widths, expected_widths)


def test_millennium_rows_keep_the_plan_jaws(tmp_path: Path) -> None:
    devices = LAYOUTS["millennium"]
    cps = _static(devices, {2: {30: (-30.0, 12.0)}}, {"ASYMX": (-10.0, 15.0), "ASYMY": (-20.0, 25.0)})
    rows, found, warns = rows_from_dataset(load(write_plan(tmp_path / "plan.dcm", [_beam(1, cps, devices)], [100.0])), "plan")
    values = {r.param: r.value for r in rows if r.beam == "B1"}
    assert (values["jaw_x1_mm"], values["jaw_x2_mm"], values["jaw_y1_mm"], values["jaw_y2_mm"]) == (-10.0, 15.0, -20.0, 25.0)
    assert set(found) == {"B1"} and not warns


# ---- plans without an MLC -----------------------------------------------------------------------
JAW_ONLY: list[tuple[str, np.ndarray | None]] = [("ASYMX", None), ("ASYMY", None)]


def test_jaw_only_field_is_its_jaw_rectangle(tmp_path: Path) -> None:
    cps = _static(JAW_ONLY, {}, {"ASYMX": (-30.0, 40.0), "ASYMY": (-25.0, 35.0)})
    path = write_plan(tmp_path / "plan.dcm", [_beam(1, cps, JAW_ONLY)], [100.0])
    rows, found, warns = rows_from_dataset(load(path), "plan")
    assert {r.param for r in rows if r.beam == "B1"} >= {"mu", "jaw_x1_mm", "jaw_y2_mm", "energy", "gantry_start"}
    assert set(found) == {"B1"} and not warns
    density = found["B1"].mudensity()
    assert np.isclose(density.sum(), 100.0 * 70 * 60)  # MU x area on a 1 mm grid
    assert_matches(density, brute_force(cps, JAW_ONLY, 100.0, found["B1"]))


@pytest.mark.parametrize(("radiation", "devices", "says"), [
    ("ELECTRON", JAW_ONLY, "an electron beam without an MLC: its field is shaped by the applicator and cut-out"),
    ("PHOTON", [("ASYMY", None)], "no MLC and no X jaws (ASYMX or X) (BeamLimitingDeviceSequence holds ASYMY)"),
    ("PHOTON", [("ASYMY", None), ("MLCY", AGILITY)], "beam limiting device MLCY is not one plancheck reads"),
], ids=["electron", "no-x-jaws", "mlcy"])
def test_beam_without_a_delivery_says_what_it_lacks(tmp_path: Path, radiation: str, devices: list[Any], says: str) -> None:
    jaws = {"ASYMX": (-30.0, 40.0), "ASYMY": (-25.0, 35.0)}
    cps = _static(devices, {}, jaws)
    plan = write_plan(tmp_path / "plan.dcm", [_beam(1, cps, devices, radiation), _beam(2, _static(LAYOUTS["agility"], {1: {40: (-5, 5)}}, jaws),
                                                                                       LAYOUTS["agility"])], [100.0, 50.0])
    rows, found, warns = rows_from_dataset(load(plan), "plan")
    assert {r.param for r in rows if r.beam == "B1"} >= {"mu", "energy", "gantry_start"}  # its rows are all there
    assert set(found) == {"B2"}
    assert len(warns) == 1 and warns[0].startswith("plan BeamSequence[0] (beam B1): no MU density: ") and says in warns[0]
    with pytest.raises(SourceError) as info:
        deliveries.from_dicom(plan, beam="B1")
    assert says in info.value.message and "calculated" not in info.value.message
    assert deliveries.from_dicom(plan).allclose(found["B2"])  # the plan's MU density is the beams that have one


def test_layer_without_boundaries_keeps_the_beam_rows(tmp_path: Path) -> None:
    devices = LAYOUTS["halcyon"]
    beam = _beam(1, _static(devices, {0: {14: (-20.0, 30.0)}, 1: {14: (-25.0, 22.0)}}, {}), devices)
    del beam.BeamLimitingDeviceSequence[1].LeafPositionBoundaries
    rows, found, warns = rows_from_dataset(load(write_plan(tmp_path / "plan.dcm", [beam], [100.0])), "plan")
    assert {r.param for r in rows if r.beam == "B1"} >= {"mu", "energy"} and not found
    assert warns == ["plan BeamSequence[0] (beam B1): no MU density: its collimation cannot be read (plan BeamSequence[0] "
                     "BeamLimitingDeviceSequence[1]: MLCX2 has no increasing LeafPositionBoundaries (0 values); "
                     "each MLC layer needs its leaf boundaries to place its leaves)"]


def test_beams_of_different_leaf_layouts_are_not_merged(tmp_path: Path) -> None:
    jaws = {"ASYMX": (-30.0, 40.0), "ASYMY": (-25.0, 35.0)}
    beams = [_beam(1, _static(JAW_ONLY, {}, jaws), JAW_ONLY), _beam(2, _static(LAYOUTS["millennium"], {2: {30: (-5, 5)}}, jaws), LAYOUTS["millennium"])]
    plan = write_plan(tmp_path / "plan.dcm", beams, [100.0, 50.0])
    with pytest.raises(SourceError, match=r"cannot merge beams with 2 different leaf layouts .*\(B1, B2\); ask for one beam at a time"):
        deliveries.from_dicom(plan)
    assert len(deliveries.from_dicom(plan, beam=2).leaf_widths) == 60


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_gamma_comparison_runs_on_every_layout(plans: dict[str, tuple[Path, list[Any]]], layout: str) -> None:
    """The delivery comparison takes its grid from the plan's leaves: a beam compared with itself passes
    everywhere, and one whose MU is 5 % high fails, on every vendor layout."""
    from dataclasses import replace

    from plancheck.delivery.comparison import compare

    planned = deliveries.from_dicom(plans[layout][0], beam=3)
    same = compare(planned, planned)
    assert same.pass_rate == pytest.approx(100.0)
    hot = compare(planned, replace(planned, mu=planned.mu * 1.05))
    assert hot.pass_rate < 90.0
