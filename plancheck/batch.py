"""The nightly batch: every due chart check of the worklist, run in worker processes (or on a Dask
cluster) and stored in the record.

Workers collect, check and write reports; the process that started the batch stores each run as it
arrives (``record.store.store_run``), so an interrupted batch keeps what it finished, and a batch run
again stores nothing new for an unchanged patient (same fingerprint). A worker reads MOSAIQ only
while holding the gate (``[batch] mosaiq_connections``, default 2), whatever the number of workers.
One patient's failure is that patient's outcome, never the batch's.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plancheck.batch_gate import ConnectionMeter, holding, local_gate
from plancheck.errors import PlancheckError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from plancheck.checks.results import CheckRun
    from plancheck.config import Config
    from plancheck.record.worklist import DueCheck

log = logging.getLogger(__name__)
CREATED_BY = "batch"
FINISHED = "batch.finish"  # the audit action a finished batch writes


@dataclass(frozen=True)
class Task:
    """One due check: the patient, the prescription (MOSAIQ Site_Name, the plan label) and the kind."""

    patient_id: str
    prescription: str
    kind: str
    reason: str = ""


@dataclass
class Outcome:
    """What became of a task: its run (until stored), or the one-line error that stopped it."""

    task: Task
    run: CheckRun | None = None
    error: str = ""
    seconds: float = 0.0
    reports: dict[str, str] = field(default_factory=dict)
    run_id: int | None = None
    new: bool = False
    passed: bool | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    seconds: float
    workers: int
    max_connections: int | None  # the most MOSAIQ connections open at once (None: not measured, e.g. on Dask)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def per_minute(self) -> float:
        return len(self.outcomes) * 60.0 / self.seconds if self.seconds > 0 else 0.0


def due_tasks(lines: Iterable[DueCheck]) -> list[Task]:
    """The worklist's due and overdue lines as tasks."""
    return [Task(line.patient_id, line.prescription, line.kind, line.reason) for line in lines if line.is_due]


# --- in a worker process ---------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _mosaiq_engine(config: Config) -> Engine | None:
    if not config.mosaiq_url:
        return None
    from plancheck.sources.mosaiq.connect import open_mosaiq

    return open_mosaiq(config.mosaiq_url, config.mosaiq_timeout_s).engine


def init_worker(gate: Any, meter: ConnectionMeter | None, config: Config, log_level: int = logging.ERROR) -> None:
    """Keep the gate and meter of this worker process; count its MOSAIQ connections. What a source
    warns of is in each run's warnings: logged here only at ``log_level`` (--verbose: INFO)."""
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    _WORKER.update(gate=gate, meter=meter)
    engine = _mosaiq_engine(config)
    if meter is not None and engine is not None:
        meter.watch(engine)


def _collect(task: Task, config: Config, gate: Any) -> Any:
    from plancheck.collector import collect

    with holding(gate, _mosaiq_engine(config)):
        return collect(task.patient_id, task.prescription or None, config)


def check_task(task: Task, config: Config, today: dt.datetime, out_dir: str | None, gate: Any = None) -> Outcome:
    """Collect (holding the MOSAIQ gate), check and write the reports of one task; never raises."""
    from plancheck.api import check_table
    from plancheck.cli.check import write_reports
    from plancheck.paths import path_in

    start = time.perf_counter()
    if not task.patient_id:
        return Outcome(task, error="MOSAIQ has no patient ID (Ident.IDA) for this prescription: set it in MOSAIQ")
    try:
        table = _collect(task, config, gate if gate is not None else _WORKER.get("gate"))
        figures = path_in(out_dir, task.patient_id, "figures") if out_dir else None
        run = check_table(table, patient_id=task.patient_id, kind=task.kind, config=config, today=today, figure_dir=figures)
        reports = {k: str(v) for k, v in write_reports(run, config, Path(out_dir)).items()} if out_dir else {}
    except PlancheckError as exc:
        return Outcome(task, error=exc.message, seconds=time.perf_counter() - start)
    except Exception as exc:  # one patient's failure never stops the others: it is named in the summary
        log.debug("batch task %s failed", task, exc_info=True)
        return Outcome(task, error=f"unexpected {exc.__class__.__name__}: {exc}", seconds=time.perf_counter() - start)
    return Outcome(task, run, seconds=time.perf_counter() - start, reports=reports, passed=run.passed, counts=run.counts())


# --- in the process that started the batch -------------------------------------------------------


def store_outcome(engine: Engine, outcome: Outcome, as_of: dt.datetime) -> Outcome:
    """Store the outcome's run in the record (nothing new for an unchanged patient) and let go of the run."""
    from plancheck.record.db import session
    from plancheck.record.store import store_run

    if outcome.run is None:
        return outcome
    report_dir = str(Path(next(iter(outcome.reports.values()))).parent) if outcome.reports else ""
    with session(engine) as s:
        stored, outcome.new = store_run(s, outcome.run, as_of=as_of, created_by=CREATED_BY, report_dir=report_dir)
        outcome.run_id = stored.id
    outcome.run = None
    return outcome


Done = Callable[[Outcome], None]


def _failed(task: Task, exc: BaseException) -> Outcome:
    return Outcome(task, error=f"worker failed: {exc.__class__.__name__}: {exc}")


def run_local(tasks: list[Task], config: Config, today: dt.datetime, out_dir: str | None, done: Done, *, workers: int,
              log_level: int = logging.ERROR) -> int:
    """Run ``tasks`` in a pool of ``workers`` processes, at most ``[batch] mosaiq_connections`` reading MOSAIQ at once;
    ``done`` gets each outcome as it arrives. Returns the most MOSAIQ connections seen open at once."""
    ctx = multiprocessing.get_context("spawn")  # fresh processes: no connection or lock inherited from this one
    gate, meter = local_gate(config.batch.mosaiq_connections, ctx), ConnectionMeter.new(ctx)
    with ProcessPoolExecutor(max(1, min(workers, len(tasks))), mp_context=ctx, initializer=init_worker,
                             initargs=(gate, meter, config, log_level)) as pool:
        futures: dict[Future[Outcome], Task] = {pool.submit(check_task, t, config, today, out_dir): t for t in tasks}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # a worker that died (out of memory, killed): its task fails, the others go on
                outcome = _failed(futures[future], exc)
            done(outcome)
    return meter.max_seen


def run_dask(tasks: list[Task], config: Config, today: dt.datetime, out_dir: str | None, done: Done, *, address: str) -> None:
    """Hand ``tasks`` to the Dask scheduler at ``address``; a cluster-wide ``distributed.Semaphore`` is the MOSAIQ gate."""
    try:
        from distributed import Client, Semaphore, as_completed as completed
    except ImportError:
        raise PlancheckError("--scheduler needs Dask distributed", fix="pip install 'plancheck[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise PlancheckError(f"cannot reach the Dask scheduler at {address} ({exc})",
                             fix="check --scheduler (tcp://host:8786) and that the scheduler runs") from None
    with client:
        gate = Semaphore(max_leases=config.batch.mosaiq_connections, name="plancheck-mosaiq")
        futures = {client.submit(check_task, t, config, today, out_dir, gate, pure=False): t for t in tasks}
        for future in completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # a worker lost by the cluster: its task fails, the others go on
                outcome = _failed(futures[future], exc)
            done(outcome)


def run_batch(tasks: list[Task], config: Config, engine: Engine, *, today: dt.datetime, out_dir: str | None, workers: int | None = None,
              scheduler: str | None = None, progress: Done | None = None, log_level: int = logging.ERROR) -> BatchResult:
    """Run and store every task; ``progress`` is called after each is stored."""
    as_of = today.astimezone()
    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        outcomes.append(store_outcome(engine, outcome, as_of))
        if progress is not None:
            progress(outcome)

    _release_mosaiq(config)  # the worklist's connection: closed before the workers open theirs
    start = time.perf_counter()
    count = workers or config.batch.workers
    most: int | None = None
    if not tasks:
        pass
    elif scheduler:
        run_dask(tasks, config, today, out_dir, done, address=scheduler)
    else:
        most = run_local(tasks, config, today, out_dir, done, workers=count, log_level=log_level)
    order = {t: i for i, t in enumerate(tasks)}
    result = BatchResult(sorted(outcomes, key=lambda o: order[o.task]), time.perf_counter() - start, count, most)
    _log_finish(engine, result, as_of)
    return result


def _log_finish(engine: Engine, result: BatchResult, as_of: dt.datetime) -> None:
    """The batch's summary in the audit log: what the worklist page and `plancheck worklist` show as its status."""
    from plancheck.record.audit import audit
    from plancheck.record.db import session

    stored = [o for o in result.outcomes if not o.error]
    with session(engine) as s:
        audit(s, CREATED_BY, FINISHED, f"{len(result.outcomes)} due checks", as_of=as_of.date().isoformat(), due=len(result.outcomes),
              new=sum(o.new for o in stored), unchanged=sum(not o.new for o in stored), not_checked=len(result.failed),
              seconds=round(result.seconds, 1), workers=result.workers)


def last_batch(engine: Engine) -> BatchStatus | None:
    """When the last batch finished and what it did (from the audit log), or None when none ever ran."""
    from sqlalchemy import select

    from plancheck.record.db import session
    from plancheck.record.models import AuditEntry

    with session(engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == FINISHED).order_by(AuditEntry.id.desc()).limit(1)).first()
        if entry is None:
            return None
        d = entry.detail
        return BatchStatus(entry.at, int(d.get("due", 0)), int(d.get("new", 0)), int(d.get("unchanged", 0)), int(d.get("not_checked", 0)))


@dataclass(frozen=True)
class BatchStatus:
    finished: dt.datetime
    due: int
    new: int
    unchanged: int
    not_checked: int

    def line(self) -> str:
        when = self.finished.astimezone().strftime("%Y-%m-%d %H:%M")
        failed = f", {self.not_checked} could not be checked" if self.not_checked else ""
        return f"last batch finished {when}: {self.due} due checks, {self.new} new runs stored, {self.unchanged} unchanged{failed}"


def _release_mosaiq(config: Config) -> None:
    engine = _mosaiq_engine(config)
    if engine is not None:
        engine.dispose()
