"""`plancheck serve` for real: a new process on a loopback port answers /health, refuses the rest without
log-in, and its log names route templates, never the patient IDs in the URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web_server import free_port


def test_plancheck_serve_starts_on_loopback_and_logs_no_patient_ids(tmp_path: Path) -> None:
    config = tmp_path / "plancheck.toml"
    config.write_text(f'[results]\nurl = "sqlite:///{tmp_path / "record.db"}"\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PLANCHECK_WEB_SECRET": "serve-test-" + "s" * 32}
    proc = subprocess.Popen([sys.executable, "-m", "plancheck", "serve", "--config", str(config), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/health")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("plancheck serve did not start") from None
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"{base}/api/runs/7").status_code == 401
        history = httpx.get(f"{base}/patients/00017R/history", follow_redirects=False)
        assert history.status_code == 303 and history.headers["location"].startswith("/login")
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert "GET /patients/{patient_id}/history 303" in err and "GET /api/runs/{run_id} 401" in err
    assert "00017R" not in err and "/runs/7" not in err
    assert "http://127.0.0.1:" in err  # loopback unless --host says otherwise
