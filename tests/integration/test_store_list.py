"""The list commands (Redis 7.0 semantics): pushes and pops at both ends,
indexes and ranges, LINSERT/LREM/LTRIM/LPOS, the moves, LMPOP, and the
blocking pops.  Every test also passes against redis-server 7.0
(--target real); error strings and RESP shapes are checked byte for byte
over a raw socket."""
import socket
import threading
import time

import pytest
import redis

from obtest import RespConn as Resp

WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind " \
            b"of value\r\n"
NOT_INT = b"-ERR value is not an integer or out of range\r\n"
SYNTAX = b"-ERR syntax error\r\n"


@pytest.fixture
def raw(r):
    conn = Resp(r.server.port)
    yield conn
    conn.close()


def client(r):
    return redis.Redis(host="127.0.0.1", port=r.server.port, socket_timeout=10)


def bulks(*items):
    out = b"*%d\r\n" % len(items)
    for i in items:
        out += b"$%d\r\n%s\r\n" % (len(i), i)
    return out


# ---- pushes, pops, LLEN, encoding ---------------------------------------

def test_push_pop_both_ends(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "x", "y") == 5
    assert r.lrange("l", 0, -1) == [b"y", b"x", b"a", b"b", b"c"]
    assert r.llen("l") == 5
    assert r.lpop("l") == b"y"
    assert r.rpop("l") == b"c"
    assert r.lrange("l", 0, -1) == [b"x", b"a", b"b"]
    assert r.type("l") == b"list"
    assert r.object("encoding", "l") == b"quicklist"


def test_lpush_order_and_integers(r):
    assert r.lpush("l", 1, 2, "-3", "007", "12345678901234567890") == 5
    assert r.lrange("l", 0, -1) == [b"12345678901234567890", b"007", b"-3",
                                    b"2", b"1"]
    assert r.lindex("l", 2) == b"-3"


def test_pushx(r):
    assert r.lpushx("nosuch", "a") == 0
    assert r.execute_command("RPUSHX", "nosuch", "a", "b") == 0
    assert r.exists("nosuch") == 0
    r.rpush("l", "m")
    assert r.execute_command("LPUSHX", "l", "a", "b") == 3
    assert r.rpushx("l", "z") == 4
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"m", b"z"]


def test_pop_count(raw):
    assert raw.cmd("RPUSH", "l", "a", "b", "c", "d") == b":4\r\n"
    assert raw.cmd("LPOP", "l", "0") == b"*0\r\n"
    assert raw.cmd("LPOP", "l", "2") == bulks(b"a", b"b")
    assert raw.cmd("RPOP", "l", "5") == bulks(b"d", b"c")
    assert raw.cmd("EXISTS", "l") == b":0\r\n"
    assert raw.cmd("LPOP", "l") == b"$-1\r\n"
    assert raw.cmd("LPOP", "l", "2") == b"*-1\r\n"
    assert raw.cmd("RPOP", "l", "0") == b"*-1\r\n"
    assert raw.cmd("LPOP", "l", "-1") == \
        b"-ERR value is out of range, must be positive\r\n"
    assert raw.cmd("LPOP", "l", "x") == \
        b"-ERR value is out of range, must be positive\r\n"
    assert raw.cmd("LPOP", "l", "1", "2") == \
        b"-ERR wrong number of arguments for 'lpop' command\r\n"
    assert raw.cmd("RPUSH", "l", "a") == b":1\r\n"
    assert raw.cmd("RPOP", "l", "9999999999") == bulks(b"a")


def test_pop_resp3_nulls(raw):
    raw.cmd("HELLO", "3")
    assert raw.cmd("LPOP", "nosuch") == b"_\r\n"
    assert raw.cmd("LPOP", "nosuch", "3") == b"_\r\n"
    assert raw.cmd("LINDEX", "nosuch", "0") == b"_\r\n"
    assert raw.cmd("LPOS", "nosuch", "a") == b"_\r\n"
    assert raw.cmd("LMPOP", "1", "nosuch", "LEFT") == b"_\r\n"


def test_empty_list_is_deleted(r):
    r.rpush("l", "a")
    assert r.rpop("l") == b"a"
    assert r.exists("l") == 0
    assert r.type("l") == b"none"
    r.rpush("l", "a", "b")
    assert r.lrem("l", 0, "a") == 1
    assert r.lrem("l", 0, "b") == 1
    assert r.exists("l") == 0
    r.rpush("l", "a", "b")
    assert r.ltrim("l", 5, 10) is True
    assert r.exists("l") == 0


def test_wrongtype(r, raw):
    r.set("s", "v")
    for args in (("LPUSH", "s", "a"), ("RPUSH", "s", "a"),
                 ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
                 ("LPOP", "s"), ("RPOP", "s", "2"), ("LLEN", "s"),
                 ("LRANGE", "s", "0", "-1"), ("LINDEX", "s", "0"),
                 ("LSET", "s", "0", "x"), ("LINSERT", "s", "BEFORE", "a", "b"),
                 ("LREM", "s", "0", "a"), ("LTRIM", "s", "0", "1"),
                 ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"),
                 ("RPOPLPUSH", "s", "d"), ("LMPOP", "1", "s", "LEFT"),
                 ("BLPOP", "s", "0"), ("BRPOP", "s", "0"),
                 ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"),
                 ("BLMPOP", "0", "1", "s", "LEFT")):
        assert raw.cmd(*args) == WRONGTYPE, args
    assert r.get("s") == b"v"
    r.rpush("l", "a")
    assert raw.cmd("LMOVE", "l", "s", "LEFT", "LEFT") == WRONGTYPE
    assert raw.cmd("RPOPLPUSH", "l", "s") == WRONGTYPE
    assert r.lrange("l", 0, -1) == [b"a"]


def test_wrong_arity(raw):
    for args, name in ((("LPUSH", "l"), "lpush"), (("RPUSH", "l"), "rpush"),
                       (("LPOP",), "lpop"), (("LLEN",), "llen"),
                       (("LLEN", "a", "b"), "llen"),
                       (("LRANGE", "l", "0"), "lrange"),
                       (("LINDEX", "l"), "lindex"),
                       (("LSET", "l", "0"), "lset"),
                       (("LINSERT", "l", "BEFORE", "a"), "linsert"),
                       (("LREM", "l", "0"), "lrem"),
                       (("LTRIM", "l", "0"), "ltrim"),
                       (("LPOS", "l"), "lpos"),
                       (("LMOVE", "a", "b", "LEFT"), "lmove"),
                       (("RPOPLPUSH", "a"), "rpoplpush"),
                       (("LMPOP", "1", "a"), "lmpop"),
                       (("BLPOP", "a"), "blpop"), (("BRPOP", "a"), "brpop"),
                       (("BLMOVE", "a", "b", "LEFT", "LEFT"), "blmove"),
                       (("BRPOPLPUSH", "a", "b"), "brpoplpush"),
                       (("BLMPOP", "0", "1", "a"), "blmpop")):
        assert raw.cmd(*args) == (
            b"-ERR wrong number of arguments for '%s' command\r\n"
            % name.encode()), args


def test_big_elements_and_many_nodes(r):
    big = b"x" * 20000
    r.rpush("l", "a", big, "b")
    assert r.lrange("l", 0, -1) == [b"a", big, b"b"]
    vals = [b"v%d" % i for i in range(5000)]
    r.rpush("m", *vals)
    assert r.llen("m") == 5000
    assert r.lrange("m", 0, -1) == vals
    assert r.lindex("m", 4321) == b"v4321"
    assert r.lindex("m", -4321) == vals[-4321]
    assert r.lrange("m", 2500, 2502) == vals[2500:2503]
    assert r.object("encoding", "m") == b"quicklist"


# ---- indexes and ranges ---------------------------------------------------

def test_lrange_edges(r, raw):
    r.rpush("l", "a", "b", "c", "d")
    assert r.lrange("l", -100, 100) == [b"a", b"b", b"c", b"d"]
    assert r.lrange("l", 3, 1) == []
    assert r.lrange("l", 10, 20) == []
    assert r.lrange("l", 0, -100) == []
    assert r.lrange("l", -2, -1) == [b"c", b"d"]
    assert r.lrange("l", 0, 9999999999) == [b"a", b"b", b"c", b"d"]
    assert r.lrange("nosuch", 0, -1) == []
    assert raw.cmd("LRANGE", "l", "-9223372036854775808",
                   "9223372036854775807") == bulks(b"a", b"b", b"c", b"d")
    assert raw.cmd("LRANGE", "l", "0", "99999999999999999999") == NOT_INT
    assert raw.cmd("LRANGE", "nosuch", "x", "1") == NOT_INT
    assert raw.cmd("LRANGE", "l", "1", "1.5") == NOT_INT


def test_lindex(r, raw):
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", 0) == b"a"
    assert r.lindex("l", -1) == b"c"
    assert r.lindex("l", -3) == b"a"
    assert r.lindex("l", 3) is None
    assert r.lindex("l", -4) is None
    assert raw.cmd("LINDEX", "l", "9223372036854775807") == b"$-1\r\n"
    assert raw.cmd("LINDEX", "l", "x") == NOT_INT
    assert raw.cmd("LINDEX", "nosuch", "x") == b"$-1\r\n"


def test_lset(r, raw):
    r.rpush("l", "a", "b", "c")
    assert r.lset("l", 1, "B") is True
    assert r.lset("l", -1, "C" * 100) is True
    assert r.lrange("l", 0, -1) == [b"a", b"B", b"C" * 100]
    assert raw.cmd("LSET", "l", "3", "x") == b"-ERR index out of range\r\n"
    assert raw.cmd("LSET", "l", "-4", "x") == b"-ERR index out of range\r\n"
    assert raw.cmd("LSET", "nosuch", "0", "x") == b"-ERR no such key\r\n"
    assert raw.cmd("LSET", "nosuch", "x", "x") == b"-ERR no such key\r\n"
    assert raw.cmd("LSET", "l", "x", "x") == NOT_INT


def test_linsert(r, raw):
    r.rpush("l", "a", "b", "c")
    assert r.linsert("l", "BEFORE", "b", "x") == 4
    assert r.linsert("l", "after", "c", "y") == 5
    assert r.linsert("l", "AFTER", "a", "z") == 6
    assert r.lrange("l", 0, -1) == [b"a", b"z", b"x", b"b", b"c", b"y"]
    assert r.linsert("l", "BEFORE", "nope", "q") == -1
    assert r.linsert("nosuch", "BEFORE", "a", "q") == 0
    assert raw.cmd("LINSERT", "l", "MIDDLE", "a", "q") == SYNTAX
    assert raw.cmd("LINSERT", "nosuch", "MIDDLE", "a", "q") == SYNTAX
    r.set("s", "v")
    assert raw.cmd("LINSERT", "s", "MIDDLE", "a", "q") == SYNTAX


def test_linsert_into_full_nodes(r):
    # enough 100-byte elements for several 8 KiB nodes, then inserts at
    # every kind of place: node middles (splits) and node edges
    vals = [b"%03d" % i + b"." * 97 for i in range(300)]
    r.rpush("l", *vals)
    expect = list(vals)
    for pivot in (0, 1, 40, 79, 80, 81, 150, 299):
        for where in ("BEFORE", "AFTER"):
            new = b"new-%s-%d" % (where.encode(), pivot)
            assert r.linsert("l", where, vals[pivot], new) == len(expect) + 1
            i = expect.index(vals[pivot])
            expect.insert(i if where == "BEFORE" else i + 1, new)
    assert r.lrange("l", 0, -1) == expect
    assert r.llen("l") == len(expect)


def test_lrem(r, raw):
    r.rpush("l", "a", "b", "a", "c", "a", "1", "01")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"1", b"01"]
    r.rpush("l", "a", "a")
    assert r.lrem("l", -2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"1", b"01"]
    assert r.lrem("l", 0, "1") == 1
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"01"]
    assert r.lrem("l", -9223372036854775808, "01") == 1
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrem("nosuch", 0, "a") == 0
    assert raw.cmd("LREM", "l", "x", "a") == NOT_INT
    assert raw.cmd("LREM", "nosuch", "x", "a") == NOT_INT


def test_lrem_many_nodes(r):
    vals = [(b"x" if i % 3 == 0 else b"y%d" % i) * 50 for i in range(2000)]
    r.rpush("l", *vals)
    assert r.lrem("l", -100, b"x" * 50) == 100
    assert r.lrem("l", 0, b"x" * 50) == vals.count(b"x" * 50) - 100
    assert r.lrange("l", 0, -1) == [v for v in vals if v != b"x" * 50]


def test_ltrim(r, raw):
    r.rpush("l", *"abcdefg")
    assert r.ltrim("l", 1, -2) is True
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"d", b"e", b"f"]
    assert r.ltrim("l", -100, 100) is True
    assert r.llen("l") == 5
    assert r.ltrim("l", 0, 9999999999) is True
    assert r.ltrim("l", 2, 2) is True
    assert r.lrange("l", 0, -1) == [b"d"]
    assert r.ltrim("nosuch", 0, 1) is True
    assert raw.cmd("LTRIM", "l", "a", "1") == NOT_INT
    assert raw.cmd("LTRIM", "l", "0", "-100") == b"+OK\r\n"
    assert r.exists("l") == 0


def test_ltrim_many_nodes(r):
    vals = [b"%05d" % i * 20 for i in range(3000)]
    r.rpush("l", *vals)
    r.ltrim("l", 777, -1001)
    assert r.lrange("l", 0, -1) == vals[777:2000]


# ---- LPOS --------------------------------------------------------------------

def test_lpos(r):
    r.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=2) == 6
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", rank=-2) == 6
    assert r.lpos("l", "c", count=0) == [2, 6, 7]
    assert r.lpos("l", "c", count=2) == [2, 6]
    assert r.lpos("l", "c", rank=-1, count=2) == [7, 6]
    assert r.lpos("l", "c", rank=2, count=0) == [6, 7]
    assert r.lpos("l", "c", maxlen=2) is None
    assert r.lpos("l", "c", maxlen=3) == 2
    assert r.lpos("l", "c", rank=-1, maxlen=1, count=0) == [7]
    assert r.lpos("l", "2") == 4
    assert r.lpos("l", "x") is None
    assert r.lpos("l", "x", count=3) == []
    assert r.lpos("nosuch", "x") is None
    assert r.lpos("nosuch", "x", count=0) == []


def test_lpos_errors(r, raw):
    r.rpush("l", "a", "b", "a")
    assert raw.cmd("LPOS", "l", "a", "RANK", "0") == (
        b"-ERR RANK can't be zero: use 1 to start from the first match, 2 "
        b"from the second ... or use negative to start from the end of the "
        b"list\r\n")
    assert raw.cmd("LPOS", "l", "a", "RANK", "x") == NOT_INT
    assert raw.cmd("LPOS", "l", "a", "COUNT", "-1") == \
        b"-ERR COUNT can't be negative\r\n"
    assert raw.cmd("LPOS", "l", "a", "COUNT", "x") == \
        b"-ERR COUNT can't be negative\r\n"
    assert raw.cmd("LPOS", "l", "a", "MAXLEN", "-1") == \
        b"-ERR MAXLEN can't be negative\r\n"
    assert raw.cmd("LPOS", "l", "a", "MAXLEN", "x") == \
        b"-ERR MAXLEN can't be negative\r\n"
    assert raw.cmd("LPOS", "l", "a", "FOO") == SYNTAX
    assert raw.cmd("LPOS", "l", "a", "COUNT") == SYNTAX
    assert raw.cmd("LPOS", "nosuch", "a", "FOO", "1") == SYNTAX
    # the options are parsed before the key is looked up
    r.set("s", "v")
    assert raw.cmd("LPOS", "s", "a", "RANK", "0")[:20] == b"-ERR RANK can't be z"
    # Redis negates the rank in a long: LLONG_MIN scans from the tail and
    # never stops at COUNT
    r.rpush("m", "a", "b", "a", "c", "a")
    assert raw.cmd("LPOS", "m", "a", "RANK", "-9223372036854775808") == \
        b":4\r\n"
    assert raw.cmd("LPOS", "m", "a", "RANK", "-9223372036854775808",
                   "COUNT", "1") == b"*3\r\n:4\r\n:2\r\n:0\r\n"


# ---- moves -------------------------------------------------------------------

def test_lmove_and_rpoplpush(r, raw):
    r.rpush("a", "1", "2", "3")
    assert r.lmove("a", "b", "LEFT", "RIGHT") == b"1"
    assert r.lmove("a", "b", "RIGHT", "LEFT") == b"3"
    assert r.lrange("b", 0, -1) == [b"3", b"1"]
    assert r.rpoplpush("a", "b") == b"2"
    assert r.exists("a") == 0
    assert r.lrange("b", 0, -1) == [b"2", b"3", b"1"]
    assert r.rpoplpush("nosuch", "b") is None
    r.set("s", "v")
    assert r.rpoplpush("nosuch", "s") is None
    assert raw.cmd("LMOVE", "b", "c", "UP", "LEFT") == SYNTAX
    assert raw.cmd("LMOVE", "b", "c", "LEFT", "DOWN") == SYNTAX
    assert raw.cmd("LMOVE", "nosuch", "c", "left", "right") == b"$-1\r\n"


def test_lmove_rotation(r):
    r.rpush("l", "a", "b", "c")
    assert r.lmove("l", "l", "LEFT", "RIGHT") == b"a"
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a"]
    assert r.rpoplpush("l", "l") == b"a"
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    r.rpush("one", "x" * 1000)
    assert r.lmove("one", "one", "LEFT", "LEFT") == b"x" * 1000
    assert r.lrange("one", 0, -1) == [b"x" * 1000]
    r.rpush("n", "12")
    assert r.lmove("n", "n", "RIGHT", "LEFT") == b"12"
    assert r.lrange("n", 0, -1) == [b"12"]


def test_lmpop(r, raw):
    r.rpush("b", "1", "2", "3")
    assert raw.cmd("LMPOP", "2", "a", "b", "LEFT") == \
        b"*2\r\n$1\r\nb\r\n" + bulks(b"1")
    assert raw.cmd("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5") == \
        b"*2\r\n$1\r\nb\r\n" + bulks(b"3", b"2")
    assert r.exists("b") == 0
    assert raw.cmd("LMPOP", "2", "a", "b", "LEFT") == b"*-1\r\n"
    numkeys = b"-ERR numkeys should be greater than 0\r\n"
    assert raw.cmd("LMPOP", "0", "a", "LEFT") == numkeys
    assert raw.cmd("LMPOP", "x", "a", "LEFT") == numkeys
    assert raw.cmd("LMPOP", "-1", "a", "LEFT") == numkeys
    assert raw.cmd("LMPOP", "5", "a", "LEFT") == SYNTAX
    assert raw.cmd("LMPOP", "1", "a", "MIDDLE") == SYNTAX
    count = b"-ERR count should be greater than 0\r\n"
    assert raw.cmd("LMPOP", "1", "a", "LEFT", "COUNT", "0") == count
    assert raw.cmd("LMPOP", "1", "a", "LEFT", "COUNT", "x") == count
    assert raw.cmd("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1") == \
        SYNTAX
    assert raw.cmd("LMPOP", "1", "a", "LEFT", "COUNT") == SYNTAX
    r.set("s", "v")
    r.rpush("c", "x")
    assert raw.cmd("LMPOP", "2", "s", "c", "LEFT") == WRONGTYPE
    assert raw.cmd("LMPOP", "2", "c", "s", "LEFT") == \
        b"*2\r\n$1\r\nc\r\n" + bulks(b"x")


# ---- blocking ------------------------------------------------------------------

def test_blpop_serves_at_once(r, raw):
    r.rpush("b", "x", "y")
    assert raw.cmd("BLPOP", "a", "b", "0") == bulks(b"b", b"x")
    assert raw.cmd("BRPOP", "a", "b", "0") == bulks(b"b", b"y")
    assert r.exists("b") == 0


def test_blpop_timeout(r, raw):
    t = time.monotonic()
    assert r.blpop(["nosuch"], timeout=0.1) is None
    took = time.monotonic() - t
    assert 0.08 <= took < 1.5
    t = time.monotonic()
    assert raw.cmd("BRPOP", "nosuch", "0.1") == b"*-1\r\n"
    assert 0.08 <= time.monotonic() - t < 1.5
    assert raw.cmd("BLMOVE", "nosuch", "d", "LEFT", "LEFT", "0.1") == \
        b"*-1\r\n"
    assert raw.cmd("BLMPOP", "0.1", "1", "nosuch", "LEFT") == b"*-1\r\n"
    raw.cmd("HELLO", "3")
    assert raw.cmd("BLPOP", "nosuch", "0.1") == b"_\r\n"


def test_blocking_timeout_errors(raw):
    neg = b"-ERR timeout is negative\r\n"
    bad = b"-ERR timeout is not a float or out of range\r\n"
    assert raw.cmd("BLPOP", "a", "-1") == neg
    assert raw.cmd("BLPOP", "a", "x") == bad
    assert raw.cmd("BRPOP", "a", "-0.5") == neg
    assert raw.cmd("BLMOVE", "a", "b", "LEFT", "LEFT", "x") == bad
    assert raw.cmd("BLMOVE", "a", "b", "UP", "LEFT", "x") == SYNTAX
    assert raw.cmd("BRPOPLPUSH", "a", "b", "-1") == neg
    assert raw.cmd("BLMPOP", "-1", "1", "a", "LEFT") == neg
    # numkeys and the rest come before the timeout
    assert raw.cmd("BLMPOP", "x", "0", "a", "LEFT") == \
        b"-ERR numkeys should be greater than 0\r\n"
    assert raw.cmd("BLMPOP", "x", "1", "a", "UP") == SYNTAX


def test_blpop_served_by_push(r):
    out = {}

    def wait():
        out["v"] = client(r).blpop(["k1", "k2"], timeout=5)

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.3)
    assert r.rpush("k2", "v1", "v2") == 2
    t.join(5)
    assert out["v"] == (b"k2", b"v1")
    assert r.lrange("k2", 0, -1) == [b"v2"]


def test_blocking_fifo_three_waiters(r):
    res = {}
    conns = [Resp(r.server.port) for _ in range(3)]
    for i, c in enumerate(conns):
        c.send("BLPOP", "bl", "5")
        time.sleep(0.15)       # the order they block in
    assert r.rpush("bl", "x1", "x2") == 2
    res[0] = conns[0].reply()
    res[1] = conns[1].reply()
    assert res[0] == bulks(b"bl", b"x1")
    assert res[1] == bulks(b"bl", b"x2")
    assert r.exists("bl") == 0
    # the third still waits, and is served by the next push
    conns[2].sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        conns[2].reply()
    conns[2].sock.settimeout(5)
    r.lpush("bl", "x3")
    assert conns[2].reply() == bulks(b"bl", b"x3")
    for c in conns:
        c.close()


def test_blmove_served_by_push(r):
    c = Resp(r.server.port)
    c.send("BLMOVE", "src", "dst", "RIGHT", "LEFT", "5")
    time.sleep(0.2)
    r.rpush("src", "a", "b")
    assert c.reply() == b"$1\r\nb\r\n"
    assert r.lrange("src", 0, -1) == [b"a"]
    assert r.lrange("dst", 0, -1) == [b"b"]
    c.send("BRPOPLPUSH", "empty", "dst", "5")
    time.sleep(0.2)
    r.lpush("empty", "z")
    assert c.reply() == b"$1\r\nz\r\n"
    assert r.lrange("dst", 0, -1) == [b"z", b"b"]
    assert r.exists("empty") == 0
    c.close()


def test_blmpop_served_by_push(r):
    c = Resp(r.server.port)
    c.send("BLMPOP", "5", "2", "k1", "k2", "RIGHT", "COUNT", "2")
    time.sleep(0.2)
    r.rpush("k2", "a", "b", "c")
    assert c.reply() == b"*2\r\n$2\r\nk2\r\n" + bulks(b"c", b"b")
    assert r.lrange("k2", 0, -1) == [b"a"]
    c.close()


def test_blocking_in_multi_does_not_block(raw):
    assert raw.cmd("MULTI") == b"+OK\r\n"
    for args in (("BLPOP", "nosuch", "0"), ("BRPOP", "nosuch", "0"),
                 ("BLMOVE", "nosuch", "d", "LEFT", "LEFT", "0"),
                 ("BRPOPLPUSH", "nosuch", "d", "0"),
                 ("BLMPOP", "0", "1", "nosuch", "LEFT")):
        assert raw.cmd(*args) == b"+QUEUED\r\n"
    t = time.monotonic()
    assert raw.cmd("EXEC") == \
        b"*5\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n"
    assert time.monotonic() - t < 1.0


def test_blpop_in_multi_with_data(r, raw):
    r.rpush("l", "a")
    raw.cmd("MULTI")
    raw.cmd("BLPOP", "l", "0")
    raw.cmd("BLPOP", "l", "0")
    assert raw.cmd("EXEC") == b"*2\r\n" + bulks(b"l", b"a") + b"*-1\r\n"


def test_wrong_type_does_not_wake_waiter(r):
    c = Resp(r.server.port)
    c.send("BLPOP", "k", "5")
    time.sleep(0.2)
    # the key becomes a list and then a string in one transaction: the
    # waiter is not woken with WRONGTYPE, it keeps waiting
    p = r.pipeline(transaction=True)
    p.rpush("k", "x")
    p.set("k", "str")
    assert p.execute() == [1, True]
    c.sock.settimeout(0.4)
    with pytest.raises(socket.timeout):
        c.reply()
    c.sock.settimeout(5)
    r.delete("k")
    r.rpush("k", "y")
    assert c.reply() == bulks(b"k", b"y")
    c.close()


def test_set_does_not_wake_waiter(r):
    c = Resp(r.server.port)
    t = time.monotonic()
    c.send("BLPOP", "k", "0.5")
    time.sleep(0.1)
    r.set("k", "str")
    assert c.reply() == b"*-1\r\n"
    assert time.monotonic() - t >= 0.45
    c.close()


def test_blmove_wrong_destination(r):
    r.set("s", "v")
    c = Resp(r.server.port)
    # a missing source blocks whatever the destination holds
    c.send("BLMOVE", "src", "s", "LEFT", "LEFT", "0.2")
    assert c.reply() == b"*-1\r\n"
    r.rpush("src", "a")
    assert c.cmd("BLMOVE", "src", "s", "LEFT", "LEFT", "0") == WRONGTYPE
    assert r.lrange("src", 0, -1) == [b"a"]
    c.close()


# ---- differential: random commands against redis-server itself ----------

def _random_list_commands(seed, n):
    """A seeded mix of every non-blocking list command, valid or not, over
    three keys and one string, with values that repeat (so LREM, LPOS and
    LINSERT find them), integers, and elements big enough to fill nodes."""
    import random
    rnd = random.Random(seed)
    vals = ["a", "b", "c", "1", "2", "-3", "00", "9223372036854775807",
            "x" * 10, "y" * 100, "z" * 300, "w" * 3000]
    keys = ["k1", "k2", "k3", "s"]
    nums = ["0", "1", "-1", "2", "-2", "3", "5", "-5", "10", "-100", "100",
            "9999999999", "-9223372036854775808", "9223372036854775807",
            "x", "1.5"]

    def num():
        return rnd.choice(nums + [str(rnd.randint(-60, 60))])

    def val():
        return rnd.choice(vals)

    def key():
        return rnd.choice(keys)

    def side():
        return rnd.choice(["LEFT", "RIGHT", "left", "right"]
                          + (["UP"] if rnd.random() < 0.1 else []))

    out = []
    for _ in range(n):
        c = rnd.choice(["push"] * 20 + [
            "pop", "popc", "llen", "lrange", "lindex", "lset", "linsert",
            "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop", "set",
            "del", "pushx"])
        if c == "push":
            a = [rnd.choice(["LPUSH", "RPUSH"]), key()] + \
                [val() for _ in range(rnd.randint(1, 100))]
        elif c == "pushx":
            a = [rnd.choice(["LPUSHX", "RPUSHX"]), key(), val()]
        elif c == "pop":
            a = [rnd.choice(["LPOP", "RPOP"]), key()]
        elif c == "popc":
            a = [rnd.choice(["LPOP", "RPOP"]), key(), num()]
        elif c == "llen":
            a = ["LLEN", key()]
        elif c == "lrange":
            a = ["LRANGE", key(), num(), num()]
        elif c == "lindex":
            a = ["LINDEX", key(), num()]
        elif c == "lset":
            a = ["LSET", key(), num(), val()]
        elif c == "linsert":
            a = ["LINSERT", key(), rnd.choice(["BEFORE", "AFTER", "after",
                                               "middle"]), val(), val()]
        elif c == "lrem":
            a = ["LREM", key(), num(), val()]
        elif c == "ltrim":
            a = ["LTRIM", key(), num(), num()] if rnd.random() < 0.3 \
                else ["LLEN", key()]
        elif c == "lpos":
            a = ["LPOS", key(), val()]
            for _ in range(rnd.randint(0, 3)):
                a += [rnd.choice(["RANK", "COUNT", "MAXLEN", "FOO"]), num()]
        elif c == "lmove":
            a = ["LMOVE", key(), key(), side(), side()]
        elif c == "rpoplpush":
            a = ["RPOPLPUSH", key(), key()]
        elif c == "lmpop":
            k = rnd.randint(0, 3)
            a = ["LMPOP", rnd.choice([str(k), str(k), "x", "9"])] + \
                [key() for _ in range(k)] + [side()]
            if rnd.random() < 0.5:
                a += ["COUNT", num()]
        elif c == "set":
            a = ["SET", "s", "str"]
        else:
            a = ["DEL", key()] if rnd.random() < 0.3 else ["LLEN", key()]
        out.append(a)
    return out + [["LRANGE", k, "0", "-1"] for k in keys[:3]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_commands_match_redis(r, raw, servers, tmp_path, seed):
    from obtest import free_port, store_argv
    port = free_port()
    data = tmp_path / "ref-data"
    data.mkdir(exist_ok=True)
    servers(store_argv("real", port, data), (port,))
    ref = Resp(port)
    if seed == 2:
        raw.cmd("HELLO", "3")
        ref.cmd("HELLO", "3")
    # pipelined in batches: thousands of commands in a second or two
    cmds = _random_list_commands(seed, 4000)
    for i in range(0, len(cmds), 50):
        batch = cmds[i:i + 50]
        for a in batch:
            raw.send(*a)
        ours = [raw.reply() for _ in batch]
        for a in batch:
            ref.send(*a)
        want = [ref.reply() for _ in batch]
        for a, o, w in zip(batch, ours, want):
            assert o == w, (a[:6], o[:200], w[:200])
    ref.close()


def test_keyspace_events(r):
    r.config_set("notify-keyspace-events", "KEA")
    sub = client(r).pubsub()
    sub.psubscribe("__keyevent@0__:*")
    assert sub.get_message(timeout=2)["type"] == "psubscribe"
    r.rpush("l", "a", "b", "c", "d")
    r.lpush("l", "z")
    r.lpop("l")
    r.rpop("l", 2)
    r.linsert("l", "BEFORE", "b", "x")
    r.linsert("l", "BEFORE", "nope", "x")      # no event
    r.lset("l", 0, "y")
    r.lrem("l", 0, "nope")                      # no event
    r.lrem("l", 0, "y")
    r.ltrim("l", 0, -1)
    r.lmove("l", "m", "LEFT", "RIGHT")
    r.rpoplpush("m", "m")
    r.rpop("l")                                 # emptied: deleted
    r.lpushx("nosuch", "a")                     # no event
    r.blpop(["m"], timeout=1)
    expect = [("rpush", "l"), ("lpush", "l"), ("lpop", "l"), ("rpop", "l"),
              ("linsert", "l"), ("lset", "l"), ("lrem", "l"), ("ltrim", "l"),
              ("rpush", "m"), ("lpop", "l"),
              ("lpush", "m"), ("rpop", "m"), ("rpop", "l"), ("del", "l"),
              ("lpop", "m"), ("del", "m")]
    got = []
    while len(got) < len(expect):
        m = sub.get_message(timeout=2)
        if m is None:
            break
        got.append((m["channel"].decode().split(":", 1)[1],
                    m["data"].decode()))
    assert got == expect
    assert sub.get_message(timeout=0.2) is None
    sub.close()
