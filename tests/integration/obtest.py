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


def wait_for(pred, timeout=20.0, what="condition"):
    """Polls pred every 50 ms until it returns something true, and returns
    that; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


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
            assert self.proc.wait(timeout=20) == 0, self.output()
            # onebox's foreground process exits once the daemon is ready;
            # memcached's may exit before the daemon has written its pid.
            self.pidfile_at_return = os.path.exists(self.daemon_pidfile)
            deadline = time.monotonic() + 10
            while True:
                try:
                    with open(self.daemon_pidfile) as f:
                        self.pid = int(f.read().strip())
                    break
                except (FileNotFoundError, ValueError):
                    assert time.monotonic() < deadline, "no pidfile"
                    time.sleep(0.01)
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

    def is_onebox(self):
        return os.path.basename(self.argv[0]) == "onebox"

    def stop(self):
        """Stops the server.  onebox gets SIGTERM, so that its graceful
        shutdown (and, in the sanitizer build, the leak check at exit) runs
        after every test; a real engine is killed, its shutdown is not under
        test and memcached takes a second over it.  Returns a complaint
        (a bad exit or a sanitizer report), or None."""
        sig = signal.SIGTERM if self.is_onebox() else signal.SIGKILL
        code = None
        if self.pid is not None and pid_alive(self.pid):
            try:
                code = self.terminate(sig, timeout=10)
            except Exception:
                os.kill(self.pid, signal.SIGKILL)
                wait_pid_gone(self.pid, 5)
        elif self.proc is not None and self.daemon_pidfile is None:
            code = self.proc.poll()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        output = self.output()
        self.log.close()
        if not self.is_onebox():
            return None
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in output:
                return "sanitizer report:\n" + output[-4000:]
        if self.daemon_pidfile is None and code not in (0, None):
            return "onebox exited with %s:\n%s" % (code, output[-2000:])
        return None


class McConn:
    """A raw memcached connection for byte-exact protocol tests."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def read_line(self):
        """One reply line, without its \\r\\n."""
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_until(self, marker=b"END\r\n"):
        """Everything up to and including `marker` at the start of a line."""
        while not (self.buf.startswith(marker)
                   or (b"\r\n" + marker) in self.buf):
            self._fill()
        if self.buf.startswith(marker):
            end = len(marker)
        else:
            end = self.buf.index(b"\r\n" + marker) + 2 + len(marker)
        data, self.buf = self.buf[:end], self.buf[end:]
        return data

    def cmd(self, data):
        """Sends a command and returns its one reply line."""
        self.send(data)
        return self.read_line()

    def is_closed(self, timeout=2.0):
        """True once the server closes the connection (EOF or reset)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def nothing_pending(self, wait=0.2):
        """True if the server sends nothing within `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return self.buf == b""
        finally:
            self.sock.settimeout(5.0)
        self.buf += chunk
        return False

    def stats(self, arg=""):
        self.send("stats%s\r\n" % (" " + arg if arg else ""))
        out = {}
        for line in self.read_until(b"END\r\n").split(b"\r\n"):
            parts = line.split(b" ", 2)
            if len(parts) == 3 and parts[0] == b"STAT":
                out[parts[1].decode()] = parts[2].decode()
        return out


def cache_argv(target, port, *extra):
    """The command line of a cache server on 127.0.0.1:port: onebox, or the
    real memcached (Debian's package) for --target real.  `extra` are
    memcached flags both understand (-m, -c, -I, -t ...)."""
    extra = [str(a) for a in extra]
    if target == "real":
        argv = ["memcached", "-U", "0", "-l", "127.0.0.1", "-p", str(port)]
        if os.geteuid() == 0:
            argv += ["-u", "root"]      # memcached refuses root without -u
        return argv + extra
    argv = [onebox_bin(), "-U", "0", "-l", "127.0.0.1", "-p", str(port),
            "--core.http_port", "0"]
    # Only the cache listens: the other modules would take their default
    # ports, which parallel tests (or a real Redis) may hold.
    for section in onebox_sections():
        if section not in ("core", "cache"):
            argv += ["--%s.enabled" % section, "false"]
    return argv + extra


_defaults = None


def onebox_defaults():
    """The default configuration of the onebox binary under test."""
    global _defaults
    if _defaults is None:
        out = subprocess.run([onebox_bin(), "--print-config"], check=True,
                             capture_output=True, text=True).stdout
        _defaults = json.loads(out)
    return _defaults


def onebox_sections():
    """The configuration sections of the onebox binary under test."""
    return list(onebox_defaults())


def module_port_args(free=True):
    """Flags that move every module's listener off its well-known default
    port (6379, 11211...), which another test or a real server may hold:
    onto a free port, or (free=False) onto none (port 0)."""
    args = []
    for section, keys in onebox_defaults().items():
        if section != "core" and "port" in keys:
            args += ["--%s.port" % section, str(free_port() if free else 0)]
    return args


def store_argv(target, port, data_dir, conf=None):
    """The command line of a Redis-protocol server on 127.0.0.1:port:
    onebox (only its store listening), or Debian's redis-server for
    --target real.  `conf` maps Redis's option names (requirepass,
    maxmemory-policy ...) to values; onebox takes them as
    --store.<name with _ for -> <value>."""
    # Both servers start with no snapshots and no AOF unless asked.
    conf = {"save": "", "appendonly": "no", **dict(conf or {})}
    if target == "real":
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                "--dir", str(data_dir), "--daemonize", "no", "--logfile", ""]
        for name, value in conf.items():
            argv += ["--" + name, str(value)]
        return argv
    argv = [onebox_bin(), "--core.http_port", "0",
            "--core.data_dir", str(data_dir), "--store.port", str(port)]
    for section in onebox_sections():
        if section not in ("core", "store"):
            argv += ["--%s.enabled" % section, "false"]
    for name, value in conf.items():
        argv += ["--store." + name.replace("-", "_"), str(value)]
    return argv


class RespConn:
    """A raw RESP connection for tests that assert exact bytes: error
    strings, RESP3 shapes, push messages, and whether the server closed
    the connection (redis-py hides all of these).  send() sends one
    command as a multibulk, send_raw() any bytes; reply() returns the next
    whole reply as it came on the wire (RESP2 or RESP3, nested aggregates
    and attributes included)."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, *args):
        self.sock.sendall(encode(*args))

    def send_raw(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        """Sends one command and returns its raw reply."""
        self.send(*args)
        return self.reply()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server; buffered %r"
                                  % self.buf[:200])
        self.buf += chunk

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _frame(self, pos):
        """The end offset of the frame starting at pos."""
        while len(self.buf) <= pos:
            self._fill()
        kind = self.buf[pos:pos + 1]
        end = self._line(pos)
        head = self.buf[pos + 1:end]
        pos = end + 2
        if kind in b"+-:,_#(":
            return pos
        if kind in b"$=!":
            n = int(head)
            if n < 0:
                return pos
            while len(self.buf) < pos + n + 2:
                self._fill()
            return pos + n + 2
        if kind in b"*~>%|":
            n = int(head)
            if kind in b"%|" and n > 0:
                n *= 2
            for _ in range(max(n, 0)):
                pos = self._frame(pos)
            if kind == b"|":
                pos = self._frame(pos)      # the reply the attribute annotates
            return pos
        raise AssertionError("not RESP: %r" % self.buf[pos - 1 - len(head):
                                                      pos + 40])

    def reply(self):
        """The raw bytes of the next complete reply."""
        end = self._frame(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def read(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def expect(self, data):
        """Reads exactly len(data) bytes and returns them."""
        return self.read(len(data))

    def is_closed(self, timeout=5.0):
        """True once the server closes the connection (reading and
        dropping whatever comes before the end)."""
        self.sock.settimeout(timeout)
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)
        return False

    def nothing_pending(self, wait=0.2):
        """True if the server sends nothing within `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return not self.buf
        finally:
            self.sock.settimeout(self.timeout)
        self.buf += chunk
        return False


def encode(*args):
    """One command as a RESP multibulk."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a)
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def bulk(s):
    """A bulk string's bytes."""
    if isinstance(s, str):
        s = s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


def resp_once(r, *args, db=None):
    """The raw reply to one command, sent on a new connection to the
    server of the redis-py client `r` (after SELECT db when given), so that
    nothing an earlier command did to a connection carries over."""
    with RespConn(r.server.port) as conn:
        if db is not None:
            assert conn.cmd("SELECT", db) == b"+OK\r\n"
        return conn.cmd(*args)


def resp_err(r, *args, db=None):
    """The error a command must answer (see resp_once), without its - and
    its CRLF."""
    line = resp_once(r, *args, db=db)
    assert line.startswith(b"-"), line
    return line[1:-2].decode()


# Redis's error texts that many commands share, without the - and CRLF
# (as resp_err returns them) and as whole reply lines (as RespConn.cmd
# returns them).
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
WRONGTYPE_REPLY = b"-%s\r\n" % WRONGTYPE.encode()
