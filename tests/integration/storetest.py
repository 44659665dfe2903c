"""Helpers shared by the store's persistence and replication tests
(test_store_rdb*.py, test_store_save.py, test_store_aof.py,
test_store_repl.py, test_store_propagate.py): clients that wait out a load,
the data dir of store_server, a real redis-server on a dir of its own,
redis-check-rdb, the raw link of a hand-made replica.  No test logic lives
here."""
import shutil
import socket
import subprocess
import time

import pytest
import redis

from obtest import free_port, store_argv


def data_dir(tmp_path):
    """The data dir of the store_server fixture."""
    return tmp_path / "store-data"


def client_of(srv_or_port, socket_timeout=20):
    """A redis-py client once the server has loaded its data (redis-server
    accepts connections while it loads and answers LOADING; onebox loads
    before it listens)."""
    port = getattr(srv_or_port, "port", srv_or_port)
    c = redis.Redis(host="127.0.0.1", port=port,
                    socket_timeout=socket_timeout)
    deadline = time.monotonic() + 20
    while True:
        try:
            c.ping()
            return c
        except redis.exceptions.BusyLoadingError:
            assert time.monotonic() < deadline, "still loading"
            time.sleep(0.02)


@pytest.fixture
def real_redis(servers, tmp_path):
    """A real redis-server (whatever --target says) on a data dir of its
    own, optionally starting from a copy of `rdb`; returns (client, dir)."""
    started = []

    def start(name, rdb=None, **conf):
        data = tmp_path / name
        data.mkdir(exist_ok=True)
        if rdb is not None:
            shutil.copyfile(rdb, data / "dump.rdb")
        port = free_port()
        servers(store_argv("real", port, data, conf), (port,))
        client = client_of(port)
        started.append(client)
        return client, data
    yield start
    for client in started:
        client.close()


def check_rdb(path):
    """redis-check-rdb must call the file OK; returns its output."""
    out = subprocess.run(["redis-check-rdb", str(path)], capture_output=True,
                         timeout=60)
    text = out.stdout.decode(errors="replace")
    assert out.returncode == 0, text + out.stderr.decode(errors="replace")
    assert "RDB looks OK" in text, text
    return text


class ReplLink:
    """The raw link of a replica made by hand: commands out, lines and
    counted bytes in (a replication stream is not a sequence of replies,
    so RespConn's framing does not fit it)."""

    def __init__(self, port, timeout=20.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the master closed the link")
        self.buf += data

    def line(self):
        """The next line, with its \\n (a keepalive is a bare \\n)."""
        while b"\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\n")
        out, self.buf = self.buf[:i + 1], self.buf[i + 1:]
        return out

    def read(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
