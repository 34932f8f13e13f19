"""Find (and make) tel.1 files in a Monaco FocalData tree.

Monaco keeps each patient in ``<FocalData>/<Clinic>/1~Clinical/<NAME>~<PATIENTID>/``
with a ``demographic.<PATIENTID>`` file (line 3: the name as LAST^FIRST, line 4:
the ID) and one folder per plan under ``plan/``; a plan folder holds ``tel.1``
(and ``rxBtel.1`` etc. for further prescriptions). The configured Monaco folder
may be the FocalData folder, a clinic folder or the ``1~Clinical`` folder.
"""

from __future__ import annotations

import datetime as dt
import glob
from dataclasses import dataclass
from pathlib import Path

TEL_SUFFIX = "tel.1"
CLINICAL = "1~Clinical"
DEMOGRAPHIC_STAMP = "00041017"  # first line of the demographic file pymedphys ships (anonymised template)


@dataclass(frozen=True)
class MonacoPlan:
    """One plan folder of one patient, and the tel.1 files in it (tel.1 first)."""

    patient_dir: Path
    name: str
    tel_paths: tuple[Path, ...]

    @property
    def folder(self) -> Path:
        return self.patient_dir / "plan" / self.name

    @property
    def modified(self) -> float:
        """When the newest tel.1 of the plan was written (seconds since the epoch)."""
        return max(p.stat().st_mtime for p in self.tel_paths)


def patient_id_of(patient_dir: Path) -> str:
    return patient_dir.name.rpartition("~")[2]


def patient_dirs(root: Path, patient_id: str) -> list[Path]:
    """Folders ``<NAME>~<patient_id>`` with a ``plan`` folder, up to two levels below ``root``."""
    found: dict[Path, None] = {}
    escaped = glob.escape(patient_id)
    for depth in range(3):
        for plan in sorted(root.glob("*/" * depth + f"*~{escaped}/plan")):
            if plan.is_dir() and patient_id_of(plan.parent) == patient_id:
                found.setdefault(plan.parent, None)
    return list(found)


def list_plans(patient_dir: Path) -> list[MonacoPlan]:
    """The patient's plans that hold a tel.1, newest first."""
    plans = []
    for folder in sorted(p for p in (patient_dir / "plan").iterdir() if p.is_dir()):
        tels = sorted(folder.rglob(f"*{TEL_SUFFIX}"), key=lambda p: (p.name != TEL_SUFFIX, str(p)))
        if tels:
            plans.append(MonacoPlan(patient_dir, folder.name, tuple(tels)))
    return sorted(plans, key=lambda p: p.modified, reverse=True)


def find_plans(root: Path, patient_id: str) -> list[MonacoPlan]:
    """Every plan of the patient below ``root``, newest first."""
    plans = [plan for d in patient_dirs(root, patient_id) for plan in list_plans(d)]
    return sorted(plans, key=lambda p: p.modified, reverse=True)


def patient_name(patient_dir: Path) -> str | None:
    """LAST^FIRST from ``demographic.<ID>`` (line 3), upper case; None without the file."""
    path = patient_dir / f"demographic.{patient_id_of(patient_dir)}"
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError:
        return None
    if len(lines) < 3 or not lines[2].strip():
        return None
    return "^".join(lines[2].strip().upper().split("^")[:2])


def make_patient_dir(root: Path, patient_id: str, name: str, clinic: str = "Clinic", when: dt.datetime | None = None) -> Path:
    """Create ``<root>/<clinic>/1~Clinical/<NAME>~<ID>/`` with its demographic file."""
    last = name.split("^")[0].upper() or "PATIENT"
    patient_dir = root / clinic / CLINICAL / f"{last}~{patient_id}"
    (patient_dir / "plan").mkdir(parents=True, exist_ok=True)
    stamp = (when or dt.datetime(2000, 1, 1)).strftime("%Y%m%d.%H%M%S")
    lines = [DEMOGRAPHIC_STAMP, stamp, name.upper(), patient_id]
    (patient_dir / f"demographic.{patient_id}").write_text("\n".join(lines) + "\n", encoding="latin-1")
    return patient_dir
