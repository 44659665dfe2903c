"""memcached's daemon flags, checked the same way on onebox and on the real
memcached: `-d -P FILE` returns once the server listens, the pidfile holds
the daemon's pid, and SIGTERM stops it and removes the pidfile."""
import os
import signal
import time

from obtest import (free_port, module_port_args, onebox_bin, wait_pid_gone,
                    wait_port)


def daemon_argv(target, port, pidfile):
    if target == "real":
        argv = ["memcached", "-U", "0", "-l", "127.0.0.1", "-p", port]
        if os.geteuid() == 0:
            argv += ["-u", "root"]      # memcached refuses root without -u
    else:
        argv = [onebox_bin(), "--core.http_port", "0",
                *module_port_args(free=False), "-p", port]
    return argv + ["-d", "-P", pidfile]


def test_daemonize_pidfile_sigterm(servers, tmp_path, target):
    pidfile = tmp_path / "x.pid"
    port = free_port()
    srv = servers(daemon_argv(target, port, pidfile), daemon_pidfile=pidfile)
    assert srv.pid != srv.proc.pid          # the daemon is another process
    if target == "onebox":
        # onebox returns only once the daemon is ready: pidfile written.
        assert srv.pidfile_at_return
    wait_port(port, timeout=5)
    os.kill(srv.pid, signal.SIGTERM)
    assert wait_pid_gone(srv.pid)
    assert not pidfile.exists()


def test_dash_u_drops_root(servers, target, tmp_path):
    """-u USER: started as root, the server runs as USER once bound."""
    import pwd

    import pytest

    if os.geteuid() != 0:
        pytest.skip("needs root to switch users")
    nobody = pwd.getpwnam("nobody")
    port = free_port()
    if target == "real":
        argv = ["memcached", "-U", "0", "-l", "127.0.0.1", "-p", port,
                "-u", "nobody"]
    else:
        argv = [onebox_bin(), "--core.http_port", "0",
                *module_port_args(free=False), "-p", port, "-u", "nobody"]
    srv = servers(argv, (port,))

    def uids():
        with open("/proc/%d/status" % srv.pid) as f:
            line = next(line for line in f if line.startswith("Uid:"))
        return [int(u) for u in line.split()[1:]]

    # The port accepts from listen() on, a moment before the switch.
    deadline = time.monotonic() + 10
    while uids() != [nobody.pw_uid] * 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert uids() == [nobody.pw_uid] * 4
