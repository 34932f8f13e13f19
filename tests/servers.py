"""Real servers the tests use, started by `.ci/<name>` (which prints the URL): without one a test
skips locally and fails in CI (``CI`` set), so CI can never pass without having run it."""

from __future__ import annotations

import os

import pytest


def server_url(env: str, what: str, script: str) -> str:
    """The URL in ``env``, else skip (fail under CI) saying how to start ``what`` with ``.ci/<script>``."""
    url = os.environ.get(env, "")
    if not url:
        message = f"no {what} server: set {env} (`export {env}=$(.ci/{script})`)"
        if os.environ.get("CI"):
            pytest.fail(message + " — CI must test the real server")
        pytest.skip(message)
    return url
