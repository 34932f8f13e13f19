"""File names made from data (patient IDs, names, field labels): made safe in this one place.

A patient ID is typed by a person or sent by a linac, so it may hold a slash
(``12/3456``), a parent reference (``../../x``), a NUL byte or a thousand
characters; a damaged iCOM stream gives a name of hundreds of bytes holding the
items that followed it. Every writer of reports, figures and the eSCAN PDF, and
the iCOM listener's archive, names its files through :func:`safe_name` (and
:func:`path_in`), so nothing is written outside the folder plancheck.toml
configures and archiving never fails on the stream's content, whatever it holds.
"""

from __future__ import annotations

import hashlib
import re
import string
from pathlib import Path

from plancheck.errors import PlancheckError

MAX_NAME_CHARS = 64  # far below the 255 bytes of common file systems, leaving room for prefixes and suffixes
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# names Windows reserves whatever the extension (a network share may be mounted from Windows)
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


class UnsafePathError(PlancheckError):
    """A path built from data would leave its folder (a bug: safe_name should have prevented it)."""


def safe_name(text: object, *, default: str = "unnamed", max_chars: int = MAX_NAME_CHARS) -> str:
    """One file-name part: ASCII letters, digits, ``.``, ``-`` and ``_`` only; never ``.``/``..``, a name
    Windows reserves (``CON``, ``NUL``, ...) or longer than ``max_chars``; ``default`` when nothing is left.

    Runs of other characters (``/``, ``\\``, NUL, spaces, accents) become one ``_``;
    leading and trailing dots and underscores go. A name longer than ``max_chars``
    is cut and ends with 8 hex digits of a SHA-256 of the whole text, so two long
    names that share their beginning stay apart and the same text always gives the
    same name (an iCOM journal replay archives into the same folder).
    """
    if max_chars < 16:
        raise ValueError(f"max_chars must be at least 16, not {max_chars}")
    raw = str(text)
    cleaned = _UNSAFE.sub("_", raw.strip()).strip("._")
    if not cleaned:
        return default
    if cleaned.split(".")[0].upper() in _RESERVED:
        cleaned = f"_{cleaned}"
    if len(cleaned) > max_chars:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        cleaned = f"{cleaned[: max_chars - 9].rstrip('._')}_{digest}"
    return cleaned


def path_in(folder: str | Path, *parts: object, suffix: str = "") -> Path:
    """``folder / safe_name(part) / ... + suffix``, checked to stay inside ``folder``."""
    if not parts:
        raise ValueError("path_in needs at least one name")
    base = Path(folder)
    names = [safe_name(p) for p in parts]
    names[-1] += suffix
    path = base.joinpath(*names)
    if not path.resolve().is_relative_to(base.resolve()):
        raise UnsafePathError(f"file name from data leaves its folder: {path}", where=str(base))
    return path


def format_name(template: str, **fields: object) -> str:
    """A file name from a template in plancheck.toml (``{patient_id}.pdf``): each field made safe, one path part.

    Only plain ``{name}`` fields are allowed (no ``{x.attr}`` or ``{x[0]}``, which would
    reach into Python objects); the result is itself made a safe name.
    """
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if name not in fields or spec or conversion:
            allowed = ", ".join("{" + f + "}" for f in fields)
            raise PlancheckError(f"file name template {template!r}: field {{{name}}} is not allowed", fix=f"use only {allowed}")
    text = template.format(**{k: safe_name(v) for k, v in fields.items()})
    stem, dot, ext = text.rpartition(".")
    if dot and stem and ext.isascii() and ext.isalnum() and len(ext) <= 5:
        return f"{safe_name(stem)}.{ext}"
    return safe_name(text)
