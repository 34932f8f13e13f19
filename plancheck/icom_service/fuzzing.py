"""One call per input for fuzzing the iCOM reader, the listener's splitter and the source's archive reading.

``benchmarks/fuzz.py`` and ``tests/test_icom_bad_input.py`` call these with
mutated streams. The promise they check: whatever the bytes, only plancheck's
typed errors (:class:`~plancheck.errors.SourceError`) come out of the reader,
nothing at all out of the splitter (a message that cannot be read is set aside),
and one bad archive never hides the others from the source.
"""

from __future__ import annotations

import collections
import tempfile
from pathlib import Path

from plancheck.icom_service.archive import Archiver
from plancheck.icom_service.quarantine import Quarantine
from plancheck.sources.icom.reader import read_icom
from plancheck.sources.icom.source import delivered_beams
from plancheck.icom_service.splitter import Framer, Splitter

RECV_CHUNK = 4096


def read_stream(data: bytes) -> int:
    """Read ``data`` strictly, then leniently; the records read leniently. Raises only SourceError."""
    read_icom(data, strict=True)
    return len(read_icom(data, strict=False).records)


def split_stream(data: bytes, folder: Path | None = None, chunk: int = RECV_CHUNK) -> collections.Counter[str]:
    """Feed ``data`` in ``chunk``-byte reads to the listener's framer and splitter, archiving below ``folder``.

    Returns the splitter's counts plus ``piece_bytes`` (bytes of every piece cut,
    which must equal ``len(data)``) and ``max_buffer_bytes`` (the framer's largest buffer).
    Raises nothing whatever the bytes; a temporary folder is used when ``folder`` is None.
    """
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="plancheck-fuzz-") as tmp:
            return split_stream(data, Path(tmp), chunk)
    framer = Framer(1)
    splitter = Splitter(Archiver(folder), quarantine=Quarantine(folder / "quarantine"))
    piece_bytes = largest = 0
    for at in range(0, len(data), chunk):
        pieces = framer.feed(data[at : at + chunk])
        largest = max(largest, len(framer.buf))
        piece_bytes += sum(len(p.data) for p in pieces)
        splitter.take(pieces)
    pieces = framer.finish()
    piece_bytes += sum(len(p.data) for p in pieces)
    splitter.take(pieces)
    splitter.end()
    counts = collections.Counter(splitter.counts)
    counts["piece_bytes"], counts["max_buffer_bytes"] = piece_bytes, largest
    return counts


def read_archive(data: bytes, good: bytes | None = None, *, patient_id: str = "015112") -> tuple[list[str], list[str]]:
    """Store ``data`` (and ``good``) as two of the patient's archive files and read them as the ``icom`` source does.

    Both are file contents as stored: an xz archive, or a raw stream (the reader
    takes either). Returns the keys of the delivered beams found and the warnings.
    Raises nothing: a bad archive is a warning naming it, the good one is still read.
    """
    with tempfile.TemporaryDirectory(prefix="plancheck-fuzz-") as tmp:
        folder = Path(tmp) / "patients" / f"{patient_id}_FUZZ"
        folder.mkdir(parents=True)
        (folder / "20240501_090000.xz").write_bytes(data)
        if good is not None:
            (folder / "20240501_100000.xz").write_bytes(good)
        beams, warnings = delivered_beams(Path(tmp), patient_id)
    return [b.key for b in beams], warnings
