"""Background jobs of the web app (run the due checks now, a detection matrix): one thread each, with progress.

A job's steps never stop each other: a step that raises a PlancheckError is recorded as an error line
and the job goes on. The job's state is read by the pages (``/api/jobs/{id}``) while it runs.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from plancheck.errors import PlancheckError


@dataclass
class Job:
    id: str
    title: str
    started_by: str
    total: int = 0
    done: int = 0
    current: str = ""
    errors: list[str] = field(default_factory=list)
    finished: bool = False
    result: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "started_by": self.started_by, "total": self.total, "done": self.done,
                "current": self.current, "errors": list(self.errors), "finished": self.finished,
                "result": {k: v.to_dict() if hasattr(v, "to_dict") else v for k, v in self.result.items()}}


Step = tuple[str, Callable[[], Any]]  # (label shown while it runs, the work)


class Jobs:
    """The jobs of one app, kept in memory (a restart forgets them; what they stored stays in the record)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def latest(self, title: str) -> Job | None:
        with self._lock:
            return next((j for j in reversed(list(self._jobs.values())) if j.title == title), None)

    def start(self, title: str, started_by: str, steps: Callable[[], Iterable[Step]], done: Callable[[Job, list[Any]], None] | None = None) -> Job:
        """Run ``steps()`` in a thread; ``done(job, outputs)`` runs after the last step."""
        job = Job(uuid.uuid4().hex[:12], title, started_by)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, steps, done), name=f"plancheck-job-{job.id}", daemon=True).start()
        return job

    @staticmethod
    def _run(job: Job, steps: Callable[[], Iterable[Step]], done: Callable[[Job, list[Any]], None] | None) -> None:
        outputs: list[Any] = []
        try:
            planned = list(steps())
            job.total = len(planned)
            for label, work in planned:
                job.current = label
                try:
                    outputs.append(work())
                except PlancheckError as exc:
                    job.errors.append(f"{label}: {exc.message}")
                job.done += 1
            if done is not None:
                done(job, outputs)
        except PlancheckError as exc:
            job.errors.append(exc.message)
        finally:
            job.current = ""
            job.finished = True
