"""The cap on concurrent MOSAIQ connections of a batch, and a meter that proves it was kept.

A batch worker reads MOSAIQ only while it holds the *gate* (a semaphore shared by every worker
process, or a Dask ``distributed.Semaphore`` across a cluster), and closes its pooled MOSAIQ
connections before it lets go. The *meter* counts DBAPI connections as the pool opens and closes
them (SQLAlchemy pool events), across processes, and keeps the largest number open at once.
"""

from __future__ import annotations

import multiprocessing
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


_WATCHED: weakref.WeakSet[Engine] = weakref.WeakSet()


@dataclass
class ConnectionMeter:
    """Connections open now and the most ever open at once, shared by processes (multiprocessing values)."""

    open_now: Any
    most: Any

    @classmethod
    def new(cls, context: Any = None) -> ConnectionMeter:
        ctx = context or multiprocessing.get_context()
        lock = ctx.RLock()
        return cls(ctx.Value("i", 0, lock=lock), ctx.Value("i", 0, lock=lock))

    def opened(self, *_: Any) -> None:
        with self.open_now.get_lock():
            self.open_now.value += 1
            self.most.value = max(self.most.value, self.open_now.value)

    def closed(self, *_: Any) -> None:
        with self.open_now.get_lock():
            self.open_now.value -= 1

    def watch(self, engine: Engine) -> None:
        """Count the connections ``engine``'s pool opens and closes (once per engine)."""
        if engine not in _WATCHED:
            _WATCHED.add(engine)
            event.listen(engine, "connect", self.opened)
            event.listen(engine, "close", self.closed)
            event.listen(engine, "close_detached", self.closed)

    @property
    def max_seen(self) -> int:
        return int(self.most.value)


def local_gate(connections: int, context: Any = None) -> Any:
    """A semaphore that ``connections`` worker processes may hold at once (given to them as they start)."""
    return (context or multiprocessing.get_context()).BoundedSemaphore(connections)


@contextmanager
def holding(gate: AbstractContextManager[Any] | None, mosaiq: Engine | None) -> Iterator[None]:
    """Hold ``gate`` while reading MOSAIQ; on leaving, close the pooled MOSAIQ connections first."""
    with gate if gate is not None else nullcontext():
        try:
            yield
        finally:
            if mosaiq is not None:
                mosaiq.dispose()
