"""The admin HTTP port's limits (core/ob_http.c).

Measured on main before: about 1,100 idle connections to the admin port
used up the descriptors, the cache stopped accepting, and the process spun
at 99% CPU logging a million accept() errors a second.  Now the admin port
holds at most core.http_max_connections, binds core.http_listen (loopback)
whatever -l says, and is under the accept guard.
"""
import os
import resource
import socket
import time

import pytest

from obtest import McConn, free_port, http_json, onebox_bin, wait_port

pytestmark = pytest.mark.onebox_only


def cpu_seconds(pid):
    """User + system CPU time of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_idle(port, n, host="127.0.0.1"):
    """n connections that send nothing (non-blocking: those the server
    leaves in its backlog do not block the test)."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append(s)
    return socks


@pytest.fixture
def many_fds():
    """Lets the test itself hold ~1,200 sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4096)
    if want < 1300:
        pytest.skip("the hard descriptor limit is too low for this test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_admin_flood_leaves_the_cache_alive(servers, tmp_path, many_fds):
    http_port, cache_port = free_port(), free_port()
    # 256 descriptors: 1,100 admin connections would need four times that.
    argv = ["sh", "-c", 'ulimit -n 256 && exec "$@"', "sh", onebox_bin(),
            "-l", "127.0.0.1", "-p", str(cache_port),
            "--core.http_port", str(http_port),
            "--core.data_dir", str(tmp_path / "data")]
    srv = servers(argv, (http_port, cache_port))

    socks = open_idle(http_port, 1100)
    try:
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(srv.pid), time.monotonic()
        time.sleep(2.0)
        cpu = (cpu_seconds(srv.pid) - cpu0) / (time.monotonic() - t0)

        # The cache still accepts and answers.
        for _ in range(20):
            mc = McConn(cache_port)
            assert mc.cmd(b"version\r\n").startswith(b"VERSION ")
            mc.close()
        assert cpu < 0.3, "server at %.0f%% CPU while the admin port is " \
                          "flooded" % (cpu * 100)
    finally:
        for s in socks:
            s.close()

    # Once the clients are gone, the admin port serves again, and the
    # count of its connections came back down.
    deadline = time.monotonic() + 10
    while True:
        try:
            doc = http_json(http_port, "/stats")
            break
        except OSError:
            assert time.monotonic() < deadline, "admin port never came back"
            time.sleep(0.2)
    assert doc["http"]["max"] == 64
    assert doc["http"]["total"] >= 64
    assert doc["http"]["current"] <= 64
    # One line per accept error was the failure: a flood logs little.
    assert len(srv.output().splitlines()) < 50, srv.output()[-2000:]


def test_admin_connections_are_capped_and_counted(onebox):
    srv = onebox("--core.http_max_connections", "4")
    socks = open_idle(srv.http_port, 3)
    try:
        time.sleep(0.3)
        doc = http_json(srv.http_port, "/stats")
        assert doc["http"]["max"] == 4
        assert doc["http"]["current"] == 4          # 3 idle + this request
        more = open_idle(srv.http_port, 5)
        time.sleep(0.3)
        # The cap is reached: /stats waits in the backlog until a slot
        # frees, which closing the idle ones does at once.
        for s in socks + more:
            s.close()
        socks = []
        deadline = time.monotonic() + 5
        while True:
            try:
                doc = http_json(srv.http_port, "/stats")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert doc["http"]["current"] == 1
        assert doc["http"]["total"] >= 9
    finally:
        for s in socks:
            s.close()


def test_admin_timeout_closes_idle_connections(onebox):
    srv = onebox("--core.http_timeout", "1")
    socks = open_idle(srv.http_port, 5)
    try:
        time.sleep(0.3)
        assert http_json(srv.http_port, "/stats")["http"]["current"] == 6
        time.sleep(2.5)
        assert http_json(srv.http_port, "/stats")["http"]["current"] == 1
        for s in socks:
            s.setblocking(True)
            s.settimeout(2)
            assert s.recv(1) == b""                 # closed by the server
    finally:
        for s in socks:
            s.close()


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_admin_binds_loopback_whatever_l_says(onebox):
    srv = onebox("-l", "127.0.0.1,::1")
    wait_port(srv.http_port)
    assert http_json(srv.http_port, "/health")["status"] == "ok"
    # The cache listens on ::1 too; the admin port does not.
    cache_port = int(http_json(srv.http_port, "/stats")
                     ["modules"]["cache"]["port"])
    wait_port(cache_port, host="::1")
    with socket.socket(socket.AF_INET6) as s:
        assert s.connect_ex(("::1", srv.http_port)) != 0


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_http_listen_opens_the_admin_port_where_asked(onebox):
    srv = onebox("-l", "127.0.0.1", "--core.http_listen", "127.0.0.1,::1")
    wait_port(srv.http_port, host="::1")
    with socket.socket(socket.AF_INET6) as s:
        assert s.connect_ex(("::1", srv.http_port)) == 0
