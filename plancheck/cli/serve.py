"""`plancheck serve`: the review web app over the results database (needs the `web` extra)."""

from __future__ import annotations

from pathlib import Path

import typer

from plancheck.cli.common import ConfigOption, config_from, err, reports_errors


@reports_errors
def serve(
    config: Path = ConfigOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; the default answers this machine only (put HTTPS in front for others)."),
    port: int = typer.Option(8740, "--port", help="Port to listen on."),
) -> None:
    """Serve the review app: worklist, check page, dispositions and sign-off, behind log-in.

    Example: plancheck serve --config plancheck-demo/plancheck.toml, then open http://127.0.0.1:8740
    """
    try:
        from plancheck.web.serve import serve as run
    except ImportError as exc:
        err.print(f"[bold red]error:[/] the web app needs the web extra ({exc.name} is missing); pip install 'plancheck[web]'", highlight=False)
        raise typer.Exit(2) from None
    cfg = config_from(config)
    err.print(f"plancheck serve: http://{host}:{port} (Ctrl+C stops)", highlight=False)
    run(cfg, host=host, port=port)
