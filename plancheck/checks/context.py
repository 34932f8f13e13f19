"""What every check receives: the table, the resolved rule set, the config and 'today'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plancheck.checks.scope import TableScope
from plancheck.config import Config
from plancheck.rules.model import RuleSet
from plancheck.table import ParamTable


@dataclass
class CheckContext:
    table: ParamTable
    rule_set: RuleSet
    config: Config
    today: dt.datetime
    patient_id: str = ""
    figure_dir: Path | None = None
    beam_filter: Callable[[str], bool] | None = None  # per-beam checks see only these beams (a composite's part)

    def scope(self, beam: str = "", item: str = "", item_scope: str = "") -> TableScope:
        return TableScope(self.table, self.rule_set.vars, self.today, beam=beam, item=item, item_scope=item_scope)
