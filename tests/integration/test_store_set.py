"""Sets over RESP: every set command (SADD SREM SISMEMBER SMISMEMBER
SMEMBERS SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION
SUNIONSTORE SDIFF SDIFFSTORE SSCAN), their edge cases and exact error
replies, OBJECT ENCODING (intset until 512 integer members, hashtable
after), SPOP/SRANDMEMBER counts, SSCAN's coverage, RESP3 shapes and the
keyspace events, as Redis 7.0.15 answers them.  The same tests run against
redis-server with --target real.

Error strings and RESP3 shapes are checked as raw bytes (the `resp` fixture);
the rest through redis-py (which returns SMEMBERS as a Python set).
"""
import time

import pytest
import redis

from obtest import WRONGTYPE_REPLY, RespConn, free_port, store_argv


def bulks(*items):
    return b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)


def ints(n):
    return [str(i).encode() for i in range(n)]


# ---- single-key commands ------------------------------------------------------

def test_sadd_srem_scard_sismember(r):
    assert r.sadd("s", "a", "b", "a", "c") == 3
    assert r.sadd("s", "a", "d") == 1
    assert r.scard("s") == 4
    assert r.scard("nokey") == 0
    assert r.sismember("s", "a") is True
    assert r.sismember("s", "z") is False
    assert r.sismember("nokey", "a") is False
    assert r.smembers("s") == {b"a", b"b", b"c", b"d"}
    assert r.smembers("nokey") == set()
    assert r.srem("s", "a", "zz", "a") == 1
    assert r.srem("nokey", "a") == 0
    assert r.smismember("s", "a", "b", "zz") == [False, True, False]
    assert r.smismember("nokey", "a", "b") == [False, False]
    # binary-safe members, the empty one included
    assert r.sadd("bin", b"\x00\r\n", b"") == 2
    assert r.smembers("bin") == {b"\x00\r\n", b""}
    assert r.sismember("bin", b"") is True


def test_empty_set_is_deleted(r):
    r.sadd("s", "a", "b")
    assert r.srem("s", "a", "b", "c") == 2
    assert r.exists("s") == 0
    assert r.type("s") == b"none"
    r.sadd("s", "x")
    assert r.spop("s") == b"x"
    assert r.exists("s") == 0
    r.sadd("s", "1", "2")
    assert sorted(r.spop("s", 5)) == [b"1", b"2"]
    assert r.exists("s") == 0
    r.sadd("src", "m")
    assert r.smove("src", "dst", "m") is True
    assert r.exists("src") == 0
    assert r.smembers("dst") == {b"m"}


def test_small_replies_raw(r, resp):
    assert resp.cmd("SADD", "s", "1", "2", "3") == b":3\r\n"
    assert resp.cmd("SMEMBERS", "s") == b"*3\r\n" + bulks(b"1", b"2", b"3")
    assert resp.cmd("SISMEMBER", "s", "2") == b":1\r\n"
    assert resp.cmd("SMISMEMBER", "s", "1", "9") == b"*2\r\n:1\r\n:0\r\n"
    assert resp.cmd("SMISMEMBER", "nokey", "1") == b"*1\r\n:0\r\n"
    assert resp.cmd("SMEMBERS", "nokey") == b"*0\r\n"
    assert resp.cmd("SPOP", "nokey") == b"$-1\r\n"
    assert resp.cmd("SRANDMEMBER", "nokey") == b"$-1\r\n"
    assert resp.cmd("SPOP", "nokey", "2") == b"*0\r\n"
    assert resp.cmd("SPOP", "nokey", "0") == b"*0\r\n"
    assert resp.cmd("SPOP", "s", "0") == b"*0\r\n"
    assert resp.cmd("SRANDMEMBER", "nokey", "2") == b"*0\r\n"
    assert resp.cmd("SRANDMEMBER", "s", "0") == b"*0\r\n"
    assert resp.cmd("SRANDMEMBER", "nokey", "0") == b"*0\r\n"
    # an intset is listed in its (sorted) order
    assert resp.cmd("SRANDMEMBER", "s", "3") == b"*3\r\n" + bulks(b"1", b"2",
                                                                   b"3")
    assert resp.cmd("SSCAN", "nokey", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert resp.cmd("SSCAN", "s", "0") == (b"*2\r\n$1\r\n0\r\n*3\r\n"
                                           + bulks(b"1", b"2", b"3"))


def test_arity_and_syntax_errors(resp):
    assert resp.cmd("SADD", "s") == (b"-ERR wrong number of arguments for "
                                     b"'sadd' command\r\n")
    assert resp.cmd("SISMEMBER", "s", "a", "b") == (
        b"-ERR wrong number of arguments for 'sismember' command\r\n")
    assert resp.cmd("SMOVE", "a", "b") == (
        b"-ERR wrong number of arguments for 'smove' command\r\n")
    assert resp.cmd("SINTERCARD", "1") == (
        b"-ERR wrong number of arguments for 'sintercard' command\r\n")
    resp.cmd("SADD", "s", "a")
    assert resp.cmd("SPOP", "s", "1", "2") == b"-ERR syntax error\r\n"
    assert resp.cmd("SRANDMEMBER", "s", "1", "2") == b"-ERR syntax error\r\n"


def test_wrongtype(r, resp):
    r.set("str", "v")
    r.sadd("s", "1")
    for cmd in (("SADD", "str", "a"), ("SREM", "str", "a"),
                ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"),
                ("SMEMBERS", "str"), ("SCARD", "str"), ("SPOP", "str"),
                ("SPOP", "str", "2"), ("SRANDMEMBER", "str"),
                ("SRANDMEMBER", "str", "-2"), ("SSCAN", "str", "0"),
                ("SMOVE", "str", "s", "1"), ("SMOVE", "s", "str", "1"),
                ("SMOVE", "s", "str", "nomember"),
                ("SINTER", "s", "str"), ("SINTER", "nokey", "str"),
                ("SINTER", "str", "nokey"), ("SUNION", "s", "str"),
                ("SDIFF", "s", "str"), ("SDIFF", "nokey", "str"),
                ("SINTERSTORE", "d", "nokey", "str"),
                ("SUNIONSTORE", "d", "s", "str"),
                ("SDIFFSTORE", "d", "s", "str"),
                ("SINTERCARD", "2", "nokey", "str")):
        assert resp.cmd(*cmd) == WRONGTYPE_REPLY, cmd
    # a missing source answers 0 before the destination's type is checked
    assert resp.cmd("SMOVE", "nokey", "str", "1") == b":0\r\n"
    assert r.get("str") == b"v"
    assert r.exists("d") == 0


# ---- encodings ----------------------------------------------------------------

def test_encoding_intset_until_512(r):
    r.sadd("s", *ints(512))
    assert r.object("encoding", "s") == b"intset"
    assert r.scard("s") == 512
    assert r.sadd("s", "511") == 0
    assert r.object("encoding", "s") == b"intset"
    assert r.sadd("s", "512") == 1
    assert r.object("encoding", "s") == b"hashtable"
    assert r.scard("s") == 513
    assert r.smembers("s") == set(ints(513))
    # it never goes back by removals
    r.srem("s", *ints(500))
    assert r.object("encoding", "s") == b"hashtable"
    assert r.smembers("s") == set(ints(513)[500:])


def test_encoding_non_integer_member(r):
    r.sadd("s", "1", "-9223372036854775808", "9223372036854775807")
    assert r.object("encoding", "s") == b"intset"
    for m in ("01", "+1", " 1", "-0", "1.0", "9223372036854775808", "a", ""):
        r.delete("t")
        r.sadd("t", "1", "2")
        assert r.object("encoding", "t") == b"intset"
        r.sadd("t", m)
        assert r.object("encoding", "t") == b"hashtable", m
        assert r.smembers("t") == {b"1", b"2", m.encode()}
    # the first member decides a new key's encoding
    r.sadd("h", "x", "1")
    assert r.object("encoding", "h") == b"hashtable"
    r.srem("h", "x")
    assert r.object("encoding", "h") == b"hashtable"


def test_encoding_of_store_results(r):
    r.sadd("a", "1", "2", "x")
    r.sadd("b", "1", "2", "3")
    assert r.object("encoding", "a") == b"hashtable"
    # a STORE result is built anew: integers only give an intset
    assert r.sinterstore("d", "a", "b") == 2
    assert r.object("encoding", "d") == b"intset"
    assert r.sdiffstore("d", "a", "b") == 1
    assert r.object("encoding", "d") == b"hashtable"
    assert r.sunionstore("d", "b", "b") == 3
    assert r.object("encoding", "d") == b"intset"
    r.sadd("big", *ints(600))
    assert r.sunionstore("d", "big") == 600
    assert r.object("encoding", "d") == b"hashtable"
    # SMOVE creates the destination as SADD would
    assert r.smove("a", "m1", "1") is True
    assert r.object("encoding", "m1") == b"intset"
    assert r.smove("a", "m2", "x") is True
    assert r.object("encoding", "m2") == b"hashtable"


def test_spop_near_size_rebuilds_intset(r):
    # Redis pops most of a set by rebuilding it from the members that
    # remain: an all-integer rest becomes an intset again.
    r.sadd("s", "x", *ints(20))
    r.srem("s", "x")
    assert r.object("encoding", "s") == b"hashtable"
    popped = r.spop("s", 18)
    assert len(popped) == 18
    assert r.object("encoding", "s") == b"intset"
    assert r.smembers("s") | set(popped) == set(ints(20))
    # a pop that leaves many members keeps the encoding
    r.sadd("t", "x", *ints(20))
    r.srem("t", "x")
    assert len(r.spop("t", 2)) == 2
    assert r.object("encoding", "t") == b"hashtable"


# ---- SPOP and SRANDMEMBER -------------------------------------------------------

def test_spop(r, resp):
    members = {b"m%d" % i for i in range(100)}
    r.sadd("s", *members)
    one = r.spop("s")
    assert one in members
    assert r.scard("s") == 99
    got = r.spop("s", 30)
    assert len(got) == 30 and len(set(got)) == 30
    assert set(got) <= members and one not in got
    assert r.scard("s") == 69
    rest = r.spop("s", 69)
    assert set(rest) | set(got) | {one} == members
    assert r.exists("s") == 0
    r.sadd("i", *ints(50))
    got = r.spop("i", 10)
    assert len(set(got)) == 10 and set(got) <= set(ints(50))
    assert r.smembers("i") == set(ints(50)) - set(got)
    assert resp.cmd("SPOP", "i", "-1") == (b"-ERR value is out of range, "
                                           b"must be positive\r\n")
    assert resp.cmd("SPOP", "i", "abc") == (b"-ERR value is out of range, "
                                            b"must be positive\r\n")
    assert resp.cmd("SPOP", "nokey", "-1") == (b"-ERR value is out of range, "
                                               b"must be positive\r\n")
    assert resp.cmd("SPOP", "i", "9223372036854775807")[:4] == b"*40\r"
    assert r.exists("i") == 0


def test_srandmember(r, resp):
    members = {b"m%d" % i for i in range(50)}
    r.sadd("s", *members)
    r.sadd("i", *ints(40))
    for key, pool in (("s", members), ("i", set(ints(40)))):
        assert r.srandmember(key) in pool
        for n in (1, 5, 13, 20, 39):
            got = r.srandmember(key, n)
            assert len(got) == n and len(set(got)) == n, (key, n)
            assert set(got) <= pool
        assert sorted(r.srandmember(key, 1000)) == sorted(pool)
        assert sorted(r.srandmember(key, len(pool))) == sorted(pool)
        rep = r.srandmember(key, -200)
        assert len(rep) == 200 and set(rep) <= pool
        # 200 picks from 40-50 members: repeats are certain
        assert len(set(rep)) < 200
    # nothing was removed
    assert r.scard("s") == 50 and r.scard("i") == 40
    one = r.srandmember("o", -5)
    assert one == []
    r.sadd("o", "only")
    assert r.srandmember("o", -5) == [b"only"] * 5
    assert r.srandmember("o", 5) == [b"only"]


def test_srandmember_count_errors(r, resp):
    r.sadd("s", "a")
    rng = (b"-ERR value is out of range, value must between "
           b"-9223372036854775807 and 9223372036854775807\r\n")
    assert resp.cmd("SRANDMEMBER", "s", "-9223372036854775808") == rng
    assert resp.cmd("SRANDMEMBER", "nokey", "-9223372036854775808") == rng
    assert resp.cmd("SRANDMEMBER", "s", "abc") == (
        b"-ERR value is not an integer or out of range\r\n")
    assert resp.cmd("SRANDMEMBER", "nokey", "abc") == (
        b"-ERR value is not an integer or out of range\r\n")
    assert resp.cmd("SRANDMEMBER", "s", "9223372036854775808") == (
        b"-ERR value is not an integer or out of range\r\n")
    assert resp.cmd("SRANDMEMBER", "s", "9223372036854775807") == (
        b"*1\r\n$1\r\na\r\n")


@pytest.mark.onebox_only
def test_srandmember_huge_negative_count_is_bounded(servers, tmp_path):
    # Redis 7.0 tries to send 2^63-1 members and dies of it; onebox writes
    # them one by one and stops at the output limit, closing that client.
    port = free_port()
    argv = store_argv("onebox", port, tmp_path, {}) + [
        "--core.output_buffer_hard", "1048576"]
    servers(argv, (port,))
    raw = RespConn(port)
    assert raw.cmd("SADD", "k", "a", "b") == b":2\r\n"
    started = time.monotonic()
    raw.send("SRANDMEMBER", "k", "-9223372036854775807")
    got = 0
    while True:
        chunk = raw.sock.recv(65536)
        if not chunk:
            break
        got += len(chunk)
    assert got <= 1048576 + 65536
    assert time.monotonic() - started < 10
    raw.close()
    other = RespConn(port)
    assert other.cmd("SCARD", "k") == b":2\r\n"
    # a large but legal count is answered whole
    other.send("SRANDMEMBER", "k", "-100000")
    reply = other.reply()
    assert reply.startswith(b"*100000\r\n")
    assert reply.count(b"$1\r\n") == 100000
    other.close()


def test_srandmember_distribution(r):
    # every member comes up, in both encodings
    r.sadd("i", *ints(10))
    r.sadd("h", *[b"h%d" % i for i in range(10)])
    for key in ("i", "h"):
        seen = {}
        for m in r.srandmember(key, -5000):
            seen[m] = seen.get(m, 0) + 1
        assert len(seen) == 10
        assert min(seen.values()) > 300, seen
        seen = {}
        for _ in range(300):
            for m in r.srandmember(key, 3):
                seen[m] = seen.get(m, 0) + 1
        assert len(seen) == 10 and min(seen.values()) > 30, seen


# ---- SMOVE ----------------------------------------------------------------------

def test_smove(r):
    r.sadd("src", "a", "b", "c")
    r.sadd("dst", "c")
    assert r.smove("src", "dst", "a") is True
    assert r.smembers("src") == {b"b", b"c"}
    assert r.smembers("dst") == {b"a", b"c"}
    assert r.smove("src", "dst", "zz") is False
    assert r.smove("nokey", "dst", "a") is False
    assert r.exists("nokey") == 0
    # already in the destination: still removed from the source
    assert r.smove("src", "dst", "c") is True
    assert r.smembers("src") == {b"b"}
    assert r.smembers("dst") == {b"a", b"c"}
    # the same key: 1 if a member, nothing changes
    assert r.smove("dst", "dst", "a") is True
    assert r.smove("dst", "dst", "zz") is False
    assert r.smembers("dst") == {b"a", b"c"}
    # the source emptied goes, the destination is created
    assert r.smove("src", "new", "b") is True
    assert r.exists("src") == 0
    assert r.smembers("new") == {b"b"}
    # a missing member does not create the destination
    assert r.smove("new", "other", "zz") is False
    assert r.exists("other") == 0


# ---- intersection, union, difference --------------------------------------------

def test_sinter_sunion_sdiff(r):
    r.sadd("a", "1", "2", "3", "x")
    r.sadd("b", "2", "3", "4", "x", "y")
    r.sadd("c", "3", "x", "z")
    assert r.sinter("a", "b", "c") == {b"3", b"x"}
    assert r.sinter("a") == {b"1", b"2", b"3", b"x"}
    assert r.sinter("a", "nokey") == set()
    assert r.sinter("nokey", "a") == set()
    assert r.sinter("a", "a") == r.smembers("a")
    assert r.sunion("a", "b", "c") == {b"1", b"2", b"3", b"4", b"x", b"y",
                                       b"z"}
    assert r.sunion("nokey") == set()
    assert r.sunion("nokey", "c") == {b"3", b"x", b"z"}
    assert r.sdiff("a", "b") == {b"1"}
    assert r.sdiff("b", "a", "c") == {b"4", b"y"}
    assert r.sdiff("a", "nokey") == r.smembers("a")
    assert r.sdiff("nokey", "a") == set()
    assert r.sdiff("a", "a") == set()
    assert r.sdiff("a", "b", "a") == set()
    # integers against strings across encodings
    r.sadd("i", "1", "2", "3")
    r.sadd("h", "1", "2", "3", "q")
    assert r.object("encoding", "i") == b"intset"
    assert r.sinter("i", "h") == {b"1", b"2", b"3"}
    assert r.sdiff("h", "i") == {b"q"}
    assert r.sdiff("i", "h") == set()


def test_store_forms(r):
    r.sadd("a", "1", "2", "3", "x")
    r.sadd("b", "2", "3", "4", "x")
    assert r.sinterstore("d", "a", "b") == 3
    assert r.smembers("d") == {b"2", b"3", b"x"}
    assert r.sunionstore("d", "a", "b") == 5
    assert r.smembers("d") == {b"1", b"2", b"3", b"4", b"x"}
    assert r.sdiffstore("d", "a", "b") == 1
    assert r.smembers("d") == {b"1"}
    # the destination may be a source
    assert r.sunionstore("a", "a", "b") == 5
    assert r.smembers("a") == {b"1", b"2", b"3", b"4", b"x"}
    # SDIFFSTORE d k: the difference of k alone, k itself
    assert r.sdiffstore("b", "b") == 4
    assert r.smembers("b") == {b"2", b"3", b"4", b"x"}
    # another type at the destination is replaced, its TTL dropped
    r.set("str", "v", ex=100)
    assert r.sinterstore("str", "a", "b") == 4
    assert r.type("str") == b"set"
    assert r.ttl("str") == -1
    r.sadd("t", "1")
    r.expire("t", 100)
    assert r.sunionstore("t", "a") == 5
    assert r.ttl("t") == -1
    # an empty result deletes the destination
    for cmd in (lambda: r.sinterstore("d", "a", "nokey"),
                lambda: r.sunionstore("d", "nokey"),
                lambda: r.sdiffstore("d", "a", "a"),
                lambda: r.sinterstore("d", "a", "nokey")):
        r.sadd("d", "stale")
        assert cmd() == 0
        assert r.exists("d") == 0
    assert r.sdiffstore("d", "nokey") == 0
    assert r.exists("d") == 0


def test_sintercard(r, resp):
    r.sadd("a", *ints(100))
    r.sadd("b", *ints(100)[50:], "x")
    assert r.sintercard(2, ["a", "b"]) == 50
    assert r.sintercard(2, ["a", "b"], limit=10) == 10
    assert r.sintercard(2, ["a", "b"], limit=0) == 50
    assert r.sintercard(2, ["a", "b"], limit=1000) == 50
    assert r.sintercard(1, ["b"]) == 51
    assert r.sintercard(2, ["a", "nokey"]) == 0
    assert resp.cmd("SINTERCARD", "2", "a", "a", "LIMIT", "1", "limit", "0") \
        == b":100\r\n"
    nk = b"-ERR numkeys should be greater than 0\r\n"
    assert resp.cmd("SINTERCARD", "0", "a") == nk
    assert resp.cmd("SINTERCARD", "-1", "a") == nk
    assert resp.cmd("SINTERCARD", "abc", "a") == nk
    assert resp.cmd("SINTERCARD", "3", "a", "b") == (
        b"-ERR Number of keys can't be greater than number of args\r\n")
    neg = b"-ERR LIMIT can't be negative\r\n"
    assert resp.cmd("SINTERCARD", "1", "a", "LIMIT", "-1") == neg
    assert resp.cmd("SINTERCARD", "1", "a", "LIMIT", "abc") == neg
    assert resp.cmd("SINTERCARD", "1", "a", "LIMIT") == \
        b"-ERR syntax error\r\n"
    assert resp.cmd("SINTERCARD", "1", "a", "FOO", "1") == (
        b"-ERR syntax error\r\n")


# ---- SSCAN ----------------------------------------------------------------------

def test_sscan_covers_all(r):
    members = {b"member:%d" % i for i in range(5000)}
    r.sadd("s", *members)
    seen, cursor, calls = set(), 0, 0
    while True:
        cursor, page = r.sscan("s", cursor, count=50)
        seen.update(page)
        calls += 1
        if cursor == 0:
            break
    assert seen == members
    assert calls > 10
    # MATCH filters
    seen, cursor = set(), 0
    while True:
        cursor, page = r.sscan("s", cursor, match="member:1?", count=100)
        seen.update(page)
        if cursor == 0:
            break
    assert seen == {b"member:%d" % i for i in range(10, 20)}
    assert set(r.sscan_iter("s", count=1000)) == members


def test_sscan_members_removed_meanwhile(r):
    members = [b"m%d" % i for i in range(2000)]
    r.sadd("s", *members)
    seen, cursor, k = set(), 0, 0
    while True:
        cursor, page = r.sscan("s", cursor, count=20)
        seen.update(page)
        # remove members past 1000 and add new ones while scanning
        r.srem("s", members[1000 + k])
        r.sadd("s", b"new%d" % k)
        k += 1
        if cursor == 0:
            break
    assert set(members[:1000]) <= seen


def test_sscan_intset_and_errors(r, resp):
    r.sadd("i", *ints(300))
    # an intset comes back whole with cursor 0, whatever COUNT says
    cursor, page = r.sscan("i", 0, count=5)
    assert cursor == 0 and sorted(page, key=int) == ints(300)
    assert r.sscan("i", 0, match="1?") == (0, [b"%d" % i
                                               for i in range(10, 20)])
    assert resp.cmd("SSCAN", "i", "abc") == b"-ERR invalid cursor\r\n"
    assert resp.cmd("SSCAN", "i", "18446744073709551616") == (
        b"-ERR invalid cursor\r\n")
    assert resp.cmd("SSCAN", "nokey", "abc") == b"-ERR invalid cursor\r\n"
    assert resp.cmd("SSCAN", "i", "-1")[:4] == b"*2\r\n"
    assert resp.cmd("SSCAN", "i", "0", "COUNT", "0") == \
        b"-ERR syntax error\r\n"
    assert resp.cmd("SSCAN", "i", "0", "COUNT", "-1") == (
        b"-ERR syntax error\r\n")
    assert resp.cmd("SSCAN", "i", "0", "COUNT", "abc") == (
        b"-ERR value is not an integer or out of range\r\n")
    assert resp.cmd("SSCAN", "i", "0", "COUNT") == b"-ERR syntax error\r\n"
    assert resp.cmd("SSCAN", "i", "0", "MATCH") == b"-ERR syntax error\r\n"
    assert resp.cmd("SSCAN", "i", "0", "TYPE", "set") == (
        b"-ERR syntax error\r\n")
    # options are parsed after the lookup: a missing key ignores them
    assert resp.cmd("SSCAN", "nokey", "0", "COUNT", "0") == (
        b"*2\r\n$1\r\n0\r\n*0\r\n")
    assert resp.cmd("SSCAN", "i", "0", "MATCH", "5", "COUNT", "1",
                    "MATCH", "7") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\n7\r\n"


# ---- RESP3 --------------------------------------------------------------------

def test_resp3_shapes(r, resp):
    assert resp.cmd("HELLO", "3")[:1] == b"%"
    assert resp.cmd("SADD", "s", "1", "2", "3") == b":3\r\n"
    s3 = bulks(b"1", b"2", b"3")
    assert resp.cmd("SMEMBERS", "s") == b"~3\r\n" + s3
    assert resp.cmd("SINTER", "s", "s") == b"~3\r\n" + s3
    assert resp.cmd("SUNION", "s", "nokey") == b"~3\r\n" + s3
    assert resp.cmd("SDIFF", "s", "nokey") == b"~3\r\n" + s3
    assert resp.cmd("SMEMBERS", "nokey") == b"~0\r\n"
    assert resp.cmd("SINTER", "s", "nokey") == b"~0\r\n"
    assert resp.cmd("SUNION", "nokey") == b"~0\r\n"
    assert resp.cmd("SDIFF", "nokey") == b"~0\r\n"
    assert resp.cmd("SPOP", "nokey") == b"_\r\n"
    assert resp.cmd("SRANDMEMBER", "nokey") == b"_\r\n"
    assert resp.cmd("SPOP", "nokey", "2") == b"~0\r\n"
    assert resp.cmd("SPOP", "s", "0") == b"~0\r\n"
    # SRANDMEMBER with a count stays an array
    assert resp.cmd("SRANDMEMBER", "nokey", "2") == b"*0\r\n"
    assert resp.cmd("SRANDMEMBER", "s", "5") == b"*3\r\n" + s3
    assert resp.cmd("SRANDMEMBER", "s", "2")[:4] == b"*2\r\n"
    assert resp.cmd("SRANDMEMBER", "s", "-4")[:4] == b"*4\r\n"
    assert resp.cmd("SMISMEMBER", "s", "1", "9") == b"*2\r\n:1\r\n:0\r\n"
    assert resp.cmd("SISMEMBER", "s", "1") == b":1\r\n"
    assert resp.cmd("SINTERCARD", "1", "s") == b":3\r\n"
    assert resp.cmd("SSCAN", "s", "0") == b"*2\r\n$1\r\n0\r\n*3\r\n" + s3
    popped = resp.cmd("SPOP", "s", "1")
    assert popped[:4] == b"~1\r\n" and popped[4:] in (bulks(b"1"),
                                                      bulks(b"2"),
                                                      bulks(b"3"))
    rest = resp.cmd("SPOP", "s", "5")
    assert rest[:4] == b"~2\r\n"
    assert resp.cmd("SCARD", "s") == b":0\r\n"


# ---- keyspace events ------------------------------------------------------------

def test_keyspace_events(store_server):
    srv = store_server(notify_keyspace_events="KEA")
    r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    assert p.get_message(timeout=2)["type"] == "psubscribe"

    def run(*args):
        r.execute_command(*args)
        time.sleep(0.02)
        out = []
        while True:
            m = p.get_message(timeout=0.1)
            if m is None:
                break
            out.append((m["channel"].split(b":", 1)[1], m["data"]))
        return out

    assert run("SADD", "s", "1", "2", "3") == [(b"sadd", b"s")]
    assert run("SADD", "s", "1") == []
    assert run("SREM", "s", "9") == []
    assert run("SREM", "s", "1") == [(b"srem", b"s")]
    assert run("SMOVE", "s", "d", "2") == [(b"srem", b"s"), (b"sadd", b"d")]
    assert run("SMOVE", "s", "d", "3") == [(b"srem", b"s"), (b"del", b"s"),
                                           (b"sadd", b"d")]
    assert run("SADD", "s", "2") == [(b"sadd", b"s")]
    # already in the destination: no "sadd"
    assert run("SMOVE", "s", "d", "2") == [(b"srem", b"s"), (b"del", b"s")]
    assert run("SADD", "a", "1", "2", "3", "4", "5", "6") == [(b"sadd", b"a")]
    assert run("SPOP", "a") == [(b"spop", b"a")]
    assert run("SPOP", "a", "2") == [(b"spop", b"a")]
    assert run("SPOP", "a", "0") == []
    assert run("SPOP", "a", "10") == [(b"spop", b"a"), (b"del", b"a")]
    assert run("SADD", "a", "1") == [(b"sadd", b"a")]
    assert run("SPOP", "a") == [(b"spop", b"a"), (b"del", b"a")]
    assert run("SADD", "x", "1", "2") == [(b"sadd", b"x")]
    assert run("SREM", "x", "1", "2") == [(b"srem", b"x"), (b"del", b"x")]
    assert run("SADD", "x", "1", "2") == [(b"sadd", b"x")]
    assert run("SINTERSTORE", "dst", "x", "x") == [(b"sinterstore", b"dst")]
    assert run("SINTERSTORE", "dst", "x", "nokey") == [(b"del", b"dst")]
    assert run("SINTERSTORE", "dst", "x", "nokey") == []
    assert run("SUNIONSTORE", "dst", "x") == [(b"sunionstore", b"dst")]
    assert run("SDIFFSTORE", "dst", "x") == [(b"sdiffstore", b"dst")]
    assert run("SDIFFSTORE", "dst", "x", "x") == [(b"del", b"dst")]
    assert run("SUNIONSTORE", "dst", "nokey") == []
    assert run("SRANDMEMBER", "x") == []
    assert run("SMOVE", "x", "x", "1") == []
    p.close()
    r.close()


def test_copy_rename_expire(r):
    r.sadd("i", *ints(10))
    r.sadd("h", "a", *ints(10))
    for key in ("i", "h"):
        assert r.copy(key, key + "2") is True
        assert r.object("encoding", key + "2") == r.object("encoding", key)
        assert r.smembers(key + "2") == r.smembers(key)
        # the copy is deep: changing it leaves the original
        r.sadd(key + "2", "new")
        r.srem(key + "2", "0")
        assert b"new" not in r.smembers(key)
        assert r.sismember(key, "0") is True
    assert r.rename("h", "h3") is True
    assert r.scard("h3") == 11 and r.exists("h") == 0
    r.pexpire("h3", 1)
    time.sleep(0.05)
    assert r.scard("h3") == 0 and r.exists("h3") == 0
    assert r.type("i") == b"set"


def _is_int(m):
    """Redis's string2ll: canonical 64-bit integers only."""
    try:
        v = int(m)
    except ValueError:
        return False
    return (str(v).encode() == m and -2**63 <= v < 2**63)


class SetModel:
    """Sets with the encoding Redis 7.0 would give them: a new set is an
    intset when its first member is an integer; a non-integer or a 513th
    member makes it a hashtable, which never goes back; the STORE forms
    and SPOP's rebuild build sets anew."""

    def __init__(self):
        self.sets, self.enc = {}, {}

    def fresh(self, key, members):
        members = list(members)
        if not members:
            self.sets.pop(key, None)
            self.enc.pop(key, None)
            return
        self.sets[key] = set()
        self.enc[key] = "intset" if _is_int(members[0]) else "hashtable"
        self.add(key, members)

    def add(self, key, members):
        if key not in self.sets:
            self.fresh(key, members)
            return
        for m in members:
            self.sets[key].add(m)
            if not _is_int(m) or len(self.sets[key]) > 512:
                self.enc[key] = "hashtable"

    def rebuilt(self, key):
        members = sorted(self.sets[key])
        self.fresh(key, sorted(members, key=lambda m: not _is_int(m)))

    def remove(self, key, members):
        for m in members:
            self.sets.get(key, set()).discard(m)
        if key in self.sets and not self.sets[key]:
            del self.sets[key], self.enc[key]


@pytest.mark.parametrize("seed", [1234, 7, 2026])
def test_random_operations_against_a_model(r, seed):
    import random
    rnd = random.Random(seed)
    model = SetModel()
    keys = ["k0", "k1", "k2", "k3"]
    pool = ([str(i).encode() for i in range(700)]
            + [b"-5", b"9223372036854775807", b"01", b"a", b"b", b"c", b""])

    def member():
        return rnd.choice(pool[:40] if rnd.random() < 0.4 else pool)

    for step in range(3000):
        op = rnd.random()
        k = rnd.choice(keys)
        cur = model.sets.get(k, set())
        if op < 0.35:
            ms = [member() for _ in range(rnd.choice((1, 3, 50, 300)))]
            want = len(set(ms) - cur)
            assert r.sadd(k, *ms) == want
            model.add(k, ms)
        elif op < 0.5:
            ms = [member() for _ in range(rnd.choice((1, 5)))]
            assert r.srem(k, *ms) == len(set(ms) & cur)
            model.remove(k, ms)
        elif op < 0.58 and cur:
            n = rnd.choice((1, 2, len(cur) - 1, len(cur) + 1))
            got = r.spop(k, n)
            assert len(got) == min(n, len(cur)) and set(got) <= cur
            rebuild = (len(cur) - n) * 5 <= n
            model.remove(k, got)
            if k in model.sets and rebuild:
                model.rebuilt(k)
        elif op < 0.64:
            dst, m = rnd.choice(keys), member()
            moved = r.smove(k, dst, m)
            assert moved == (m in cur)
            if moved and dst != k:
                model.remove(k, [m])
                model.add(dst, [m])
        elif op < 0.76:
            a, b = rnd.sample(keys, 2)
            sa, sb = model.sets.get(a, set()), model.sets.get(b, set())
            which = rnd.choice(("inter", "union", "diff"))
            want = {"inter": sa & sb, "union": sa | sb, "diff": sa - sb}[which]
            if rnd.random() < 0.5:
                assert getattr(r, "s" + which)(a, b) == want
            else:
                assert getattr(r, "s" + which + "store")(k, a, b) == len(want)
                model.fresh(k, sorted(want, key=lambda m: not _is_int(m)))
        elif op < 0.8:
            other = rnd.choice(keys)
            assert r.sintercard(2, [k, other]) == len(
                cur & model.sets.get(other, set()))
        else:
            assert r.scard(k) == len(cur)
            m = member()
            assert r.sismember(k, m) is (m in cur)
        if step % 50 == 0:
            for key in keys:
                assert r.smembers(key) == model.sets.get(key, set()), key
                if key in model.sets:
                    assert r.object("encoding", key).decode() == \
                        model.enc[key], (step, key)
                else:
                    assert r.exists(key) == 0


def test_watch_sees_set_changes(r):
    r.sadd("s", "a")
    with r.pipeline() as pipe:
        pipe.watch("s")
        r.sadd("s", "b")
        pipe.multi()
        pipe.scard("s")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    with r.pipeline() as pipe:
        pipe.watch("s")
        r.sadd("s", "b")        # no change: EXEC runs
        pipe.multi()
        pipe.scard("s")
        assert pipe.execute() == [2]
