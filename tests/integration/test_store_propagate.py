"""Command propagation (Redis 7.0's call() -> propagate()): what each write
appends to the AOF, in the normalised form a real 7.0.15 writes (reference
§6.2 and §7.3): relative expiries become absolute (PEXPIREAT, SET ... PXAT),
random or generated effects become what they did (SPOP -> SREM, XADD * ->
XADD <id>, blocking pops -> their plain forms), several commands of one
call are wrapped in MULTI/EXEC, a key found expired is a DEL in the same
batch, and a command that changed nothing is not written.  Each test runs
commands on a server with appendonly yes / appendfsync always and parses
the incr file of its appendonlydir."""
import glob
import os
import re
import threading
import time

import pytest
import redis

from obtest import RespConn
from storetest import ReplLink


@pytest.fixture
def aof(store_server, tmp_path):
    srv = store_server(appendonly="yes", appendfsync="always")
    client = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    client.server = srv
    client.aof_dir = tmp_path / "store-data" / "appendonlydir"
    yield client
    client.close()


def parse_resp(data):
    """The commands of an AOF file (RESP arrays of bulk strings)."""
    out, i = [], 0
    while i < len(data):
        assert data[i:i + 1] == b"*", data[i:i + 60]
        j = data.index(b"\r\n", i)
        n, i = int(data[i + 1:j]), j + 2
        argv = []
        for _ in range(n):
            assert data[i:i + 1] == b"$", data[i:i + 60]
            j = data.index(b"\r\n", i)
            ln, i = int(data[i + 1:j]), j + 2
            argv.append(data[i:i + ln].decode("latin1"))
            assert data[i + ln:i + ln + 2] == b"\r\n"
            i += ln + 2
        out.append(argv)
    return out


def written(r):
    """Every command the server has written to its incr file so far."""
    deadline = time.time() + 5
    while True:
        files = sorted(glob.glob(os.path.join(str(r.aof_dir),
                                              "*.incr.aof")))
        if files or time.time() > deadline:
            break
        time.sleep(0.02)
    assert len(files) == 1, files
    with open(files[0], "rb") as f:
        return parse_resp(f.read())


class Ms:
    """An absolute Unix time in ms, about now + offset_ms."""
    def __init__(self, offset_ms=0, exact=None):
        self.offset, self.exact = offset_ms, exact

    def __eq__(self, other):
        if self.exact is not None:
            return other == str(self.exact)
        try:
            v = int(other)
        except (TypeError, ValueError):
            return False
        return abs(v - (time.time() * 1000 + self.offset)) < 10000

    def __repr__(self):
        return "Ms(now%+d)" % self.offset


class Any:
    def __eq__(self, other):
        return True

    def __repr__(self):
        return "Any"


def s(*words):
    """A command as a list of strings ("set k v" or separate words)."""
    if len(words) == 1 and isinstance(words[0], str):
        return words[0].split()
    return [w if not isinstance(w, (int, float)) else str(w) for w in words]


def since(r, before):
    """The commands written after the first `before` ones."""
    return written(r)[before:]


def mark(r, name="mark"):
    """Writes SET <name> 1 and returns how many commands the file holds,
    so a test can look at what comes after."""
    r.execute_command("SET", name, "1")
    return len(written(r))


# ---- the basics --------------------------------------------------------------


def test_as_received_case_kept_and_select_first(aof):
    aof.execute_command("set", "a", "1")
    aof.execute_command("SeT", "b", "2")
    aof.execute_command("del", "missing")           # nothing changed
    aof.execute_command("get", "a")                 # a read
    aof.execute_command("expire", "missing", "10")  # nothing changed
    aof.execute_command("select", "2")              # never written itself
    aof.execute_command("incr", "n")
    aof.execute_command("select", "0")
    aof.execute_command("del", "a", "b", "zz")
    assert written(aof) == [s("SELECT 0"), s("set a 1"), s("SeT b 2"),
                            s("SELECT 2"), s("incr n"), s("SELECT 0"),
                            s("del a b zz")]


def test_multi_exec_wrapping(aof):
    p = aof.pipeline(transaction=True)
    p.execute_command("set", "m", "1")
    p.execute_command("incr", "m")
    p.execute()
    p = aof.pipeline(transaction=True)           # one write: not wrapped
    p.execute_command("set", "one", "1")
    p.execute_command("get", "one")
    p.execute()
    p = aof.pipeline(transaction=True)           # no write: nothing
    p.execute_command("get", "one")
    p.execute()
    aof.execute_command("select", "2")
    p = aof.pipeline(transaction=True)           # SELECT inside
    p.execute_command("set", "x", "1")
    p.execute_command("select", "3")
    p.execute_command("set", "y", "1")
    p.execute()
    aof.execute_command("select", "0")
    aof.execute_command("set", "end", "1")
    assert written(aof) == [
        s("SELECT 0"), s("MULTI"), s("set m 1"), s("incr m"), s("EXEC"),
        s("set one 1"),
        s("SELECT 2"), s("MULTI"), s("set x 1"), s("SELECT 3"),
        s("set y 1"), s("EXEC"),
        s("SELECT 0"), s("set end 1")]


def test_exec_aborted_by_watch_writes_nothing(aof):
    n = mark(aof)
    other = redis.Redis(host="127.0.0.1", port=aof.server.port)
    conn = aof.pipeline(transaction=True)
    conn.watch("w")
    other.execute_command("set", "w", "changed")
    conn.multi()
    conn.set("w", "mine")
    with pytest.raises(redis.WatchError):
        conn.execute()
    other.close()
    assert since(aof, n) == [s("set w changed")]


def test_flush_and_swapdb_on_empty_dbs_are_written(aof):
    aof.execute_command("flushall")
    aof.execute_command("flushdb")
    aof.execute_command("swapdb", "0", "1")
    aof.execute_command("select", "5")
    aof.execute_command("flushdb")
    assert written(aof) == [s("SELECT 0"), s("flushall"), s("flushdb"),
                            s("swapdb 0 1"), s("SELECT 5"), s("flushdb")]


def test_publish_is_not_written(aof):
    n = mark(aof)
    aof.execute_command("publish", "ch", "hello")
    aof.execute_command("set", "after", "1")
    assert since(aof, n) == [s("set after 1")]


# ---- expiry -------------------------------------------------------------------


def test_relative_expiries_become_absolute(aof):
    aof.execute_command("set", "a", "1")
    aof.execute_command("SET", "b", "1", "EX", "100")
    aof.execute_command("set", "c", "1", "px", "100000", "get")
    aof.execute_command("set", "d", "1", "exat", "1900000000", "nx")
    aof.execute_command("set", "e", "1", "keepttl", "xx")  # nothing
    aof.execute_command("set", "d2", "1", "pxat", "1900000000123", "nx")
    aof.execute_command("setex", "f", "50", "x")
    aof.execute_command("psetex", "g", "50000", "x")
    aof.execute_command("getex", "f", "persist")
    aof.execute_command("getex", "g", "ex", "100")
    aof.execute_command("getex", "g")
    aof.execute_command("getex", "g", "pxat", "1900000000000")
    aof.execute_command("expire", "a", "100")
    aof.execute_command("pexpire", "a", "200000", "gt")
    aof.execute_command("expireat", "a", "1900000000")
    aof.execute_command("pexpireat", "a", "1900000000001")
    aof.execute_command("expire", "a", "10", "nx")       # refused: nothing
    aof.execute_command("persist", "a")
    aof.execute_command("persist", "a")                  # nothing
    assert written(aof) == [
        s("SELECT 0"), s("set a 1"),
        ["SET", "b", "1", "PXAT", Ms(100000)],
        ["SET", "c", "1", "PXAT", Ms(100000)],
        s("SET d 1 PXAT 1900000000000"),
        s("SET d2 1 PXAT 1900000000123"),
        ["SET", "f", "x", "PXAT", Ms(50000)],
        ["SET", "g", "x", "PXAT", Ms(50000)],
        s("PERSIST f"),
        ["PEXPIREAT", "g", Ms(100000)],
        s("PEXPIREAT g 1900000000000"),
        ["PEXPIREAT", "a", Ms(100000)],
        ["PEXPIREAT", "a", Ms(200000), "gt"],
        s("PEXPIREAT a 1900000000000"),
        s("pexpireat a 1900000000001"),
        s("persist a")]


def test_expiry_in_the_past_is_a_del(aof):
    aof.execute_command("set", "a", "1")
    aof.execute_command("set", "b", "1")
    aof.execute_command("set", "c", "1")
    aof.execute_command("expire", "a", "-1")
    aof.execute_command("pexpireat", "b", "1")
    aof.execute_command("getex", "c", "exat", "1")
    assert written(aof)[4:] == [s("DEL a"), s("DEL b"), s("DEL c")]


def lazy_expire_case(aof, keys, action, expected):
    """Keys with a 1 ms TTL that `action` finds expired.  The active cycle
    runs every 100 ms (hz 10): when it deleted a key first (a collision),
    the case is tried again."""
    for attempt in range(6):
        for k in keys:
            aof.execute_command("set", k, "1", "px", "1")
        time.sleep(0.003)
        n = mark(aof, "mark%d" % attempt)
        action()
        got = since(aof, n)
        if got == expected:
            return
    assert got == expected


def test_lazy_expire_del_joins_the_call(aof):
    lazy_expire_case(aof, ["k1"], lambda: aof.execute_command("incr", "k1"),
                     [s("MULTI"), s("DEL k1"), s("incr k1"), s("EXEC")])
    lazy_expire_case(aof, ["k2"], lambda: aof.execute_command("get", "k2"),
                     [s("DEL k2")])
    lazy_expire_case(aof, ["k3", "k4"],
                     lambda: aof.execute_command("mget", "k3", "k4"),
                     [s("MULTI"), s("DEL k3"), s("DEL k4"), s("EXEC")])

    def tx():
        p = aof.pipeline(transaction=True)
        p.execute_command("set", "z", "1")
        p.execute_command("get", "k5")
        p.execute()
    lazy_expire_case(aof, ["k5"], tx,
                     [s("MULTI"), s("set z 1"), s("DEL k5"), s("EXEC")])


# ---- values computed by the server ----------------------------------------------


def test_float_increments_become_their_result(aof):
    aof.execute_command("incrbyfloat", "n", "1.5")
    aof.execute_command("incrbyfloat", "n", "3.0e2")
    aof.execute_command("hincrbyfloat", "h", "f", "1.5")
    aof.execute_command("hincrbyfloat", "h", "f", "1e3")
    assert written(aof) == [s("SELECT 0"), s("SET n 1.5 KEEPTTL"),
                            s("SET n 301.5 KEEPTTL"), s("HSET h f 1.5"),
                            s("HSET h f 1001.5")]


def test_spop_becomes_srem_or_del(aof):
    aof.execute_command("sadd", "s", "a", "b", "c", "d")
    m1 = aof.execute_command("spop", "s").decode()
    m23 = [m.decode() for m in aof.execute_command("spop", "s", "2")]
    aof.execute_command("spop", "s", "5")            # takes the rest
    aof.execute_command("spop", "s")                 # nothing
    aof.execute_command("sadd", "t", "a", "b", "c")
    aof.execute_command("spop", "t", "0")            # nothing
    aof.execute_command("sadd", "u", "a")
    aof.execute_command("spop", "u")
    aof.execute_command("srandmember", "t")          # a read
    assert written(aof) == [
        s("SELECT 0"), s("sadd s a b c d"), s("SREM", "s", m1),
        s("MULTI"), s("SREM", "s", m23[0]), s("SREM", "s", m23[1]),
        s("EXEC"), s("DEL s"), s("sadd t a b c"), s("sadd u a"),
        s("SREM u a")]


def test_spop_count_most_of_a_set(aof):
    aof.execute_command("sadd", "s", *"abcdefg")
    got = [m.decode() for m in aof.execute_command("spop", "s", "6")]
    assert written(aof) == ([s("SELECT 0"), s("sadd s a b c d e f g"),
                             s("MULTI")] + [s("SREM", "s", m) for m in got]
                            + [s("EXEC")])


# ---- pops ---------------------------------------------------------------------


def test_mpop_becomes_pop_with_count(aof):
    aof.execute_command("rpush", "l", "a", "b", "c", "d")
    aof.execute_command("lpop", "l", "0")           # nothing
    aof.execute_command("lmpop", "2", "nol", "l", "LEFT", "count", "5")
    aof.execute_command("rpush", "l", "x", "y")
    aof.execute_command("lmpop", "1", "l", "right")
    aof.execute_command("zadd", "z", "1", "a", "2", "b", "3", "c")
    aof.execute_command("zmpop", "1", "z", "MIN")
    aof.execute_command("zmpop", "1", "z", "max", "count", "9")
    aof.execute_command("zmpop", "1", "z", "max", "count", "9")  # nothing
    assert written(aof) == [
        s("SELECT 0"), s("rpush l a b c d"), s("LPOP l 4"),
        s("rpush l x y"), s("RPOP l 1"), s("zadd z 1 a 2 b 3 c"),
        s("ZPOPMIN z 1"), s("ZPOPMAX z 2")]


def test_blocking_pops_served_at_once(aof):
    aof.execute_command("rpush", "l", "a", "b", "c", "d")
    aof.execute_command("blpop", "nol", "l", "0")
    aof.execute_command("brpop", "l", "0")
    aof.execute_command("blmove", "l", "l3", "left", "RIGHT", "0")
    aof.execute_command("brpoplpush", "l3", "l", "0")
    aof.execute_command("blmpop", "0", "1", "l", "right", "count", "5")
    aof.execute_command("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    aof.execute_command("bzpopmin", "z", "0")
    aof.execute_command("bzpopmax", "z", "0")
    aof.execute_command("bzmpop", "0", "1", "z", "min", "count", "3")
    assert written(aof) == [
        s("SELECT 0"), s("rpush l a b c d"), s("LPOP l"), s("RPOP l"),
        s("LMOVE l l3 left RIGHT"), s("RPOPLPUSH l3 l"), s("RPOP l 2"),
        s("zadd z 1 a 2 b 3 c 4 d"), s("ZPOPMIN z"), s("ZPOPMAX z"),
        s("ZPOPMIN z 2")]


def blocked(aof, cmd, *pushes):
    """Runs `cmd` on a second connection, where it blocks, then `pushes`
    here; returns the blocked command's reply."""
    other = redis.Redis(host="127.0.0.1", port=aof.server.port,
                        socket_timeout=10)
    res = []
    t = threading.Thread(target=lambda: res.append(
        other.execute_command(*cmd)))
    t.start()
    deadline = time.time() + 5
    while time.time() < deadline:
        info = aof.info("clients")
        if info.get("blocked_clients", 0) >= 1:
            break
        time.sleep(0.01)
    for p in pushes:
        aof.execute_command(*p)
    t.join(10)
    other.close()
    return res[0]


def test_blocking_pops_served_after_waiting(aof):
    blocked(aof, ("blpop", "wl", "0"), ("rpush", "wl", "a", "b"))
    blocked(aof, ("brpop", "wl2", "0"), ("lpush", "wl2", "a", "b"))
    blocked(aof, ("blmove", "wl3", "dst", "left", "right", "0"),
            ("rpush", "wl3", "a"))
    blocked(aof, ("brpoplpush", "wl4", "dst", "0"), ("rpush", "wl4", "a"))
    blocked(aof, ("blmpop", "0", "2", "x", "wl5", "left", "count", "3"),
            ("rpush", "wl5", "a", "b"))
    blocked(aof, ("bzpopmin", "wz", "0"), ("zadd", "wz", "1", "a", "2", "b"))
    blocked(aof, ("bzpopmax", "wz2", "0"), ("zadd", "wz2", "1", "a", "2", "b"))
    blocked(aof, ("bzmpop", "0", "1", "wz3", "max", "count", "5"),
            ("zadd", "wz3", "1", "a", "2", "b"))
    assert written(aof) == [
        s("SELECT 0"),
        s("rpush wl a b"), s("LPOP wl"),
        s("lpush wl2 a b"), s("RPOP wl2"),
        s("rpush wl3 a"), s("LMOVE wl3 dst left right"),
        s("rpush wl4 a"), s("RPOPLPUSH wl4 dst"),
        s("rpush wl5 a b"), s("LPOP wl5 2"),
        s("zadd wz 1 a 2 b"), s("ZPOPMIN wz"),
        s("zadd wz2 1 a 2 b"), s("ZPOPMAX wz2"),
        s("zadd wz3 1 a 2 b"), s("ZPOPMAX wz3 2")]


def test_blocked_pop_served_by_an_exec_comes_after_it(aof):
    other = redis.Redis(host="127.0.0.1", port=aof.server.port,
                        socket_timeout=10)
    res = []
    t = threading.Thread(target=lambda: res.append(
        other.execute_command("blpop", "wl", "0")))
    t.start()
    deadline = time.time() + 5
    while time.time() < deadline:
        if aof.info("clients").get("blocked_clients", 0) >= 1:
            break
        time.sleep(0.01)
    p = aof.pipeline(transaction=True)
    p.execute_command("rpush", "wl", "a")
    p.execute_command("set", "q", "1")
    p.execute()
    t.join(10)
    other.close()
    assert list(res[0]) == [b"wl", b"a"]
    assert written(aof) == [s("SELECT 0"), s("MULTI"), s("rpush wl a"),
                            s("set q 1"), s("EXEC"), s("LPOP wl")]


# ---- keys and copies ----------------------------------------------------------


def test_key_commands_as_received(aof):
    aof.execute_command("set", "a", "1")
    aof.execute_command("rename", "a", "b")
    aof.execute_command("copy", "b", "c")
    aof.execute_command("copy", "b", "c")           # exists: nothing
    aof.execute_command("move", "c", "3")
    aof.execute_command("move", "nokey", "3")       # nothing
    aof.execute_command("rpush", "l", "3", "1", "2")
    aof.execute_command("sort", "l", "store", "sl")
    aof.execute_command("sort", "nol", "store", "sl2")  # nothing
    aof.execute_command("unlink", "b")
    assert written(aof) == [
        s("SELECT 0"), s("set a 1"), s("rename a b"), s("copy b c"),
        s("move c 3"), s("rpush l 3 1 2"), s("sort l store sl"),
        s("unlink b")]


# ---- streams ------------------------------------------------------------------


def test_xadd_generated_ids_and_approx_trims(aof):
    for i in range(1, 400):
        aof.execute_command("xadd", "st", "%d-1" % i, "f", "v")
    n = len(written(aof))
    aof.execute_command("xtrim", "st", "minid", "~", "300", "limit", "100")
    aof.execute_command("xtrim", "st", "maxlen", "~", "10", "limit", "100")
    aof.execute_command("xtrim", "st", "maxlen", "~", "1", "limit", "0")
    aof.execute_command("xtrim", "st", "maxlen", "1000")      # nothing
    id2 = aof.execute_command("xadd", "st", "500-*", "f", "v").decode()
    aof.execute_command("xadd", "st", "600", "f", "v")
    id1 = aof.execute_command("xadd", "st", "maxlen", "~", "5", "limit",
                              "100", "*", "f", "v").decode()
    id3 = aof.execute_command("xadd", "e", "maxlen", "0", "*", "f",
                              "v").decode()
    id4 = aof.execute_command("xadd", "e2", "maxlen", "~", "0", "*", "f",
                              "v").decode()
    id5 = aof.execute_command("xadd", "e3", "minid", "~", "0", "*", "f",
                              "v").decode()
    aof.execute_command("xadd", "e4", "nomkstream", "*", "f", "v")  # nothing
    assert id2 == "500-0"
    assert since(aof, n) == [
        s("xtrim st minid = 101-1 limit 100"),
        s("xtrim st maxlen = 199 limit 100"),
        s("xtrim st maxlen = 99 limit 0"),
        s("xadd st 500-0 f v"),
        s("xadd st 600 f v"),
        s("xadd", "st", "maxlen", "=", "102", "limit", "100", id1, "f", "v"),
        s("xadd", "e", "maxlen", "0", id3, "f", "v"),
        s("xadd", "e2", "maxlen", "=", "0", id4, "f", "v"),
        s("xadd", "e3", "minid", "=", id5, id5, "f", "v")]


def test_xreadgroup_becomes_xclaims_and_setid(aof):
    for i in (1, 2, 3):
        aof.execute_command("xadd", "st", "%d-1" % i, "f", "v")
    aof.execute_command("xgroup", "create", "st", "g", "0")
    n = len(written(aof))
    aof.execute_command("xreadgroup", "group", "g", "c1", "count", "2",
                        "streams", "st", ">")
    aof.execute_command("xreadgroup", "group", "g", "c1", "streams", "st",
                        "0")                                   # history
    aof.execute_command("xreadgroup", "group", "g", "c2", "noack",
                        "streams", "st", ">")
    aof.execute_command("xreadgroup", "group", "g", "c3", "streams", "st",
                        ">")                                   # nothing new
    aof.execute_command("xadd", "st", "4-1", "f", "v")
    aof.execute_command("xreadgroup", "group", "g", "c2", "noack",
                        "streams", "st", ">")
    aof.execute_command("xadd", "st", "5-1", "f", "v")
    aof.execute_command("xreadgroup", "group", "g", "c3", "streams", "st",
                        ">")
    assert since(aof, n) == [
        s("MULTI"),
        ["XCLAIM", "st", "g", "c1", "0", "1-1", "TIME", Ms(), "RETRYCOUNT",
         "1", "FORCE", "JUSTID", "LASTID", "1-1"],
        ["XCLAIM", "st", "g", "c1", "0", "2-1", "TIME", Ms(), "RETRYCOUNT",
         "1", "FORCE", "JUSTID", "LASTID", "2-1"],
        s("EXEC"),
        s("MULTI"), s("XGROUP CREATECONSUMER st g c2"),
        s("XGROUP SETID st g 3-1 ENTRIESREAD 3"), s("EXEC"),
        s("xadd st 4-1 f v"),
        s("XGROUP SETID st g 4-1 ENTRIESREAD 4"),
        s("xadd st 5-1 f v"),
        ["XCLAIM", "st", "g", "c3", "0", "5-1", "TIME", Ms(), "RETRYCOUNT",
         "1", "FORCE", "JUSTID", "LASTID", "5-1"]]


def test_xclaim_and_xautoclaim_become_xclaims(aof):
    for i in (1, 2, 3):
        aof.execute_command("xadd", "st", "%d-1" % i, "f", "v")
    aof.execute_command("xgroup", "create", "st", "g", "0")
    aof.execute_command("xreadgroup", "group", "g", "c1", "count", "2",
                        "streams", "st", ">")
    aof.execute_command("xreadgroup", "group", "g", "c1", "streams", "st",
                        "0")                    # delivery counts -> 2
    n = mark(aof)
    aof.execute_command("xclaim", "st", "g", "c2", "0", "1-1", "2",
                        "lastid", "2-5")
    aof.execute_command("xclaim", "st", "g", "c2", "0", "9-9", "lastid",
                        "2-9")                  # nothing claimed
    aof.execute_command("xclaim", "st", "g", "c2", "0", "9-9")  # nothing
    aof.execute_command("xdel", "st", "1-1")
    aof.execute_command("xclaim", "st", "g", "c3", "0", "1-1")  # deleted
    aof.execute_command("xadd", "st", "4-1", "f", "v")
    aof.execute_command("xreadgroup", "group", "g", "c1", "count", "1",
                        "streams", "st", ">")
    aof.execute_command("xdel", "st", "3-1")
    aof.execute_command("xautoclaim", "st", "g", "c4", "0", "0")
    conn = RespConn(aof.server.port)      # redis-py misreads JUSTID's reply
    conn.cmd("xautoclaim", "st", "g", "c5", "0", "0", "justid")
    conn.close()
    assert since(aof, n) == [
        ["XCLAIM", "st", "g", "c2", "0", "1-1", "TIME", Ms(), "RETRYCOUNT",
         "3", "FORCE", "JUSTID", "LASTID", "2-5"],
        s("XGROUP SETID st g 2-9 ENTRIESREAD 2"),
        s("xdel st 1-1"),
        ["XCLAIM", "st", "g", "c2", "0", "1-1", "TIME", Ms(), "RETRYCOUNT",
         "3", "FORCE", "JUSTID", "LASTID", "2-9"],
        s("xadd st 4-1 f v"),
        ["XCLAIM", "st", "g", "c1", "0", "3-1", "TIME", Ms(), "RETRYCOUNT",
         "1", "FORCE", "JUSTID", "LASTID", "3-1"],
        s("xdel st 3-1"),
        s("MULTI"),
        ["XCLAIM", "st", "g", "c4", "0", "2-1", "TIME", Ms(), "RETRYCOUNT",
         "3", "FORCE", "JUSTID", "LASTID", "3-1"],
        ["XCLAIM", "st", "g", "c1", "0", "3-1", "TIME", Ms(), "RETRYCOUNT",
         "1", "FORCE", "JUSTID", "LASTID", "3-1"],
        s("EXEC"),
        ["XCLAIM", "st", "g", "c5", "0", "2-1", "TIME", Ms(), "RETRYCOUNT",
         "3", "FORCE", "JUSTID", "LASTID", "3-1"]]


def test_group_admin_commands_as_received_when_they_change(aof):
    aof.execute_command("xadd", "st", "1-1", "f", "v")
    aof.execute_command("xgroup", "create", "st", "g", "0")
    aof.execute_command("xgroup", "create", "st", "g2", "$", "mkstream",
                        "entriesread", "0")
    aof.execute_command("xreadgroup", "group", "g", "c1", "streams", "st",
                        ">")
    n = mark(aof)
    aof.execute_command("xack", "st", "g", "1-1", "9-9")
    aof.execute_command("xack", "st", "g", "1-1")             # nothing
    aof.execute_command("xgroup", "setid", "st", "g", "$")
    aof.execute_command("xgroup", "setid", "st", "g", "0", "entriesread",
                        "3")
    aof.execute_command("xgroup", "createconsumer", "st", "g", "c9")
    aof.execute_command("xgroup", "createconsumer", "st", "g", "c9")
    aof.execute_command("xgroup", "delconsumer", "st", "g", "c9")
    aof.execute_command("xgroup", "delconsumer", "st", "g", "c9")
    aof.execute_command("xgroup", "destroy", "st", "g2")
    aof.execute_command("xgroup", "destroy", "st", "g2")
    aof.execute_command("xsetid", "st", "99-0")
    aof.execute_command("xdel", "st", "1-1")
    aof.execute_command("xdel", "st", "1-1")                  # nothing
    assert since(aof, n) == [
        s("xack st g 1-1 9-9"),
        s("xgroup setid st g $"),
        s("xgroup setid st g 0 entriesread 3"),
        s("xgroup createconsumer st g c9"),
        s("xgroup delconsumer st g c9"),
        s("xgroup destroy st g2"),
        s("xsetid st 99-0"),
        s("xdel st 1-1")]


def test_writes_that_change_nothing_are_not_written(aof):
    cmds = [
        ("swapdb", "0", "0"), ("set", "d", "1"),
        ("sort", "nol", "store", "d"),             # deletes d: written
        ("sort", "nol", "store", "d"),             # nothing
        ("rpush", "l", "1"), ("sort", "l", "store", "d"),
        ("zadd", "z", "1", "a"),
        ("zunionstore", "d", "1", "noz"),          # deletes d: written
        ("zunionstore", "d", "1", "noz"),
        ("zrangestore", "d2", "z", "5", "6"),
        ("rename", "z", "z"),
        ("setrange", "nokey", "0", ""),
        ("append", "nokey2", ""),                  # creates it: written
        ("lpush", "l", "2"),
        ("lrem", "l", "0", "zz"), ("ltrim", "l", "0", "-1"),
        ("hdel", "h", "f"), ("srem", "s", "m"), ("zrem", "z", "x"),
        ("getdel", "nokey"), ("lmove", "nol", "x", "left", "left"),
        ("smove", "nos", "t", "x"), ("hset", "h2", "a", "1"),
        ("hsetnx", "h2", "a", "2"), ("pexpire", "nokey", "-5"),
        ("set", "p", "1"), ("persist", "p"), ("lpop", "l", "0"),
        ("spop", "nos"), ("srem", "nos", "x"), ("zpopmin", "noz"),
        ("xtrim", "nost", "maxlen", "0"), ("incrby", "i", "0"),
        ("del", "l"),
    ]
    for c in cmds:
        try:
            aof.execute_command(*c)
        except redis.ResponseError:
            pass
    assert written(aof) == [
        s("SELECT 0"), s("swapdb 0 0"), s("set d 1"), s("sort nol store d"),
        s("rpush l 1"), s("sort l store d"), s("zadd z 1 a"),
        s("zunionstore d 1 noz"), ["append", "nokey2", ""], s("lpush l 2"),
        s("hset h2 a 1"), s("set p 1"), s("incrby i 0"), s("del l")]


# ---- the replicas' stream -------------------------------------------------------


class StreamReader(ReplLink):
    """A hand-made replica: PSYNC ? -1, skips the RDB, then reads the
    command stream."""

    def __init__(self, port):
        super().__init__(port, timeout=10)
        for cmd in (("PING",), ("REPLCONF", "listening-port", "7777"),
                    ("REPLCONF", "capa", "psync2")):
            self.send(*cmd)
            assert self.line().startswith(b"+")
        self.send("PSYNC", "?", "-1")
        assert self.line().startswith(b"+FULLRESYNC")
        head = self.line()
        while head == b"\n":
            head = self.line()
        assert re.fullmatch(rb"\$\d+\r\n", head), head
        self.read(int(head[1:-2]))

    def commands_until(self, last):
        """The commands of the stream (PINGs left out) up to `last`."""
        out = []
        while not out or out[-1] != last:
            head = self.line()
            assert head.startswith(b"*"), head
            argv = []
            for _ in range(int(head[1:-2])):
                n = int(self.line()[1:-2])
                argv.append(self.read(n + 2)[:-2].decode("latin1"))
            if argv[0].lower() != "ping":
                out.append(argv)
        return out


def test_replicas_get_the_same_stream_plus_publish(aof):
    rd = StreamReader(aof.server.port)
    try:
        aof.execute_command("set", "a", "1", "ex", "100")
        aof.execute_command("publish", "ch", "hello")
        p = aof.pipeline(transaction=True)
        p.execute_command("set", "m", "1")
        p.execute_command("incr", "m")
        p.execute()
        aof.execute_command("select", "3")
        aof.execute_command("sadd", "s", "x")
        aof.execute_command("spop", "s")
        aof.execute_command("select", "0")
        aof.execute_command("expire", "a", "-1")
        # with a replica, PUBLISH counts for the MULTI/EXEC wrapping (the
        # AOF gets the MULTI and EXEC, even around nothing)
        p = aof.pipeline(transaction=True)
        p.execute_command("set", "b", "1")
        p.execute_command("publish", "ch", "x")
        p.execute()
        p = aof.pipeline(transaction=True)
        p.execute_command("publish", "ch", "x")
        p.execute_command("publish", "ch", "y")
        p.execute()
        aof.execute_command("set", "end", "1")
        stream = rd.commands_until(s("set end 1"))
    finally:
        rd.close()
    expected = [
        ["SET", "a", "1", "PXAT", Ms(100000)],
        s("publish ch hello"),
        s("MULTI"), s("set m 1"), s("incr m"), s("EXEC"),
        s("SELECT 3"), s("sadd s x"), s("SREM s x"), s("SELECT 0"),
        s("DEL a"),
        s("MULTI"), s("set b 1"), s("publish ch x"), s("EXEC"),
        s("MULTI"), s("publish ch x"), s("publish ch y"), s("EXEC"),
        s("set end 1")]
    assert [c for c in stream if c != s("SELECT 0")] == [
        c for c in expected if c != s("SELECT 0")]
    assert [c for c in written(aof) if c[0] != "SELECT"] == [
        c for c in expected if c[0] not in ("SELECT", "publish")]


def test_a_replica_writes_its_masters_stream_to_its_aof(store_server, servers,
                                                        target, tmp_path):
    from obtest import free_port, store_argv
    master = store_server()
    m = redis.Redis(host="127.0.0.1", port=master.port, socket_timeout=10)
    port = free_port()
    data = tmp_path / "replica-data"
    data.mkdir()
    servers(store_argv(target, port, data,
                       {"appendonly": "yes", "appendfsync": "always",
                        "replicaof": "127.0.0.1 %d" % master.port}), (port,))
    rep = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    rep.aof_dir = data / "appendonlydir"
    deadline = time.time() + 20
    while rep.info("replication").get("master_link_status") != "up":
        assert time.time() < deadline, "the replica never linked"
        time.sleep(0.05)
    # the sync restarts the AOF with a rewrite: the writes must come after
    # it, or they land in the new base instead of the incr file
    while True:
        p = rep.info("persistence")
        if (p.get("aof_rewrite_in_progress") == 0
                and p.get("aof_rewrite_scheduled") == 0
                and len(glob.glob(str(rep.aof_dir / "*.incr.aof"))) == 1):
            break
        assert time.time() < deadline, "the replica's AOF never settled"
        time.sleep(0.05)
    m.execute_command("set", "a", "1", "ex", "100")
    m.execute_command("rpush", "l", "x", "y")
    m.execute_command("lmpop", "1", "l", "left", "count", "5")
    m.execute_command("set", "end", "1")
    while rep.get("end") is None:
        assert time.time() < deadline, "the replica never got the writes"
        time.sleep(0.05)
    got = [c for c in written(rep) if c[0] != "SELECT"]
    # what the master wrote, from the point the replica started
    assert got[-4:] == [["SET", "a", "1", "PXAT", Ms(100000)],
                        s("rpush l x y"), s("LPOP l 2"), s("set end 1")]
    rep.close()
    m.close()


def test_set_in_the_past_and_active_expiry(aof):
    aof.execute_command("set", "k", "v", "exat", "1")
    aof.execute_command("get", "k")              # found expired: DEL
    aof.execute_command("set", "gone", "v", "px", "30")
    for c in (("setex", "k3", "0", "v"), ("getex", "gone", "px", "0")):
        with pytest.raises(redis.ResponseError):
            aof.execute_command(*c)
    deadline = time.time() + 10
    while aof.exists("gone") and time.time() < deadline:
        time.sleep(0.05)
    # the active cycle's deletion (or the EXISTS that found it) is a DEL
    assert written(aof) == [s("SELECT 0"), s("SET k v PXAT 1000"),
                            s("DEL k"), ["SET", "gone", "v", "PXAT", Ms(30)],
                            s("DEL gone")]


def test_get_options_are_not_written(aof):
    aof.execute_command("set", "d", "v")
    aof.execute_command("getdel", "d")
    aof.execute_command("getdel", "d")                         # nothing
    aof.execute_command("getset", "k", "v")
    aof.execute_command("GETSET", "k", "v2")
    aof.execute_command("set", "k", "v3", "get")
    aof.execute_command("set", "k", "v", "GET", "keepttl", "get")
    aof.execute_command("set", "e", "v", "pxat", "1900000000000", "get",
                        "xx")                                  # nothing
    aof.execute_command("setnx", "n", "1")
    aof.execute_command("msetnx", "a", "1", "b", "2")
    aof.execute_command("hsetnx", "h", "f", "v")
    aof.execute_command("zadd", "z", "incr", "1", "m")
    aof.execute_command("zincrby", "z", "1.5", "m")
    aof.execute_command("incrbyfloat", "f", "0.1")
    aof.execute_command("incrbyfloat", "f", "0.2")
    aof.execute_command("hincrbyfloat", "h", "g", "5.0e3")
    assert written(aof) == [
        s("SELECT 0"), s("set d v"), s("DEL d"),
        s("SET k v"), s("SET k v2"), s("set k v3"),
        s("set k v keepttl"), s("setnx n 1"), s("msetnx a 1 b 2"),
        s("hsetnx h f v"), s("zadd z incr 1 m"), s("zincrby z 1.5 m"),
        s("SET f 0.1 KEEPTTL"), s("SET f 0.3 KEEPTTL"), s("HSET h g 5000")]


def test_blocked_xreadgroup_and_publish_in_exec(aof):
    aof.execute_command("xgroup", "create", "st", "g", "$", "mkstream")
    blocked(aof, ("xreadgroup", "group", "g", "c1", "block", "0", "streams",
                  "st", ">"), ("xadd", "st", "5-1", "f", "v"))
    p = aof.pipeline(transaction=True)
    p.execute_command("set", "a", "1")
    p.execute_command("publish", "ch", "x")
    p.execute()
    p = aof.pipeline(transaction=True)
    p.execute_command("publish", "ch", "x")
    p.execute()
    aof.execute_command("set", "end", "1")
    assert written(aof) == [
        s("SELECT 0"), s("xgroup create st g $ mkstream"),
        s("xadd st 5-1 f v"),
        ["XCLAIM", "st", "g", "c1", "0", "5-1", "TIME", Ms(), "RETRYCOUNT",
         "1", "FORCE", "JUSTID", "LASTID", "5-1"],
        # no replica: PUBLISH is propagated nowhere, so it does not make
        # a MULTI/EXEC (Redis's shouldPropagate)
        s("set a 1"), s("set end 1")]


def test_xclaim_options_are_written_as_their_effect(aof):
    for i in (1, 2, 3):
        aof.execute_command("xadd", "st", "%d-1" % i, "f", "v")
    aof.execute_command("xgroup", "create", "st", "g", "0")
    aof.execute_command("xreadgroup", "group", "g", "c1", "count", "1",
                        "streams", "st", ">")
    n = mark(aof)
    conn = RespConn(aof.server.port)      # redis-py misreads JUSTID's reply
    conn.cmd("xclaim", "st", "g", "c2", "0", "1-1", "time", "1700000000000",
             "retrycount", "7", "justid")
    conn.cmd("xclaim", "st", "g", "c3", "0", "3-1", "force")
    conn.cmd("xclaim", "st", "g", "c4", "0", "2-1", "force", "justid",
             "idle", "5000")
    conn.cmd("xclaim", "st", "g", "c5", "0", "1", "3-1")     # 1 is 1-0
    conn.close()
    assert since(aof, n) == [
        ["XCLAIM", "st", "g", "c2", "0", "1-1", "TIME", "1700000000000",
         "RETRYCOUNT", "7", "FORCE", "JUSTID", "LASTID", "1-1"],
        ["XCLAIM", "st", "g", "c3", "0", "3-1", "TIME", Ms(), "RETRYCOUNT",
         "2", "FORCE", "JUSTID", "LASTID", "1-1"],
        ["XCLAIM", "st", "g", "c4", "0", "2-1", "TIME", Ms(-5000),
         "RETRYCOUNT", "1", "FORCE", "JUSTID", "LASTID", "1-1"],
        ["XCLAIM", "st", "g", "c5", "0", "3-1", "TIME", Ms(), "RETRYCOUNT",
         "3", "FORCE", "JUSTID", "LASTID", "1-1"]]


def test_evicted_keys_are_written_as_dels(store_server, tmp_path):
    srv = store_server(appendonly="yes", appendfsync="always",
                       maxmemory="4mb", maxmemory_policy="allkeys-random")
    r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    r.aof_dir = tmp_path / "store-data" / "appendonlydir"
    val = "x" * 1000
    names = ["k%d" % i for i in range(12000)]          # ~12 MB of writes
    p = r.pipeline(transaction=False)
    for k in names:
        p.execute_command("set", k, val)
    p.execute()
    gone = {k for k, v in zip(names, r.mget(names)) if v is None}
    assert gone, "nothing was evicted"
    got = written(r)
    sets = [c for c in got if c[0] == "set"]
    dels = [c for c in got if c[0] == "DEL"]
    assert len(sets) == len(names)
    assert all(len(c) == 2 for c in dels)
    # every key that went is a DEL, after its SET; none that stayed is
    assert {c[1] for c in dels} == gone
    assert len(dels) == len(gone)
    r.close()
