"""Failed log-ins slow a password guesser down: after ``limit`` failures for one user name, or from one
address, within ``window_s``, further log-ins for it are refused until the oldest failure ages out.

Kept in the server's memory (one uvicorn process, as `plancheck serve` runs): a restart forgets it,
and the directory's own lock-out policy (LDAP / Active Directory) still applies behind it.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from threading import Lock


class LoginThrottle:
    def __init__(self, limit: int = 5, window_s: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def wait_s(self, username: str, address: str) -> float:
        """Seconds until a log-in for ``username`` from ``address`` is taken again (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [self.window_s - (now - t[0]) for key in _keys(username, address) if len(t := self._recent(key, now)) >= self.limit]
        return max(waits, default=0.0)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in _keys(username, address):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(_keys(username, "")[0], None)


def _keys(username: str, address: str) -> tuple[str, ...]:
    """The user name's key, and the address's unless it is unknown (e.g. the trusted reverse proxy, which speaks for everyone)."""
    user = f"user:{username.strip().casefold()}"
    return (user, f"addr:{address}") if address else (user,)
