"""The replica side of replication: the store (or redis-server with
--target real) as a replica of a real redis-server 7.0.15 master (the
full sync of every type, the command stream, expiry by the master's
DELs, READONLY, REPLICAOF NO ONE, WAIT counting our ACKs, a partial
resync after the link drops) and of a Python fake master that checks
the handshake's bytes (the reference's 7.4)."""
import os
import signal
import socket
import threading
import time

import pytest
import redis

from obtest import RespConn, encode, free_port, wait_for
from storetest import client_of, plain_value


# ---------------------------------------------------------------- helpers

def client(port):
    """A client once the server has loaded its data (a restarted
    redis-server answers LOADING while it replays its AOF)."""
    return client_of(port, socket_timeout=10)


def info_repl(c):
    return c.info("replication")


def link_up(c):
    return info_repl(c).get("master_link_status") == "up"


@pytest.fixture
def master(servers, tmp_path):
    """A real redis-server 7.0.15 master in its own dir; extra Redis
    options as keyword arguments.  Returns (ServerProcess, client)."""
    started = []

    def start(**conf):
        port = free_port()
        d = tmp_path / ("master-%d" % port)
        d.mkdir()
        opts = {"save": "", "appendonly": "no",
                "repl-diskless-sync-delay": "0"}
        opts.update({k.replace("_", "-"): v for k, v in conf.items()})
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                "--dir", str(d), "--daemonize", "no", "--logfile", ""]
        for k, v in opts.items():
            argv += ["--" + k, str(v)]
        proc = servers(argv, (port,))
        proc.port = port
        c = client(port)
        started.append(c)
        return proc, c
    yield start
    for c in started:
        c.close()


def replica_of(store_server, mport, **conf):
    srv = store_server(replicaof="127.0.0.1 %d" % mport, **conf)
    c = client(srv.port)
    c.server = srv
    return c


def fill(m):
    """Data of every type in db 0 and db 3, big and small encodings."""
    m.set("str", "hello")
    m.set("int", 12345)
    m.set("ttl", "v", ex=1000)
    m.set("pttl", "w", px=500000)
    m.set("big", "x" * 5000)
    m.rpush("list", *["e%d" % i for i in range(10)])
    m.rpush("biglist", *["%d" % i for i in range(2000)])
    m.hset("hash", mapping={"a": "1", "b": "2"})
    m.hset("bighash", mapping={"f%d" % i: "v" * 70 for i in range(300)})
    m.sadd("intset", 1, 2, 3, -7)
    m.sadd("set", "a", "b", "c")
    m.sadd("bigset", *["m%d" % i for i in range(600)])
    m.zadd("zset", {"a": 1, "b": 2.5, "c": -3})
    m.zadd("bigzset", {"m%d" % i: i / 3 for i in range(300)})
    m.expire("list", 3000)
    for i in range(50):
        m.xadd("stream", {"f": i, "g": "v" * (i % 7)}, id="%d-%d" % (i + 1, i))
    m.xgroup_create("stream", "grp", id="0")
    m.xreadgroup("grp", "alice", {"stream": ">"}, count=5)
    m.xdel("stream", "3-2")
    m.execute_command("SELECT", 3)
    pipe = m.pipeline(transaction=False)
    pipe.execute_command("SELECT", 3)
    pipe.set("in3", "three")
    pipe.hset("h3", "k", "v")
    pipe.execute_command("SELECT", 0)
    pipe.execute()


def dump_all(c):
    """Every key of every db: type, value and TTL (in whole seconds)."""
    out = {}
    for db in range(16):
        c.execute_command("SELECT", db)
        for k in c.scan_iter(count=1000):
            t = c.type(k)
            if t == b"stream":
                groups = c.xinfo_groups(k)
                v = (c.xrange(k), c.xinfo_stream(k)["last-generated-id"],
                     [(g["name"], g["last-delivered-id"], g["pending"])
                      for g in groups],
                     [c.xpending(k, g["name"]) for g in groups])
            else:
                v = plain_value(c, k, t)
            ttl = c.pttl(k)
            out[(db, k)] = (t, v, -1 if ttl < 0 else round(ttl / 10000))
    c.execute_command("SELECT", 0)
    return out


def wait_equal(m, s, timeout=20.0):
    """Polls until the replica's data equals the master's."""
    deadline = time.monotonic() + timeout
    while True:
        a, b = dump_all(m), dump_all(s)
        if a == b:
            return a
        assert time.monotonic() < deadline, (
            "replica differs: %r" % sorted(set(a.items()) ^ set(b.items()),
                                           key=repr)[:10])
        time.sleep(0.1)


# ---------------------------------------------------------------- REPLICAOF

def test_replicaof_errors(store_server):
    srv = store_server()
    with RespConn(srv.port) as c:
        for cmd in ("REPLICAOF", "SLAVEOF"):
            assert c.cmd(cmd, "127.0.0.1", "abc") == (
                b"-ERR Invalid master port\r\n")
            assert c.cmd(cmd, "127.0.0.1", "65536") == (
                b"-ERR Invalid master port\r\n")
            assert c.cmd(cmd, "127.0.0.1", "-1") == (
                b"-ERR Invalid master port\r\n")
            assert c.cmd(cmd, "127.0.0.1") == (
                b"-ERR wrong number of arguments for '%s' command\r\n"
                % cmd.lower().encode())
            assert c.cmd(cmd, "no", "one", "x") == (
                b"-ERR wrong number of arguments for '%s' command\r\n"
                % cmd.lower().encode())
            # a master told to be a master: nothing to do
            assert c.cmd(cmd, "NO", "ONE") == b"+OK\r\n"
        assert b"role:master" in c.cmd("INFO", "replication")


def test_replicaof_unreachable_master(store_server):
    """A replica whose master is not there: link down, retried, the
    INFO fields Redis shows for it, and writes refused meanwhile."""
    dead = free_port()
    srv = store_server()
    with RespConn(srv.port) as c:
        assert c.cmd("CONFIG", "GET", "replicaof") == (
            b"*2\r\n$9\r\nreplicaof\r\n$0\r\n\r\n")
        assert c.cmd("REPLICAOF", "127.0.0.1", str(dead)) == b"+OK\r\n"
        hp = b"127.0.0.1 %d" % dead
        assert c.cmd("CONFIG", "GET", "replicaof") == (
            b"*2\r\n$9\r\nreplicaof\r\n$%d\r\n%s\r\n" % (len(hp), hp))
        assert c.cmd("REPLICAOF", "127.0.0.1", str(dead)) == (
            b"+OK Already connected to specified master\r\n")
        assert c.cmd("SET", "k", "v") == (
            b"-READONLY You can't write against a read only replica.\r\n")
        assert c.cmd("GET", "k") == b"$-1\r\n"
        time.sleep(1.2)
        text = c.cmd("INFO", "replication").decode()
        lines = [ln for ln in text.split("\r\n") if ":" in ln]
        fields = dict(ln.split(":", 1) for ln in lines)
        names = [ln.split(":", 1)[0] for ln in lines]
        assert fields["role"] == "slave"
        assert fields["master_host"] == "127.0.0.1"
        assert fields["master_port"] == str(dead)
        assert fields["master_link_status"] == "down"
        assert fields["master_last_io_seconds_ago"] == "-1"
        assert fields["master_sync_in_progress"] == "0"
        assert names[names.index("role"):names.index("connected_slaves")] == [
            "role", "master_host", "master_port", "master_link_status",
            "master_last_io_seconds_ago", "master_sync_in_progress",
            "slave_read_repl_offset", "slave_repl_offset",
            "master_link_down_since_seconds", "slave_priority",
            "slave_read_only", "replica_announced"]
        assert fields["slave_priority"] == "100"
        # a master turned replica offers its own history: offset 0
        assert fields["slave_repl_offset"] == "0"
        assert fields["slave_read_repl_offset"] == "0"
        assert fields["master_link_down_since_seconds"] == "-1"
        assert fields["slave_read_only"] == "1"
        assert c.cmd("REPLICAOF", "no", "one") == b"+OK\r\n"
        assert c.cmd("SET", "k", "v") == b"+OK\r\n"
        assert b"role:master" in c.cmd("INFO", "replication")
        assert c.cmd("CONFIG", "GET", "replicaof") == (
            b"*2\r\n$9\r\nreplicaof\r\n$0\r\n\r\n")


def test_started_as_replica_of_nothing(store_server):
    srv = store_server(replicaof="127.0.0.1 %d" % free_port())
    c = client(srv.port)
    time.sleep(0.3)
    info = info_repl(c)
    assert info["role"] == "slave"
    assert info["master_link_status"] == "down"
    assert info["slave_repl_offset"] == 1          # no history at all
    assert info["master_link_down_since_seconds"] == -1
    with pytest.raises(redis.exceptions.ReadOnlyError):
        c.set("k", "v")
    c.close()


# ---------------------------------------------------------------- a real master

@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_every_type(master, store_server, diskless):
    _, m = master(repl_diskless_sync=diskless)
    fill(m)
    s = replica_of(store_server, m.connection_pool.connection_kwargs["port"])
    wait_for(lambda: link_up(s), what="master_link_status:up")
    data = wait_equal(m, s)
    assert (0, b"bigzset") in data and (3, b"in3") in data
    assert s.ttl("ttl") > 990
    assert 400 < s.ttl("pttl") <= 500
    assert s.ttl("str") == -1
    info = info_repl(s)
    assert info["role"] == "slave"
    assert info["master_sync_in_progress"] == 0
    with RespConn(s.connection_pool.connection_kwargs["port"]) as c:
        text = c.cmd("INFO", "replication").decode()
    names = [ln.split(":", 1)[0] for ln in text.split("\r\n") if ":" in ln]
    assert names[:names.index("connected_slaves")] == [
        "role", "master_host", "master_port", "master_link_status",
        "master_last_io_seconds_ago", "master_sync_in_progress",
        "slave_read_repl_offset", "slave_repl_offset", "slave_priority",
        "slave_read_only", "replica_announced"]
    assert 0 <= info["master_last_io_seconds_ago"] <= 2
    assert info["slave_read_only"] == 1
    wait_for(lambda: info_repl(s)["slave_repl_offset"]
             == info_repl(m)["master_repl_offset"], what="offsets equal")
    s.close()


def test_stream_applies_writes(master, store_server):
    proc, m = master()
    m.set("before", "1")
    s = replica_of(store_server, proc.port)
    wait_for(lambda: link_up(s), what="link up")
    m.set("a", "1")
    m.incr("a")
    m.rpush("l", "x", "y")
    m.hset("h", "f", "v")
    m.sadd("s", "m")
    m.zadd("z", {"m": 3})
    m.delete("before")
    m.expire("a", 100)
    m.xadd("st", {"a": "1"})
    m.xadd("st", {"b": "2"}, maxlen=10)
    m.xgroup_create("st", "g", id="0")
    m.xreadgroup("g", "c1", {"st": ">"}, count=1)
    m.spop("s") and m.sadd("s", "m")
    with m.pipeline(transaction=True) as p:
        p.set("tx1", "1")
        p.set("tx2", "2")
        p.execute()
    m.execute_command("SELECT", 5)
    pipe = m.pipeline(transaction=False)
    pipe.execute_command("SELECT", 5)
    pipe.set("five", "5")
    pipe.execute_command("SELECT", 0)
    pipe.execute()
    wait_equal(m, s)
    assert s.get("a") == b"2"
    assert 90 <= s.ttl("a") <= 100
    s.execute_command("SELECT", 5)
    assert s.get("five") == b"5"
    s.execute_command("SELECT", 0)
    # A big value in the stream, then the same offsets on both sides.
    m.set("bigval", "z" * 300000)
    wait_for(lambda: s.strlen("bigval") == 300000, what="big value")
    wait_for(lambda: info_repl(s)["slave_repl_offset"]
             == info_repl(m)["master_repl_offset"], what="offsets equal")
    s.close()


def test_expired_keys_go_by_the_masters_del(master, store_server):
    proc, m = master()
    s = replica_of(store_server, proc.port)
    wait_for(lambda: link_up(s), what="link up")
    m.set("short", "v", px=300)
    m.set("long", "v")
    wait_for(lambda: s.get("long") == b"v", what="long")
    # Expired keys are missing on both sides; the master's active expiry
    # deletes it and its DEL empties the replica.
    wait_for(lambda: s.get("short") is None, what="expired")
    wait_for(lambda: m.dbsize() == 1, what="master expired short")
    wait_for(lambda: s.dbsize() == 1, what="replica got the DEL")
    s.close()


def test_readonly_and_replicaof_no_one(master, store_server):
    proc, m = master()
    m.set("k", "v")
    s = replica_of(store_server, proc.port)
    wait_for(lambda: link_up(s), what="link up")
    wait_for(lambda: s.get("k") == b"v", what="k")
    with RespConn(s.server.port) as c:
        assert c.cmd("SET", "x", "1") == (
            b"-READONLY You can't write against a read only replica.\r\n")
        assert c.cmd("DEL", "k") == (
            b"-READONLY You can't write against a read only replica.\r\n")
        assert c.cmd("GET", "k") == b"$1\r\nv\r\n"
        assert c.cmd("REPLICAOF", "127.0.0.1", str(proc.port)) == (
            b"+OK Already connected to specified master\r\n")
        assert c.cmd("REPLICAOF", "no", "one") == b"+OK\r\n"
        assert c.cmd("SET", "x", "1") == b"+OK\r\n"
        assert c.cmd("GET", "k") == b"$1\r\nv\r\n"
        assert b"role:master" in c.cmd("INFO", "replication")
    # The master no longer counts it.
    wait_for(lambda: info_repl(m)["connected_slaves"] == 0,
             what="master lost its replica")
    # The replica's config: CONFIG SET replica-read-only no lets writes in.
    s.execute_command("REPLICAOF", "127.0.0.1", proc.port)
    wait_for(lambda: link_up(s), what="link up again")
    assert s.get("x") is None            # the full sync replaced the data
    s.config_set("replica-read-only", "no")
    assert s.set("local", "1")
    assert info_repl(s)["slave_read_only"] == 0
    s.close()


def test_wait_counts_our_acks(master, store_server):
    proc, m = master()
    s = replica_of(store_server, proc.port)
    wait_for(lambda: link_up(s), what="link up")
    wait_for(lambda: info_repl(m).get("slave0", {}).get("state")
             == "online", what="replica online")
    m.set("w", "1")
    assert m.execute_command("WAIT", 1, 5000) == 1
    for i in range(20):
        m.set("w%d" % i, i)
    assert m.execute_command("WAIT", 1, 5000) == 1
    # The periodic ACKs keep the master's view of our offset current.
    wait_for(lambda: info_repl(m)["slave0"]["offset"]
             == info_repl(m)["master_repl_offset"], what="acked offset")
    s.close()


@pytest.mark.parametrize("how", ["kill", "kill-master", "timeout"])
def test_partial_resync_after_link_drop(master, store_server, how):
    """The master drops the link (CLIENT KILL TYPE replica), the replica
    drops it (CLIENT KILL TYPE master), or the replica times out
    (repl-timeout 1 while the master sleeps): either way it comes back
    with PSYNC and gets +CONTINUE."""
    proc, m = master()
    fill(m)
    s = replica_of(store_server, proc.port)
    wait_for(lambda: link_up(s), what="link up")
    # The stream's db is 3 when the link drops: +CONTINUE must keep it.
    pipe = m.pipeline(transaction=False)
    pipe.execute_command("SELECT", 3)
    pipe.set("before-drop", "1")
    pipe.execute()
    wait_equal(m, s)
    ok = m.info("stats")["sync_partial_ok"]
    full = m.info("stats")["sync_full"]
    if how == "kill":
        m.execute_command("CLIENT", "KILL", "TYPE", "replica")
    elif how == "kill-master":
        assert s.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    else:
        s.config_set("repl-timeout", 1)
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            wait_for(lambda: not link_up(s), what="MASTER timeout")
            info = info_repl(s)
            assert 0 <= info["master_link_down_since_seconds"] <= 2
            assert info["master_last_io_seconds_ago"] == -1
            assert info["slave_repl_offset"] > 0
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        s.config_set("repl-timeout", 60)
    # Written while the link is down (probably): in the backlog.
    pipe = m.pipeline(transaction=False)
    pipe.execute_command("SELECT", 3)
    pipe.set("during-drop", "1")
    pipe.execute()
    wait_for(lambda: m.info("stats")["sync_partial_ok"] == ok + 1,
             what="a partial resync")
    wait_for(lambda: link_up(s), what="link up again")
    assert m.info("stats")["sync_full"] == full
    # Still db 3 on the new link: the master sends no SELECT after
    # +CONTINUE, its stream goes on where it was.
    m.execute_command("SELECT", 3)
    pipe = m.pipeline(transaction=False)
    pipe.execute_command("SELECT", 3)
    pipe.set("after-drop", "1")
    pipe.execute()
    wait_equal(m, s)
    s.execute_command("SELECT", 3)
    assert s.get("after-drop") == b"1"
    s.close()


def test_masterauth(master, store_server):
    proc, m = master(requirepass="secret")
    m.execute_command("AUTH", "secret")
    m.set("k", "v")
    bad = replica_of(store_server, proc.port, masterauth="wrong")
    time.sleep(1.5)
    assert not link_up(bad)
    assert bad.get("k") is None
    # CONFIG SET masterauth: the next attempt authenticates.
    bad.config_set("masterauth", "secret")
    wait_for(lambda: link_up(bad) and bad.get("k") == b"v", what="synced")
    bad.close()


def test_master_comes_later(master, store_server, servers, tmp_path):
    """A replica started before its master connects once it is there."""
    port = free_port()
    s = replica_of(store_server, port)
    time.sleep(1.2)
    assert info_repl(s)["master_link_status"] == "down"
    d = tmp_path / "late-master"
    d.mkdir()
    servers(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--dir", str(d), "--daemonize", "no", "--logfile", "",
             "--save", "", "--repl-diskless-sync-delay", "0"], (port,))
    m = client(port)
    m.set("late", "1")
    wait_for(lambda: link_up(s) and s.get("late") == b"1", what="synced")
    m.close()
    s.close()


def test_replica_switches_master(master, store_server):
    p1, m1 = master()
    p2, m2 = master()
    m1.set("one", "1")
    m2.set("two", "2")
    s = replica_of(store_server, p1.port)
    wait_for(lambda: link_up(s) and s.get("one") == b"1", what="first")
    assert s.execute_command("REPLICAOF", "127.0.0.1", p2.port)
    wait_for(lambda: link_up(s) and s.get("two") == b"2", what="second")
    assert s.get("one") is None
    assert info_repl(s)["master_port"] == p2.port
    s.close()


# ---------------------------------------------------------------- a fake master

def rdb_hello():
    """A 7.0-style RDB v10 with hello=world in db 0, no checksum (zeros:
    accepted by Redis and by us)."""
    def aux(k, v):
        return b"\xfa" + bytes([len(k)]) + k + bytes([len(v)]) + v
    body = (b"REDIS0010" + aux(b"redis-ver", b"7.0.15")
            + b"\xfe\x00\xfb\x01\x00"
            + b"\x00\x05hello\x05world" + b"\xff")
    return body + b"\x00" * 8


class FakeMaster:
    """Accepts one replica at a time on a free port and records what it
    sends (the reference's 7.4)."""

    def __init__(self):
        self.port = free_port()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(4)
        self.lsock.settimeout(20)

    def accept(self):
        sock, _ = self.lsock.accept()
        sock.settimeout(20)
        return FakeLink(sock)

    def close(self):
        self.lsock.close()


class FakeLink:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("replica closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def command(self):
        """The next command the replica sent, as a list of bytes."""
        head = self._line()
        assert head.startswith(b"*"), head
        args = []
        for _ in range(int(head[1:])):
            n = int(self._line()[1:])
            while len(self.buf) < n + 2:
                self._fill()
            args.append(self.buf[:n])
            self.buf = self.buf[n + 2:]
        return args

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def handshake(link):
    """The master's side of PING and the two REPLCONFs, answered +PONG and
    +OK; returns the command that follows (PSYNC ...)."""
    assert link.command() == [b"PING"]
    link.send(b"+PONG\r\n")
    link.command()
    link.command()
    link.send(b"+OK\r\n+OK\r\n")
    return link.command()


def test_fake_master_eof_mark_in_pieces(store_server):
    """A diskless payload ($EOF:<mark>) that arrives a few bytes at a
    time, the mark split across reads, the stream right behind it."""
    fm = FakeMaster()
    try:
        srv = store_server(replicaof="127.0.0.1 %d" % fm.port)
        link = fm.accept()
        assert link.command() == [b"PING"]
        link.send(b"+PONG\r\n")
        assert link.command()[:2] == [b"REPLCONF", b"listening-port"]
        assert link.command()[:2] == [b"REPLCONF", b"capa"]
        link.send(b"+OK\r\n+OK\r\n")
        assert link.command() == [b"PSYNC", b"?", b"-1"]
        mark = b"0123456789abcdefghij0123456789ABCDEFGHIJ"
        payload = (b"+FULLRESYNC " + b"b" * 40 + b" 100\r\n\n"
                   + b"$EOF:" + mark + b"\r\n" + rdb_hello() + mark)
        for i in range(0, len(payload), 7):
            link.send(payload[i:i + 7])
            time.sleep(0.005)
        # A diskless master streams once the replica has ACKed the load.
        assert link.command() == [b"REPLCONF", b"ACK", b"100"]
        link.send(encode("SET", "x", "1"))
        s = client(srv.port)
        wait_for(lambda: s.get("x") == b"1", what="x")
        assert s.get("hello") == b"world"
        info = info_repl(s)
        assert info["master_link_status"] == "up"
        assert info["slave_repl_offset"] == 100 + len(encode("SET", "x", "1"))
        s.close()
        link.close()
    finally:
        fm.close()


def test_fake_master_errors_then_retry(store_server):
    """-LOADING to PSYNC and a master that closes mid-RDB: the replica
    retries (about once a second) until a sync succeeds."""
    fm = FakeMaster()
    try:
        srv = store_server(replicaof="127.0.0.1 %d" % fm.port)

        link = fm.accept()
        assert handshake(link)[0] == b"PSYNC"
        link.send(b"-LOADING Redis is loading the dataset in memory\r\n")
        link = fm.accept()
        assert handshake(link) == [b"PSYNC", b"?", b"-1"]
        rdb = rdb_hello()
        link.send(b"+FULLRESYNC " + b"c" * 40 + b" 5\r\n$%d\r\n" % len(rdb)
                  + rdb[:20])
        time.sleep(0.2)
        link.close()
        link = fm.accept()
        assert handshake(link) == [b"PSYNC", b"?", b"-1"]
        link.send(b"+FULLRESYNC " + b"c" * 40 + b" 5\r\n$%d\r\n" % len(rdb)
                  + rdb)
        s = client(srv.port)
        wait_for(lambda: s.get("hello") == b"world", what="hello")
        assert info_repl(s)["slave_repl_offset"] == 5
        s.close()
        link.close()
    finally:
        fm.close()


def test_fake_master_handshake_and_acks(store_server):
    fm = FakeMaster()
    try:
        srv = store_server(replicaof="127.0.0.1 %d" % fm.port,
                           masterauth="secret")
        link = fm.accept()
        assert link.command() == [b"PING"]
        link.send(b"+PONG\r\n")
        assert link.command() == [b"AUTH", b"secret"]
        assert link.command() == [b"REPLCONF", b"listening-port",
                                  str(srv.port).encode()]
        assert link.command() == [b"REPLCONF", b"capa", b"eof", b"capa",
                                  b"psync2"]
        link.send(b"+OK\r\n+OK\r\n+OK\r\n")
        assert link.command() == [b"PSYNC", b"?", b"-1"]
        replid = b"a" * 40
        rdb = rdb_hello()
        link.send(b"+FULLRESYNC " + replid + b" 0\r\n\n\n")
        link.send(b"$%d\r\n" % len(rdb) + rdb)
        stream = encode("SELECT", "0") + encode("SET", "fromstream", "1")
        link.send(stream)
        # The first ACK comes right after the load; wait for one that
        # counts the stream.
        off = len(stream)
        while True:
            cmd = link.command()
            assert cmd[:2] == [b"REPLCONF", b"ACK"], cmd
            if int(cmd[2]) == off:
                break
            assert int(cmd[2]) in (0, off)
        s = client(srv.port)
        assert s.get("hello") == b"world"
        assert s.get("fromstream") == b"1"
        assert link_up(s)
        # GETACK is answered with the offset before it; the next periodic
        # ACK includes it.
        getack = encode("REPLCONF", "GETACK", "*")
        link.send(getack)
        while True:
            cmd = link.command()
            assert cmd[:2] == [b"REPLCONF", b"ACK"]
            if int(cmd[2]) != off:
                break
        assert int(cmd[2]) == off + len(getack)
        off += len(getack)
        # A dropped link: the replica comes back asking to continue.
        link.close()
        link = fm.accept()
        assert link.command() == [b"PING"]
        link.send(b"+PONG\r\n")
        assert link.command()[0] == b"AUTH"
        assert link.command()[:2] == [b"REPLCONF", b"listening-port"]
        assert link.command()[:2] == [b"REPLCONF", b"capa"]
        link.send(b"+OK\r\n+OK\r\n+OK\r\n")
        assert link.command() == [b"PSYNC", replid, b"%d" % (off + 1)]
        link.send(b"+CONTINUE " + replid + b"\r\n")
        more = encode("SET", "after", "2")
        link.send(more)
        off += len(more)
        while True:
            cmd = link.command()
            assert cmd[:2] == [b"REPLCONF", b"ACK"]
            if int(cmd[2]) == off:
                break
        assert s.get("after") == b"2"
        assert s.get("hello") == b"world"
        s.close()
        link.close()
    finally:
        fm.close()


def test_client_pause_holds_the_stream(master, store_server):
    """CLIENT PAUSE WRITE on the replica holds the master's writes too
    (Redis blocks its master client); they apply once it ends."""
    proc, m = master()
    s = replica_of(store_server, proc.port)
    wait_for(lambda: link_up(s), what="link up")
    m.set("first", "1")
    wait_for(lambda: s.get("first") == b"1", what="first")
    s.execute_command("CLIENT", "PAUSE", 1500, "WRITE")
    t0 = time.monotonic()
    m.set("held", "1")
    time.sleep(0.5)
    assert s.get("held") is None
    wait_for(lambda: s.get("held") == b"1", what="held write")
    assert time.monotonic() - t0 >= 1.3
    wait_for(lambda: info_repl(s)["slave_repl_offset"]
             == info_repl(m)["master_repl_offset"], what="offsets equal")
    s.close()


# ---------------------------------------------------------------- store to store

def test_same_server_as_master_and_chain(store_server, target):
    """The server under test on both ends (onebox as a replica of onebox),
    and a chained replica that gets the stream through the middle one."""
    # redis-server waits 5 s for more replicas before a diskless sync
    fast = {"repl_diskless_sync_delay": 0} if target == "real" else {}
    msrv = store_server(**fast)
    m = client(msrv.port)
    fill(m)
    s1 = replica_of(store_server, msrv.port, **fast)
    wait_for(lambda: link_up(s1), what="s1 up")
    s2 = replica_of(store_server, s1.server.port)
    wait_for(lambda: link_up(s2), what="s2 up")
    m.set("through", "the chain")
    m.incr("counter")
    wait_equal(m, s1)
    wait_equal(m, s2)
    assert m.execute_command("WAIT", 1, 5000) == 1
    ok = m.info("stats")["sync_partial_ok"]
    # s1 drops its link (MASTER timeout) and continues with PSYNC.
    s1.config_set("repl-timeout", 1)
    os.kill(msrv.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: not link_up(s1), what="MASTER timeout")
    finally:
        os.kill(msrv.pid, signal.SIGCONT)
    s1.config_set("repl-timeout", 60)
    m.set("after", "timeout")
    wait_for(lambda: m.info("stats")["sync_partial_ok"] == ok + 1,
             what="partial resync")
    wait_equal(m, s2)
    wait_for(lambda: info_repl(s2)["slave_repl_offset"]
             == info_repl(m)["master_repl_offset"], what="s2 offsets")
    # Promote s1: s2 continues from it under the new id.
    s1.execute_command("REPLICAOF", "NO", "ONE")
    s1.set("promoted", "1")
    wait_for(lambda: s2.get("promoted") == b"1", what="s2 follows s1")
    for c in (m, s1, s2):
        c.close()


def test_failover_swap_continues(store_server, target):
    """A replica promoted with REPLICAOF NO ONE, and the old master made
    its replica: the old master offers its own history (PSYNC <its id>
    <offset+1>) and continues without a full sync."""
    fast = {"repl_diskless_sync_delay": 0} if target == "real" else {}
    a_srv = store_server(**fast)
    a = client(a_srv.port)
    a.set("k", "1")
    b = replica_of(store_server, a_srv.port, **fast)
    wait_for(lambda: link_up(b) and b.get("k") == b"1", what="b synced")
    a.set("k2", "2")
    wait_for(lambda: info_repl(b)["slave_repl_offset"]
             == info_repl(a)["master_repl_offset"], what="b caught up")
    b.execute_command("REPLICAOF", "NO", "ONE")
    ok = b.info("stats")["sync_partial_ok"]
    full = b.info("stats")["sync_full"]
    a.execute_command("REPLICAOF", "127.0.0.1", b.server.port)
    b.set("from-b", "3")
    wait_for(lambda: link_up(a) and a.get("from-b") == b"3",
             what="a follows b")
    assert b.info("stats")["sync_partial_ok"] == ok + 1
    assert b.info("stats")["sync_full"] == full
    assert a.get("k2") == b"2"
    with RespConn(a_srv.port) as c:
        assert c.cmd("SET", "x", "1") == (
            b"-READONLY You can't write against a read only replica.\r\n")
    a.close()
    b.close()


def test_becoming_a_replica_unblocks_blocked_clients(store_server):
    srv = store_server()
    blocked = RespConn(srv.port)
    blocked.send("BLPOP", "q", "0")
    time.sleep(0.2)
    with RespConn(srv.port) as c:
        assert c.cmd("REPLICAOF", "127.0.0.1", str(free_port())) == (
            b"+OK\r\n")
        assert blocked.reply() == (
            b"-UNBLOCKED force unblock from blocking operation, instance "
            b"state changed (master -> replica?)\r\n")
        with pytest.raises((ConnectionError, OSError)):
            blocked.reply()
        assert c.cmd("REPLICAOF", "NO", "ONE") == b"+OK\r\n"
    blocked.close()


def test_replica_with_aof_keeps_the_synced_data(master, store_server):
    """A replica with appendonly yes: its AOF starts over from the synced
    dataset and logs the stream, so a restart as a plain server (same
    dir) has the master's data."""
    proc, m = master()
    fill(m)
    s = replica_of(store_server, proc.port, appendonly="yes")
    wait_for(lambda: link_up(s), what="link up")
    m.set("streamed", "1")
    m.rpush("list", "more")
    want = wait_equal(m, s)
    # The AOF starts over with a rewrite of the loaded data (Redis's
    # restartAOFAfterSYNC).
    wait_for(lambda: s.info("persistence")["aof_rewrites"] >= 1
             and s.info("persistence")["aof_rewrite_in_progress"] == 0
             and s.info("persistence")["aof_rewrite_scheduled"] == 0,
             what="rewrite done")
    m.set("after-rewrite", "1")
    want = wait_equal(m, s)
    s.close()
    s.server.terminate()
    again = store_server(appendonly="yes")
    c = client(again.port)
    got = dump_all(c)
    assert got == want
    c.close()


def test_big_sync_with_writes_meanwhile(master, store_server):
    """About 25 MB of data, and writes while the RDB is produced and
    loaded: the replica ends equal (keys, a sample of values, offsets)."""
    proc, m = master()
    pipe = m.pipeline(transaction=False)
    for i in range(100000):
        pipe.set("key:%d" % i, "%d:" % i + "v" * 200)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    s = replica_of(store_server, proc.port)
    for i in range(2000):
        m.set("during:%d" % i, i)
    wait_for(lambda: link_up(s), timeout=30, what="link up")
    wait_for(lambda: s.dbsize() == m.dbsize(), timeout=30, what="dbsize")
    for i in range(0, 100000, 997):
        assert s.get("key:%d" % i) == m.get("key:%d" % i)
    assert s.get("during:1999") == b"1999"
    wait_for(lambda: info_repl(s)["slave_repl_offset"]
             == info_repl(m)["master_repl_offset"], what="offsets equal")
    s.close()


def test_fake_master_link_drops_inside_multi(store_server):
    """A transaction counts as a whole: a link that drops between MULTI
    and EXEC asks to continue from before MULTI (Redis moves its master
    client's offset only outside MULTI), and nothing of it was applied."""
    fm = FakeMaster()
    try:
        srv = store_server(replicaof="127.0.0.1 %d" % fm.port)

        link = fm.accept()
        assert handshake(link) == [b"PSYNC", b"?", b"-1"]
        rdb = rdb_hello()
        link.send(b"+FULLRESYNC " + b"d" * 40 + b" 10\r\n$%d\r\n" % len(rdb)
                  + rdb)
        first = encode("SELECT", "0") + encode("SET", "a", "1")
        link.send(first)
        s = client(srv.port)
        wait_for(lambda: s.get("a") == b"1", what="a")
        half = encode("MULTI") + encode("SET", "b", "2")
        link.send(half)
        time.sleep(0.3)
        assert s.get("b") is None
        assert info_repl(s)["slave_repl_offset"] == 10 + len(first)
        link.close()
        link = fm.accept()
        assert handshake(link) == [b"PSYNC", b"d" * 40,
                                   b"%d" % (10 + len(first) + 1)]
        link.send(b"+CONTINUE\r\n")
        link.send(half + encode("INCR", "a") + encode("EXEC"))
        wait_for(lambda: s.get("b") == b"2", what="the transaction")
        assert s.get("a") == b"2"
        txn = half + encode("INCR", "a") + encode("EXEC")
        assert info_repl(s)["slave_repl_offset"] == (
            10 + len(first) + len(txn))
        s.close()
        link.close()
    finally:
        fm.close()


def test_fake_master_info_during_the_transfer(store_server):
    """INFO replication while the RDB arrives: the master_sync_* fields,
    link down, and the field order."""
    fm = FakeMaster()
    try:
        srv = store_server(replicaof="127.0.0.1 %d" % fm.port)
        link = fm.accept()
        assert link.command() == [b"PING"]
        link.send(b"+PONG\r\n")
        link.command()
        link.command()
        link.send(b"+OK\r\n+OK\r\n")
        assert link.command()[0] == b"PSYNC"
        rdb = rdb_hello()
        body = rdb + b"\x00" * (1000 - len(rdb))    # padding after EOF
        link.send(b"+FULLRESYNC " + b"e" * 40 + b" 7\r\n$1000\r\n"
                  + body[:100])
        with RespConn(srv.port) as c:
            def fields():
                text = c.cmd("INFO", "replication").decode()
                return [ln.split(":", 1) for ln in text.split("\r\n")
                        if ":" in ln]
            wait_for(lambda: dict(fields()).get("master_sync_read_bytes")
                     == "100", what="100 bytes read")
            f = fields()
            names = [k for k, _ in f]
            d = dict(f)
            assert names[:names.index("connected_slaves")] == [
                "role", "master_host", "master_port", "master_link_status",
                "master_last_io_seconds_ago", "master_sync_in_progress",
                "slave_read_repl_offset", "slave_repl_offset",
                "master_sync_total_bytes", "master_sync_read_bytes",
                "master_sync_left_bytes", "master_sync_perc",
                "master_sync_last_io_seconds_ago",
                "master_link_down_since_seconds", "slave_priority",
                "slave_read_only", "replica_announced"]
            assert d["master_link_status"] == "down"
            assert d["master_last_io_seconds_ago"] == "-1"
            assert d["master_sync_in_progress"] == "1"
            assert d["master_sync_total_bytes"] == "1000"
            assert d["master_sync_left_bytes"] == "900"
            assert d["master_sync_perc"] == "10.00"
            assert d["slave_repl_offset"] == "1"
            link.send(body[100:])
            wait_for(lambda: dict(fields())["master_link_status"] == "up",
                     what="link up")
            assert c.cmd("GET", "hello") == b"$5\r\nworld\r\n"
            assert dict(fields())["slave_repl_offset"] == "7"
        link.close()
    finally:
        fm.close()
