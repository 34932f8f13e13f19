"""File and folder names made from stream data: one function, bounded and safe on every file system.

A patient ID, name or field label in an iCOM stream is whatever the linac sent,
possibly damaged (a flipped length bit gives a name of hundreds of bytes holding
the items that followed it). Every path component the listener derives from the
stream goes through :func:`safe_name`, so archiving never fails on the stream's
content: no separator, no ``..``, no control or non-ASCII character, no name a
file system refuses (``CON``, ``NUL``, ...), never longer than ``max_chars``.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_CHARS = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9 ,.'^_-]")
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)


def safe_name(text: str, max_chars: int = MAX_NAME_CHARS, empty: str = "_") -> str:
    """``text`` as one path component: unsafe characters to '_', trimmed, at most ``max_chars``.

    A name cut to length ends with 8 hex digits of a hash of the whole text, so two
    long names that share their beginning stay apart and the same text always gives
    the same name (a journal replay archives into the same folder).
    """
    if max_chars < 16:
        raise ValueError(f"max_chars must be at least 16, not {max_chars}")
    name = _UNSAFE.sub("_", text).strip(" .")
    if len(name) > max_chars:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{name[: max_chars - 9].rstrip(' .')}~{digest}"
    if _RESERVED.match(name):
        name = f"_{name}"
    return name or empty
