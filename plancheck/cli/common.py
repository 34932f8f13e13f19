"""What the sub-commands share: loading config, and turning PlancheckErrors into one line and exit 2."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import logging
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from plancheck.errors import PlancheckError

if TYPE_CHECKING:
    from plancheck.config import Config  # the config (and the vocabulary it checks against) loads when a command runs

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True)

ConfigOption = typer.Option(None, "--config", "-c", help="plancheck.toml (default: $PLANCHECK_CONFIG, else ./plancheck.toml).", exists=False, dir_okay=False)


@contextmanager
def loading() -> Iterator[None]:
    """While a command loads its libraries and reads its sources: the cyclic garbage collector paused, then what
    was made frozen (never walked again). The imports make some 150,000 long-lived objects, and walking them
    again and again cost 0.2 s of `plancheck check`; about 1,000 unreachable objects are left to the end of the
    process (measured in benchmarks/bench_check.py)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def reports_errors(func: F) -> F:
    """Print a PlancheckError as one clear line and exit with its code (2): never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PlancheckError as exc:
            err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


PIPE_WIDTH = 110  # reports are laid out for 100+ columns; a pipe or log file has no width of its own


def console() -> Console:
    """Standard output: the terminal's width, or a fixed report width when piped to a file."""
    c = Console()
    return c if c.is_terminal else Console(width=PIPE_WIDTH)


def config_path(path: Path | None) -> Path | None:
    """``--config``, else the file found from $PLANCHECK_CONFIG or the working folder (named in one line on stderr)."""
    from plancheck.config import find_config

    if path is not None:
        return path
    found = find_config()
    if found is None:
        return None
    err.print(f"config: {escape(str(found[0]))} (from {found[1]})", highlight=False, soft_wrap=True)
    return found[0]


def config_from(path: Path | None, mosaiq_url: str | None = None) -> Config:
    from dataclasses import replace

    from plancheck.config import load_config

    config = load_config(config_path(path))
    return replace(config, mosaiq_url=mosaiq_url) if mosaiq_url else config


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def parse_date(value: str | None, option: str) -> dt.date | None:
    """A YYYY-MM-DD option's date (None when not given); anything else is a usage error naming ``option``."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-10-01", param_hint=option) from None
