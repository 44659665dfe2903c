"""Helpers shared by the store's persistence and replication tests
(test_store_rdb*.py, test_store_save.py, test_store_aof.py,
test_store_repl.py, test_store_propagate.py): clients that wait out a load,
the data dir of store_server, a real redis-server on a dir of its own,
redis-check-rdb, the raw link of a hand-made replica.  No test logic lives
here."""
import shutil
import subprocess
import time

import pytest
import redis

from obtest import RespConn, free_port, store_argv


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
        except redis.exceptions.AuthenticationError:
            return c                    # the caller authenticates
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


def plain_value(c, k, t, other=None):
    """The value of key k, of type t (a TYPE reply), in a form that compares
    equal between two servers: string, list, hash (sorted pairs), set
    (sorted), zset (with scores).  Other types give `other`: each test
    pictures a stream its own way."""
    if t == b"string":
        return c.get(k)
    if t == b"list":
        return c.lrange(k, 0, -1)
    if t == b"hash":
        return sorted(c.hgetall(k).items())
    if t == b"set":
        return sorted(c.smembers(k))
    if t == b"zset":
        return c.zrange(k, 0, -1, withscores=True)
    return other


class ReplLink(RespConn):
    """The raw link of a replica made by hand: RespConn's commands out and
    counted reads in, plus line(), since a replication stream is not only
    replies (newline keepalives, $<len> then an RDB without CRLF)."""

    def __init__(self, port, timeout=20.0):
        super().__init__(port, timeout=timeout)

    def line(self):
        """The next line, with its \\n (a keepalive is a bare \\n)."""
        while b"\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\n")
        out, self.buf = self.buf[:i + 1], self.buf[i + 1:]
        return out
