"""Pieces of the stream the listener set aside, kept next to the journal for a person to look at.

``<journal>/quarantine/<connection>.set-aside`` holds the bytes of each piece that is no
readable message (appended in stream order); ``index.jsonl`` has one line per
piece: its journal position, size, where it is in that file and why it
was set aside. The journal holds the same bytes (it holds every byte); the
quarantine makes them easy to find. A journal replay sets the same bytes aside
again, possibly cut into other pieces: only bytes past the end of the last piece
kept are kept, so each byte is kept once.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from plancheck.icom_service.journal import Position

log = logging.getLogger(__name__)

INDEX = "index.jsonl"


class Quarantine:
    """Append-only store of set-aside pieces of one machine's stream."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._end: Position | None = None  # just past the last byte kept
        self._loaded = False

    def keep(self, position: Position, data: bytes, reason: str) -> Path:
        """Append the piece (the part not kept already); returns the file that holds it."""
        path = self.folder / f"{position.connection:06d}.set-aside"
        end = self._kept_until()
        if end is not None and end.connection == position.connection and position.offset < end.offset:
            data = data[end.offset - position.offset :]
            position = end
        elif end is not None and position.connection < end.connection:
            data = b""
        if not data:
            return path
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as f:
            at = f.tell()
            f.write(data)
        entry = {"connection": position.connection, "offset": position.offset, "bytes": len(data), "file": path.name, "file_offset": at,
                 "reason": reason, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        with open(self.folder / INDEX, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        self._end = Position(position.connection, position.offset + len(data))
        return path

    def entries(self) -> list[dict[str, Any]]:
        """Every index line, oldest first (a line that cannot be read is skipped with a warning)."""
        path = self.folder / INDEX
        if not path.exists():
            return []
        out = []
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("%s line %d: not JSON; skipped", path, number)
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def _kept_until(self) -> Position | None:
        if not self._loaded:
            self._loaded = True
            ends = []
            for e in self.entries():
                try:
                    ends.append(Position(int(e["connection"]), int(e["offset"]) + int(e["bytes"])))
                except (KeyError, TypeError, ValueError):
                    continue
            self._end = max(ends, default=None)
        return self._end
