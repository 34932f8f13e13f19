"""Archive one delivery: ``patients/<ID>_<NAME>/<YYYYMMDD_HHMMSS>.xz``, written atomically.

Before archiving, the delivery's bytes are read with the strict reader: one that
cannot be read goes to ``unknown_error_in_record/<ID>_<NAME>/`` (with a log line
naming the damage), one with no MU delivered is not archived. Archiving the same
bytes again (a replay after a crash between archive and commit) finds the file
there already and leaves it.
"""

from __future__ import annotations

import datetime as dt
import logging
import lzma
import re
from dataclasses import dataclass
from pathlib import Path

from plancheck.errors import SourceError
from plancheck.sources.icom.journal import write_atomic
from plancheck.sources.icom.reader import read_icom

log = logging.getLogger(__name__)

PATIENTS = "patients"
UNREADABLE = "unknown_error_in_record"
_UNSAFE = re.compile(r"[^A-Za-z0-9 ,.'^-]")


def folder_name(patient_id: str, patient_name: str | None) -> str:
    """``<ID>_<NAME>`` with anything a file system could trip on replaced by '_'."""
    safe_id = _UNSAFE.sub("_", patient_id).strip(" .") or "_"
    safe_name = _UNSAFE.sub("_", patient_name or "").strip(" .")
    return f"{safe_id}_{safe_name}"


@dataclass(frozen=True)
class Archived:
    """What became of one delivery."""

    status: str  # archived | duplicate | unreadable | no_mu
    path: Path | None
    reason: str = ""


class Archiver:
    """Writes deliveries below ``root`` (the listener's --dir)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def archive(self, data: bytes, *, patient_id: str, patient_name: str | None, start: dt.datetime, where: str) -> Archived:
        folder = folder_name(patient_id, patient_name)
        name = f"{start:%Y%m%d_%H%M%S}"
        try:
            reading = read_icom(data, strict=True)
        except SourceError as exc:
            path, _ = self._write(self.root / UNREADABLE / folder, name, data)
            reason = exc.message.replace("iCOM stream", str(path))
            log.warning("unreadable delivery for %s (%s), begun at %s, set aside: %s", patient_id, patient_name, where, reason)
            return Archived("unreadable", path, reason)
        mus = [r.mu for r in reading.records if r.mu is not None]
        if not any(b > a for a, b in zip(mus, mus[1:])):
            log.info("no MU delivered for %s (%s), field %s at %s: not archived", patient_id, patient_name, _field(reading), start)
            return Archived("no_mu", None, "no MU delivered")
        path, duplicate = self._write(self.root / PATIENTS / folder, name, data)
        status = "duplicate" if duplicate else "archived"
        log.info(
            "%s %.1f MU for %s (%s), field %s, machine %s, from %s: %s",
            "already archived:" if status == "duplicate" else "archived",
            mus[-1], patient_id, patient_name, _field(reading), reading.records[0].machine, where, path,
        )
        for issue in reading.issues:
            log.warning("%s (archived as received)", issue.message.replace("iCOM stream", str(path)))
        return Archived(status, path)

    @staticmethod
    def _write(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
        """``folder/name.xz`` (``name_2.xz``, ... when taken by other bytes) and whether it held these bytes already."""
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            path = folder / (f"{name}.xz" if n == 1 else f"{name}_{n}.xz")
            if not path.exists():
                write_atomic(path, lzma.compress(data, format=lzma.FORMAT_XZ))
                return path, False
            if _same_content(path, data):
                return path, True
        raise RuntimeError(f"{folder}: 999 archives named {name}*.xz; clean up the folder")


def _same_content(path: Path, data: bytes) -> bool:
    try:
        return lzma.decompress(path.read_bytes()) == data
    except (OSError, lzma.LZMAError, EOFError):
        return False


def _field(reading: object) -> str:
    records = getattr(reading, "records", [])
    return next((r.field_id for r in records if r.field_id), "?")
