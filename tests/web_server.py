"""The web app served for real (uvicorn on a loopback port, in a thread) and Debian's chromium for Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from plancheck.web.serve import uvicorn_options
from tests.servers import server_url

CHROMIUM_ENV = "PLANCHECK_TEST_CHROMIUM"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    """Debian's chromium: ``PLANCHECK_TEST_CHROMIUM`` (set by .ci/run from `.ci/chromium`), else the one on PATH;
    without either the browser tests skip locally and fail in CI (tests.servers' rule)."""
    on_path = shutil.which("chromium")
    if not os.environ.get(CHROMIUM_ENV) and on_path:
        return on_path
    return server_url(CHROMIUM_ENV, "chromium (browser)", "chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a loopback port with the options `plancheck serve` uses; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options("127.0.0.1", port)))
    thread = threading.Thread(target=server.run, name="plancheck-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
