"""Sorted sets over RESP (redis-py and raw sockets): every command and
option, Redis 7.0's exact errors, the listpack/skiplist encodings and
their limits, RESP3 reply shapes, blocking pops.  Every test passes
against redis-server 7.0 (--target real)."""
import socket
import threading
import time

import pytest
import redis


# ---- raw RESP helpers ----------------------------------------------------------

def _enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif not isinstance(a, bytes):
            a = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def _reply_end(buf, i=0):
    """The offset just past one complete reply starting at i, or None."""
    nl = buf.find(b"\r\n", i)
    if nl < 0:
        return None
    t, line = buf[i:i + 1], buf[i + 1:nl]
    if t in b"+-:,_#(":
        return nl + 2
    if t in b"$=":
        n = int(line)
        if n < 0:
            return nl + 2
        end = nl + 2 + n + 2
        return end if len(buf) >= end else None
    if t in b"*~>%":
        n = int(line)
        if t == b"%":
            n *= 2
        j = nl + 2
        for _ in range(max(n, 0)):
            j = _reply_end(buf, j)
            if j is None:
                return None
        return j
    raise AssertionError("bad reply %r" % buf[i:])


class Raw:
    """One raw connection: cmd() sends a command and returns the reply's
    exact bytes."""

    def __init__(self, port, proto=2):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        if proto == 3:
            assert self.cmd("HELLO", "3").startswith(b"%7\r\n")

    def read(self):
        while True:
            end = _reply_end(self.buf) if self.buf else None
            if end is not None:
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            data = self.s.recv(65536)
            assert data, "connection closed"
            self.buf += data

    def cmd(self, *args):
        self.s.sendall(_enc(*args))
        return self.read()

    def close(self):
        self.s.close()


@pytest.fixture
def raw2(r):
    c = Raw(r.server.port, 2)
    yield c
    c.close()


@pytest.fixture
def raw3(r):
    c = Raw(r.server.port, 3)
    yield c
    c.close()


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def flat(r, *args):
    return r.execute_command(*args)


# ---- ZADD ----------------------------------------------------------------------

def test_zadd_basic(r):
    assert r.zadd("z", {"a": 1, "b": 2}) == 2
    assert r.zadd("z", {"a": 3, "c": 0}) == 1
    assert r.zrange("z", 0, -1, withscores=True) == [
        (b"c", 0.0), (b"b", 2.0), (b"a", 3.0)]
    assert r.zcard("z") == 3
    assert r.zcard("nokey") == 0
    # CH counts changed scores too; an unchanged score is not a change
    assert flat(r, "ZADD", "z", "CH", 3, "a", 5, "b", 1, "d") == 2


def test_zadd_nx_xx_gt_lt(r):
    r.zadd("z", {"a": 5})
    assert flat(r, "ZADD", "z", "NX", 1, "a", 1, "b") == 1
    assert r.zscore("z", "a") == 5.0
    assert flat(r, "ZADD", "z", "XX", 1, "a", 1, "c") == 0
    assert r.zscore("z", "a") == 1.0
    assert r.zscore("z", "c") is None
    assert flat(r, "ZADD", "z", "GT", "CH", 0, "a", 9, "b", 7, "new") == 2
    assert r.zrange("z", 0, -1, withscores=True) == [
        (b"a", 1.0), (b"new", 7.0), (b"b", 9.0)]
    assert flat(r, "ZADD", "z", "LT", "CH", 5, "a", 3, "b") == 1
    assert r.zscore("z", "b") == 3.0
    # XX on a missing key creates nothing
    assert flat(r, "ZADD", "nokey", "XX", 1, "a") == 0
    assert r.zcard("nokey") == 0


def test_zadd_incr(r, raw2):
    assert raw2.cmd("ZADD", "z", "INCR", 2.5, "a") == b"$3\r\n2.5\r\n"
    assert raw2.cmd("ZADD", "z", "INCR", 2.5, "a") == b"$1\r\n5\r\n"
    # INCR with NX on an existing member: null; XX on a missing one: null
    assert raw2.cmd("ZADD", "z", "NX", "INCR", 1, "a") == b"$-1\r\n"
    assert raw2.cmd("ZADD", "z", "XX", "INCR", 1, "b") == b"$-1\r\n"
    assert raw2.cmd("ZADD", "z", "GT", "INCR", -1, "a") == b"$-1\r\n"
    assert raw2.cmd("ZADD", "z", "LT", "INCR", -1, "a") == b"$1\r\n4\r\n"
    assert raw2.cmd("ZADD", "nokey", "XX", "INCR", 1, "a") == b"$-1\r\n"
    r.zadd("z", {"inf": float("inf")})
    assert err(r, "ZADD", "z", "INCR", "-inf", "inf") == \
        "resulting score is not a number (NaN)"
    assert err(r, "ZINCRBY", "z", "-inf", "inf") == \
        "resulting score is not a number (NaN)"
    assert r.zscore("z", "inf") == float("inf")
    assert r.zincrby("new", 1.5, "m") == 1.5
    assert r.zincrby("new", 1, "m") == 2.5


def test_zadd_errors(r, raw2):
    assert raw2.cmd("ZADD", "z", "NX", "XX", 1, "a") == \
        b"-ERR XX and NX options at the same time are not compatible\r\n"
    for opts in (("GT", "LT"), ("GT", "NX"), ("NX", "LT")):
        assert raw2.cmd("ZADD", "z", *opts, 1, "a") == (
            b"-ERR GT, LT, and/or NX options at the same time are not "
            b"compatible\r\n")
    assert raw2.cmd("ZADD", "z", "INCR", 1, "a", 2, "b") == \
        b"-ERR INCR option supports a single increment-element pair\r\n"
    assert raw2.cmd("ZADD", "z", 1, "a", 2) == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZADD", "z", "NX", 1) == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZADD", "z", "abc", "a") == \
        b"-ERR value is not a valid float\r\n"
    assert raw2.cmd("ZADD", "z", "nan", "a") == \
        b"-ERR value is not a valid float\r\n"
    # a bad score anywhere: nothing is added
    assert raw2.cmd("ZADD", "z", 1, "a", "x", "b") == \
        b"-ERR value is not a valid float\r\n"
    assert raw2.cmd("ZCARD", "z") == b":0\r\n"
    assert raw2.cmd("ZADD", "z") == \
        b"-ERR wrong number of arguments for 'zadd' command\r\n"
    assert raw2.cmd("ZINCRBY", "z", "x", "a") == \
        b"-ERR value is not a valid float\r\n"


def test_score_formatting(r, raw2):
    r.zadd("z", {"a": 1.1, "b": 3, "c": 1e300, "d": float("-inf"),
                 "e": -0.0})
    assert raw2.cmd("ZSCORE", "z", "a") == b"$18\r\n1.1000000000000001\r\n"
    assert raw2.cmd("ZSCORE", "z", "b") == b"$1\r\n3\r\n"
    assert raw2.cmd("ZSCORE", "z", "c") == \
        b"$23\r\n1.0000000000000001e+300\r\n"
    assert raw2.cmd("ZSCORE", "z", "d") == b"$4\r\n-inf\r\n"
    assert raw2.cmd("ZSCORE", "z", "e") == b"$1\r\n0\r\n"
    r.zadd("y", {"x": 0.1})
    assert raw2.cmd("ZINCRBY", "y", "0.2", "x") == \
        b"$19\r\n0.30000000000000004\r\n"
    assert raw2.cmd("ZSCORE", "z", "nope") == b"$-1\r\n"
    assert raw2.cmd("ZSCORE", "nokey", "a") == b"$-1\r\n"
    # scores are accepted as strtod reads them
    assert r.zadd("h", {"x": "0x10", "y": "1e1", "z": "+inf"}) == 3
    assert r.zrange("h", 0, -1, withscores=True) == [
        (b"y", 10.0), (b"x", 16.0), (b"z", float("inf"))]


def test_negative_zero(r, raw2):
    # a listpack keeps scores as text: -0 reads back as 0; a skiplist (and
    # the results ZUNION builds in one) keeps -0
    r.zadd("z", {"a": 0})
    assert raw2.cmd("ZADD", "z", "-0", "b") == b":1\r\n"
    assert raw2.cmd("ZSCORE", "z", "b") == b"$1\r\n0\r\n"
    assert raw2.cmd("ZUNION", 1, "z", "WEIGHTS", -1, "WITHSCORES") == (
        b"*4\r\n$1\r\na\r\n$2\r\n-0\r\n$1\r\nb\r\n$2\r\n-0\r\n")
    assert raw2.cmd("ZUNIONSTORE", "o", 1, "z", "WEIGHTS", -1) == b":2\r\n"
    assert raw2.cmd("ZSCORE", "o", "a") == b"$1\r\n0\r\n"
    r.zadd("big", {"m%d" % i: 0 for i in range(130)})
    assert raw2.cmd("ZADD", "big", "-0", "new") == b":1\r\n"
    assert raw2.cmd("ZSCORE", "big", "new") == b"$2\r\n-0\r\n"
    assert raw2.cmd("ZADD", "big", "-0", "m1") == b":0\r\n"
    assert raw2.cmd("ZSCORE", "big", "m1") == b"$1\r\n0\r\n"


# ---- ZREM, lookups ----------------------------------------------------------------

def test_zrem_and_lookups(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrem("z", "a", "x", "a") == 1
    assert r.zmscore("z", ["b", "nope", "c"]) == [2.0, None, 3.0]
    assert r.zmscore("nokey", ["a", "b"]) == [None, None]
    assert r.zrank("z", "c") == 1
    assert r.zrevrank("z", "c") == 0
    assert r.zrank("z", "nope") is None
    assert r.zrank("nokey", "a") is None
    assert r.zrem("z", "b", "c") == 2
    assert r.exists("z") == 0          # an emptied set is deleted
    assert r.zrem("nokey", "a") == 0


def test_wrongtype(r, raw2):
    r.set("s", "x")
    wt = (b"-WRONGTYPE Operation against a key holding the wrong kind of "
          b"value\r\n")
    for args in (("ZADD", "s", 1, "a"), ("ZINCRBY", "s", 1, "a"),
                 ("ZREM", "s", "a"), ("ZSCORE", "s", "a"),
                 ("ZMSCORE", "s", "a"), ("ZCARD", "s"),
                 ("ZCOUNT", "s", 0, 1), ("ZLEXCOUNT", "s", "-", "+"),
                 ("ZRANK", "s", "a"), ("ZRANGE", "s", 0, 1),
                 ("ZRANGEBYSCORE", "s", 0, 1), ("ZRANGEBYLEX", "s", "-", "+"),
                 ("ZRANGESTORE", "d", "s", 0, 1), ("ZPOPMIN", "s"),
                 ("ZREMRANGEBYRANK", "s", 0, 1), ("ZUNIONSTORE", "d", 1, "s"),
                 ("ZINTER", 1, "s"), ("ZDIFF", 1, "s"),
                 ("ZRANDMEMBER", "s"), ("ZSCAN", "s", 0),
                 ("ZMPOP", 1, "s", "MIN"), ("BZPOPMIN", "s", 1)):
        assert raw2.cmd(*args) == wt, args


# ---- counts and ranges -----------------------------------------------------------

def test_zcount_zlexcount(r, raw2):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zcount("z", 2, 3) == 2
    assert r.zcount("z", "(2", "+inf") == 2
    assert r.zcount("z", "-inf", "(1") == 0
    assert r.zcount("z", 3, 2) == 0
    assert r.zcount("nokey", 0, 1) == 0
    assert raw2.cmd("ZCOUNT", "z", "a", 1) == \
        b"-ERR min or max is not a float\r\n"
    # strtod reads "(" (an empty number) as an exclusive 0, as Redis does
    assert raw2.cmd("ZCOUNT", "z", "(", 1) == b":1\r\n"
    assert raw2.cmd("ZCOUNT", "z", "nan", 1) == \
        b"-ERR min or max is not a float\r\n"
    r.zadd("l", {"a": 0, "b": 0, "c": 0, "d": 0})
    assert r.zlexcount("l", "-", "+") == 4
    assert r.zlexcount("l", "[b", "(d") == 2
    assert r.zlexcount("l", "(a", "[c") == 2
    assert r.zlexcount("l", "+", "-") == 0
    for bad in (("a", "+"), ("-", "c"), ("+a", "+"), ("", "+")):
        assert raw2.cmd("ZLEXCOUNT", "l", *bad) == \
            b"-ERR min or max not valid string range item\r\n"


def test_zrange_by_rank(r, raw2):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zrange("z", 0, -1) == [b"a", b"b", b"c", b"d"]
    assert r.zrange("z", -2, 100) == [b"c", b"d"]
    assert r.zrange("z", -100, 0) == [b"a"]
    assert r.zrange("z", 3, 1) == []
    assert r.zrange("z", 10, 20) == []
    assert flat(r, "ZRANGE", "z", 0, 1, "REV", "WITHSCORES") == [
        b"d", b"4", b"c", b"3"]
    assert flat(r, "ZREVRANGE", "z", 0, 0, "WITHSCORES") == [b"d", b"4"]
    assert r.zrange("nokey", 0, -1) == []
    assert raw2.cmd("ZRANGE", "z", 0, -1, "LIMIT", 0, 1) == (
        b"-ERR syntax error, LIMIT is only supported in combination with "
        b"either BYSCORE or BYLEX\r\n")
    assert raw2.cmd("ZRANGE", "z", "a", -1) == \
        b"-ERR value is not an integer or out of range\r\n"
    assert raw2.cmd("ZRANGE", "z", 0, -1, "foo") == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZRANGE", "z", 0, -1, "REV", "REV") == \
        b"-ERR syntax error\r\n"
    assert raw2.cmd("ZREVRANGE", "z", 0, -1, "REV") == \
        b"-ERR syntax error\r\n"


def test_zrange_by_score(r, raw2):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zrangebyscore("z", 2, 4) == [b"b", b"c", b"d"]
    assert r.zrangebyscore("z", "(2", "(4") == [b"c"]
    assert r.zrangebyscore("z", "-inf", "+inf", start=1, num=2) == [
        b"b", b"c"]
    assert flat(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 3, -1) == [
        b"d", b"e"]
    # a negative offset returns nothing
    assert flat(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", -1, 2) == []
    assert flat(r, "ZREVRANGEBYSCORE", "z", 4, "(1", "WITHSCORES",
                "LIMIT", 1, 2) == [b"c", b"3", b"b", b"2"]
    assert flat(r, "ZRANGE", "z", "(4", 2, "BYSCORE", "REV") == [b"c", b"b"]
    assert flat(r, "ZRANGE", "z", 2, "(4", "BYSCORE", "REV") == []
    assert flat(r, "ZRANGE", "z", 1, 2, "BYSCORE", "WITHSCORES") == [
        b"a", b"1", b"b", b"2"]
    assert r.zrangebyscore("z", 5, 1) == []
    assert r.zrangebyscore("z", "(3", 3) == []
    # Redis reads bounds with strtod: "" is 0, a leading space is allowed
    r.zadd("y", {"zero": 0, "one": 1})
    assert r.zrangebyscore("y", "", "+inf") == [b"zero", b"one"]
    assert r.zrangebyscore("y", " 1", "+inf") == [b"one"]
    assert raw2.cmd("ZRANGEBYSCORE", "z", "a", "b") == \
        b"-ERR min or max is not a float\r\n"
    assert raw2.cmd("ZRANGEBYSCORE", "z", 0, 1, "LIMIT", 0) == \
        b"-ERR syntax error\r\n"
    assert raw2.cmd("ZRANGEBYSCORE", "z", 0, 1, "LIMIT", "x", 1) == \
        b"-ERR value is not an integer or out of range\r\n"


def test_zrange_by_lex(r, raw2):
    r.zadd("z", {m: 0 for m in ("a", "b", "c", "d", "e")})
    assert r.zrangebylex("z", "-", "+") == [b"a", b"b", b"c", b"d", b"e"]
    assert r.zrangebylex("z", "[b", "(d") == [b"b", b"c"]
    assert r.zrangebylex("z", "(b", "+", start=1, num=2) == [b"d", b"e"]
    assert r.zrevrangebylex("z", "[d", "-") == [b"d", b"c", b"b", b"a"]
    assert r.zrevrangebylex("z", "+", "(a", start=1, num=2) == [b"d", b"c"]
    assert flat(r, "ZRANGE", "z", "[d", "[b", "BYLEX", "REV") == [
        b"d", b"c", b"b"]
    assert flat(r, "ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", 2, 1) == [b"c"]
    assert r.zrangebylex("z", "+", "-") == []
    assert r.zrangebylex("z", "[c", "(c") == []
    assert raw2.cmd("ZRANGEBYLEX", "z", "a", "+") == \
        b"-ERR min or max not valid string range item\r\n"
    assert raw2.cmd("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == (
        b"-ERR syntax error, WITHSCORES not supported in combination with "
        b"BYLEX\r\n")
    assert raw2.cmd("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES") == (
        b"-ERR syntax error, WITHSCORES not supported in combination with "
        b"BYLEX\r\n")
    assert raw2.cmd("ZRANGE", "z", "-", "+", "BYLEX", "BYSCORE") == \
        b"-ERR syntax error\r\n"


def test_zrangestore(r, raw2):
    r.zadd("src", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zrangestore("dst", "src", 1, 2) == 2
    assert r.zrange("dst", 0, -1, withscores=True) == [(b"b", 2.0),
                                                        (b"c", 3.0)]
    assert flat(r, "ZRANGESTORE", "dst", "src", "(1", "+inf", "BYSCORE",
                "REV", "LIMIT", 0, 2) == 0
    assert flat(r, "ZRANGESTORE", "dst", "src", "+inf", "(1", "BYSCORE",
                "REV", "LIMIT", 0, 2) == 2
    assert r.zrange("dst", 0, -1) == [b"c", b"d"]
    assert flat(r, "ZRANGESTORE", "dst", "src", "[b", "[c", "BYLEX") == 2
    # an empty result deletes the destination
    assert r.zrangestore("dst", "src", 5, 10) == 0
    assert r.exists("dst") == 0
    assert r.zrangestore("dst", "nokey", 0, -1) == 0
    assert raw2.cmd("ZRANGESTORE", "dst", "src", 0, -1, "WITHSCORES") == \
        b"-ERR syntax error\r\n"


def test_zremrange(r, raw2):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zremrangebyrank("z", 0, 0) == 1
    assert r.zremrangebyrank("z", -1, -1) == 1
    assert r.zremrangebyrank("z", 5, 10) == 0
    assert r.zremrangebyscore("z", "(2", 3) == 1
    assert r.zrange("z", 0, -1) == [b"b", b"d"]
    assert r.zremrangebyscore("z", "-inf", "+inf") == 2
    assert r.exists("z") == 0
    r.zadd("l", {m: 0 for m in "abcde"})
    assert r.zremrangebylex("l", "[b", "(d") == 2
    assert r.zrange("l", 0, -1) == [b"a", b"d", b"e"]
    assert r.zremrangebyrank("nokey", 0, -1) == 0
    assert raw2.cmd("ZREMRANGEBYSCORE", "l", "x", 1) == \
        b"-ERR min or max is not a float\r\n"
    assert raw2.cmd("ZREMRANGEBYLEX", "l", "x", "+") == \
        b"-ERR min or max not valid string range item\r\n"
    assert raw2.cmd("ZREMRANGEBYRANK", "l", "x", 1) == \
        b"-ERR value is not an integer or out of range\r\n"


# ---- pops ----------------------------------------------------------------------

def test_zpop(r, raw2):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert raw2.cmd("ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert raw2.cmd("ZPOPMAX", "z", 2) == \
        b"*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n"
    assert raw2.cmd("ZPOPMIN", "z", 0) == b"*0\r\n"
    assert raw2.cmd("ZPOPMIN", "z", 10) == b"*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert r.exists("z") == 0
    assert raw2.cmd("ZPOPMIN", "z") == b"*0\r\n"
    assert raw2.cmd("ZPOPMIN", "z", 3) == b"*0\r\n"
    assert raw2.cmd("ZPOPMIN", "z", -1) == \
        b"-ERR value is out of range, must be positive\r\n"
    assert raw2.cmd("ZPOPMIN", "z", "x") == \
        b"-ERR value is out of range, must be positive\r\n"
    assert raw2.cmd("ZPOPMIN", "z", 1, 2) == b"-ERR syntax error\r\n"


def test_zmpop(r, raw2):
    r.zadd("z2", {"a": 1, "b": 2, "c": 3})
    assert r.execute_command("ZMPOP", 2, "z1", "z2", "MIN") == [
        b"z2", [[b"a", b"1"]]]
    assert r.execute_command("ZMPOP", 1, "z2", "max", "COUNT", 5) == [
        b"z2", [[b"c", b"3"], [b"b", b"2"]]]
    assert r.exists("z2") == 0
    assert raw2.cmd("ZMPOP", 2, "z1", "z2", "MIN") == b"*-1\r\n"
    assert raw2.cmd("ZMPOP", 0, "z1", "MIN") == \
        b"-ERR numkeys should be greater than 0\r\n"
    assert raw2.cmd("ZMPOP", "x", "z1", "MIN") == \
        b"-ERR numkeys should be greater than 0\r\n"
    assert raw2.cmd("ZMPOP", 2, "z1", "MIN") == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZMPOP", 1, "z1", "FOO") == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZMPOP", 1, "z1", "MIN", "COUNT", 0) == \
        b"-ERR count should be greater than 0\r\n"
    assert raw2.cmd("ZMPOP", 1, "z1", "MIN", "COUNT", 1, "COUNT", 1) == \
        b"-ERR syntax error\r\n"


def test_bzpop_served_at_once(r, raw2):
    r.zadd("z", {"a": 1, "b": 2})
    assert raw2.cmd("BZPOPMIN", "nokey", "z", 0) == \
        b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert raw2.cmd("BZPOPMAX", "z", 0) == \
        b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert r.exists("z") == 0
    r.zadd("z", {"a": 1, "b": 2})
    assert r.execute_command("BZMPOP", 0, 2, "x", "z", "MAX", "COUNT", 5) \
        == [b"z", [[b"b", b"2"], [b"a", b"1"]]]
    assert raw2.cmd("BZPOPMIN", "z", -1) == b"-ERR timeout is negative\r\n"
    assert raw2.cmd("BZPOPMIN", "z", "x") == \
        b"-ERR timeout is not a float or out of range\r\n"


def test_bzpop_timeout(r, raw2):
    t = time.time()
    assert raw2.cmd("BZPOPMIN", "z", "0.2") == b"*-1\r\n"
    assert time.time() - t >= 0.15
    assert raw2.cmd("BZMPOP", "0.1", 1, "z", "MIN") == b"*-1\r\n"
    # in a transaction a blocking pop does not block
    assert raw2.cmd("MULTI") == b"+OK\r\n"
    assert raw2.cmd("BZPOPMAX", "z", 0) == b"+QUEUED\r\n"
    assert raw2.cmd("EXEC") == b"*1\r\n*-1\r\n"


def test_bzpop_served_by_zadd_fifo(r):
    port = r.server.port
    clients = [Raw(port) for _ in range(3)]
    try:
        for c in clients:
            c.s.sendall(_enc("BZPOPMIN", "q", "other", 5))
            time.sleep(0.1)         # block in a known order
        r.zadd("q", {"x1": 1, "x2": 2})
        assert clients[0].read() == \
            b"*3\r\n$1\r\nq\r\n$2\r\nx1\r\n$1\r\n1\r\n"
        assert clients[1].read() == \
            b"*3\r\n$1\r\nq\r\n$2\r\nx2\r\n$1\r\n2\r\n"
        r.zadd("other", {"y": 3})
        assert clients[2].read() == \
            b"*3\r\n$5\r\nother\r\n$1\r\ny\r\n$1\r\n3\r\n"
        assert r.exists("q", "other") == 0
    finally:
        for c in clients:
            c.close()


def test_bzmpop_served_by_zincrby(r):
    c = Raw(r.server.port)
    try:
        c.s.sendall(_enc("BZMPOP", 5, 1, "q", "MAX", "COUNT", 2))
        time.sleep(0.1)
        r.zincrby("q", 2.5, "m")
        assert c.read() == (b"*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$1\r\nm\r\n"
                            b"$3\r\n2.5\r\n")
    finally:
        c.close()


def test_bzpop_served_by_store_commands(r):
    r.zadd("src", {"a": 1, "b": 2})
    c = Raw(r.server.port)
    try:
        c.s.sendall(_enc("BZPOPMAX", "dst", 5))
        time.sleep(0.1)
        assert r.zunionstore("dst", ["src"]) == 2
        assert c.read() == b"*3\r\n$3\r\ndst\r\n$1\r\nb\r\n$1\r\n2\r\n"
        c.s.sendall(_enc("BZPOPMIN", "dst2", 5))
        time.sleep(0.1)
        assert r.zrangestore("dst2", "src", 1, 1) == 1
        assert c.read() == \
            b"*3\r\n$4\r\ndst2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        assert r.zrange("dst", 0, -1) == [b"a"]
    finally:
        c.close()


def test_watch_sees_zset_changes(r):
    r.zadd("z", {"a": 1})
    for change in (lambda o: o.zadd("z", {"b": 2}),
                   lambda o: o.zincrby("z", 1, "a"),
                   lambda o: o.zrem("z", "b"),
                   lambda o: o.zpopmin("z")):
        with r.pipeline() as p:
            p.watch("z")
            other = redis.Redis(port=r.server.port)
            change(other)
            other.close()
            p.multi()
            p.zcard("z")
            with pytest.raises(redis.WatchError):
                p.execute()
    # a change that changes nothing does not abort
    r.zadd("z", {"a": 1})
    with r.pipeline() as p:
        p.watch("z")
        assert r.zadd("z", {"a": 1}) == 0
        assert r.zrem("z", "nope") == 0
        p.multi()
        p.zcard("z")
        assert p.execute() == [1]


# ---- set operations --------------------------------------------------------------

def test_zunion_inter_diff_store(r):
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    assert r.zunionstore("u", ["a", "b"]) == 4
    assert r.zrange("u", 0, -1, withscores=True) == [
        (b"x", 1.0), (b"y", 12.0), (b"z", 23.0), (b"w", 30.0)]
    assert r.zunionstore("u", {"a": 2, "b": 0.5}, aggregate="MAX") == 4
    assert r.zrange("u", 0, -1, withscores=True) == [
        (b"x", 2.0), (b"y", 5.0), (b"z", 10.0), (b"w", 15.0)]
    assert r.zinterstore("i", ["a", "b"], aggregate="MIN") == 2
    assert r.zrange("i", 0, -1, withscores=True) == [(b"y", 2.0),
                                                      (b"z", 3.0)]
    assert r.zinterstore("i", ["a", "nokey"]) == 0
    assert r.exists("i") == 0
    assert r.zdiffstore("d", ["a", "b"]) == 1
    assert r.zrange("d", 0, -1, withscores=True) == [(b"x", 1.0)]
    assert r.zdiffstore("d", ["nokey", "a"]) == 0
    assert r.exists("d") == 0
    # the same key twice
    assert r.zinterstore("i", ["a", "a"]) == 3
    assert r.zscore("i", "z") == 6.0
    # inf + -inf sums to 0
    r.zadd("p", {"m": "inf"})
    r.zadd("n", {"m": "-inf"})
    assert r.zunionstore("u", ["p", "n"]) == 1
    assert r.zscore("u", "m") == 0.0


def test_zunion_inter_diff_reply(r):
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20})
    assert r.zunion(["a", "b"]) == [b"x", b"y", b"z"]
    assert flat(r, "ZUNION", 2, "a", "b", "WITHSCORES") == [
        b"x", b"1", b"y", b"12", b"z", b"23"]
    assert flat(r, "ZINTER", 2, "a", "b", "WEIGHTS", 1, 2, "WITHSCORES") == [
        b"y", b"22", b"z", b"43"]
    assert flat(r, "ZDIFF", 2, "a", "b", "WITHSCORES") == [b"x", b"1"]
    assert flat(r, "ZDIFF", 1, "nokey") == []
    assert r.zintercard(2, ["a", "b"]) == 2
    assert r.zintercard(2, ["a", "b"], limit=1) == 1
    assert r.zintercard(2, ["a", "nokey"]) == 0


def test_setop_with_plain_sets(r):
    r.sadd("s", "x", "q")
    r.zadd("a", {"x": 5, "y": 2})
    assert flat(r, "ZUNION", 2, "a", "s", "WITHSCORES") == [
        b"q", b"1", b"y", b"2", b"x", b"6"]
    assert flat(r, "ZINTER", 2, "s", "a", "WITHSCORES") == [b"x", b"6"]
    assert flat(r, "ZDIFF", 2, "s", "a", "WITHSCORES") == [b"q", b"1"]
    assert r.zintercard(2, ["s", "a"]) == 1


def test_setop_errors(r, raw2):
    r.zadd("a", {"x": 1})
    assert raw2.cmd("ZUNIONSTORE", "d", 0, "a") == (
        b"-ERR at least 1 input key is needed for 'zunionstore' command\r\n")
    assert raw2.cmd("ZINTER", 0, "a") == (
        b"-ERR at least 1 input key is needed for 'zinter' command\r\n")
    assert raw2.cmd("ZINTERCARD", 0, "a") == (
        b"-ERR at least 1 input key is needed for 'zintercard' command\r\n")
    assert raw2.cmd("ZUNION", "x", "a") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert raw2.cmd("ZUNION", 2, "a") == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZUNION", 1, "a", "WEIGHTS", "x") == \
        b"-ERR weight value is not a float\r\n"
    assert raw2.cmd("ZUNION", 1, "a", "WEIGHTS") == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZUNION", 1, "a", "AGGREGATE", "avg") == \
        b"-ERR syntax error\r\n"
    assert raw2.cmd("ZDIFF", 1, "a", "WEIGHTS", 1) == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZUNIONSTORE", "d", 1, "a", "WITHSCORES") == \
        b"-ERR syntax error\r\n"
    assert raw2.cmd("ZINTERCARD", 1, "a", "LIMIT", -1) == \
        b"-ERR LIMIT can't be negative\r\n"
    assert raw2.cmd("ZINTERCARD", 1, "a", "LIMIT", "x") == \
        b"-ERR LIMIT can't be negative\r\n"
    assert raw2.cmd("ZINTERCARD", 1, "a", "WITHSCORES") == \
        b"-ERR syntax error\r\n"


# ---- ZRANDMEMBER, ZSCAN ---------------------------------------------------------

def test_zrandmember(r, raw2):
    members = {b"a": 1.0, b"b": 2.0, b"c": 3.0}
    r.zadd("z", members)
    assert r.zrandmember("z") in members
    assert r.zrandmember("nokey") is None
    assert r.zrandmember("nokey", 3) == []
    assert r.zrandmember("z", 0) == []
    got = r.zrandmember("z", 2)
    assert len(got) == 2 and len(set(got)) == 2
    assert set(r.zrandmember("z", 10)) == set(members)
    got = r.zrandmember("z", -7)
    assert len(got) == 7 and set(got) <= set(members)
    got = flat(r, "ZRANDMEMBER", "z", -4, "WITHSCORES")
    assert len(got) == 8
    for m, s in zip(got[::2], got[1::2]):
        assert members[m] == float(s)
    assert raw2.cmd("ZRANDMEMBER", "z", 1, "foo") == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZRANDMEMBER", "z", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert raw2.cmd("ZRANDMEMBER", "z", 2 ** 62, "WITHSCORES") == \
        b"-ERR value is out of range\r\n"
    # a large set: distinct picks whatever the count
    r.zadd("big", {"m%d" % i: i for i in range(300)})
    for n in (5, 150, 299, 300):
        got = r.zrandmember("big", n)
        assert len(got) == min(n, 300) and len(set(got)) == len(got)


def test_zscan(r, raw2):
    r.zadd("small", {"a": 1.1, "b": 2, "c": 3})
    cur, items = r.zscan("small", 0)
    assert cur == 0
    assert items == [(b"a", 1.1), (b"b", 2.0), (b"c", 3.0)]
    assert raw2.cmd("ZSCAN", "small", 0, "MATCH", "a") == (
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$18\r\n1.1000000000000001\r\n")
    r.zadd("big", {"m%d" % i: i + 0.5 for i in range(300)})
    seen = {}
    cur = 0
    while True:
        cur, items = r.zscan("big", cur, count=20)
        seen.update(items)
        if cur == 0:
            break
    assert seen == {b"m%d" % i: i + 0.5 for i in range(300)}
    got = dict(r.zscan_iter("big", match="m1?"))
    assert got == {b"m%d" % i: i + 0.5 for i in range(10, 20)}
    assert r.zscan("nokey", 0) == (0, [])
    assert raw2.cmd("ZSCAN", "big", "x") == b"-ERR invalid cursor\r\n"
    assert raw2.cmd("ZSCAN", "big", 0, "COUNT", 0) == b"-ERR syntax error\r\n"
    assert raw2.cmd("ZSCAN", "big", 0, "MATCH") == b"-ERR syntax error\r\n"


# ---- encodings -------------------------------------------------------------------

def test_encoding_entries(r):
    r.zadd("z", {"m%d" % i: i for i in range(128)})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"one-more": 1})
    assert r.object("encoding", "z") == b"skiplist"
    # it stays a skiplist when members go
    r.zremrangebyrank("z", 0, 100)
    assert r.object("encoding", "z") == b"skiplist"
    assert r.zcard("z") == 28
    assert r.zrange("z", 0, 1) == [b"m100", b"m101"]


def test_encoding_member_size(r):
    r.zadd("a", {"x" * 64: 1})
    assert r.object("encoding", "a") == b"listpack"
    r.zadd("a", {"y" * 65: 2})
    assert r.object("encoding", "a") == b"skiplist"
    r.zadd("b", {"y" * 65: 2})
    assert r.object("encoding", "b") == b"skiplist"
    assert r.zrange("a", 0, -1) == [b"x" * 64, b"y" * 65]


def test_encoding_of_results(r):
    r.zadd("big", {"m%03d" % i: i for i in range(200)})
    assert r.zunionstore("u", ["big"]) == 200
    assert r.object("encoding", "u") == b"skiplist"
    r.zremrangebyrank("big", 10, -1)
    assert r.zunionstore("u", ["big"]) == 10
    assert r.object("encoding", "u") == b"listpack"
    r.zadd("big2", {"m%03d" % i: i for i in range(200)})
    assert r.zrangestore("s", "big2", 0, 9) == 10
    assert r.object("encoding", "s") == b"listpack"
    assert r.zrangestore("s", "big2", 0, 150) == 151
    assert r.object("encoding", "s") == b"skiplist"
    # by score the length is unknown: a listpack that grows into a skiplist
    assert r.zrangestore("s", "big2", 0, 9, byscore=True) == 10
    assert r.object("encoding", "s") == b"listpack"
    assert r.zrangestore("s", "big2", 0, 150, byscore=True) == 151
    assert r.object("encoding", "s") == b"skiplist"


def test_big_set_operations(r):
    n = 1000
    r.zadd("z", {"m%04d" % i: i % 100 for i in range(n)})
    expect = sorted(("m%04d" % i, i % 100) for i in range(n))
    expect.sort(key=lambda p: (p[1], p[0]))
    assert r.zrange("z", 0, -1) == [m.encode() for m, _ in expect]
    for m, s in expect[::37]:
        rank = expect.index((m, s))
        assert r.zrank("z", m) == rank
        assert r.zrevrank("z", m) == n - 1 - rank
    assert r.zcount("z", 10, "(20") == 100
    assert r.zrangebyscore("z", 50, 50, start=3, num=2) == [
        expect[503][0].encode(), expect[504][0].encode()]
    assert r.zremrangebyscore("z", 0, 49) == 500
    assert r.zcard("z") == 500
    assert r.zpopmin("z", 2) == [(expect[500][0].encode(), 50.0),
                                 (expect[501][0].encode(), 50.0)]


# ---- RESP3 -----------------------------------------------------------------------

def test_resp3_shapes(r, raw3):
    r.zadd("z", {"a": 1.5, "b": 2})
    assert raw3.cmd("ZSCORE", "z", "a") == b",1.5\r\n"
    assert raw3.cmd("ZSCORE", "z", "x") == b"_\r\n"
    assert raw3.cmd("ZINCRBY", "z", 0, "b") == b",2\r\n"
    assert raw3.cmd("ZADD", "z", "INCR", 0, "b") == b",2\r\n"
    assert raw3.cmd("ZADD", "z", "NX", "INCR", 0, "b") == b"_\r\n"
    assert raw3.cmd("ZMSCORE", "z", "a", "x") == b"*2\r\n,1.5\r\n_\r\n"
    assert raw3.cmd("ZRANK", "z", "x") == b"_\r\n"
    assert raw3.cmd("ZRANGE", "z", 0, -1, "WITHSCORES") == (
        b"*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n")
    assert raw3.cmd("ZRANGE", "z", 0, -1) == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert raw3.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES",
                    "LIMIT", 1, 1) == b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert raw3.cmd("ZUNION", 1, "z", "WITHSCORES") == (
        b"*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n")
    assert raw3.cmd("ZRANDMEMBER", "z", -1, "WITHSCORES") in (
        b"*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n", b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n")
    assert raw3.cmd("ZSCAN", "z", 0) == (
        b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n"
        b"$1\r\n2\r\n")
    # ZPOPMIN without a count: one flat pair; with a count: pairs
    assert raw3.cmd("ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n,1.5\r\n"
    r.zadd("z", {"a": 1.5})
    assert raw3.cmd("ZPOPMAX", "z", 1) == b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert raw3.cmd("ZPOPMAX", "z", 0) == b"*0\r\n"
    assert raw3.cmd("BZPOPMIN", "z", 0) == \
        b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n"
    assert raw3.cmd("BZPOPMIN", "z", "0.05") == b"_\r\n"
    r.zadd("z", {"a": 1.5})
    assert raw3.cmd("ZMPOP", 1, "z", "MIN") == \
        b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n"
    assert raw3.cmd("ZMPOP", 1, "z", "MIN") == b"_\r\n"


def test_resp2_shapes(r, raw2):
    r.zadd("z", {"a": 1.5, "b": 2})
    assert raw2.cmd("ZMSCORE", "z", "a", "x") == b"*2\r\n$3\r\n1.5\r\n$-1\r\n"
    assert raw2.cmd("ZRANGE", "z", 0, -1, "WITHSCORES") == (
        b"*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n")
    assert raw2.cmd("ZRANK", "z", "x") == b"$-1\r\n"
    assert raw2.cmd("ZRANDMEMBER", "nokey") == b"$-1\r\n"
    assert raw2.cmd("ZPOPMAX", "z", 1) == b"*2\r\n$1\r\nb\r\n$1\r\n2\r\n"


# ---- keyspace events ----------------------------------------------------------

def test_keyspace_events(r):
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyspace@0__:z")
    assert p.get_message(timeout=1)["type"] == "psubscribe"
    r.zadd("z", {"a": 1, "b": 2})
    r.zincrby("z", 1, "a")
    r.zrem("z", "a")
    r.zpopmin("z")
    events = []
    for _ in range(6):
        m = p.get_message(timeout=1)
        if m is None:
            break
        events.append(m["data"])
    assert events == [b"zadd", b"zincr", b"zrem", b"zpopmin", b"del"]
    p.close()


def test_keyspace_events_ranges_and_stores(r):
    r.config_set("notify-keyspace-events", "KEA")
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    r.zadd("l", {"a": 0, "b": 0})
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    assert p.get_message(timeout=1)["type"] == "psubscribe"
    r.zremrangebyrank("z", 0, 0)
    r.zremrangebyscore("z", 2, 2)
    r.zremrangebylex("l", "-", "+")           # empties l: then "del"
    r.zpopmax("z")
    r.zrangestore("d1", "z", 0, -1)
    r.zunionstore("d2", ["z"])
    r.zinterstore("d3", ["z", "z"])
    r.zdiffstore("d4", ["z", "d1"])           # empty: nothing to delete
    r.zrangestore("d1", "z", 10, 20)          # empty: deletes d1
    r.execute_command("ZMPOP", 1, "d2", "MIN")
    got = []
    for _ in range(20):
        m = p.get_message(timeout=0.5)
        if m is None:
            break
        got.append((m["channel"].split(b":", 1)[1], m["data"]))
    assert got == [
        (b"zremrangebyrank", b"z"), (b"zremrangebyscore", b"z"),
        (b"zremrangebylex", b"l"), (b"del", b"l"), (b"zpopmax", b"z"),
        (b"zrangestore", b"d1"), (b"zunionstore", b"d2"),
        (b"zinterstore", b"d3"), (b"del", b"d1"), (b"zpopmin", b"d2")]
    p.close()
