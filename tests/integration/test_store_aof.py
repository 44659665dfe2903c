"""The append-only file (Redis 7.0's multi-part AOF, reference section 6):
the files and the manifest a server with appendonly yes keeps, what
redis-check-aof says of them, replay after SIGTERM and after kill -9, a
truncated tail (aof-load-truncated), an unfinished MULTI, the migration of
an old single appendonly.aof, BGREWRITEAOF (started, scheduled, already in
progress; writes during it), CONFIG SET appendonly at run time, the
automatic rewrite, INFO persistence's aof fields, and write errors on a
full disk (MISCONF, then writes again once there is room).  Every test
runs on both targets unless marked; a restart reuses the same data
directory (tmp_path/store-data)."""
import os
import signal
import subprocess
import time

import pytest
import redis

from obtest import RespConn, encode, free_port, store_argv
from storetest import client_of, plain_value

CHECK_AOF = "redis-check-aof"


def client(srv):
    """A client once the server has loaded its data (redis-server answers
    LOADING meanwhile)."""
    c = client_of(srv, socket_timeout=10)
    c.server = srv
    return c


def aof_dir(tmp_path):
    return tmp_path / "store-data" / "appendonlydir"


def manifest(tmp_path):
    return (aof_dir(tmp_path) / "appendonly.aof.manifest").read_text()


def kill9(srv):
    """kill -9 by the server's pid; the fixture then sees a clean end."""
    os.kill(srv.pid, signal.SIGKILL)
    srv.proc.wait(timeout=10)
    srv.proc = None
    srv.pid = None


def check_aof(tmp_path):
    out = subprocess.run(
        [CHECK_AOF, str(aof_dir(tmp_path) / "appendonly.aof.manifest")],
        capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout + out.stderr


def wait_for(cond, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def wait_rewrite_done(r, timeout=10.0):
    assert wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"]
                    == 0 and r.info("persistence")["aof_rewrite_scheduled"]
                    == 0, timeout)


def start_fails(target, tmp_path, **conf):
    """Starts a server that must refuse to start; returns its output."""
    data = tmp_path / "store-data"
    conf = {k.replace("_", "-"): v for k, v in conf.items()}
    argv = store_argv(target, free_port(), data, conf)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def fill(r):
    """One key of every type that has a command spelling, in two dbs."""
    r.set("s", "hello")
    r.set("n", 41)
    r.incr("n")
    r.rpush("l", *[str(i) for i in range(150)])
    r.hset("h", mapping={"f%d" % i: "v%d" % i for i in range(100)})
    r.sadd("set", *range(70))
    r.sadd("sset", "a", "b", "c")
    r.zadd("z", {"m%d" % i: i / 3 for i in range(80)})
    r.set("ttl", "x", px=500000)
    r2 = redis.Redis(host="127.0.0.1", port=r.server.port, db=3)
    r2.set("in3", "three")
    r2.lpush("l3", "a", "b")
    r2.close()


def snapshot(r):
    """Every key of dbs 0 and 3 with its value (TTLs rounded)."""
    out = {}
    for db in (0, 3):
        c = redis.Redis(host="127.0.0.1", port=r.server.port, db=db)
        for k in c.keys("*"):
            t = c.type(k)
            v = plain_value(c, k, t, other=t)
            ttl = c.pttl(k)
            out[(db, k)] = (t, v, ttl > 0)
        c.close()
    return out


# ------------------------------------------------------------------ files

def test_files_and_manifest_at_start(store_server, tmp_path):
    srv = store_server(appendonly="yes")
    r = client(srv)
    assert r.ping()
    names = sorted(os.listdir(aof_dir(tmp_path)))
    assert names == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof",
                     "appendonly.aof.manifest"]
    assert manifest(tmp_path) == (
        "file appendonly.aof.1.base.rdb seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    base = (aof_dir(tmp_path) / "appendonly.aof.1.base.rdb").read_bytes()
    assert base.startswith(b"REDIS0010") and b"aof-base" in base
    assert (aof_dir(tmp_path) / "appendonly.aof.1.incr.aof").read_bytes() \
        == b""
    code, out = check_aof(tmp_path)
    assert code == 0 and "All AOF files and manifest are valid" in out, out


def test_blocked_pop_served_then_restart(store_server, tmp_path):
    # The pop a blocked client was served with is in the file (its reply
    # waited for the write, like the pusher's).
    srv = store_server(appendonly="yes", appendfsync="always")
    r = client(srv)
    with RespConn(srv.port) as waiter:
        waiter.send("BLPOP", "q", "0")
        time.sleep(0.2)
        r.rpush("q", "a", "b")
        assert waiter.reply() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    data = (aof_dir(tmp_path) / "appendonly.aof.1.incr.aof").read_bytes()
    assert b"*2\r\n$4\r\nLPOP\r\n$1\r\nq\r\n" in data
    kill9(srv)
    r2 = client(store_server(appendonly="yes", appendfsync="always"))
    assert r2.lrange("q", 0, -1) == [b"b"]


def test_resp_base_without_preamble(store_server, tmp_path):
    srv = store_server(appendonly="yes", aof_use_rdb_preamble="no")
    r = client(srv)
    assert r.ping()
    assert manifest(tmp_path) == (
        "file appendonly.aof.1.base.aof seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    r.set("a", "1")
    r.rpush("l", "x", "y")
    assert r.bgrewriteaof()
    wait_rewrite_done(r)
    base = (aof_dir(tmp_path) / "appendonly.aof.2.base.aof").read_bytes()
    assert base.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
    assert b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" in base
    assert b"*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n$1\r\ny\r\n" in base
    code, out = check_aof(tmp_path)
    assert code == 0, out


def test_incr_file_content(store_server, tmp_path):
    srv = store_server(appendonly="yes", appendfsync="always")
    r = client(srv)
    with RespConn(srv.port) as c:
        c.cmd("set", "a", "1")
        c.cmd("incr", "a")
        c.cmd("SELECT", "2")
        c.cmd("SET", "b", "x")
    data = (aof_dir(tmp_path) / "appendonly.aof.1.incr.aof").read_bytes()
    assert data == (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                    b"*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n"
                    b"*2\r\n$4\r\nincr\r\n$1\r\na\r\n"
                    b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"
                    b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nx\r\n")
    code, out = check_aof(tmp_path)
    assert code == 0 and "All AOF files and manifest are valid" in out, out


def test_info_persistence_aof_fields(store_server):
    r = client(store_server(appendonly="yes"))
    keys = [k for k in r.info("persistence") if k.startswith(("aof_",
                                                              "module_"))]
    assert keys == [
        "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
        "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec",
        "aof_last_bgrewrite_status", "aof_rewrites",
        "aof_rewrites_consecutive_failures", "aof_last_write_status",
        "aof_last_cow_size", "module_fork_in_progress",
        "module_fork_last_cow_size", "aof_current_size", "aof_base_size",
        "aof_pending_rewrite", "aof_buffer_length", "aof_pending_bio_fsync",
        "aof_delayed_fsync"]
    info = r.info("persistence")
    assert info["aof_enabled"] == 1 and info["aof_last_write_status"] == "ok"
    before = info["aof_current_size"]
    r.set("k", "v" * 100)
    assert wait_for(lambda: r.info("persistence")["aof_current_size"]
                    > before + 100)


def test_info_aof_off(store_server):
    r = client(store_server())
    info = r.info("persistence")
    assert info["aof_enabled"] == 0
    assert "aof_current_size" not in info
    assert info["aof_last_bgrewrite_status"] == "ok"


# ----------------------------------------------------------------- replay

@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_replay_after_restart(store_server, tmp_path, how):
    srv = store_server(appendonly="yes", appendfsync="always")
    r = client(srv)
    fill(r)
    r.delete("sset")
    with r.pipeline(transaction=True) as p:
        p.set("tx1", "a").incr("tx2").execute()
    want = snapshot(r)
    if how == "sigterm":
        srv.terminate(signal.SIGTERM)
    else:
        kill9(srv)
    code, out = check_aof(tmp_path)
    assert code == 0, out
    r2 = client(store_server(appendonly="yes", appendfsync="always"))
    assert snapshot(r2) == want


def test_replay_resp_base_after_rewrite(store_server, tmp_path):
    srv = store_server(appendonly="yes", aof_use_rdb_preamble="no")
    r = client(srv)
    fill(r)
    r.bgrewriteaof()
    wait_rewrite_done(r)
    r.set("after", "1")
    want = snapshot(r)
    srv.terminate(signal.SIGTERM)
    r2 = client(store_server(appendonly="yes", aof_use_rdb_preamble="no"))
    assert snapshot(r2) == want


def stream_state(r):
    out = {}
    for k in (b"st", b"empty"):
        info = r.xinfo_stream(k)
        out[k] = {
            "info": {f: info[f] for f in ("length", "last-generated-id",
                                          "max-deleted-entry-id",
                                          "entries-added", "groups")},
            "range": r.xrange(k),
            "groups": [{f: g[f] for f in ("name", "consumers", "pending",
                                          "last-delivered-id",
                                          "entries-read", "lag")}
                       for g in r.xinfo_groups(k)],
        }
        for g in r.xinfo_groups(k):
            out[k][g["name"]] = (
                sorted((c["name"], c["pending"])
                       for c in r.xinfo_consumers(k, g["name"])),
                [(p["message_id"], p["consumer"], p["times_delivered"])
                 for p in r.xpending_range(k, g["name"], "-", "+", 100)])
    return out


def test_resp_base_streams(store_server, tmp_path):
    srv = store_server(appendonly="yes", aof_use_rdb_preamble="no")
    r = client(srv)
    for i in range(10):
        r.xadd("st", {"f": i, "g": "x" * i}, id="1-%d" % (i + 1))
    r.xadd("st", {"other": "fields"}, id="2-0")
    r.xdel("st", "1-3")
    r.xgroup_create("st", "grp", id="0")
    r.xreadgroup("grp", "alice", {"st": ">"}, count=3)
    r.xreadgroup("grp", "bob", {"st": ">"}, count=2)
    r.xreadgroup("grp", "alice", {"st": "0"})        # delivered twice
    r.xack("st", "grp", "1-2")
    r.xgroup_createconsumer("st", "grp", "carol")
    r.xgroup_create("st", "late", id="$")
    r.xadd("empty", {"a": "1"}, id="5-5")
    r.xdel("empty", "5-5")
    want = stream_state(r)
    r.bgrewriteaof()
    wait_rewrite_done(r)
    base = (aof_dir(tmp_path) / "appendonly.aof.2.base.aof").read_bytes()
    assert base.startswith(b"*")                    # RESP, not an RDB
    for cmd in (b"XADD", b"XSETID", b"XGROUP", b"CREATECONSUMER", b"XCLAIM",
                b"ENTRIESADDED", b"MAXDELETEDID", b"ENTRIESREAD", b"JUSTID"):
        assert cmd in base, cmd
    assert b"$4\r\nXADD\r\n$5\r\nempty\r\n$6\r\nMAXLEN\r\n$1\r\n0\r\n" \
        b"$3\r\n0-1\r\n" in base
    assert check_aof(tmp_path)[0] == 0
    srv.terminate(signal.SIGTERM)
    r2 = client(store_server(appendonly="yes", aof_use_rdb_preamble="no"))
    assert stream_state(r2) == want


def test_truncated_tail(store_server, target, tmp_path):
    srv = store_server(appendonly="yes", appendfsync="always")
    r = client(srv)
    for i in range(20):
        r.set("k%d" % i, "v%d" % i)
    srv.terminate(signal.SIGTERM)
    incr = aof_dir(tmp_path) / "appendonly.aof.1.incr.aof"
    size = incr.stat().st_size
    os.truncate(incr, size - 3)          # the last SET loses its end
    out = start_fails(target, tmp_path, appendonly="yes",
                      aof_load_truncated="no")
    assert "Unexpected end of file reading the append only file" in out, out
    assert incr.stat().st_size == size - 3
    r2 = client(store_server(appendonly="yes", aof_load_truncated="yes"))
    assert r2.get("k18") == b"v18"
    assert r2.get("k19") is None
    assert r2.dbsize() == 19
    # The file was cut at the last complete command.
    assert check_aof(tmp_path)[0] == 0


def test_unfinished_multi_is_dropped(store_server, tmp_path):
    srv = store_server(appendonly="yes")
    r = client(srv)
    r.set("before", "1")
    srv.terminate(signal.SIGTERM)
    incr = aof_dir(tmp_path) / "appendonly.aof.1.incr.aof"
    good = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n")
    r2 = client(store_server(appendonly="yes"))
    assert r2.get("before") == b"1"
    assert r2.get("x") is None
    assert incr.stat().st_size == good


def test_bad_format_refuses_to_start(store_server, target, tmp_path):
    srv = store_server(appendonly="yes")
    client(srv).set("a", "1")
    srv.terminate(signal.SIGTERM)
    with open(aof_dir(tmp_path) / "appendonly.aof.1.incr.aof", "ab") as f:
        f.write(b"garbage\r\n")
    out = start_fails(target, tmp_path, appendonly="yes")
    assert "Bad file format reading the append only file" in out, out


def test_unknown_command_refuses_to_start(store_server, target, tmp_path):
    srv = store_server(appendonly="yes")
    client(srv).set("a", "1")
    srv.terminate(signal.SIGTERM)
    with open(aof_dir(tmp_path) / "appendonly.aof.1.incr.aof", "ab") as f:
        f.write(b"*2\r\n$7\r\nNOSUCHX\r\n$1\r\na\r\n")
    out = start_fails(target, tmp_path, appendonly="yes")
    assert "Unknown command 'NOSUCHX' reading the append only file " \
        "appendonly.aof.1.incr.aof" in out, out


def test_annotations_are_skipped(store_server, tmp_path):
    srv = store_server(appendonly="yes")
    client(srv).set("a", "1")
    srv.terminate(signal.SIGTERM)
    with open(aof_dir(tmp_path) / "appendonly.aof.1.incr.aof", "ab") as f:
        f.write(b"#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n")
    r2 = client(store_server(appendonly="yes"))
    assert r2.mget("a", "b") == [b"1", b"2"]


def test_handwritten_manifest_loads(store_server, tmp_path):
    d = aof_dir(tmp_path)
    d.mkdir(parents=True)
    (d / "appendonly.aof.manifest").write_text(
        "# a comment\n"
        "file appendonly.aof.1.base.aof seq 1 type b\n"
        "seq 1 type i file appendonly.aof.1.incr.aof\n")
    (d / "appendonly.aof.1.base.aof").write_bytes(
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n"
        b"$4\r\nbase\r\n")
    (d / "appendonly.aof.1.incr.aof").write_bytes(
        b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$4\r\nincr\r\n")
    r = client(store_server(appendonly="yes"))
    assert r.mget("a", "b") == [b"base", b"incr"]
    r.set("c", "new")
    data = (d / "appendonly.aof.1.incr.aof").read_bytes()
    assert data.endswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                         b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$3\r\nnew\r\n")


def test_truncated_file_not_last_refuses_to_start(store_server, target,
                                                  tmp_path):
    # Only the last file may be cut: a short read in an earlier incr stops
    # the start even with aof-load-truncated yes.
    d = aof_dir(tmp_path)
    d.mkdir(parents=True)
    (d / "appendonly.aof.manifest").write_text(
        "file appendonly.aof.1.base.aof seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n")
    (d / "appendonly.aof.1.base.aof").write_bytes(b"")
    (d / "appendonly.aof.1.incr.aof").write_bytes(
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1")
    (d / "appendonly.aof.2.incr.aof").write_bytes(
        b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n")
    out = start_fails(target, tmp_path, appendonly="yes",
                      aof_load_truncated="yes")
    assert "Fatal error: the truncated file is not the last file" in out, out


def test_truncated_base_refuses_to_start(store_server, target, tmp_path):
    srv = store_server(appendonly="yes")
    r = client(srv)
    r.set("a", "x" * 100)
    r.bgrewriteaof()
    wait_rewrite_done(r)
    srv.terminate(signal.SIGTERM)
    base = aof_dir(tmp_path) / "appendonly.aof.2.base.rdb"
    os.truncate(base, base.stat().st_size - 20)
    start_fails(target, tmp_path, appendonly="yes")


def test_missing_listed_file_refuses_to_start(store_server, target,
                                              tmp_path):
    srv = store_server(appendonly="yes")
    client(srv).set("a", "1")
    srv.terminate(signal.SIGTERM)
    os.unlink(aof_dir(tmp_path) / "appendonly.aof.1.incr.aof")
    out = start_fails(target, tmp_path, appendonly="yes")
    assert "appendonly.aof.1.incr.aof" in out, out


def test_legacy_single_file_is_migrated(store_server, tmp_path):
    data = tmp_path / "store-data"
    data.mkdir(exist_ok=True)
    (data / "appendonly.aof").write_bytes(
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
        b"*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nstyle\r\n")
    r = client(store_server(appendonly="yes"))
    assert r.get("old") == b"style"
    assert not (data / "appendonly.aof").exists()
    assert manifest(tmp_path) == (
        "file appendonly.aof seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    r.set("new", "1")
    r.server.terminate(signal.SIGTERM)
    r2 = client(store_server(appendonly="yes"))
    assert r2.mget("old", "new") == [b"style", b"1"]


def test_legacy_file_with_rdb_preamble(store_server, tmp_path):
    # An old appendonly.aof of Redis 4-6: an RDB, then RESP commands.
    data = tmp_path / "store-data"
    srv = store_server()
    r = client(srv)
    r.set("a", "from-rdb")
    r.rpush("l", "x", "y")
    assert r.save()
    srv.terminate(signal.SIGTERM)
    rdb = (data / "dump.rdb").read_bytes()
    os.unlink(data / "dump.rdb")
    (data / "appendonly.aof").write_bytes(
        rdb + b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
        b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$9\r\nfrom-tail\r\n")
    r2 = client(store_server(appendonly="yes"))
    assert r2.mget("a", "b") == [b"from-rdb", b"from-tail"]
    assert r2.lrange("l", 0, -1) == [b"x", b"y"]
    assert manifest(tmp_path).startswith("file appendonly.aof seq 1 type b\n")


# ------------------------------------------------------------ rewrites

def test_bgrewriteaof_replies(store_server, tmp_path):
    r = client(store_server(appendonly="yes"))
    r.set("a", "1")
    # Both in one packet: the child cannot have been reaped in between.
    with RespConn(r.server.port) as c:
        c.send_raw(encode("BGREWRITEAOF") + encode("BGREWRITEAOF"))
        assert c.reply() == b"+Background append only file rewriting " \
            b"started\r\n"
        assert c.reply() == b"-ERR Background append only file rewriting " \
            b"already in progress\r\n"
        wait_rewrite_done(r)
        c.send_raw(encode("BGSAVE") + encode("BGREWRITEAOF"))
        assert c.reply() == b"+Background saving started\r\n"
        assert c.reply() == b"+Background append only file rewriting " \
            b"scheduled\r\n"
    wait_rewrite_done(r)
    assert r.info("persistence")["aof_rewrites"] == 2
    assert manifest(tmp_path) == (
        "file appendonly.aof.3.base.rdb seq 3 type b\n"
        "file appendonly.aof.3.incr.aof seq 3 type i\n")
    # History files are deleted in the background (Redis: bio).
    assert wait_for(lambda: sorted(os.listdir(aof_dir(tmp_path))) == [
        "appendonly.aof.3.base.rdb", "appendonly.aof.3.incr.aof",
        "appendonly.aof.manifest"])


def test_bgrewriteaof_in_exec_is_scheduled(store_server, tmp_path):
    r = client(store_server(appendonly="yes"))
    r.set("a", "1")
    with RespConn(r.server.port) as c:
        assert c.cmd("MULTI") == b"+OK\r\n"
        assert c.cmd("BGREWRITEAOF") == b"+QUEUED\r\n"
        assert c.cmd("EXEC") == (b"*1\r\n+Background append only file "
                                 b"rewriting scheduled\r\n")
    assert wait_for(lambda: r.info("persistence")["aof_rewrites"] == 1)
    wait_rewrite_done(r)
    assert "appendonly.aof.2.base.rdb" in manifest(tmp_path)


def test_command_info_bgrewriteaof(store_server):
    r = client(store_server())
    (info,) = r.execute_command("COMMAND INFO", "bgrewriteaof")
    assert info[0] == b"bgrewriteaof" and info[1] == 1
    assert info[2] == [b"admin", b"noscript", b"no_async_loading"]
    assert info[3:6] == [0, 0, 0]
    assert info[6] == [b"@admin", b"@slow", b"@dangerous"]
    with RespConn(r.server.port) as c:
        assert c.cmd("BGREWRITEAOF", "x") == (
            b"-ERR wrong number of arguments for 'bgrewriteaof' command\r\n")


def test_bgrewriteaof_with_writes_then_restart(store_server, tmp_path):
    srv = store_server(appendonly="yes", appendfsync="everysec")
    r = client(srv)
    fill(r)
    with r.pipeline(transaction=False) as p:
        for i in range(3000):
            p.set("w%d" % i, i)
        p.execute()
    assert r.bgrewriteaof()
    # Writes go on while the child writes the base: they land in the new
    # incr, opened when the rewrite began.
    for i in range(300):
        r.incr("counter")
        r.set("during%d" % i, i)
    wait_rewrite_done(r)
    for i in range(100):
        r.set("after%d" % i, i)
    info = r.info("persistence")
    assert info["aof_last_bgrewrite_status"] == "ok"
    assert info["aof_base_size"] > 0
    want = snapshot(r)
    code, out = check_aof(tmp_path)
    assert code == 0 and "All AOF files and manifest are valid" in out, out
    srv.terminate(signal.SIGTERM)
    r2 = client(store_server(appendonly="yes"))
    assert snapshot(r2) == want
    assert r2.get("counter") == b"300"


def test_config_set_appendonly_at_runtime(store_server, tmp_path):
    srv = store_server()
    r = client(srv)
    fill(r)
    assert not aof_dir(tmp_path).exists()
    assert r.config_set("appendonly", "yes")
    r.set("while", "enabling")
    wait_rewrite_done(r)
    assert r.info("persistence")["aof_enabled"] == 1
    assert manifest(tmp_path) == (
        "file appendonly.aof.1.base.rdb seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    r.set("enabled", "1")
    want = snapshot(r)
    assert check_aof(tmp_path)[0] == 0
    # appendonly no: nothing more is written.
    assert r.config_set("appendonly", "no")
    incr = aof_dir(tmp_path) / "appendonly.aof.1.incr.aof"
    size = incr.stat().st_size
    r.set("not-logged", "1")
    assert incr.stat().st_size == size
    assert r.info("persistence")["aof_enabled"] == 0
    srv.terminate(signal.SIGTERM)
    r2 = client(store_server(appendonly="yes"))
    assert snapshot(r2) == want


def test_config_set_appendonly_during_bgsave(store_server, tmp_path):
    r = client(store_server())
    r.set("a", "1")
    with RespConn(r.server.port) as c:
        c.send_raw(encode("BGSAVE") + encode("CONFIG", "SET", "appendonly",
                                             "yes"))
        assert c.reply() == b"+Background saving started\r\n"
        assert c.reply() == b"+OK\r\n"
    # The rewrite that makes the base starts once the BGSAVE is done.
    assert wait_for(lambda: r.info("persistence")["aof_rewrites"] == 1)
    wait_rewrite_done(r)
    r.set("b", "2")
    assert manifest(tmp_path) == (
        "file appendonly.aof.1.base.rdb seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    r.server.terminate(signal.SIGTERM)
    r2 = client(store_server(appendonly="yes"))
    assert r2.mget("a", "b") == [b"1", b"2"]


def test_auto_rewrite(store_server, tmp_path):
    r = client(store_server(appendonly="yes",
                            auto_aof_rewrite_percentage="100",
                            auto_aof_rewrite_min_size="1kb"))
    for i in range(200):
        r.set("k%d" % i, "x" * 50)
    assert wait_for(lambda: r.info("persistence")["aof_rewrites"] >= 1)
    wait_rewrite_done(r)
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    assert r.dbsize() == 200
    assert check_aof(tmp_path)[0] == 0


def test_bgrewriteaof_with_appendonly_no(store_server, tmp_path):
    r = client(store_server())
    r.set("a", "1")
    assert r.bgrewriteaof()
    wait_rewrite_done(r)
    assert manifest(tmp_path) == "file appendonly.aof.1.base.rdb seq 1 type b\n"
    assert r.info("persistence")["aof_enabled"] == 0
    # Enabling later goes on from the manifest's numbers.
    assert r.config_set("appendonly", "yes")
    wait_rewrite_done(r)
    assert manifest(tmp_path) == (
        "file appendonly.aof.2.base.rdb seq 2 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    assert wait_for(lambda: sorted(os.listdir(aof_dir(tmp_path))) == [
        "appendonly.aof.1.incr.aof", "appendonly.aof.2.base.rdb",
        "appendonly.aof.manifest"])


# ------------------------------------------------------------- disk errors

@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs as the data directory (we are root); skipped if the
    mount fails."""
    data = tmp_path / "store-data"
    data.mkdir(exist_ok=True)
    # A run killed before its finalizers left its tmpfs mounted; pytest
    # then renames that old base directory to garbage-*: unmount those.
    with open("/proc/self/mounts") as f:
        for line in f:
            where = line.split()[1]
            if "/garbage-" in where and where.endswith("/store-data") \
                    and line.startswith("tmpfs "):
                subprocess.run(["umount", "-l", where], capture_output=True)
    rc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs",
                         str(data)], capture_output=True)
    if rc.returncode != 0:
        pytest.skip("cannot mount a tmpfs: %s" % rc.stderr.decode())
    try:
        yield data
    finally:
        # The servers are stopped by now (tests list this fixture before
        # store_server, so it is torn down after); a lazy unmount if not.
        for _ in range(20):
            if subprocess.run(["umount", str(data)],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(data)], capture_output=True)


def fill_disk(data):
    filler = data / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def test_disk_full_misconf_then_recovers(small_disk, store_server):
    # everysec: Redis refuses writes with MISCONF (under always it exits)
    srv = store_server(appendonly="yes", appendfsync="everysec")
    r = client(srv)
    r.set("ok", "1")
    filler = fill_disk(small_disk)
    # Writes that fit in what is left go through, the first that does not
    # fails to be written, and then writes are refused.
    refused = None
    for i in range(2000):
        try:
            r.set("big%d" % i, "x" * 4096)
        except redis.exceptions.ConnectionError:
            continue
        except redis.ResponseError as e:
            refused = str(e)
            break
    assert refused is not None
    assert refused.startswith("MISCONF Errors writing to the AOF file: "
                              "No space left on device"), refused
    assert r.info("persistence")["aof_last_write_status"] == "err"
    assert r.get("ok") == b"1"          # reads still work
    os.unlink(filler)
    assert wait_for(lambda: r.info("persistence")["aof_last_write_status"]
                    == "ok", timeout=5)
    assert r.set("again", "1")
    srv.terminate(signal.SIGTERM)
    r2 = client(store_server(appendonly="yes"))
    assert r2.get("again") == b"1" and r2.get("ok") == b"1"


@pytest.mark.onebox_only
def test_disk_full_always_closes_unsynced_clients(small_disk, store_server):
    # Under always, Redis exits on a failed write; onebox refuses instead:
    # the clients whose writes were not written lose their connection
    # rather than get a reply, and later writes get MISCONF.
    srv = store_server(appendonly="yes", appendfsync="always")
    r = client(srv)
    r.set("ok", "1")
    filler = fill_disk(small_disk)
    acked = []
    lost = 0
    for i in range(2000):
        try:
            r.set("big%d" % i, "x" * 4096)
            acked.append(i)
        except redis.exceptions.ConnectionError:
            lost += 1
            continue
        except redis.ResponseError as e:
            assert str(e).startswith("MISCONF Errors writing to the AOF "
                                     "file: No space left on device")
            break
    assert lost >= 1
    os.unlink(filler)
    assert wait_for(lambda: r.info("persistence")["aof_last_write_status"]
                    == "ok", timeout=5)
    r.set("again", "1")
    kill9(srv)
    r2 = client(store_server(appendonly="yes"))
    for i in acked:
        assert r2.exists("big%d" % i), i
    assert r2.get("again") == b"1"


@pytest.mark.onebox_only
def test_file_size_limit_efbig(store_server, tmp_path):
    srv = store_server(appendonly="yes", appendfsync="everysec")
    r = client(srv)
    r.set("a", "1")
    incr = aof_dir(tmp_path) / "appendonly.aof.1.incr.aof"
    limit = incr.stat().st_size + 10000
    subprocess.run(["prlimit", "--pid", str(srv.pid),
                    "--fsize=%d:unlimited" % limit], check=True)
    refused = None
    for i in range(100):
        try:
            r.set("k%d" % i, "y" * 1000)
        except redis.exceptions.ConnectionError:
            continue            # the batch whose write failed
        except redis.ResponseError as e:
            refused = str(e)
            break
    # A short write is reported as ENOSPC, as Redis does; a write that
    # wrote nothing has the real errno.
    assert refused in ("MISCONF Errors writing to the AOF file: File too "
                       "large", "MISCONF Errors writing to the AOF file: No "
                       "space left on device"), refused
    assert incr.stat().st_size <= limit
    subprocess.run(["prlimit", "--pid", str(srv.pid), "--fsize=unlimited:unlimited"],
                   check=True)
    assert wait_for(lambda: r.info("persistence")["aof_last_write_status"]
                    == "ok", timeout=5)
    r.set("z", "1")
    assert check_aof(tmp_path)[0] == 0
