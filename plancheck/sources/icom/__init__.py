"""Elekta iCOM Vx: the stream format, the delivery source, the listener service and a linac simulator.

Modules: :mod:`fields` (the declarative item table), :mod:`reader`, :mod:`writer`,
:mod:`deliveries` (where a delivered beam ends), :mod:`source` (the ``icom``
source of the collected table), :mod:`journal`, :mod:`splitter` and
:mod:`listener` (the service), :mod:`simulator` (a loopback linac for tests and
demos) and :mod:`recording` (simulator through the real listener in one call).
"""

from plancheck.sources.icom.source import read

__all__ = ["read"]
