"""The listener's raw journal: every received byte on disk (fsync'd) before anything parses it.

One folder per machine holds segment files named ``<connection>-<offset>.raw``:
the connection number (each TCP connection is its own byte stream) and the
offset in that connection's stream where the file begins (a long connection is
cut into several files). ``committed.json`` holds the position up to which every
byte has been dealt with (archived, or known to be no delivery); it is replaced
atomically, so after a crash the listener replays from there and archives nothing
twice.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from collections.abc import Iterator

log = logging.getLogger(__name__)

SEGMENT = re.compile(r"^(\d{6,})-(\d{12,})\.raw$")
COMMITTED = "committed.json"
READ_CHUNK = 1 << 20


@dataclass(frozen=True, order=True)
class Position:
    """A place in the journal: connection number and offset in that connection's stream."""

    connection: int
    offset: int

    def __str__(self) -> str:
        return f"connection {self.connection} byte {self.offset}"


@dataclass(frozen=True)
class Segment:
    path: Path
    connection: int
    start: int

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def fsync_dir(folder: Path) -> None:
    """Make a new or renamed entry durable (a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, payload: bytes) -> None:
    """Write to a temp file in the same folder, fsync, rename over ``path``, fsync the folder."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Journal:
    """Append-only segments of raw bytes for one machine, and the committed position."""

    def __init__(self, folder: Path, segment_bytes: int = 64 << 20) -> None:
        self.folder = folder
        self.segment_bytes = segment_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO | None = None
        self._connection = 0
        self._offset = 0  # bytes of the current connection so far
        self._file_start = 0

    # ---- segments ----------------------------------------------------------
    def segments(self) -> list[Segment]:
        found = []
        for path in self.folder.iterdir():
            m = SEGMENT.match(path.name)
            if m:
                found.append(Segment(path, int(m.group(1)), int(m.group(2))))
        return sorted(found, key=lambda s: (s.connection, s.start))

    def open_connection(self) -> int:
        """Start the stream of a new TCP connection; returns its number (its first file is made by the first append)."""
        self.close()
        existing = self.segments()
        committed = self.committed()
        self._connection = max(existing[-1].connection if existing else 0, committed.connection if committed else 0, self._connection) + 1
        self._offset = 0
        return self._connection

    def _open_segment(self) -> None:
        self.close()
        path = self.folder / f"{self._connection:06d}-{self._offset:012d}.raw"
        self._file = open(path, "ab")  # noqa: SIM115 - the open segment outlives this call; close() ends it
        self._file_start = self._offset
        fsync_dir(self.folder)

    def append(self, data: bytes) -> Position:
        """Write, flush and fsync ``data``; returns where it starts. Nothing is parsed before this returns."""
        if self._connection == 0:
            raise RuntimeError("no connection open in the journal")
        if self._file is None or self._offset - self._file_start >= self.segment_bytes:
            self._open_segment()
        handle = self._file
        if handle is None:
            raise RuntimeError("the journal segment could not be opened")
        where = Position(self._connection, self._offset)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        self._offset += len(data)
        return where

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # ---- committed position -------------------------------------------------
    def committed(self) -> Position | None:
        path = self.folder / COMMITTED
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Position(int(data["connection"]), int(data["offset"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise RuntimeError(f"{path}: unreadable committed position ({exc}); restore it or remove it to re-archive the whole journal") from None

    def commit(self, position: Position) -> None:
        payload = json.dumps({"connection": position.connection, "offset": position.offset, "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
        write_atomic(self.folder / COMMITTED, payload.encode())

    # ---- replay and pruning ---------------------------------------------------
    def replay(self, since: Position | None) -> Iterator[tuple[Position, bytes]]:
        """Chunks of every journalled byte after ``since``, in order, with their positions."""
        for seg in self.segments():
            skip = 0
            if since is not None:
                if seg.connection < since.connection:
                    continue
                if seg.connection == since.connection:
                    if seg.start + seg.size <= since.offset:
                        continue
                    skip = max(0, since.offset - seg.start)
            with open(seg.path, "rb") as f:
                f.seek(skip)
                offset = seg.start + skip
                while chunk := f.read(READ_CHUNK):
                    yield Position(seg.connection, offset), chunk
                    offset += len(chunk)

    def prune(self, keep_days: float) -> list[Path]:
        """Delete segments wholly before the committed position and older than ``keep_days``."""
        committed = self.committed()
        if committed is None or keep_days < 0:
            return []
        cutoff = time.time() - keep_days * 86400.0
        removed = []
        for seg in self.segments():
            done = seg.connection < committed.connection or (seg.connection == committed.connection and seg.start + seg.size <= committed.offset)
            if done and seg.path.stat().st_mtime < cutoff and seg.path.name != self._current_name():
                seg.path.unlink()
                removed.append(seg.path)
        if removed:
            log.info("journal: removed %d segment(s) older than %g days, all archived", len(removed), keep_days)
        return removed

    def _current_name(self) -> str:
        return Path(self._file.name).name if self._file is not None else ""
