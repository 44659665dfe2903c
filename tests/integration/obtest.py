"""Helpers for the integration tests: free ports, starting and stopping
servers by PID, plain HTTP and socket reads.  No test logic lives here."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def onebox_bin():
    return os.environ.get("ONEBOX_BIN", os.path.join(ROOT, "bin", "onebox"))


def sanitized():
    """True when the binary under test is the ASan/UBSan build (slower and
    larger: timing and memory figures are not checked then)."""
    return os.environ.get("ONEBOX_SANITIZE") == "1"


def free_port():
    """A TCP port that is free on 127.0.0.1 right now (and on ::1 too, so
    that a server listening on both can bind it)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.bind(("::1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    """Waits until something accepts on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s before listening"
                               % proc.returncode)
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.005)
    raise TimeoutError("nothing listens on %s:%d" % (host, port))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_pid_gone(pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.01)
    return False


def http_get(port, path, method="GET", host="127.0.0.1"):
    """Returns (status, headers, body bytes)."""
    req = urllib.request.Request("http://%s:%d%s" % (host, port, path),
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def http_json(port, path):
    status, _, body = http_get(port, path)
    assert status == 200, (status, body)
    return json.loads(body)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class ServerProcess:
    """One server process, started in the foreground (or as a daemon that
    writes a pidfile) and stopped by its PID: SIGTERM, then SIGKILL."""

    def __init__(self, argv, tmp_path, daemon_pidfile=None):
        self.argv = [str(a) for a in argv]
        self.log_path = tmp_path / ("server-%d.log" % id(self))
        self.daemon_pidfile = daemon_pidfile
        self.proc = None
        self.pid = None

    def start(self, wait_ports=()):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        if self.daemon_pidfile is not None:
            # The foreground process exits once the daemon is ready.
            assert self.proc.wait(timeout=20) == 0, self.output()
            with open(self.daemon_pidfile) as f:
                self.pid = int(f.read().strip())
        else:
            self.pid = self.proc.pid
        for port in wait_ports:
            wait_port(port, proc=None if self.daemon_pidfile else self.proc)
        return self

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def terminate(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends `sig` and waits for the process to end; returns its exit
        status when it was our child, else None."""
        if self.pid is None or not pid_alive(self.pid):
            return self.proc.poll() if self.proc else None
        os.kill(self.pid, sig)
        if self.daemon_pidfile is None:
            return self.proc.wait(timeout=timeout)
        assert wait_pid_gone(self.pid, timeout)
        return None

    def stop(self):
        if self.pid is not None and pid_alive(self.pid):
            try:
                self.terminate(signal.SIGTERM, timeout=10)
            except Exception:
                os.kill(self.pid, signal.SIGKILL)
                wait_pid_gone(self.pid, 5)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
