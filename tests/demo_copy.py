"""A copy of the shared demo clinic for a test that changes the clinic itself (grows it, edits its MOSAIQ):
copying its folder takes milliseconds where building it again takes seconds."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from plancheck.config import Config, load_config
from plancheck.demo.clinic import CONFIG
from plancheck.demo.mosaiq_db import DemoClinic


def copy_clinic(demo_clinic: tuple[DemoClinic, Any], folder: Path) -> tuple[DemoClinic, Config]:
    """The demo clinic copied to ``folder``: every file, and a plancheck.toml naming the copy's MOSAIQ, as build_clinic writes it."""
    clinic, _config = demo_clinic
    shutil.copytree(clinic.folder, folder)

    def moved(path: Path) -> Path:
        return folder / path.relative_to(clinic.folder)

    copy = replace(clinic, folder=folder, database=moved(clinic.database), dicom_dir=moved(clinic.dicom_dir), escan_dir=moved(clinic.escan_dir),
                   rt_plans={patient: moved(path) for patient, path in clinic.rt_plans.items()})
    config_path = folder / "plancheck.toml"
    config_path.write_text(CONFIG.format(db=copy.database.resolve()), encoding="utf-8")
    return copy, load_config(config_path)
