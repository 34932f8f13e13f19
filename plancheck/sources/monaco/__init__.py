"""Monaco source: tel.1 files in a Monaco FocalData tree (reader, writer, finder)."""

from plancheck.sources.monaco.reader import read
from plancheck.sources.monaco.telfile import TelBeam, TelFile, read_tel
from plancheck.sources.monaco.writer import write_tel

__all__ = ["read", "read_tel", "write_tel", "TelFile", "TelBeam"]
