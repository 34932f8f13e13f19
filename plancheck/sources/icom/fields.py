"""The iCOM Vx message layout as data: one table of fields (tag, VR, kind, type, multiplicity).

An iCOM Vx stream is a sequence of messages. Each message is::

    offset  0   8 bytes   header (plancheck writes the message length, uint32 little-endian,
                          then 4 zero bytes; pymedphys and plancheck's reader do not rely on it)
    offset  8  18 bytes   timestamp, ASCII "YYYY-MM-DDHH:MM:SS" (linac clock, 1 s resolution)
    offset 26   1 byte    counter, +1 per message, wraps at 256
    offset 27   ...       items, back to back

and each item is a DICOM-like element::

    group (uint16 LE) | element (uint16 LE) | VR (2 ASCII) | 0x00 | kind ('P' or 'R')
    | value length (uint32 LE) | value (ASCII, no terminator)

These are the facts pymedphys' reader relies on (``pymedphys/_icom/mappings.py``
and ``extract.py``): the element, VR and kind bytes of every field below are its
byte signature there; the byte before them (the group's high byte) is one of
``0``, ``\\x00``, ``p``, ``P``; collimator positions follow a device-type item
(``MLCX``, ``ASYMY``, ``ASYMX``) as that many (300A,011C) items in cm. The
public code does not name the group of the Elekta-private items (elements
0x10xx); plancheck uses 0x7001 for them. A value of ``-32767`` means "not
available": the reader takes the next item of the same field, as pymedphys does.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_SIZE = 8
TIMESTAMP_SIZE = 18
COUNTER_OFFSET = HEADER_SIZE + TIMESTAMP_SIZE  # 26
ITEMS_OFFSET = COUNTER_OFFSET + 1  # 27
ITEM_HEADER = struct.Struct("<HH2scc I")
ITEM_HEADER_SIZE = ITEM_HEADER.size  # 12
TIMESTAMP_FORMAT = "%Y-%m-%d%H:%M:%S"
NOT_AVAILABLE = "-32767"
NOT_AVAILABLE_NUMBER = -32767.0
# the characters pymedphys' value pattern accepts; the writer refuses any other
VALUE_CHARACTERS = frozenset(b",-'\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .")
KNOWN_VRS = frozenset({b"LO", b"PN", b"SH", b"CS", b"DS", b"IS", b"ST", b"LT", b"UI", b"DA", b"TM"})

PRIVATE = 0x7001  # group plancheck uses for the Elekta-private elements (see module docstring)


@dataclass(frozen=True)
class Field:
    """One tagged item: where it is, how to decode it and how many a message holds."""

    name: str  # attribute of IcomRecord
    label: str  # pymedphys' name for it
    group: int
    element: int
    vr: str
    kind: str  # "P" (patient/plan) or "R" (machine reading)
    type: type  # str, float or int
    multiplicity: str  # "first": one value; "all": every item; "positions": follows a device-type item

    @property
    def tag(self) -> tuple[int, int]:
        return (self.group, self.element)

    @property
    def signature(self) -> bytes:
        """The bytes after the group's high byte, as pymedphys' mapping keys write them."""
        return struct.pack("<H", self.element) + self.vr.encode() + b"\x00" + self.kind.encode()

    def header(self, length: int) -> bytes:
        return ITEM_HEADER.pack(self.group, self.element, self.vr.encode(), b"\x00", self.kind.encode(), length)


# name, pymedphys label, group, element, VR, kind, type, multiplicity
FIELDS: tuple[Field, ...] = tuple(
    Field(*row)
    for row in (
        ("patient_id", "Patient ID", 0x0010, 0x0020, "LO", "P", str, "first"),
        ("patient_name", "Patient Name", 0x0010, 0x0010, "PN", "P", str, "first"),
        ("rx_site", "Rx Site", PRIVATE, 0x1001, "LO", "P", str, "first"),
        ("field_id", "Field ID", PRIVATE, 0x1003, "LO", "P", str, "first"),
        ("machine", "Machine ID", 0x300A, 0x00B2, "SH", "P", str, "first"),
        ("radiation_type", "Radiation Type", 0x300A, 0x00C6, "CS", "R", str, "first"),
        ("energy", "Energy", 0x300A, 0x0114, "SH", "R", str, "first"),
        ("wedge", "Wedge", 0x300A, 0x0118, "CS", "R", str, "first"),
        ("segment", "Segment", PRIVATE, 0x1007, "DS", "R", int, "first"),
        ("total_mu", "Total MU", PRIVATE, 0x1009, "DS", "R", float, "first"),
        ("mu", "Delivery MU", 0x3008, 0x0032, "DS", "R", float, "first"),
        ("backup_mu", "Backup Delivery MU", 0x3008, 0x0033, "DS", "R", float, "first"),
        ("beam_timer", "Beam Timer", 0x3008, 0x0038, "SH", "R", float, "first"),
        ("segment_mu", "Segment MU", 0x3008, 0x000B, "DS", "R", float, "first"),
        ("gantry", "Gantry", 0x300A, 0x011E, "DS", "R", float, "first"),
        ("collimator", "Collimator", 0x300A, 0x0120, "DS", "R", float, "first"),
        ("table_column", "Table Column", 0x300A, 0x0122, "DS", "R", int, "first"),
        ("table_isocentric", "Table Isocentric", 0x300A, 0x0125, "DS", "R", int, "first"),
        ("table_vertical", "Table Vertical", 0x300A, 0x0128, "DS", "R", float, "first"),
        ("table_longitudinal", "Table Longitudinal", 0x300A, 0x0129, "DS", "R", float, "first"),
        ("table_lateral", "Table Lateral", 0x300A, 0x012A, "DS", "R", float, "first"),
        ("beam_description", "Beam Description", 0x300A, 0x000C, "SH", "R", str, "first"),
        ("interlocks", "Interlocks", PRIVATE, 0x1016, "LO", "R", str, "all"),
        ("previous_interlocks", "Previous Interlocks", PRIVATE, 0x1018, "LO", "R", str, "all"),
        ("device_type", "RT Beam Limiting Device Type", 0x300A, 0x00B8, "DS", "R", str, "first"),
        ("position_cm", "Leaf/Jaw Position", 0x300A, 0x011C, "DS", "R", float, "positions"),
    )
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
BY_TAG: dict[tuple[int, int], Field] = {f.tag: f for f in FIELDS}
DEVICE_TYPE = BY_NAME["device_type"]
POSITION = BY_NAME["position_cm"]

# device-type value -> number of (300A,011C) position items after it, and whether a message needs it
DEVICES: dict[str, int] = {"MLCX": 160, "ASYMY": 2, "ASYMX": 2}
REQUIRED_DEVICES = ("MLCX", "ASYMY")
LEAF_PAIRS = DEVICES["MLCX"] // 2
