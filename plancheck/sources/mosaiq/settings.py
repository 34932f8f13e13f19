"""The clinic's own MOSAIQ conventions, from ``[mosaiq]`` in plancheck.toml.

Which Schedule activity codes are treatment sessions and which QCL tasks are chart checks
are set up by each clinic; how a machine stores its jaws is found from the data but can
be set per machine. Patterns are shell-style (``TX*``) and ignore case.

```toml
[mosaiq]
treatment_activities = ["TX*", "IMRT"]
chart_check_tasks = ["*chart check*", "*physics check*"]
jaw_convention = { "VARIAN 2100" = "distance", "AGILITY1" = "iec" }
```
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from plancheck.configvalues import Where
from plancheck.errors import ConfigError

KEYS = ("url", "timeout_s", "treatment_activities", "chart_check_tasks", "jaw_convention")
# iec: signed IEC 61217 positions (Elekta); distance: Y1 and X1 (and leaf bank A) as positive distances (Varian, Siemens)
CONVENTIONS = {"iec": "iec", "elekta": "iec", "distance": "distance", "varian": "distance", "siemens": "distance"}


@dataclass(frozen=True)
class MosaiqSettings:
    treatment_activities: tuple[str, ...] = ("TX*",)
    chart_check_tasks: tuple[str, ...] = ("*chart check*", "*physics check*")
    jaw_convention: dict[str, str] = field(default_factory=dict)  # machine name (upper case) -> iec | distance

    def is_treatment(self, activity: str) -> bool:
        return _matches(activity, self.treatment_activities)

    def is_chart_check(self, description: str) -> bool:
        return _matches(description, self.chart_check_tasks)


def _matches(value: str, patterns: tuple[str, ...]) -> bool:
    text = value.strip().lower()
    return any(fnmatch.fnmatchcase(text, p.lower()) for p in patterns)


def _patterns(raw: Any, key: str, at: Where) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise ConfigError(f"[mosaiq] {key} must be a list of quoted patterns, e.g. [\"TX*\"]", where=at.of(key))
    return tuple(p.strip() for p in raw)


def mosaiq_settings(section: dict[str, Any], at: Where) -> MosaiqSettings:
    """Validate ``[mosaiq]``; ConfigError names the key that is wrong and the line it is on."""
    unknown = sorted(set(section) - set(KEYS) - {"password"})
    if unknown:
        raise ConfigError(f"[mosaiq] has unknown key(s) {', '.join(unknown)}", where=at.of(unknown[0]), fix=f"use {', '.join(KEYS)}")
    defaults = MosaiqSettings()
    conventions = section.get("jaw_convention", {})
    if not isinstance(conventions, dict):
        raise ConfigError('[mosaiq] jaw_convention must be a table, e.g. { "VARIAN 2100" = "distance" }', where=at.of("jaw_convention"))
    jaws: dict[str, str] = {}
    for machine, value in conventions.items():
        if str(value).lower() not in CONVENTIONS:
            raise ConfigError(f"[mosaiq] jaw_convention of {machine!r} is {value!r}", where=at.of("jaw_convention"), fix="use iec (Elekta) or distance (Varian, Siemens)")
        jaws[str(machine).strip().upper()] = CONVENTIONS[str(value).lower()]
    return MosaiqSettings(
        treatment_activities=_patterns(section["treatment_activities"], "treatment_activities", at)
        if "treatment_activities" in section else defaults.treatment_activities,
        chart_check_tasks=_patterns(section["chart_check_tasks"], "chart_check_tasks", at) if "chart_check_tasks" in section else defaults.chart_check_tasks,
        jaw_convention=jaws,
    )
