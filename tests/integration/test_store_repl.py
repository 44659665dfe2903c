"""Replication, master side (Redis 7.0.15's PSYNC protocol).

The master is onebox's store (or redis-server with --target real); the
replicas are a real redis-server 7.0.15 started with --replicaof, and a
python fake replica that checks the handshake byte for byte: +FULLRESYNC
<40 hex> <offset>, newline keepalives, $<len> and an RDB v10, the stream
with its SELECT, +CONTINUE from the backlog after a reconnect.
"""
import re
import socket
import time

import pytest
import redis

from obtest import free_port, store_argv, wait_for
from storetest import ReplLink, plain_value


# ------------------------------------------------------------------ helpers

class FakeReplica(ReplLink):
    """A replica that speaks the protocol by hand."""

    def cmd(self, *args):
        self.send(*args)
        return self.line()

    def handshake(self, capa=("psync2",)):
        assert self.cmd("PING") == b"+PONG\r\n"
        assert self.cmd("REPLCONF", "listening-port", "7777") == b"+OK\r\n"
        args = []
        for c in capa:
            args += ["capa", c]
        assert self.cmd("REPLCONF", *args) == b"+OK\r\n"

    def reply_line(self):
        """The next line that is not a newline keepalive."""
        while True:
            ln = self.line()
            if ln != b"\n":
                return ln

    def rdb(self):
        """$<len> (after keepalives) and the payload, with no CRLF."""
        head = self.reply_line()
        assert re.fullmatch(rb"\$\d+\r\n", head), head
        return self.read(int(head[1:-2]))

    def command(self):
        """One command of the stream: (argv, its size in bytes)."""
        head = self.line()
        assert head.startswith(b"*"), head
        size = len(head)
        argv = []
        for _ in range(int(head[1:-2])):
            h = self.line()
            assert h.startswith(b"$"), h
            n = int(h[1:-2])
            argv.append(self.read(n + 2)[:-2])
            size += len(h) + n + 2
        if argv:
            argv[0] = argv[0].lower()    # as the client sent it
        return argv, size


def info(client, section="replication"):
    return client.info(section)


def start_replica(servers, tmp_path, master_port, name="replica",
                  *extra):
    """A real redis-server replicating from 127.0.0.1:master_port."""
    port = free_port()
    data = tmp_path / name
    data.mkdir(exist_ok=True)
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--dir", str(data), "--daemonize", "no", "--logfile", "",
            "--save", "", "--appendonly", "no",
            "--replicaof", "127.0.0.1", str(master_port), *extra]
    proc = servers(argv, (port,))
    proc.port = port
    proc.client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    return proc


def link_up(rep):
    i = info(rep.client)
    return i.get("master_link_status") == "up"


def caught_up(master, rep):
    off = info(master)["master_repl_offset"]
    return info(rep.client).get("slave_repl_offset", -1) >= off


def populate(m):
    """Data of every type, with and without TTLs, in two dbs."""
    m.set("str", "hello")
    m.set("int", 12345)
    m.set("big", "x" * 5000)
    m.set("ttl", "soon", ex=1000)
    m.rpush("list", *[str(i) for i in range(20)])
    m.rpush("biglist", *["v" * 100 + str(i) for i in range(300)])
    m.hset("hash", mapping={"a": "1", "b": "2"})
    m.hset("bighash", mapping={"f%d" % i: "v" * 80 for i in range(200)})
    m.sadd("intset", 1, 2, 3, 100)
    m.sadd("set", "a", "b", "c")
    m.zadd("zset", {"a": 1.5, "b": 2, "c": -3})
    m.zadd("bigzset", {"m%d" % i: i for i in range(200)})
    m.xadd("stream", {"f": "v"}, id="1-1")
    m.xadd("stream", {"g": "w"}, id="2-1")
    m.xgroup_create("stream", "grp", id="0")
    m.pexpire("hash", 500000)
    db(m, 3).set("db3key", "three")


def db(client, n):
    """A client of the same server on db n."""
    kw = client.connection_pool.connection_kwargs
    return redis.Redis(host=kw["host"], port=kw["port"], db=n,
                       socket_timeout=10)


def dump_db(client, n):
    """A comparable picture of one db: type, value and TTL of every key."""
    client = db(client, n)
    out = {}
    for k in client.keys("*"):
        t = client.type(k)
        if t == b"stream":
            v = (client.xrange(k),
                 [g["name"] for g in client.xinfo_groups(k)])
        else:
            v = plain_value(client, k, t)
        ttl = client.pttl(k)
        out[k] = (t, v, ttl // 10000 if ttl > 0 else ttl)
    client.close()
    return out


def assert_same_data(m, rep):
    for n in (0, 3):
        assert dump_db(rep, n) == dump_db(m, n)


# --------------------------------------------------------------- fake replica

def test_fake_replica_full_then_partial(store_server):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    m.set("before", "1")

    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", "?", "-1")
    head = fr.reply_line()
    mo = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n", head)
    assert mo, head
    replid, offset = mo.group(1), int(mo.group(2))
    rdb = fr.rdb()
    assert rdb.startswith(b"REDIS0010")
    assert b"repl-id" in rdb and replid in rdb
    assert b"before" in rdb

    # The stream: a SELECT first (the db was forgotten at the full
    # resync), then the write.
    m.set("after", "2")
    seen = []
    while True:
        argv, size = fr.command()
        offset += size
        if argv[0].lower() == b"ping":
            continue
        seen.append(argv)
        if argv[0].lower() == b"set":
            break
    assert seen == [[b"select", b"0"], [b"set", b"after", b"2"]]

    # Acknowledged: INFO and ROLE show it, WAIT counts it.
    fr.send("REPLCONF", "ACK", offset)
    wait_for(lambda: info(m).get("slave0", {}).get("offset") == offset,
             what="the ACK in INFO")
    i = info(m)
    assert i["role"] == "master" and i["connected_slaves"] == 1
    assert i["slave0"]["state"] == "online"
    assert i["slave0"]["port"] == 7777
    assert i["slave0"]["ip"] == "127.0.0.1"
    assert i["master_replid"] == replid.decode()
    assert i["repl_backlog_active"] == 1
    role = m.execute_command("ROLE")
    assert role[0] == b"master"
    assert role[2] == [[b"127.0.0.1", b"7777", str(offset).encode()]]

    # The link drops; writes go on; a PSYNC from the next byte continues.
    fr.close()
    wait_for(lambda: info(m)["connected_slaves"] == 0, what="the drop")
    m.set("meanwhile", "3")
    before = info(m, "stats")
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", replid, offset + 1)
    assert fr.reply_line() == b"+CONTINUE " + replid + b"\r\n"
    while True:
        argv, size = fr.command()
        if argv[0].lower() == b"set":
            break
    assert argv == [b"set", b"meanwhile", b"3"]
    after = info(m, "stats")
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
    assert after["sync_full"] == before["sync_full"]
    fr.close()

    # An offset outside the backlog, or another history: a full resync.
    for rid, off in ((replid, offset + 10 ** 7), (b"f" * 40, offset + 1)):
        fr = FakeReplica(srv.port)
        fr.handshake()
        fr.send("PSYNC", rid, off)
        head = fr.reply_line()
        assert head.startswith(b"+FULLRESYNC " + replid + b" "), head
        assert fr.rdb().startswith(b"REDIS0010")
        fr.close()
    stats = info(m, "stats")
    assert stats["sync_partial_err"] == after["sync_partial_err"] + 2
    assert stats["sync_full"] == after["sync_full"] + 2


def test_fake_replica_old_sync(store_server):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    m.set("k", "v")
    fr = FakeReplica(srv.port)
    fr.send("SYNC")
    # No +FULLRESYNC line: the payload comes (after keepalives) at once.
    rdb = fr.rdb()
    assert rdb.startswith(b"REDIS0010")
    m.set("k2", "v2")
    argv, _ = fr.command()
    while argv[0].lower() == b"ping":
        argv, _ = fr.command()
    assert argv == [b"select", b"0"]
    assert fr.command()[0] == [b"set", b"k2", b"v2"]
    fr.close()


def test_replconf_and_wait_without_replicas(store_server):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    fr = FakeReplica(srv.port)
    assert fr.cmd("REPLCONF") == b"+OK\r\n"
    assert fr.cmd("REPLCONF", "listening-port") == (
        b"-ERR syntax error\r\n")
    assert fr.cmd("REPLCONF", "nosuch", "1") == (
        b"-ERR Unrecognized REPLCONF option: nosuch\r\n")
    assert fr.cmd("REPLCONF", "listening-port", "x") == (
        b"-ERR value is not an integer or out of range\r\n")
    assert fr.cmd("REPLCONF", "ip-address", "1.2.3.4", "capa", "eof",
                  "capa", "whatever") == b"+OK\r\n"
    # ACK and GETACK answer nothing.
    fr.send("REPLCONF", "ACK", "5")
    fr.send("REPLCONF", "GETACK", "*")
    assert fr.cmd("PING") == b"+PONG\r\n"
    assert fr.cmd("PSYNC", "?", "x") == (
        b"-ERR value is not an integer or out of range\r\n")
    fr.close()

    assert m.execute_command("WAIT", 0, 0) == 0
    t0 = time.monotonic()
    assert m.execute_command("WAIT", 1, 200) == 0
    assert time.monotonic() - t0 >= 0.18
    with pytest.raises(redis.ResponseError,
                       match="timeout is not an integer or out of range"):
        m.execute_command("WAIT", 1, "x")
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        m.execute_command("WAIT", 1, -1)
    with pytest.raises(redis.ResponseError,
                       match="value is not an integer or out of range"):
        m.execute_command("WAIT", "y", 10)
    i = info(m)
    assert i["role"] == "master" and i["connected_slaves"] == 0
    assert re.fullmatch("[0-9a-f]{40}", str(i["master_replid"]))
    assert i["master_replid2"] == 0          # redis-py: "000...0" -> 0
    assert i["second_repl_offset"] == -1
    assert i["master_failover_state"] == "no-failover"
    assert i["repl_backlog_active"] == 0
    assert i["repl_backlog_size"] == 1048576
    assert m.execute_command("ROLE") == [b"master", 0, []]
    # CONFIG SET repl-backlog-size: at least 16 kB.
    assert m.config_set("repl-backlog-size", "1")
    assert info(m)["repl_backlog_size"] == 16384
    assert m.config_set("repl-backlog-size", "2mb")
    assert info(m)["repl_backlog_size"] == 2 * 1024 * 1024


# ----------------------------------------------------------- a real replica

def start_same_replica(servers, target, tmp_path, master_port,
                       name="replica"):
    """A replica of the kind under test (onebox, or redis-server with
    --target real)."""
    port = free_port()
    data = tmp_path / name
    data.mkdir(exist_ok=True)
    proc = servers(store_argv(target, port, data,
                              {"replicaof": "127.0.0.1 %d" % master_port}),
                   (port,))
    proc.port = port
    proc.client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    return proc


@pytest.mark.parametrize("kind", ["redis", "same"])
def test_replica_syncs_follows_and_resyncs(store_server, servers, target,
                                           tmp_path, kind):
    # The replica is a real redis-server, or a server of the target's
    # kind (onebox -> onebox).
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    populate(m)
    m.set("shortlived", "x", px=300)

    if kind == "redis":
        rep = start_replica(servers, tmp_path, srv.port)
    else:
        rep = start_same_replica(servers, target, tmp_path, srv.port)
    wait_for(lambda: link_up(rep), what="master_link_status:up")
    wait_for(lambda: caught_up(m, rep), what="the replica's offset")
    time.sleep(0.5)            # the short-lived key expires on the master
    m.get("shortlived")        # ... and its DEL is propagated
    m.delete("nosuch")
    wait_for(lambda: caught_up(m, rep), what="the replica's offset")
    assert_same_data(m, rep.client)
    assert rep.client.dbsize() == m.dbsize()

    # Later writes follow, in both dbs.
    m.set("str", "changed")
    m.lpush("list", "new")
    m.hset("hash", "c", "3")
    m.expire("str", 777)
    m.incr("int")
    m.srem("set", "a")
    m.zincrby("zset", 10, "a")
    m.xadd("stream", {"h": "x"}, id="3-1")
    m.delete("bigzset")
    db(m, 3).set("db3key", "again")
    assert m.execute_command("WAIT", 1, 5000) == 1
    wait_for(lambda: caught_up(m, rep), what="the replica's offset")
    assert_same_data(m, rep.client)

    # Master's view.
    i = info(m)
    assert i["connected_slaves"] == 1
    assert i["slave0"]["ip"] == "127.0.0.1"
    assert i["slave0"]["port"] == rep.port
    assert i["slave0"]["state"] == "online"
    assert i["repl_backlog_active"] == 1
    assert i["repl_backlog_histlen"] > 0
    assert i["repl_backlog_first_byte_offset"] >= 1
    role = m.execute_command("ROLE")
    assert role[0] == b"master" and role[1] == i["master_repl_offset"]
    assert role[2][0][:2] == [b"127.0.0.1", str(rep.port).encode()]

    # The master drops the link; writes meanwhile; the replica comes back
    # with PSYNC and continues from the backlog.
    stats = info(m, "stats")
    addrs = [cl["addr"] for cl in m.client_list()
             if cl["cmd"] in ("replconf", "psync", "sync")]
    assert len(addrs) == 1
    assert m.execute_command("CLIENT", "KILL", "ADDR", addrs[0]) == 1
    m.set("during", "the outage")
    wait_for(lambda: info(m, "stats")["sync_partial_ok"]
             == stats["sync_partial_ok"] + 1, what="a partial resync")
    assert info(m, "stats")["sync_full"] == stats["sync_full"]
    wait_for(lambda: link_up(rep), what="the link back up")
    m.set("after", "the outage")
    assert m.execute_command("WAIT", 1, 5000) == 1
    wait_for(lambda: caught_up(m, rep), what="the replica's offset")
    assert rep.client.get("during") == b"the outage"
    assert rep.client.get("after") == b"the outage"
    assert_same_data(m, rep.client)


def test_two_replicas_and_wait(store_server, servers, tmp_path):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    for i in range(200):
        m.set("key:%d" % i, "v" * 50)
    r1 = start_replica(servers, tmp_path, srv.port, "r1")
    r2 = start_replica(servers, tmp_path, srv.port, "r2")
    wait_for(lambda: link_up(r1) and link_up(r2), what="both links up")
    m.set("last", "1")
    assert m.execute_command("WAIT", 2, 5000) == 2
    # WAIT blocks the client until its answer; others are served.
    assert m.execute_command("WAIT", 3, 300) == 2
    for rep in (r1, r2):
        wait_for(lambda: caught_up(m, rep), what="the replica's offset")
        assert rep.client.dbsize() == m.dbsize()
        assert rep.client.get("last") == b"1"
    assert info(m)["connected_slaves"] == 2


def test_backlog_overrun_pings_and_ack_timeout(store_server):
    # A 16 kB backlog (Redis's minimum), PINGs every second, and a replica
    # that never ACKs is dropped after repl-timeout.
    srv = store_server(repl_backlog_size="16kb", repl_ping_replica_period=1,
                       repl_timeout=2)
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", "?", "-1")
    mo = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n",
                      fr.reply_line())
    replid, offset = mo.group(1), int(mo.group(2))
    fr.rdb()
    # PINGs come with no writes at all, in the stream's db (no SELECT).
    argv, size = fr.command()
    assert argv == [b"ping"]
    assert info(m)["master_repl_offset"] >= offset + size
    assert info(m)["repl_backlog_size"] == 16384
    # Never ACKed: dropped after repl-timeout.
    t0 = time.monotonic()
    with pytest.raises((EOFError, ConnectionError)):
        while True:
            fr.command()
    assert 1.5 < time.monotonic() - t0 < 8
    fr.close()
    wait_for(lambda: info(m)["connected_slaves"] == 0, what="the drop")

    # 64 kB of writes later, the old offset is out of the backlog.
    for i in range(64):
        m.set("k%d" % i, "x" * 1000)
    err = info(m, "stats")["sync_partial_err"]
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", replid, offset + 1)
    assert fr.reply_line().startswith(b"+FULLRESYNC " + replid + b" ")
    fr.close()
    assert info(m, "stats")["sync_partial_err"] == err + 1


def test_writes_during_a_big_sync(store_server, servers, tmp_path):
    # A dataset of some megabytes: the RDB goes out in chunks while the
    # replica loads it, and the writes made meanwhile follow it.
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    pipe = m.pipeline(transaction=False)
    for i in range(30000):
        pipe.set("key:%d" % i, "%d:" % i + "v" * 300)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    rep = start_replica(servers, tmp_path, srv.port)
    n = 0
    deadline = time.monotonic() + 20
    while not link_up(rep):
        assert time.monotonic() < deadline, "no sync"
        m.incr("counter")
        m.rpush("during", n)
        n += 1
    for _ in range(100):
        m.incr("counter")
        m.rpush("during", n)
        n += 1
    assert m.execute_command("WAIT", 1, 5000) == 1
    wait_for(lambda: caught_up(m, rep), what="the replica's offset")
    assert rep.client.dbsize() == m.dbsize() == 30002
    assert rep.client.get("counter") == str(n).encode()
    assert rep.client.lrange("during", 0, -1) == [str(i).encode()
                                                  for i in range(n)]
    assert rep.client.get("key:29999") == m.get("key:29999")


def test_chain_and_promotion(store_server, servers, target, tmp_path):
    # master -> A (the server under test, as a replica) -> B (redis-server).
    # A passes its master's stream on as it came; promoted with REPLICAOF
    # NO ONE it keeps the old history as replid2, so B continues with a
    # partial resync.
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    populate(m)
    a_port = free_port()
    a_dir = tmp_path / "a-data"
    a_dir.mkdir()
    a = servers(store_argv(target, a_port, a_dir,
                           {"replicaof": "127.0.0.1 %d" % srv.port}),
                (a_port,))
    a.port = a_port
    a.client = redis.Redis(host="127.0.0.1", port=a_port, socket_timeout=10)
    wait_for(lambda: link_up(a), what="A's link up")
    # The master's stream is in db 3 when B syncs from A: B's RDB says so
    # (AUX repl-stream-db), as no SELECT will come before the next write.
    db(m, 3).set("in db 3", "first")
    wait_for(lambda: caught_up(m, a), what="A's offset")
    b = start_replica(servers, tmp_path, a_port, "b-data")
    wait_for(lambda: link_up(b), what="B's link up")
    db(m, 3).set("db3key", "chained")
    m.set("through", "the chain")
    wait_for(lambda: b.client.get("through") == b"the chain",
             what="the write at B")
    wait_for(lambda: caught_up(m, a) and caught_up(a.client, b),
             what="offsets")
    assert info(a.client)["master_replid"] == info(m)["master_replid"]
    assert (info(a.client)["master_repl_offset"]
            == info(m)["master_repl_offset"])
    assert_same_data(m, b.client)
    assert info(a.client)["connected_slaves"] == 1
    role = a.client.execute_command("ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", srv.port, b"connected"]
    assert isinstance(role[4], int) and role[4] > 0

    old_id = info(a.client)["master_replid"]
    stats = info(a.client, "stats")
    assert a.client.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    i = info(a.client)
    assert i["role"] == "master"
    assert i["master_replid2"] == old_id
    assert i["second_repl_offset"] == i["master_repl_offset"] + 1
    a.client.set("after", "promotion")
    wait_for(lambda: b.client.get("after") == b"promotion",
             what="B follows A")
    assert (info(a.client, "stats")["sync_full"] == stats["sync_full"])
    assert info(b.client)["master_replid"] == i["master_replid"]


def fill(m, n, size=300):
    pipe = m.pipeline(transaction=False)
    for i in range(n):
        pipe.set("key:%d" % i, "%d:" % i + "v" * size)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def test_wait_blocks_until_the_ack(store_server):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", "?", "-1")
    mo = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n",
                      fr.reply_line())
    offset = int(mo.group(2))
    fr.rdb()
    # A write then WAIT from a raw connection: it blocks, and the replica
    # is asked for its offset (REPLCONF GETACK * in the stream).
    w = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    w.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    assert w.recv(100) == b"+OK\r\n"
    w.sendall(b"*3\r\n$4\r\nWAIT\r\n$1\r\n1\r\n$5\r\n10000\r\n")
    while True:
        argv, size = fr.command()
        if argv[:2] == [b"replconf", b"GETACK"]:
            assert argv == [b"replconf", b"GETACK", b"*"]
            break
        offset += size
    w.settimeout(0.3)
    with pytest.raises(socket.timeout):
        w.recv(100)                     # still waiting
    w.settimeout(10)
    fr.send("REPLCONF", "ACK", offset)  # what preceded the GETACK
    assert w.recv(100) == b":1\r\n"
    # Other clients were served meanwhile; one that wrote nothing has
    # nothing to wait for (Redis's c->woff): answered at once.
    t0 = time.monotonic()
    assert m.execute_command("WAIT", 1, 5000) == 1
    assert time.monotonic() - t0 < 1.0
    w.close()
    fr.close()


def test_replica_waits_for_a_running_bgsave(store_server):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    fill(m, 20000)
    forks = info(m, "stats")["total_forks"]
    m.bgsave()
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", "?", "-1")
    head = fr.reply_line()
    assert head.startswith(b"+FULLRESYNC "), head
    assert fr.rdb().startswith(b"REDIS0010")
    # A fork of its own, after the BGSAVE's.
    assert info(m, "stats")["total_forks"] == forks + 2
    m.set("after", "x")
    argv, _ = fr.command()
    while argv[0] == b"ping":
        argv, _ = fr.command()
    assert argv == [b"select", b"0"]
    fr.close()


def test_second_replica_joins_the_running_sync(store_server):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    fill(m, 20000)
    forks = info(m, "stats")["total_forks"]
    a, b = FakeReplica(srv.port), FakeReplica(srv.port)
    a.handshake()
    b.handshake()
    a.send("PSYNC", "?", "-1")
    b.send("PSYNC", "?", "-1")
    head_a, head_b = a.reply_line(), b.reply_line()
    assert head_a.startswith(b"+FULLRESYNC ") and head_a == head_b
    m.set("k", "v")
    ra, rb = a.rdb(), b.rdb()
    assert ra == rb and ra.startswith(b"REDIS0010")
    assert info(m, "stats")["total_forks"] == forks + 1
    for fr in (a, b):
        argv, _ = fr.command()
        while argv[0] == b"ping":
            argv, _ = fr.command()
        assert argv == [b"select", b"0"]
        assert fr.command()[0] == [b"set", b"k", b"v"]
        fr.close()
    assert info(m, "stats")["sync_full"] == 2


def test_a_replica_that_does_not_read_is_dropped(store_server):
    # client-output-buffer-limit replica 256mb: a replica that reads
    # nothing is dropped once that much is pending, not kept growing.
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", "?", "-1")
    fr.reply_line()
    fr.rdb()
    value = "x" * (1024 * 1024)
    for i in range(320):
        m.set("k", value)
        if info(m)["connected_slaves"] == 0:
            break
    assert 200 < i < 300
    fr.close()


def test_replica_authenticates(store_server, servers, tmp_path):
    srv = store_server(requirepass="secret")
    m = redis.Redis(host="127.0.0.1", port=srv.port, password="secret",
                    socket_timeout=10)
    m.set("k", "v")
    # Without the password the replica gets NOAUTH and keeps trying.
    fr = FakeReplica(srv.port)
    assert fr.cmd("PSYNC", "?", "-1") == (
        b"-NOAUTH Authentication required.\r\n")
    fr.close()
    rep = start_replica(servers, tmp_path, srv.port, "replica",
                        "--masterauth", "secret")
    wait_for(lambda: link_up(rep), what="master_link_status:up")
    assert rep.client.get("k") == b"v"
    m.set("k2", "v2")
    assert m.execute_command("WAIT", 1, 5000) == 1
    wait_for(lambda: rep.client.get("k2") == b"v2", what="the write")


def test_stream_as_a_real_master_sends_it(store_server):
    srv = store_server()
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", "?", "-1")
    fr.reply_line()
    fr.rdb()
    c = FakeReplica(srv.port)
    script = [("set", "a", "1"), ("multi",), ("set", "b", "2"),
              ("incr", "b"), ("exec",), ("select", "2"), ("set", "c", "3"),
              ("select", "0"), ("lpush", "l", "x"), ("del", "a", "zz"),
              ("getset", "b", "9"), ("incrbyfloat", "f", "1.5"),
              ("get", "b"), ("flushdb",), ("select", "2"), ("set", "d", "4")]
    for cmd in script:
        c.cmd(*cmd)
    want = [[b"select", b"0"], [b"set", b"a", b"1"], [b"multi"],
            [b"set", b"b", b"2"], [b"incr", b"b"], [b"exec"],
            [b"select", b"2"], [b"set", b"c", b"3"], [b"select", b"0"],
            [b"lpush", b"l", b"x"], [b"del", b"a", b"zz"],
            [b"set", b"b", b"9"], [b"set", b"f", b"1.5", b"KEEPTTL"],
            [b"flushdb"], [b"select", b"2"], [b"set", b"d", b"4"]]
    got = []
    while len(got) < len(want):
        argv, _ = fr.command()
        if argv != [b"ping"]:
            got.append(argv)
    assert got == want
    c.close()
    fr.close()


def test_wait_and_client_unblock(store_server):
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    w = FakeReplica(srv.port)
    wid = int(w.cmd("CLIENT", "ID")[1:-2])
    assert w.cmd("SET", "x", "1") == b"+OK\r\n"
    for error, reply in ((False, b":0\r\n"), (True, b"-UNBLOCKED client "
                                               b"unblocked via CLIENT "
                                               b"UNBLOCK\r\n")):
        w.send("WAIT", "1", "0")
        wait_for(lambda: info(m, "clients")["blocked_clients"] == 1,
                 what="WAIT blocked")
        args = ["ERROR"] if error else []
        assert m.execute_command("CLIENT", "UNBLOCK", wid, *args) == 1
        assert w.line() == reply
        assert info(m, "clients")["blocked_clients"] == 0
    assert w.cmd("PING") == b"+PONG\r\n"
    w.close()


def test_client_kill_by_type(store_server):
    # CLIENT KILL TYPE replica (or slave) ends a replica's link; TYPE
    # normal spares it; TYPE master on a master kills nothing.
    srv = store_server()
    m = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    fr = FakeReplica(srv.port)
    fr.handshake()
    fr.send("PSYNC", "?", "-1")
    assert fr.reply_line().startswith(b"+FULLRESYNC ")
    fr.rdb()
    flags = [ln.split(" flags=")[1].split(" ")[0]
             for ln in m.execute_command("CLIENT", "LIST").decode()
             .splitlines()]
    assert sorted(flags) == ["N", "S"]
    assert m.execute_command("CLIENT", "KILL", "TYPE", "master") == 0
    assert m.execute_command("CLIENT", "KILL", "TYPE", "normal",
                             "SKIPME", "yes") == 0
    assert m.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    with pytest.raises((ConnectionError, EOFError, OSError)):
        for _ in range(100):
            fr.line()
    wait_for(lambda: info(m)["connected_slaves"] == 0,
             what="the replica forgotten")
    fr.close()
