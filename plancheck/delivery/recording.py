"""One recorded delivery of one beam: the one type every recorder (iCOM today) produces and every
consumer (the collected table, matching to plan beams, gamma of deliveries, simulate) reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from plancheck.delivery.model import Delivery


@dataclass(frozen=True)
class Recording:
    """One recorded delivery of one beam; ``key`` names the archive (and run) it came from.

    ``delivered_mu`` is the linac's own MU counter at the last message (the beam's total delivered,
    even when the run began after a reconnection); the Delivery's MU is the sum of the rises seen in
    this run. Fields a recorder does not know stay at their defaults.
    """

    key: str
    patient_id: str
    field_id: str
    machine: str
    start: dt.datetime
    end: dt.datetime
    delivery: Delivery
    path: Path | None = None
    offset: int = 0
    patient_name: str = ""
    energy: str = ""
    radiation_type: str = ""
    delivered_mu: float = 0.0
    total_mu: float | None = None
    beam_on_time_s: float = 0.0

    @property
    def partial(self) -> bool | None:
        """Delivered less than the beam's total MU (None where the recorder gives no total)."""
        if self.total_mu is None:
            return None
        return self.delivered_mu < self.total_mu - 0.05
