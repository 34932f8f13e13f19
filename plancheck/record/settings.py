"""``[worklist]`` and ``[batch]`` in plancheck.toml: when a weekly check falls due, which courses the
worklist looks at, and how hard the nightly batch may lean on MOSAIQ.

```toml
[worklist]
weekly_fractions = 5    # a weekly check is due after 5 fractions ...
weekly_days = 7         # ... or 7 days since the last signed weekly check, whichever comes first
lookback_days = 30      # a course whose last fraction is older than this is no longer listed
lookahead_days = 14     # a course starting within this many days is listed (initial check due)

[batch]
mosaiq_connections = 2  # never more MOSAIQ connections open at once, whatever the workers
workers = 2             # processes checking patients (default: the machine's cores)
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from plancheck.configvalues import Where, number
from plancheck.errors import ConfigError


@dataclass(frozen=True)
class WorklistSettings:
    weekly_fractions: int = 5
    weekly_days: int = 7
    lookback_days: int = 30
    lookahead_days: int = 14


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class BatchSettings:
    mosaiq_connections: int = 2
    workers: int = field(default_factory=_default_workers)


def _whole(section: dict[str, Any], key: str, default: int, at: Where, label: str, high: int) -> int:
    return int(number(section, key, default, at, label, low=1, high=high, integer=True))


def _known(section: dict[str, Any], name: str, keys: tuple[str, ...], at: Where) -> None:
    unknown = sorted(set(section) - set(keys))
    if unknown:
        raise ConfigError(f"[{name}] has unknown key(s) {', '.join(unknown)}", where=at.of(unknown[0]), fix=f"use {', '.join(keys)}")


def worklist_settings(section: dict[str, Any], at: Where) -> WorklistSettings:
    """Validate ``[worklist]``; a ConfigError names the key and its line."""
    d = WorklistSettings()
    _known(section, "worklist", ("weekly_fractions", "weekly_days", "lookback_days", "lookahead_days"), at)
    return WorklistSettings(
        weekly_fractions=_whole(section, "weekly_fractions", d.weekly_fractions, at, "[worklist] ", 100),
        weekly_days=_whole(section, "weekly_days", d.weekly_days, at, "[worklist] ", 366),
        lookback_days=_whole(section, "lookback_days", d.lookback_days, at, "[worklist] ", 3660),
        lookahead_days=_whole(section, "lookahead_days", d.lookahead_days, at, "[worklist] ", 366),
    )


def batch_settings(section: dict[str, Any], at: Where) -> BatchSettings:
    """Validate ``[batch]``; a ConfigError names the key and its line."""
    _known(section, "batch", ("mosaiq_connections", "workers"), at)
    return BatchSettings(
        mosaiq_connections=_whole(section, "mosaiq_connections", 2, at, "[batch] ", 64),
        workers=_whole(section, "workers", _default_workers(), at, "[batch] ", 256),
    )
