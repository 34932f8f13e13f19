"""The report files of a run (HTML, chart-check PDF, eSCAN PDF, comparison pages) written by a second process.

``plancheck check`` starts the worker before it reads any source: the worker imports the writers
(jinja2, fpdf and fontTools; with ``--pages``, matplotlib for the comparison pages: half a second
more) on the machine's other core, then waits. Once the run is saved as JSON it gets one request,
a line of JSON naming the saved run and where each file goes, draws the pages the checks kept,
writes the files and answers with one line: their paths, or the error a person is shown. Meanwhile
the first process shows the run and stores it in the record. The saved JSON is the hand-over, as
for ``plancheck report write``: the worker renders the run, it never re-runs a check. A worker
that cannot start or does not answer changes nothing but the time: the files are then written in
the first process.

    python -m plancheck.report.worker [--pages]   # reads one request on stdin, answers on stdout
"""

from __future__ import annotations

import gc
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from plancheck.errors import PlancheckError
from plancheck.report.view import ReportError

logger = logging.getLogger(__name__)
WAIT_S = 120.0  # a PDF of hundreds of pages takes seconds; a worker that takes longer is stopped


class ReportWorker:
    """A started worker process; a context manager that always ends it. ``pages``: the run will have
    comparison pages to draw (a weekly or final check), so the worker loads matplotlib while it waits."""

    def __init__(self, *, pages: bool = False) -> None:
        self.process: subprocess.Popen[str] | None = None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "plancheck.report.worker", *(["--pages"] if pages else [])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
            )
        except OSError as exc:  # no interpreter to start (a frozen build): the files are written in this process
            logger.debug("report worker not started: %s", exc)

    def send(self, saved_run: Path, html: Path, pdf: Path, escan: tuple[Path, str] | None) -> None:
        """Ask for the HTML, the PDF (and the eSCAN PDF: folder, file name template) of the run saved at ``saved_run``."""
        if self.process is None or self.process.stdin is None:
            return
        request = {"run": str(saved_run), "html": str(html), "pdf": str(pdf), "escan": [str(escan[0]), escan[1]] if escan else None}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError as exc:  # the worker ended early
            logger.debug("report worker took no request (%s)", exc)
            self._stop()

    def answer(self) -> dict[str, Path] | None:
        """The paths the worker wrote; None when it could not (the caller writes the files itself);
        a ReportError as the worker met it (a folder it cannot write to, a saved run it cannot read)."""
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            out, _ = process.communicate(timeout=WAIT_S)
            reply = json.loads(out.splitlines()[-1])
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
            process.kill()
            process.wait()
            logger.debug("report worker gave no answer (%s): writing the files here", exc)
            return None
        return _read_reply(reply)

    def _stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()

    def close(self) -> None:
        """End a worker that got no request (the run stopped before its reports): it has nothing to write."""
        self._stop()

    def __enter__(self) -> ReportWorker:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def _read_reply(reply: dict[str, Any]) -> dict[str, Path]:
    for warning in reply.get("warnings", []):
        logger.warning("%s", warning)
    if "error" in reply:
        raise ReportError(reply["error"]["what"], where=reply["error"]["where"], fix=reply["error"]["fix"])
    return {name: Path(path) for name, path in reply["paths"].items()}


class _Warnings(logging.Handler):
    """The worker's warnings, sent back in its answer for the first process to log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def serve(line: str) -> dict[str, Any]:
    """Answer one request: write the files of the saved run it names."""
    from plancheck.report import load_run, write_files

    request = json.loads(line)
    try:
        escan = (Path(request["escan"][0]), request["escan"][1]) if request["escan"] else None
        # the pages on every core: the first process has only the terminal report and the record left to do
        paths = write_files(load_run(request["run"]), Path(request["html"]), Path(request["pdf"]), escan, processes=os.cpu_count() or 1)
    except PlancheckError as exc:
        return {"error": {"what": exc.what, "where": exc.where, "fix": exc.fix}}
    return {"paths": {name: str(path) for name, path in paths.items()}}


def main() -> None:
    """The worker process: load the writers, then answer the one request (none: end quietly)."""
    # the point of the worker: the writers load before the request comes
    import plancheck.report.escan
    import plancheck.report.html
    import plancheck.report.pdf

    if "--pages" in sys.argv[1:]:
        import plancheck.delivery.figures  # noqa: F401  matplotlib, for the comparison pages
    gc.freeze()  # what the imports made is never walked again by the collector while pages are drawn (nor in forked copies)
    warnings = _Warnings()
    logging.getLogger("plancheck").addHandler(warnings)
    line = sys.stdin.readline()
    if line.strip():
        answer = serve(line)
        answer["warnings"] = warnings.messages
        sys.stdout.write(json.dumps(answer) + "\n")
    gc.freeze()  # as plancheck.cli.main does at the end: the first process waits for this one to end, so its shutdown is kept short


if __name__ == "__main__":
    main()
