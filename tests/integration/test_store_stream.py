"""Streams over RESP: XADD (auto, ms-* and explicit IDs, MAXLEN/MINID
trimming, NOMKSTREAM), ranges, XDEL, XTRIM, XSETID, XINFO, blocking XREAD
and XREADGROUP, consumer groups and their PEL (XPENDING, XCLAIM,
XAUTOCLAIM, XACK), RESP3 shapes, and the exact error replies of Redis
7.0.15.  The same tests run against redis-server with --target real.

Error strings and RESP3 shapes are checked as raw bytes through a socket;
the rest through redis-py.
"""
import socket
import threading
import time

import pytest
import redis

from obtest import RespConn as Raw


@pytest.fixture
def raw(r):
    conn = Raw(r.server.port)
    yield conn
    conn.close()


def client(r):
    return redis.Redis(host="127.0.0.1", port=r.server.port, socket_timeout=10)


def err(msg):
    return b"-" + msg.encode() + b"\r\n"


def bulk(s):
    s = s if isinstance(s, bytes) else s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


# ---- XADD, XLEN, XRANGE, XREVRANGE -----------------------------------------

def test_xadd_ids(r):
    assert r.xadd("s", {"a": "1"}, id="5-1") == b"5-1"
    assert r.xadd("s", {"a": "2"}, id="5-*") == b"5-2"
    assert r.xadd("s", {"a": "3"}, id="6-*") == b"6-0"
    assert r.xadd("s", {"a": "4"}, id="7") == b"7-0"
    auto = r.xadd("s", {"f": "v", "g": "w"})
    ms, seq = auto.split(b"-")
    assert int(ms) > 7 and abs(int(ms) - time.time() * 1000) < 60000
    assert r.xlen("s") == 5
    assert r.xadd("z", {"a": "1"}, id="0-*") == b"0-1"
    assert r.xrange("s", count=2) == [(b"5-1", {b"a": b"1"}),
                                      (b"5-2", {b"a": b"2"})]
    assert r.xrevrange("s", count=1) == [(auto, {b"f": b"v", b"g": b"w"})]
    assert r.xlen("nokey") == 0


def test_xadd_errors(raw):
    e_small = err("ERR The ID specified in XADD is equal or smaller than "
                  "the target stream top item")
    e_id = err("ERR Invalid stream ID specified as stream command argument")
    assert raw.cmd("XADD", "s", "0-0", "a", "1") == err(
        "ERR The ID specified in XADD must be greater than 0-0")
    assert raw.cmd("XADD", "s", "5-3", "a", "1") == bulk("5-3")
    assert raw.cmd("XADD", "s", "5-3", "a", "1") == e_small
    assert raw.cmd("XADD", "s", "4-*", "a", "1") == e_small
    assert raw.cmd("XADD", "s", "5", "a", "1") == e_small
    assert raw.cmd("XADD", "s", "abc", "a", "1") == e_id
    assert raw.cmd("XADD", "s", "1-1-1", "a", "1") == e_id
    assert raw.cmd("XADD", "s", "foo", "*", "a", "1") == e_id
    assert raw.cmd("XADD", "s", "*", "a") == err(
        "ERR wrong number of arguments for 'xadd' command")
    assert raw.cmd("XADD", "s", "*", "a", "1", "b") == err(
        "ERR wrong number of arguments for 'xadd' command")
    assert raw.cmd("XADD", "s", "MAXLEN", "-1", "*", "a", "1") == err(
        "ERR The MAXLEN argument must be >= 0.")
    assert raw.cmd("XADD", "s", "MAXLEN", "10", "LIMIT", "5", "*", "a",
                   "1") == err("ERR syntax error, LIMIT cannot be used "
                               "without the special ~ option")
    assert raw.cmd("XADD", "s", "MAXLEN", "=", "10", "LIMIT", "-1", "*", "a",
                   "1") == err("ERR The LIMIT argument must be >= 0.")
    assert raw.cmd("XADD", "s", "LIMIT", "5", "*", "a", "1") == err(
        "ERR syntax error, LIMIT cannot be used without specifying a "
        "trimming strategy")
    assert raw.cmd("XADD", "s", "MAXLEN", "abc", "*", "a", "1") == err(
        "ERR value is not an integer or out of range")
    assert raw.cmd("XADD", "s", "MINID", "abc", "*", "a", "1") == e_id
    assert raw.cmd("XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a",
                   "1") == err("ERR syntax error, MAXLEN and MINID options "
                               "at the same time are not compatible")
    top = "18446744073709551615-18446744073709551615"
    assert raw.cmd("XADD", "s", top, "a", "1") == bulk(top)
    assert raw.cmd("XADD", "s", "*", "a", "1") == err(
        "ERR The stream has exhausted the last possible ID, unable to add "
        "more items")
    assert raw.cmd("XADD", "nokey", "NOMKSTREAM", "*", "a", "1") == b"$-1\r\n"
    assert raw.cmd("EXISTS", "nokey") == b":0\r\n"
    raw.cmd("SET", "str", "x")
    wrongtype = err("WRONGTYPE Operation against a key holding the wrong "
                    "kind of value")
    for args in (("XADD", "str", "*", "a", "1"), ("XLEN", "str"),
                 ("XRANGE", "str", "-", "+"), ("XDEL", "str", "1-1"),
                 ("XTRIM", "str", "MAXLEN", "0"), ("XINFO", "STREAM", "str"),
                 ("XREAD", "STREAMS", "str", "0")):
        assert raw.cmd(*args) == wrongtype, args


def test_xrange_bounds(r, raw):
    for i in range(1, 6):
        r.xadd("s", {"n": str(i)}, id="%d-%d" % (i // 2, i))
    ids = [e[0] for e in r.xrange("s")]
    assert ids == [b"0-1", b"1-2", b"1-3", b"2-4", b"2-5"]
    assert [e[0] for e in r.xrange("s", "1", "1")] == [b"1-2", b"1-3"]
    assert [e[0] for e in r.xrange("s", "(1-2", "(2-5")] == [b"1-3", b"2-4"]
    assert [e[0] for e in r.xrevrange("s", "2", "(1-2")] == [
        b"2-5", b"2-4", b"1-3"]
    assert [e[0] for e in r.xrevrange("s", "+", "-", count=2)] == [
        b"2-5", b"2-4"]
    assert r.xrange("s", "3", "+") == []
    assert r.xrange("nokey") == []
    e_id = err("ERR Invalid stream ID specified as stream command argument")
    assert raw.cmd("XRANGE", "s", "-", "+", "COUNT", "0") == b"*-1\r\n"
    assert raw.cmd("XRANGE", "s", "-", "+", "COUNT", "-1") == b"*-1\r\n"
    assert raw.cmd("XRANGE", "s", "-", "+", "COUNT", "abc") == err(
        "ERR value is not an integer or out of range")
    assert raw.cmd("XRANGE", "s", "-", "+", "FOO") == err("ERR syntax error")
    assert raw.cmd("XRANGE", "s", "(-", "+") == e_id
    assert raw.cmd("XRANGE", "s", "-", "(+") == e_id
    assert raw.cmd("XRANGE", "s", "x", "+") == e_id
    assert raw.cmd("XRANGE", "s", "(18446744073709551615-18446744073709551615",
                   "+") == err("ERR invalid start ID for the interval")
    assert raw.cmd("XRANGE", "s", "-", "(0-0") == err(
        "ERR invalid end ID for the interval")
    assert raw.cmd("XRANGE", "s", "0-1", "0-1") == (
        b"*1\r\n*2\r\n$3\r\n0-1\r\n*2\r\n$1\r\nn\r\n$1\r\n1\r\n")
    # string2ull's leniency: leading zeros and a "+" sign
    assert [e[0] for e in r.xrange("s", "01-3", "+2")] == [b"1-3", b"2-4",
                                                           b"2-5"]


def test_many_entries_ranges(r):
    """Thousands of entries across many nodes, forward and back."""
    pipe = r.pipeline(transaction=False)
    for i in range(1, 3001):
        pipe.xadd("big", {"f": "x" * (i % 50), "i": str(i)}, id="%d-0" % i)
    pipe.execute()
    assert r.xlen("big") == 3000
    got = r.xrange("big", "1500", "1510")
    assert [e[0] for e in got] == [b"%d-0" % i for i in range(1500, 1511)]
    assert got[0][1] == {b"f": b"x" * 0, b"i": b"1500"}
    got = r.xrevrange("big", "2000", "1990", count=3)
    assert [e[0] for e in got] == [b"2000-0", b"1999-0", b"1998-0"]
    assert len(r.xrange("big")) == 3000
    assert len(r.xrevrange("big")) == 3000


# ---- trimming (RQ's path: XADD MAXLEN ~ and XREVRANGE COUNT 1) --------------

def test_rq_results_path(r):
    for i in range(300):
        r.xadd("rq:results:job", {"status": "ok", "n": str(i)}, maxlen=10,
               approximate=True)
    n = r.xlen("rq:results:job")
    assert 10 <= n <= 110
    last = r.xrevrange("rq:results:job", "+", "-", count=1)
    assert len(last) == 1 and last[0][1] == {b"status": b"ok", b"n": b"299"}


def test_xadd_maxlen_exact_and_approx(r):
    for i in range(1, 251):
        r.xadd("s", {"i": str(i)}, id="%d-0" % i)
    # approximate: whole nodes of 100 entries only
    r.xadd("s", {"i": "251"}, id="251-0", maxlen=120, approximate=True)
    assert r.xlen("s") == 151
    assert r.xrange("s", count=1)[0][0] == b"101-0"
    r.xadd("s", {"i": "252"}, id="252-0", maxlen=5, approximate=False)
    assert r.xlen("s") == 5
    assert [e[0] for e in r.xrange("s")] == [b"%d-0" % i
                                             for i in range(248, 253)]
    r.xadd("s", {"i": "253"}, id="253-0", minid="250", approximate=False)
    assert [e[0] for e in r.xrange("s")] == [b"%d-0" % i
                                             for i in range(250, 254)]
    assert r.execute_command("XADD", "s", "MAXLEN", "0", "254-0", "i",
                             "x") == b"254-0"
    assert r.xlen("s") == 0
    assert r.exists("s") == 1          # an empty stream stays
    assert r.type("s") == b"stream"


def test_xtrim(r, raw):
    for i in range(1, 501):
        r.xadd("s", {"i": str(i)}, id="%d-0" % i)
    assert r.xtrim("s", maxlen=450, approximate=True) == 0
    assert r.xtrim("s", maxlen=350, approximate=True) == 100
    assert r.xtrim("s", maxlen=0, approximate=True, limit=150) == 100
    assert r.xtrim("s", maxlen=295, approximate=False) == 5
    assert r.xlen("s") == 295
    assert r.xtrim("s", minid="310", approximate=False) == 104
    assert r.xrange("s", count=1)[0][0] == b"310-0"
    assert r.execute_command("XTRIM", "nokey", "MAXLEN", "0") == 0
    assert raw.cmd("XTRIM", "s", "FOO", "1") == err("ERR syntax error")
    assert raw.cmd("XTRIM", "s", "MAXLEN") == err(
        "ERR wrong number of arguments for 'xtrim' command")
    assert raw.cmd("XTRIM", "s", "MAXLEN", "0", "LIMIT", "1") == err(
        "ERR syntax error, LIMIT cannot be used without the special ~ option")
    assert raw.cmd("XTRIM", "s", "MAXLEN", "~", "90", "LIMIT", "0") == \
        b":91\r\n"
    assert raw.cmd("XLEN", "s") == b":100\r\n"
    # emptied by a trim: the recorded first ID goes back to 0-0
    assert raw.cmd("XTRIM", "s", "MAXLEN", "0") == b":100\r\n"
    info = r.xinfo_stream("s")
    assert (info["length"], info["recorded-first-entry-id"]) == (0, b"0-0")
    assert info["first-entry"] is None and info["last-entry"] is None


def test_xdel(r, raw):
    for i in range(1, 6):
        r.xadd("s", {"i": str(i)}, id="%d-0" % i)
    assert r.xdel("s", "2-0", "2-0", "9-0", "4-0") == 2
    assert [e[0] for e in r.xrange("s")] == [b"1-0", b"3-0", b"5-0"]
    assert [e[0] for e in r.xrevrange("s")] == [b"5-0", b"3-0", b"1-0"]
    assert raw.cmd("XDEL", "s", "1-0", "abc") == err(
        "ERR Invalid stream ID specified as stream command argument")
    assert r.xlen("s") == 3            # nothing deleted by the bad call
    assert r.xdel("nokey", "1-0") == 0
    info = r.xinfo_stream("s")
    assert info["max-deleted-entry-id"] == b"4-0"
    assert info["entries-added"] == 5
    assert info["recorded-first-entry-id"] == b"1-0"
    r.xdel("s", "1-0")
    assert r.xinfo_stream("s")["recorded-first-entry-id"] == b"3-0"


def test_xsetid(r, raw):
    r.xadd("s", {"a": "1"}, id="5-0")
    assert raw.cmd("XSETID", "s", "4-0") == err(
        "ERR The ID specified in XSETID is smaller than the target stream "
        "top item")
    assert raw.cmd("XSETID", "s", "6-0", "ENTRIESADDED", "0") == err(
        "ERR The entries_added specified in XSETID is smaller than the "
        "target stream length")
    assert raw.cmd("XSETID", "s", "6-0", "ENTRIESADDED", "-1") == err(
        "ERR entries_added must be positive")
    assert raw.cmd("XSETID", "s", "6-0", "MAXDELETEDID", "7-0") == err(
        "ERR The ID specified in XSETID is smaller than the provided "
        "max_deleted_entry_id")
    assert raw.cmd("XSETID", "s", "6-0", "FOO") == err("ERR syntax error")
    assert raw.cmd("XSETID", "nokey", "6-0") == err("ERR no such key")
    assert raw.cmd("XSETID", "s", "10-0", "ENTRIESADDED", "9",
                   "MAXDELETEDID", "3-0") == b"+OK\r\n"
    info = r.xinfo_stream("s")
    assert info["last-generated-id"] == b"10-0"
    assert info["entries-added"] == 9
    assert info["max-deleted-entry-id"] == b"3-0"
    assert raw.cmd("XADD", "s", "10-0", "a", "1") == err(
        "ERR The ID specified in XADD is equal or smaller than the target "
        "stream top item")
    assert r.xadd("s", {"a": "1"}, id="10-*") == b"10-1"


# ---- XINFO ----------------------------------------------------------------------

def test_xinfo_stream(r, raw):
    r.xadd("s", {"a": "1", "b": "2"}, id="1-0")
    r.xadd("s", {"c": "3"}, id="2-0")
    r.xgroup_create("s", "g", id="0")
    info = r.xinfo_stream("s")
    assert info["length"] == 2
    assert info["radix-tree-keys"] == 1
    assert info["last-generated-id"] == b"2-0"
    assert info["groups"] == 1
    assert info["first-entry"] == (b"1-0", {b"a": b"1", b"b": b"2"})
    assert info["last-entry"] == (b"2-0", {b"c": b"3"})
    assert list(info) == ["length", "radix-tree-keys", "radix-tree-nodes",
                          "last-generated-id", "max-deleted-entry-id",
                          "entries-added", "recorded-first-entry-id",
                          "groups", "first-entry", "last-entry"]
    full = r.xinfo_stream("s", full=True)
    assert list(full) == ["length", "radix-tree-keys", "radix-tree-nodes",
                          "last-generated-id", "max-deleted-entry-id",
                          "entries-added", "recorded-first-entry-id",
                          "entries", "groups"]
    assert full["groups"][0]["name"] == b"g"
    assert full["groups"][0]["entries-read"] is None
    assert full["groups"][0]["lag"] == 2
    # RESP3: maps all the way down (the pending times vary: cut before)
    raw.cmd("HELLO", "3")
    out = raw.cmd("XINFO", "STREAM", "s")
    assert out.startswith(b"%10\r\n$6\r\nlength\r\n:2\r\n")
    assert out.endswith(b"$10\r\nlast-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n"
                        b"$1\r\nc\r\n$1\r\n3\r\n")
    out = raw.cmd("XINFO", "GROUPS", "s")
    assert out == (b"*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n"
                   b":0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n"
                   b"$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n"
                   b":2\r\n")
    out = raw.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    assert out.startswith(b"%9\r\n")
    assert b"$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n1-0\r\n" in out


def test_xinfo_errors(r, raw):
    r.xadd("s", {"a": "1"}, id="1-0")
    assert raw.cmd("XINFO", "FOO", "s") == err(
        "ERR unknown subcommand 'FOO'. Try XINFO HELP.")
    assert raw.cmd("XINFO", "STREAM") == err(
        "ERR wrong number of arguments for 'xinfo|stream' command")
    assert raw.cmd("XINFO", "GROUPS", "s", "x") == err(
        "ERR wrong number of arguments for 'xinfo|groups' command")
    assert raw.cmd("XINFO", "STREAM", "nokey") == err("ERR no such key")
    assert raw.cmd("XINFO", "STREAM", "s", "FOO") == err(
        "ERR unknown subcommand or wrong number of arguments for 'STREAM'. "
        "Try XINFO HELP.")
    assert raw.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", "abc") == err(
        "ERR value is not an integer or out of range")
    assert raw.cmd("XINFO", "CONSUMERS", "s", "nog") == err(
        "NOGROUP No such consumer group 'nog' for key name 's'")
    help_ = raw.cmd("XINFO", "HELP")
    assert help_.startswith(b"*9\r\n+XINFO <subcommand> [<arg> [value] "
                            b"[opt] ...]. Subcommands are:\r\n")


# ---- XGROUP -------------------------------------------------------------------------

def test_xgroup(r, raw):
    nokey = err("ERR The XGROUP subcommand requires the key to exist. Note "
                "that for CREATE you may want to use the MKSTREAM option to "
                "create an empty stream automatically.")
    assert raw.cmd("XGROUP", "CREATE", "s", "g", "$") == nokey
    assert raw.cmd("XGROUP", "CREATE", "s", "g", "$", "FOO") == err(
        "ERR unknown subcommand or wrong number of arguments for 'CREATE'. "
        "Try XGROUP HELP.")
    assert raw.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") == \
        b"+OK\r\n"
    assert r.xlen("s") == 0
    assert raw.cmd("XGROUP", "CREATE", "s", "g", "0") == err(
        "BUSYGROUP Consumer Group name already exists")
    assert raw.cmd("XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD",
                   "-5") == err("ERR value for ENTRIESREAD must be positive "
                                "or -1")
    assert raw.cmd("XGROUP", "CREATE", "s", "g2", "abc") == err(
        "ERR Invalid stream ID specified as stream command argument")
    assert raw.cmd("XGROUP", "CREATE", "s", "g2", "-") == err(
        "ERR Invalid stream ID specified as stream command argument")
    assert raw.cmd("XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD",
                   "7") == b"+OK\r\n"
    assert raw.cmd("XGROUP", "CREATE", "s") == err(
        "ERR wrong number of arguments for 'xgroup|create' command")
    assert raw.cmd("XGROUP", "FOO") == err(
        "ERR unknown subcommand 'FOO'. Try XGROUP HELP.")
    assert raw.cmd("XGROUP", "SETID", "s", "nog", "0") == err(
        "NOGROUP No such consumer group 'nog' for key name 's'")
    assert raw.cmd("XGROUP", "SETID", "nokey", "g", "0") == nokey
    assert raw.cmd("XGROUP", "SETID", "s", "g", "5", "ENTRIESREAD", "3") == \
        b"+OK\r\n"
    assert raw.cmd("XGROUP", "CREATECONSUMER", "s", "g", "c") == b":1\r\n"
    assert raw.cmd("XGROUP", "CREATECONSUMER", "s", "g", "c") == b":0\r\n"
    assert raw.cmd("XGROUP", "DELCONSUMER", "s", "g", "c") == b":0\r\n"
    assert raw.cmd("XGROUP", "DELCONSUMER", "s", "g", "c") == b":0\r\n"
    assert raw.cmd("XGROUP", "DESTROY", "s", "nog") == b":0\r\n"
    groups = r.xinfo_groups("s")
    assert [(g["name"], g["last-delivered-id"], g["entries-read"])
            for g in groups] == [(b"g", b"5-0", 3), (b"g2", b"0-0", 7)]
    assert raw.cmd("XGROUP", "DESTROY", "s", "g") == b":1\r\n"
    assert [g["name"] for g in r.xinfo_groups("s")] == [b"g2"]
    assert raw.cmd("XGROUP", "HELP").startswith(
        b"*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. "
        b"Subcommands are:\r\n")


def test_group_lag(r):
    for i in range(1, 4):
        r.xadd("s", {"a": str(i)}, id="%d-0" % i)
    r.xgroup_create("s", "g", id="$")
    r.xgroup_create("s", "g0", id="0")
    lags = {g["name"]: (g["entries-read"], g["lag"])
            for g in r.xinfo_groups("s")}
    assert lags == {b"g": (None, 0), b"g0": (None, 3)}
    r.xgroup_setid("s", "g0", "2-0")
    assert r.xinfo_groups("s")[1]["lag"] is None
    r.xreadgroup("g0", "c1", {"s": ">"})
    g0 = r.xinfo_groups("s")[1]
    assert (g0["entries-read"], g0["lag"], g0["pending"]) == (3, 0, 1)
    r.xadd("s", {"a": "4"}, id="4-0")
    assert r.xinfo_groups("s")[0]["lag"] is None
    assert r.xinfo_groups("s")[1]["lag"] == 1


# ---- XREADGROUP and the PEL ------------------------------------------------------

def test_xreadgroup_pel(r, raw):
    for i in range(1, 4):
        r.xadd("s", {"n": str(i)}, id="%d-0" % i)
    r.xgroup_create("s", "g", id="0")
    got = r.xreadgroup("g", "alice", {"s": ">"}, count=2)
    assert got == [[b"s", [(b"1-0", {b"n": b"1"}), (b"2-0", {b"n": b"2"})]]]
    got = r.xreadgroup("g", "bob", {"s": ">"})
    assert got == [[b"s", [(b"3-0", {b"n": b"3"})]]]
    assert r.xreadgroup("g", "bob", {"s": ">"}) == []
    # history: only the consumer's own pending entries
    got = r.xreadgroup("g", "alice", {"s": "0"})
    assert [e[0] for e in got[0][1]] == [b"1-0", b"2-0"]
    summary = r.xpending("s", "g")
    assert summary == {"pending": 3, "min": b"1-0", "max": b"3-0",
                       "consumers": [{"name": b"alice", "pending": 2},
                                     {"name": b"bob", "pending": 1}]}
    detail = r.xpending_range("s", "g", "-", "+", 10)
    assert [(d["message_id"], d["consumer"], d["times_delivered"])
            for d in detail] == [(b"1-0", b"alice", 2), (b"2-0", b"alice", 2),
                                 (b"3-0", b"bob", 1)]
    detail = r.xpending_range("s", "g", "-", "+", 10, consumername="bob")
    assert [d["message_id"] for d in detail] == [b"3-0"]
    assert r.xpending_range("s", "g", "-", "+", 10, consumername="x") == []
    assert r.xpending_range("s", "g", "-", "+", 10, idle=1000000) == []
    assert r.xack("s", "g", "1-0", "1-0", "9-0") == 1
    assert r.xack("s", "nog", "1-0") == 0
    assert r.xack("nokey", "g", "1-0") == 0
    # a deleted entry shows in the history as [id, nil]
    r.xdel("s", "2-0")
    assert raw.cmd("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s",
                   "0") == (b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n"
                            b"*-1\r\n")
    # NOACK reads leave no trace in the PEL
    r.xadd("s", {"n": "4"}, id="4-0")
    r.xreadgroup("g", "carol", {"s": ">"}, noack=True)
    assert r.xpending("s", "g")["pending"] == 2
    consumers = {c["name"]: c["pending"]
                 for c in r.xinfo_consumers("s", "g")}
    assert consumers == {b"alice": 1, b"bob": 1, b"carol": 0}
    assert r.xgroup_delconsumer("s", "g", "alice") == 1
    assert r.xpending("s", "g")["pending"] == 1


def test_xreadgroup_errors(r, raw):
    r.xgroup_create("e", "g", id="$", mkstream=True)
    assert raw.cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "e",
                   ">") == b"*-1\r\n"
    assert r.xinfo_consumers("e", "g") == []
    assert raw.cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "e",
                   "0") == b"*1\r\n*2\r\n$1\r\ne\r\n*0\r\n"
    assert [c["name"] for c in r.xinfo_consumers("e", "g")] == [b"c1"]
    assert raw.cmd("XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS",
                   "e", "nokey", ">", ">") == err(
        "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP "
        "with GROUP option")
    assert raw.cmd("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "e",
                   "$") == err(
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want "
        "to read the history of this consumer by specifying a proper ID, or "
        "use the > ID to get new messages. The $ ID would just return an "
        "empty result set.")
    assert raw.cmd("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "e", ">",
                   "x") == err(
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or "
        "'$' must be specified.")
    assert raw.cmd("XREADGROUP", "COUNT", "1", "STREAMS", "e", "0", "0",
                   "0") == err("ERR Missing GROUP option for XREADGROUP")
    assert raw.cmd("XREAD", "STREAMS", "e", ">") == err(
        "ERR The > ID can be specified only when calling XREADGROUP using "
        "the GROUP <group> <consumer> option.")
    assert raw.cmd("XREAD", "GROUP", "g", "c", "STREAMS", "e", "0") == err(
        "ERR The GROUP option is only supported by XREADGROUP. You called "
        "XREAD instead.")
    assert raw.cmd("XREAD", "NOACK", "STREAMS", "e", "0") == err(
        "ERR The NOACK option is only supported by XREADGROUP. You called "
        "XREAD instead.")
    assert raw.cmd("XREAD", "BLOCK", "-1", "STREAMS", "e", "0") == err(
        "ERR timeout is negative")
    assert raw.cmd("XREAD", "BLOCK", "abc", "STREAMS", "e", "0") == err(
        "ERR timeout is not an integer or out of range")
    assert raw.cmd("XREAD", "FOO", "STREAMS", "e", "0") == err(
        "ERR syntax error")
    assert raw.cmd("XREAD", "STREAMS", "e", "(0") == err(
        "ERR Invalid stream ID specified as stream command argument")
    assert raw.cmd("XREAD", "STREAMS", "nokey", "0") == b"*-1\r\n"


def test_xread_shapes(r, raw):
    r.xadd("a", {"x": "1"}, id="1-0")
    r.xadd("a", {"x": "2"}, id="2-0")
    r.xadd("b", {"y": "1"}, id="1-0")
    assert r.xread({"a": "0", "b": "0", "c": "0"}, count=1) == [
        [b"a", [(b"1-0", {b"x": b"1"})]], [b"b", [(b"1-0", {b"y": b"1"})]]]
    assert r.xread({"a": "1-0"}) == [[b"a", [(b"2-0", {b"x": b"2"})]]]
    assert r.xread({"a": "$"}) == []
    raw.cmd("HELLO", "3")
    assert raw.cmd("XREAD", "STREAMS", "a", "b", "1", "0") == (
        b"%2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nx\r\n$1\r\n2\r\n"
        b"$1\r\nb\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\ny\r\n$1\r\n1\r\n")
    assert raw.cmd("XREAD", "STREAMS", "a", "9") == b"_\r\n"


# ---- blocking -------------------------------------------------------------------------

def _later(fn, delay=0.2):
    t = threading.Timer(delay, fn)
    t.start()
    return t


def test_xread_block_served_by_xadd(r):
    other = client(r)
    r.xadd("s", {"old": "1"}, id="1-0")
    t = _later(lambda: other.xadd("s", {"new": "2"}, id="2-0"))
    start = time.monotonic()
    got = r.xread({"s": "$"}, block=5000)
    t.join()
    assert got == [[b"s", [(b"2-0", {b"new": b"2"})]]]
    assert time.monotonic() - start < 4
    # on a key that does not exist yet, and with block 0 (forever)
    t = _later(lambda: other.xadd("fresh", {"k": "v"}, id="5-0"))
    got = r.xread({"fresh": "$"}, block=0)
    t.join()
    assert got == [[b"fresh", [(b"5-0", {b"k": b"v"})]]]
    other.close()


def test_xread_block_timeout(r, raw):
    r.xadd("s", {"a": "1"}, id="1-0")
    start = time.monotonic()
    assert r.xread({"s": "$"}, block=150) == []
    assert time.monotonic() - start >= 0.14
    assert raw.cmd("XREAD", "BLOCK", "100", "STREAMS", "s", "$") == \
        b"*-1\r\n"
    # data already there: no blocking at all
    assert raw.cmd("XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s",
                   "0") == (b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n"
                            b"*2\r\n$1\r\na\r\n$1\r\n1\r\n")


def test_xread_block_in_multi(r, raw):
    raw.cmd("MULTI")
    assert raw.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$") == \
        b"+QUEUED\r\n"
    assert raw.cmd("EXEC") == b"*1\r\n*-1\r\n"


def test_xreadgroup_block(r):
    other = client(r)
    r.xgroup_create("s", "g", id="$", mkstream=True)
    t = _later(lambda: other.xadd("s", {"job": "1"}, id="1-0"))
    got = r.xreadgroup("g", "w1", {"s": ">"}, block=5000)
    t.join()
    assert got == [[b"s", [(b"1-0", {b"job": b"1"})]]]
    assert r.xpending("s", "g")["consumers"] == [{"name": b"w1",
                                                  "pending": 1}]
    assert r.xreadgroup("g", "w1", {"s": ">"}, block=100) == []
    other.close()


def test_blocked_readers_fifo(r):
    """Two XREADGROUP waiters on one group: each new entry goes to the one
    that waited longest, once."""
    r.xgroup_create("s", "g", id="$", mkstream=True)
    results = {}

    def reader(name):
        c = client(r)
        results[name] = c.xreadgroup("g", name, {"s": ">"}, block=5000,
                                     count=1)
        c.close()

    t1 = threading.Thread(target=reader, args=("first",))
    t1.start()
    time.sleep(0.2)
    t2 = threading.Thread(target=reader, args=("second",))
    t2.start()
    time.sleep(0.2)
    r.xadd("s", {"n": "1"}, id="1-0")
    t1.join(5)
    time.sleep(0.1)
    r.xadd("s", {"n": "2"}, id="2-0")
    t2.join(5)
    assert results["first"] == [[b"s", [(b"1-0", {b"n": b"1"})]]]
    assert results["second"] == [[b"s", [(b"2-0", {b"n": b"2"})]]]


# ---- XCLAIM, XAUTOCLAIM -------------------------------------------------------------

def test_xclaim(r, raw):
    for i in range(1, 4):
        r.xadd("s", {"n": str(i)}, id="%d-0" % i)
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "alice", {"s": ">"})
    # not idle long enough: nothing moves
    assert r.xclaim("s", "g", "bob", 100000, ["1-0"]) == []
    got = r.xclaim("s", "g", "bob", 0, ["1-0", "9-0"])
    assert got == [(b"1-0", {b"n": b"1"})]
    got = r.xclaim("s", "g", "bob", 0, ["2-0"], justid=True)
    assert got == [b"2-0"]
    detail = {d["message_id"]: (d["consumer"], d["times_delivered"])
              for d in r.xpending_range("s", "g", "-", "+", 10)}
    assert detail == {b"1-0": (b"bob", 2), b"2-0": (b"bob", 1),
                      b"3-0": (b"alice", 1)}
    got = r.xclaim("s", "g", "carol", 0, ["3-0"], retrycount=7,
                   idle=5000, justid=True)
    assert got == [b"3-0"]
    d = r.xpending_range("s", "g", "3-0", "3-0", 1)[0]
    assert d["consumer"] == b"carol" and d["times_delivered"] == 7
    assert d["time_since_delivered"] >= 5000
    # FORCE creates a NACK for an entry no one read
    r.xadd("s", {"n": "4"}, id="4-0")
    assert raw.cmd("XCLAIM", "s", "g", "dave", "0", "4-0", "FORCE",
                   "JUSTID") == b"*1\r\n$3\r\n4-0\r\n"
    # LASTID moves the group's last delivered ID forward
    raw.cmd("XCLAIM", "s", "g", "dave", "0", "4-0", "LASTID", "10-0",
            "JUSTID")
    assert r.xinfo_groups("s")[0]["last-delivered-id"] == b"10-0"
    # a deleted entry leaves the PEL on XCLAIM
    r.xdel("s", "1-0")
    assert r.xclaim("s", "g", "bob", 0, ["1-0"]) == []
    assert r.xpending("s", "g")["pending"] == 3
    nog = err("NOGROUP No such key 's' or consumer group 'nog'")
    assert raw.cmd("XCLAIM", "s", "nog", "c", "0", "1-0") == nog
    assert raw.cmd("XCLAIM", "s", "g", "c", "abc", "1-0") == err(
        "ERR Invalid min-idle-time argument for XCLAIM")
    assert raw.cmd("XCLAIM", "s", "g", "c", "0", "abc") == err(
        "ERR Unrecognized XCLAIM option 'abc'")
    assert raw.cmd("XCLAIM", "s", "g", "c", "0", "1-0", "IDLE", "x") == err(
        "ERR Invalid IDLE option argument for XCLAIM")
    assert raw.cmd("XCLAIM", "s", "g", "c", "0", "1-0", "RETRYCOUNT",
                   "x") == err("ERR Invalid RETRYCOUNT option argument for "
                               "XCLAIM")
    assert raw.cmd("XCLAIM", "s", "g", "c", "0", "1-0", "TIME", "x") == err(
        "ERR Invalid TIME option argument for XCLAIM")


def test_xautoclaim(r, raw):
    for i in range(1, 6):
        r.xadd("s", {"n": str(i)}, id="%d-0" % i)
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "alice", {"s": ">"})
    assert raw.cmd("XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT",
                   "2") == (b"*3\r\n$3\r\n3-0\r\n*2\r\n"
                            b"*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nn\r\n$1\r\n1\r\n"
                            b"*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nn\r\n$1\r\n2\r\n"
                            b"*0\r\n")
    r.xdel("s", "3-0")
    assert raw.cmd("XAUTOCLAIM", "s", "g", "bob", "0", "3-0", "JUSTID") == (
        b"*3\r\n$3\r\n0-0\r\n*2\r\n$3\r\n4-0\r\n$3\r\n5-0\r\n"
        b"*1\r\n$3\r\n3-0\r\n")
    assert r.xpending("s", "g")["consumers"] == [{"name": b"bob",
                                                  "pending": 4}]
    # idle filter: nothing is idle for an hour
    assert raw.cmd("XAUTOCLAIM", "s", "g", "carol", "3600000", "0") == \
        b"*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"
    assert [c["name"] for c in r.xinfo_consumers("s", "g")] == [b"alice",
                                                               b"bob"]
    detail = r.xpending_range("s", "g", "-", "+", 10)
    assert [(d["message_id"], d["times_delivered"]) for d in detail] == [
        (b"1-0", 2), (b"2-0", 2), (b"4-0", 1), (b"5-0", 1)]
    assert raw.cmd("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT",
                   "0") == err("ERR COUNT must be > 0")
    assert raw.cmd("XAUTOCLAIM", "s", "g", "c", "0", "0", "FOO") == err(
        "ERR syntax error")
    assert raw.cmd("XAUTOCLAIM", "s", "g", "c", "x", "0") == err(
        "ERR Invalid min-idle-time argument for XAUTOCLAIM")
    assert raw.cmd("XAUTOCLAIM", "s", "nog", "c", "0", "0") == err(
        "NOGROUP No such key 's' or consumer group 'nog'")


def test_xpending_errors(r, raw):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    assert raw.cmd("XPENDING", "s", "g") == \
        b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    assert raw.cmd("XPENDING", "s", "g", "-", "+") == err("ERR syntax error")
    assert raw.cmd("XPENDING", "s", "g", "-", "+", "x") == err(
        "ERR value is not an integer or out of range")
    assert raw.cmd("XPENDING", "s", "g", "IDLE", "5", "-", "+") == err(
        "ERR syntax error")
    assert raw.cmd("XPENDING", "s", "nog") == err(
        "NOGROUP No such key 's' or consumer group 'nog'")
    assert raw.cmd("XPENDING", "nokey", "g") == err(
        "NOGROUP No such key 'nokey' or consumer group 'g'")
    assert raw.cmd("XACK", "s", "g", "1-0", "abc") == err(
        "ERR Invalid stream ID specified as stream command argument")


def test_xreadgroup_blocked_group_destroyed(r):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    other = client(r)
    t = _later(lambda: other.xgroup_destroy("s", "g"))
    with pytest.raises(redis.ResponseError) as e:
        r.xreadgroup("g", "c", {"s": ">"}, block=5000)
    t.join()
    assert str(e.value) == ("NOGROUP the consumer group this client was "
                            "blocked on no longer exists")
    other.close()


def test_keyspace_events(r):
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyspace@0__:s")
    assert p.get_message(timeout=2)["type"] == "psubscribe"
    r.xadd("s", {"a": "1"}, id="1-0")
    r.xadd("s", {"a": "2"}, id="2-0", maxlen=1, approximate=False)
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"})
    r.xdel("s", "2-0")
    r.execute_command("XSETID", "s", "5-0")
    r.xgroup_destroy("s", "g")
    events = []
    while True:
        m = p.get_message(timeout=0.5)
        if m is None:
            break
        events.append(m["data"])
    assert events == [b"xadd", b"xadd", b"xtrim", b"xgroup-create",
                      b"xgroup-createconsumer", b"xdel", b"xsetid",
                      b"xgroup-destroy"]
    p.close()


def test_watch(r):
    """Which stream commands abort a WATCHer's EXEC (Redis signals only
    data changes: XADD, XDEL, XTRIM, MKSTREAM; not group bookkeeping)."""
    other = client(r)
    r.xadd("w", {"a": "1"}, id="1-0")
    r.xadd("w", {"a": "2"}, id="2-0")

    def watched(fn):
        p = r.pipeline()
        p.watch("w")
        fn()
        p.multi()
        p.ping()
        try:
            p.execute()
            return "ok"
        except redis.WatchError:
            return "aborted"

    steps = [
        ("create", lambda: other.xgroup_create("w", "g", "0"), "ok"),
        ("readgroup", lambda: other.xreadgroup("g", "c", {"w": ">"},
                                               count=1), "ok"),
        ("ack", lambda: other.xack("w", "g", "1-0"), "ok"),
        ("claim", lambda: other.xclaim("w", "g", "c2", 0, ["2-0"]), "ok"),
        ("autoclaim", lambda: other.xautoclaim("w", "g", "c3", 0, "0"), "ok"),
        ("createconsumer",
         lambda: other.xgroup_createconsumer("w", "g", "c9"), "ok"),
        ("delconsumer", lambda: other.xgroup_delconsumer("w", "g", "c9"),
         "ok"),
        ("setid", lambda: other.xgroup_setid("w", "g", "0"), "ok"),
        ("xsetid", lambda: other.execute_command("XSETID", "w", "9-0"), "ok"),
        ("trim nothing", lambda: other.xtrim("w", maxlen=100), "ok"),
        ("del nothing", lambda: other.xdel("w", "7-0"), "ok"),
        ("destroy", lambda: other.xgroup_destroy("w", "g"), "ok"),
        ("xadd", lambda: other.xadd("w", {"a": "1"}), "aborted"),
        ("xdel", lambda: other.xdel("w", "1-0"), "aborted"),
        ("xtrim", lambda: other.xtrim("w", maxlen=0, approximate=False),
         "aborted"),
    ]
    for name, fn, want in steps:
        assert (name, watched(fn)) == (name, want)
    other.close()


def test_oom(store_server):
    """Over maxmemory (noeviction) XADD is refused whole, and the stream
    stays readable."""
    srv = store_server(maxmemory="3mb")
    c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    added = 0
    with pytest.raises(redis.ResponseError) as e:
        for i in range(1, 20001):
            c.xadd("s", {"v": "x" * 1000}, id="%d-0" % i)
            added += 1
    assert str(e.value) == ("OOM command not allowed when used memory > "
                            "'maxmemory'.")
    assert 0 < added < 20000
    assert c.xlen("s") == added
    assert c.xrevrange("s", count=1)[0][0] == b"%d-0" % added
    assert c.xtrim("s", maxlen=0, approximate=False) == added
    c.close()


def test_rq_result_calls(r):
    """RQ 1.13's Result: XADD MAXLEN ~ 10 with EXPIRE in a MULTI pipeline,
    fetch_latest's XREAD BLOCK from 0-0 (woken by the save) and its
    XREVRANGE + - COUNT 1, count's XLEN."""
    key = "rq:results:job1"
    got = {}

    def waiter():
        c = client(r)
        got["r"] = c.xread({key: "0-0"}, block=5000)
        c.close()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.2)
    for i in range(12):
        with r.pipeline() as pipe:
            pipe.xadd(key, {"type": "1", "return_value": "v%d" % i},
                      maxlen=10)
            pipe.expire(key, 500)
            res = pipe.execute()
        assert res[1] is True
    t.join(5)
    assert got["r"][0][0] == key.encode()
    assert got["r"][0][1][-1][1][b"return_value"] == b"v0"
    latest = r.xrevrange(key, "+", "-", count=1)
    assert latest[0][1] == {b"type": b"1", b"return_value": b"v11"}
    assert r.xlen(key) == 12          # ~: no node is full yet
    assert 0 < r.ttl(key) <= 500


def test_nodes_like_redis(r):
    """Nodes close where Redis's listpacks would (4096 bytes of listpack
    encoding or 100 entries), so approximate trimming and radix-tree-keys
    agree for big and integer-looking values too."""
    for i in range(1, 61):
        r.xadd("big", {"f": "x" * (i * 37 % 1000), "n": str(i * 1000)},
               id="%d-0" % i)
    assert r.xinfo_stream("big")["radix-tree-keys"] == 8
    assert r.xtrim("big", maxlen=20, approximate=True) == 29
    assert r.xlen("big") == 31
    for i in range(1, 301):
        r.xadd("ints", {"n": str(i * 99991)}, id="%d-0" % i)
    assert r.xinfo_stream("ints")["radix-tree-keys"] == 3


def test_slowlog_sees_dollar(r):
    """XREAD BLOCK with $ (run inside MULTI, so it does not block) shows
    its arguments as sent in the slowlog."""
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.xadd("s", {"a": "1"})
    p = r.pipeline()
    p.xread({"s": "$"}, block=0)
    p.xread({"s": "$", "t": "$"}, block=10)
    assert p.execute() == [[], []]
    r.config_set("slowlog-log-slower-than", 10000)
    reads = [e["command"] for e in r.slowlog_get(10)
             if e["command"].startswith(b"XREAD")]
    assert reads == [b"XREAD BLOCK 10 STREAMS s t $ $",
                     b"XREAD BLOCK 0 STREAMS s $"]
