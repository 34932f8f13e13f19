"""Archive one delivery: ``patients/<ID>_<NAME>/<YYYYMMDD_HHMMSS>.xz``, written atomically.

The listener reads every message on arrival and passes the MU counter it read;
called with bytes alone, the archiver reads them strictly first, and bytes that
cannot be read go to ``unknown_error_in_record/<ID>_<NAME>/`` (with a log line
naming the damage). A delivery with no MU delivered is not archived. Pieces the
listener set aside during a delivery go to ``unknown_error_in_record`` too, so
the ``icom`` source names them for that patient. Folder names come from the
stream through :func:`plancheck.paths.safe_name` (bounded, safe); the layout is
:mod:`plancheck.sources.icom.archive_layout`. Archiving the same bytes
again (a replay after a crash between archive and commit) finds the file there
already and leaves it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import lzma
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from plancheck.errors import SourceError
from plancheck.icom_service.journal import write_atomic
from plancheck.sources.icom.archive_layout import PATIENTS, SET_ASIDE_SUFFIX, UNREADABLE, folder_name
from plancheck.sources.icom.reader import read_icom

log = logging.getLogger(__name__)

__all__ = ["PATIENTS", "SET_ASIDE_SUFFIX", "UNREADABLE", "Archived", "Archiver", "folder_name"]

MAX_SAME_NAME = 999


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

    def archive(
        self, data: bytes, *, patient_id: str, patient_name: str | None, start: dt.datetime, where: str,
        mus: Sequence[float] | None = None, field_id: str | None = None, machine: str | None = None,
    ) -> Archived:
        """Write one delivery's bytes; ``mus`` (the MU counter of each message) when they were read already."""
        folder = folder_name(patient_id, patient_name)
        name = f"{start:%Y%m%d_%H%M%S}"
        if mus is None:
            try:
                reading = read_icom(data, strict=True)
            except SourceError as exc:
                path, _ = self._write(self.root / UNREADABLE / folder, name, data)
                reason = exc.message.replace("iCOM stream", str(path))
                log.warning("unreadable delivery for %s (%s), begun at %s, set aside: %s", patient_id, patient_name, where, reason)
                return Archived("unreadable", path, reason)
            for issue in reading.issues:
                log.warning("%s (archived as received)", issue.message.replace("iCOM stream", where))
            mus = [r.mu for r in reading.records if r.mu is not None]
            field_id = next((r.field_id for r in reading.records if r.field_id), None)
            machine = reading.records[0].machine if reading.records else None
        if not any(b > a for a, b in itertools.pairwise(mus)):
            log.info("no MU delivered for %s (%s), field %s at %s: not archived", patient_id, patient_name, field_id or "?", start)
            return Archived("no_mu", None, "no MU delivered")
        path, duplicate = self._write(self.root / PATIENTS / folder, name, data)
        status = "duplicate" if duplicate else "archived"
        log.info(
            "%s %.1f MU for %s (%s), field %s, machine %s, from %s: %s",
            "already archived:" if duplicate else "archived", mus[-1], patient_id, patient_name, field_id or "?", machine, where, path,
        )
        return Archived(status, path)

    def set_aside(self, data: bytes, *, patient_id: str, patient_name: str | None, start: dt.datetime, where: str) -> Path:
        """Keep the pieces set aside during one delivery with that patient's unreadable records."""
        path, _ = self._write(self.root / UNREADABLE / folder_name(patient_id, patient_name), f"{start:%Y%m%d_%H%M%S}{SET_ASIDE_SUFFIX}", data)
        log.warning("%d bytes set aside during the delivery for %s (%s) from %s are kept in %s", len(data), patient_id, patient_name, where, path)
        return path

    @staticmethod
    def _write(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
        """``folder/name.xz`` (``name_2.xz``, ... when taken by other bytes) and whether it held these bytes already.

        Past ``MAX_SAME_NAME`` (a linac clock stuck at one second) the name carries a
        hash of the bytes, so archiving never fails on the stream's content.
        """
        folder.mkdir(parents=True, exist_ok=True)
        candidates = [f"{name}.xz" if n == 1 else f"{name}_{n}.xz" for n in range(1, MAX_SAME_NAME + 1)]
        candidates.append(f"{name}_{hashlib.sha256(data).hexdigest()[:16]}.xz")
        for candidate in candidates:
            path = folder / candidate
            if not path.exists():
                write_atomic(path, lzma.compress(data, format=lzma.FORMAT_XZ))
                return path, False
            if _same_content(path, data):
                return path, True
        raise OSError(f"{folder}: {MAX_SAME_NAME} archives named {name}*.xz and one with the same hash but other bytes")


def _same_content(path: Path, data: bytes) -> bool:
    try:
        return lzma.decompress(path.read_bytes()) == data
    except (OSError, lzma.LZMAError, EOFError):
        return False
