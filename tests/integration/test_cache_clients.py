"""The cache through real client libraries and tools: the tutorial's
python-memcached session and its three-server cluster, pymemcache, and
libmemcached's conformance tool memccapable."""
import socket
import subprocess
import time

import memcache
import pytest
from pymemcache.client.base import Client as PymemcacheClient

from obtest import McConn, cache_argv, free_port


def client_for(*servers, **kw):
    return memcache.Client(["127.0.0.1:%d" % s.port for s in servers], **kw)


def test_tutorial_basics(cache_server):
    mc = client_for(cache_server())
    assert mc.set("foo", "bar")
    assert mc.get("foo") == "bar"

    assert mc.add("k1", "v1")
    assert not mc.add("k1", "v2")
    assert mc.get("k1") == "v1"

    assert not mc.replace("nokey", "x")
    assert mc.get("nokey") is None
    assert mc.set("r", "old")
    assert mc.replace("r", "new")
    assert mc.get("r") == "new"

    assert mc.set_multi({"key1": "val1", "key2": "val2"}) == []
    assert mc.get_multi(["key1", "key2", "nokey"]) == {"key1": "val1",
                                                       "key2": "val2"}
    assert mc.delete("key1")
    assert mc.get("key1") is None
    assert mc.delete_multi(["key2", "r"])
    assert mc.get_multi(["key2", "r"]) == {}

    assert mc.append("k1", "after")
    assert mc.prepend("k1", "before")
    assert mc.get("k1") == "beforev1after"
    assert not mc.append("missing", "x")


def test_tutorial_incr_decr_and_types(cache_server):
    mc = client_for(cache_server())
    assert mc.set("n", "10")
    assert mc.incr("n") == 11
    assert mc.incr("n", 5) == 16
    assert mc.decr("n", 6) == 10
    assert mc.decr("n", 100) == 0
    assert mc.incr("nokey") is None
    # python-memcached's own flags: int, text and pickled values.
    assert mc.set("i", 42) and mc.get("i") == 42
    assert mc.set("u", "h\u00e9llo") and mc.get("u") == "h\u00e9llo"
    assert mc.set("d", {"a": [1, 2]}) and mc.get("d") == {"a": [1, 2]}


def test_tutorial_gets_cas(cache_server):
    srv = cache_server()
    mc = client_for(srv, cache_cas=True)
    other = client_for(srv)
    assert mc.set("c", "one")
    assert mc.gets("c") == "one"
    assert mc.cas("c", "two")
    assert mc.get("c") == "two"
    # Someone else writes in between: the CAS no longer matches.
    assert mc.gets("c") == "two"
    assert other.set("c", "theirs")
    assert not mc.cas("c", "mine")
    assert mc.get("c") == "theirs"


def test_tutorial_cluster(cache_server):
    s1, s2, s3 = cache_server(), cache_server(), cache_server()
    mc = memcache.Client([("127.0.0.1:%d" % s1.port, 1),
                          ("127.0.0.1:%d" % s2.port, 2),
                          ("127.0.0.1:%d" % s3.port, 1)])
    keys = ["user:%d" % i for i in range(300)]
    for k in keys:
        assert mc.set(k, "v-" + k)
    for k in keys:
        assert mc.get(k) == "v-" + k

    # Each key lives on exactly the server the client's weighted list
    # picks for it, and nowhere else.
    raw = {s.port: McConn(s.port) for s in (s1, s2, s3)}
    held = {s.port: 0 for s in (s1, s2, s3)}
    for k in keys:
        server, _ = mc._get_server(k.encode())
        for port, conn in raw.items():
            conn.send("get %s\r\n" % k)
            reply = conn.read_until()
            if port == server.port:
                assert reply.startswith(b"VALUE %s 16 " % k.encode())
                held[port] += 1
            else:
                assert reply == b"END\r\n"
    for port, conn in raw.items():
        assert int(conn.stats()["curr_items"]) == held[port]
        conn.close()
    # The weight-2 server takes about half.
    assert held[s2.port] > held[s1.port] and held[s2.port] > held[s3.port]
    assert min(held.values()) > 0


def test_pymemcache(cache_server):
    srv = cache_server()
    c = PymemcacheClient(("127.0.0.1", srv.port))
    assert c.set("a", "1")             # noreply by default
    assert c.get("a") == b"1"
    assert c.add("a", "2", noreply=False) is False
    value, cas = c.gets("a")
    assert value == b"1"
    assert c.cas("a", "3", cas) is True
    assert c.cas("a", "4", cas) is False
    assert c.cas("gone", "4", cas) is None
    assert c.incr("a", 10) == 13
    assert c.decr("a", 20) == 0
    assert c.incr("nokey", 1) is None
    assert c.set_many({"x": "1", "y": "2"}) == []
    assert c.get_many(["x", "y", "z"]) == {"x": b"1", "y": b"2"}
    assert c.touch("x", 100, noreply=False) is True
    assert c.delete("x", noreply=False) is True
    assert c.delete("x", noreply=False) is False
    assert c.version().count(b".") == 2
    assert c.flush_all(noreply=False) is True
    assert c.get("y") is None
    c.close()


def test_memccapable_ascii(cache_server):
    srv = cache_server()
    res = subprocess.run(["memccapable", "-a", "-h", "127.0.0.1", "-p",
                          str(srv.port)], capture_output=True, text=True,
                         timeout=120)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "[FAIL]" not in out, out
    assert out.count("[pass]") >= 25, out


def test_unix_socket(servers, target, tmp_path):
    """-s: the cache on a unix socket (and, as in memcached, not on TCP)."""
    path = tmp_path / "mc.sock"
    port = free_port()
    argv = cache_argv(target, port, "-s", path)
    servers(argv)
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, "no socket file"
        time.sleep(0.01)
    mc = memcache.Client(["unix:%s" % path])
    assert mc.set("u", "over a unix socket")
    assert mc.get("u") == "over a unix socket"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
