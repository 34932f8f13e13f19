"""Running the app with uvicorn: loopback by default, uvicorn's access log off (it would log URLs, and URLs
hold patient IDs); plancheck.web.access logs method, route template, status and time instead."""

from __future__ import annotations

import logging
from typing import Any

from plancheck.config import Config

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "plancheck.web.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """What every way of starting the server passes to uvicorn (the CLI, the tests' server)."""
    return {"host": host, "port": port, "access_log": False, "log_config": LOG_CONFIG, "server_header": False, "proxy_headers": False}


def serve(config: Config, host: str = "127.0.0.1", port: int = 8740) -> None:
    """Serve the app on ``host:port`` until interrupted."""
    import uvicorn

    from plancheck.web.app import create_app

    logging.getLogger("plancheck.web").info("plancheck serve on http://%s:%d", host, port)
    uvicorn.run(create_app(config), **uvicorn_options(host, port))
