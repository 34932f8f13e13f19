"""The chart-check PDF and the eSCAN PDF written by a second process, so the PDF library loads while sources are read.

``plancheck check`` starts the worker before it reads any source: the worker imports the PDF
writers (fpdf and fontTools, a third of a second) on the machine's other core, then waits.
Once the run is saved as JSON it gets one request, a line of JSON naming the saved run and
where the PDFs go, writes them and answers with one line: their paths, or the error a person
is shown. The saved JSON is the hand-over, as for ``plancheck report write``: the worker
renders the run, it never re-runs a check. A worker that cannot start or does not answer
changes nothing but the time: the PDFs are then written in the first process.

    python -m plancheck.report.worker      # reads one request on stdin, answers on stdout
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from plancheck.errors import PlancheckError
from plancheck.report.view import ReportError

logger = logging.getLogger(__name__)
WAIT_S = 120.0  # a PDF of hundreds of pages takes seconds; a worker that takes longer is stopped


class PdfWorker:
    """A started worker process; a context manager that always ends it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "plancheck.report.worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
            )
        except OSError as exc:  # no interpreter to start (a frozen build): the PDFs are written in this process
            logger.debug("PDF worker not started: %s", exc)

    def send(self, saved_run: Path, pdf: Path, escan: tuple[Path, str] | None) -> None:
        """Ask for the PDF (and the eSCAN PDF: folder, file name template) of the run saved at ``saved_run``."""
        if self.process is None or self.process.stdin is None:
            return
        request = {"run": str(saved_run), "pdf": str(pdf), "escan": [str(escan[0]), escan[1]] if escan else None}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError as exc:  # the worker ended early
            logger.debug("PDF worker took no request (%s)", exc)
            self._stop()

    def answer(self) -> dict[str, Path] | None:
        """The paths the worker wrote; None when it could not (the caller writes the PDFs itself);
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
            logger.debug("PDF worker gave no answer (%s): writing the PDFs here", exc)
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

    def __enter__(self) -> PdfWorker:
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
    """Answer one request: write the PDFs of the saved run it names."""
    from plancheck.report.escan import write_escan_pdf
    from plancheck.report.json import load_run
    from plancheck.report.pdf import write_pdf

    request = json.loads(line)
    try:
        run = load_run(request["run"])
        paths = {"pdf": str(write_pdf(run, request["pdf"]))}
        if request["escan"]:
            escan = write_escan_pdf(run, Path(request["escan"][0]), request["escan"][1])
            if escan is not None:
                paths["escan"] = str(escan)
    except PlancheckError as exc:
        return {"error": {"what": exc.what, "where": exc.where, "fix": exc.fix}}
    return {"paths": paths}


def main() -> None:
    """The worker process: load the writers, then answer the one request (none: end quietly)."""
    import plancheck.report.escan
    import plancheck.report.pdf  # noqa: F401  the point of the worker: fpdf loads before the request comes

    warnings = _Warnings()
    logging.getLogger("plancheck").addHandler(warnings)
    line = sys.stdin.readline()
    if line.strip():
        answer = serve(line)
        answer["warnings"] = warnings.messages
        sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
