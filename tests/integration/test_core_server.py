"""The running server: admin HTTP (/health, /stats), signals, the pidfile,
logging, start-up time and idle memory."""
import json
import os
import signal
import subprocess
import time

import pytest

from obtest import (http_get, http_json, module_port_args, onebox_bin,
                    rss_kb, sanitized, wait_port)

pytestmark = pytest.mark.onebox_only


def test_health(onebox):
    srv = onebox()
    status, headers, body = http_get(srv.http_port, "/health")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok"}


def test_stats_with_curl(onebox):
    srv = onebox("-m", "32", "-c", "77")
    out = subprocess.run(["curl", "-sf", "http://127.0.0.1:%d/stats"
                          % srv.http_port], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    doc = json.loads(out)
    assert doc["pid"] == srv.pid
    assert doc["uptime"] >= 0
    conns = doc["connections"]
    assert conns["max"] == 77
    assert conns["current"] >= 0 and conns["rejected"] == 0
    arena = doc["arena"]
    assert arena["limit"] == 32 * 1024 * 1024
    assert 0 <= arena["used"] <= arena["limit"]
    # 32 MiB holds 32 pages of 1 MiB: halved to hold 64 (small budgets)
    assert arena["page_size"] == 512 * 1024
    assert isinstance(arena["modules"], dict)
    assert set(doc["bytes"]) == {"in", "out"}
    assert isinstance(doc["modules"], dict)


def test_http_errors(onebox):
    srv = onebox()
    status, _, body = http_get(srv.http_port, "/nope")
    assert status == 404 and json.loads(body)["error"] == "not found"
    status, headers, _ = http_get(srv.http_port, "/stats", method="POST")
    assert status == 405 and "GET" in headers["Allow"]
    status, _, body = http_get(srv.http_port, "/health", method="HEAD")
    assert status == 200 and body == b""


def test_http_on_ipv6(onebox):
    # The admin port follows core.http_listen (loopback IPv4 by default),
    # not -l: test_core_http.py checks that default.
    srv = onebox("-l", "127.0.0.1,::1", "--core.http_listen", "127.0.0.1,::1")
    wait_port(srv.http_port, host="::1")
    status, _, _ = http_get(srv.http_port, "/health", host="[::1]")
    assert status == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_is_graceful(onebox, tmp_path, sig):
    pidfile = tmp_path / "fg.pid"
    srv = onebox("-P", pidfile)
    assert int(pidfile.read_text()) == srv.pid
    assert srv.terminate(sig) == 0
    assert not pidfile.exists()
    assert "shutting down" in srv.output()


def test_daemon_start_failure_is_reported(onebox, tmp_path):
    first = onebox()
    res = subprocess.run([onebox_bin(), "-d", "-P", tmp_path / "y.pid",
                          "--core.http_port", str(first.http_port),
                          *module_port_args(free=False)],
                         capture_output=True, text=True, timeout=20)
    assert res.returncode == 1
    assert "core.http_port" in res.stderr
    assert not (tmp_path / "y.pid").exists()


def test_log_file_and_level(onebox, tmp_path):
    log = tmp_path / "onebox.log"
    srv = onebox("--core.log_file", log, "-v")
    assert "ready" in log.read_text()
    srv.terminate()
    text = log.read_text()
    assert "shutting down" in text


def test_startup_time_and_idle_memory(onebox):
    if sanitized():
        pytest.skip("sanitizer builds are slower and larger by design")
    best = None
    for _ in range(3):
        t0 = time.monotonic()
        srv = onebox()
        elapsed = time.monotonic() - t0
        best = elapsed if best is None else min(best, elapsed)
        http_json(srv.http_port, "/stats")
        assert rss_kb(srv.pid) < 10 * 1024
        srv.terminate()
    assert best < 0.1, "start-up to listening took %.3fs" % best
