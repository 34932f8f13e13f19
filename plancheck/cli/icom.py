"""``plancheck icom``: the iCOM listener service, re-archiving raw journals, and a loopback linac simulator."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Any
from collections.abc import Callable

import typer

from plancheck.errors import PlancheckError

app = typer.Typer(
    help=(
        "Elekta iCOM: record what the linac delivers.\n\n"
        "`listen` is the long-running service (one per linac) that journals every byte and archives each "
        "delivery as DIR/patients/<ID>_<NAME>/<YYYYMMDD_HHMMSS>.xz; `archive` re-splits raw journal files; "
        "`simulate` is a linac on loopback for trying it out.\n\n"
        "Example: plancheck icom listen --machine LINAC1 --ip 192.168.100.200 --dir /srv/icom"
    ),
    no_args_is_help=True,
)


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc.message if isinstance(exc, PlancheckError) else exc}", err=True)
    raise typer.Exit(2)


def _on_signals(handler: Callable[..., Any]) -> None:
    for name in ("SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)


@app.command()
def listen(
    machine: str = typer.Option(..., "--machine", help="Linac name (journal folder and log file are named after it)."),
    ip: str = typer.Option(..., "--ip", help="The linac's iCOM address."),
    directory: Path = typer.Option(..., "--dir", help="Folder for journal/, patients/, unknown_error_in_record/ and logs/."),
    port: int = typer.Option(1706, "--port", help="iCOM port."),
    timeout_s: float = typer.Option(30.0, "--timeout", help="Seconds without a byte before the link counts as dead and is re-opened."),
    backoff_s: float = typer.Option(1.0, "--min-backoff", help="First wait before reconnecting; doubles on each failure."),
    backoff_max_s: float = typer.Option(60.0, "--max-backoff", help="Longest wait between reconnection attempts."),
    gap_s: float = typer.Option(120.0, "--gap", help="Seconds of silence that end a delivery."),
    keep_journal_days: float = typer.Option(30.0, "--keep-journal-days", help="Raw journal segments already archived are deleted after this many days."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every delivery step (DEBUG)."),
) -> None:
    """Hold the iCOM connection to one linac and archive every delivery; stop with Ctrl+C or SIGTERM.

    Every received byte is fsync'd to DIR/journal/MACHINE/ before it is parsed; after a crash
    the listener replays what was not yet archived. On stop it closes the link cleanly (FIN),
    so the linac can start its next beam.

    Example: plancheck icom listen --machine LINAC1 --ip 192.168.100.200 --dir /srv/icom
    """
    from plancheck.icom_service.listener import Listener, ListenerOptions, setup_logging

    log_file = setup_logging(directory, machine, logging.DEBUG if verbose else logging.INFO)
    options = ListenerOptions(machine=machine, host=ip, port=port, directory=directory, timeout_s=timeout_s, backoff_initial_s=backoff_s, backoff_max_s=backoff_max_s,
            gap_s=gap_s, keep_journal_days=keep_journal_days)
    try:
        listener = Listener(options)
    except (OSError, RuntimeError) as exc:
        _fail(exc)
    _on_signals(lambda signum, frame: listener.stop())
    logging.getLogger("plancheck").info("iCOM listener for %s at %s:%d, archive %s, log %s", machine, ip, port, directory, log_file)
    try:
        listener.run()
    except (RuntimeError, OSError) as exc:
        _fail(exc)


@app.command()
def archive(
    raw_files: list[Path] = typer.Argument(..., help="Raw journal files (or raw / .xz iCOM streams), in the order they were recorded.", exists=True, dir_okay=False),
    directory: Path = typer.Option(..., "--dir", help="Where patients/ and unknown_error_in_record/ are written."),
    gap_s: float = typer.Option(120.0, "--gap", help="Seconds of silence that end a delivery."),
) -> None:
    """Split raw iCOM streams into per-delivery archives, as the listener does (archives already there are kept).

    Example: plancheck icom archive /srv/icom/journal/LINAC1/000012-*.raw --dir /srv/icom
    """
    from plancheck.icom_service.listener import archive_raw

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        results = archive_raw(list(raw_files), directory, gap_s)
    except PlancheckError as exc:
        _fail(exc)
    for result in results:
        typer.echo(f"{result.status:10} {result.path or ''} {result.reason}".rstrip())
    typer.echo(f"{len(results)} deliveries: " + ", ".join(f"{n} {s}" for s, n in sorted(_count(results).items())))


def _count(results: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


@app.command()
def simulate(
    delivery: list[Path] = typer.Option(..., "--delivery", help="RT Plan (.dcm) or iCOM file (raw or .xz); repeat for several.", exists=True, dir_okay=False),
    port: int = typer.Option(1706, "--port", help="Port to serve on (0: any free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address only."),
    rate_hz: float = typer.Option(4.0, "--rate", help="Messages per second (a linac sends about 4; use hundreds for quick tests)."),
    record: Path | None = typer.Option(None, "--record", help="JSON-lines file: how each client connection ended (client_fin / client_rst / ...)."),
    machine: str | None = typer.Option(None, "--machine", help="Machine ID in the messages (default: the plan's)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the position noise."),
    noise: bool = typer.Option(True, "--noise/--no-noise", help="Add seeded reading noise to positions."),
    drop_after: int | None = typer.Option(None, "--drop-after", help="Drop the link after this many messages (once)."),
    drop_mode: str = typer.Option("fin", "--drop-mode", help="How to drop it: fin (close) or rst (abort)."),
    exit_when_done: bool = typer.Option(False, "--exit-when-done", help="Exit once everything is sent and the client has gone (default: keep sending idle messages)."),
) -> None:
    """Serve a linac's iCOM stream on loopback, from RT Plans or iCOM files, for trying the listener.

    Example: plancheck icom simulate --port 1706 --delivery plan.dcm --rate 50 --record links.jsonl
    then, in another shell: plancheck icom listen --machine SIM --ip 127.0.0.1 --dir icom-demo
    """
    from plancheck.fabricate.linac import Simulator, programme_from_files

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if drop_mode not in ("fin", "rst"):
        _fail(ValueError("--drop-mode is fin or rst"))
    try:
        programme = programme_from_files(delivery, machine=machine, seed=seed, noise=noise)
        drops = {drop_after - 1: drop_mode} if drop_after else None
        simulator = Simulator(programme, host=host, port=port, rate_hz=rate_hz, record_path=record, drop_after=drops, keep_alive=not exit_when_done)
    except (PlancheckError, ValueError, OSError) as exc:
        _fail(exc)
    simulator.start()
    typer.echo(f"iCOM simulator on {simulator.address}:{simulator.port}: {len(programme)} messages at {rate_hz:g}/s", err=True)
    stopping = []
    _on_signals(lambda signum, frame: stopping.append(signum))
    while not stopping:
        if exit_when_done and simulator.wait_sent(timeout_s=0.2) and simulator.connections and simulator.wait_connections_ended(len(simulator.connections), 0.2):
            break
        if not exit_when_done:
            simulator.wait_sent(timeout_s=0.2)
    simulator.stop()
    for c in simulator.connections:
        typer.echo(f"connection {c.index} from {c.peer}: {c.messages_sent} messages, ended by {c.ended_by}", err=True)
    sys.stdout.flush()
