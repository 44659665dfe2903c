"""The keyspace commands (DEL, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY,
RENAME, the EXPIRE and TTL families, PERSIST, DBSIZE, SELECT, MOVE,
SWAPDB, FLUSHDB/FLUSHALL, COPY, OBJECT, TOUCH) against Redis 7.0.15's
exact replies; every test also passes against redis-server (--target
real)."""
import time

import pytest
import redis

from obtest import NOT_INT, RespConn
from obtest import resp_err as err
from obtest import resp_once as raw


def client(r, db):
    return redis.Redis(host="127.0.0.1", port=r.server.port, db=db,
                       socket_timeout=10)


# ---- DEL, UNLINK, EXISTS, TOUCH, TYPE -------------------------------------------

def test_del_unlink_exists(r):
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.exists("a", "a", "b", "x") == 3
    assert r.delete("a", "x", "a") == 1
    assert r.unlink("b", "c", "d") == 2
    assert r.exists("a", "b", "c") == 0
    assert raw(r, "DEL", "nokey") == b":0\r\n"
    r.rpush("l", "x")
    assert r.delete("l") == 1


def test_touch(r):
    r.mset({"a": 1, "b": 2})
    assert r.touch("a", "b", "c", "a") == 3


def test_type(r):
    r.set("s", "v")
    r.rpush("l", "x")
    assert raw(r, "TYPE", "s") == b"+string\r\n"
    assert raw(r, "TYPE", "l") == b"+list\r\n"
    assert raw(r, "TYPE", "nokey") == b"+none\r\n"


def test_empty_aggregate_is_deleted(r):
    r.rpush("l", "x")
    r.lpop("l")
    assert r.exists("l") == 0
    assert raw(r, "TYPE", "l") == b"+none\r\n"


# ---- KEYS ---------------------------------------------------------------------

def test_keys_globs(r):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo",
             "hbllo", "!a", "a", "b", "[x]"]
    for n in names:
        r.set(n, 1)

    def keys(pat):
        return sorted(k.decode() for k in r.keys(pat))

    assert keys("*") == sorted(names)
    assert keys("h?llo") == ["h*llo", "hallo", "hbllo", "hello", "hxllo"]
    assert keys("h*llo") == sorted(["hello", "hallo", "hxllo", "hllo",
                                    "heeeello", "h*llo", "hbllo"])
    assert keys("h[ae]llo") == ["hallo", "hello"]
    assert keys("h[^e]llo") == ["h*llo", "hallo", "hbllo", "hxllo"]
    assert keys("h[a-b]llo") == ["hallo", "hbllo"]
    assert keys("h[b-a]llo") == ["hallo", "hbllo"]
    assert keys("h\\*llo") == ["h*llo"]
    assert keys("[!a]") == ["a"]
    assert keys("\\[x\\]") == ["[x]"]
    assert keys("nomatch*") == []
    assert raw(r, "KEYS", "nomatch*") == b"*0\r\n"


def test_keys_skips_expired(r):
    r.set("a", 1)
    r.set("b", 1, px=1)
    time.sleep(0.02)
    assert r.keys("*") == [b"a"]


# ---- SCAN -----------------------------------------------------------------------

def scan_all(r, **kw):
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, keys = r.scan(cursor, **kw)
        seen += keys
        calls += 1
        if cursor == 0:
            return seen, calls


def test_scan_returns_every_key(r):
    names = {"k%d" % i for i in range(1000)}
    r.mset({n: 1 for n in names})
    seen, calls = scan_all(r)
    assert {k.decode() for k in seen} == names
    assert calls > 1
    seen, _ = scan_all(r, count=5000)
    assert sorted(k.decode() for k in seen) == sorted(names)


def test_scan_match_count_type(r):
    for i in range(100):
        r.set("s%d" % i, 1)
    for i in range(10):
        r.rpush("l%d" % i, "x")
    seen, _ = scan_all(r, match="l*")
    assert sorted(seen) == sorted(b"l%d" % i for i in range(10))
    seen, _ = scan_all(r, _type="list")
    assert sorted(seen) == sorted(b"l%d" % i for i in range(10))
    seen, _ = scan_all(r, _type="LIST", match="l1*")
    assert seen == [b"l1"]
    seen, _ = scan_all(r, _type="string", count=1000)
    assert len(seen) == 100
    # an unknown type name filters everything out in 7.0
    seen, _ = scan_all(r, _type="nosuchtype")
    assert seen == []


def test_scan_guarantee_under_changes(r):
    """Every key present for the whole scan is returned, while other keys
    come and go."""
    stable = {"st%d" % i for i in range(300)}
    r.mset({n: 1 for n in stable})
    seen = set()
    cursor = 0
    i = 0
    while True:
        cursor, keys = r.scan(cursor, count=20)
        seen |= {k.decode() for k in keys}
        for j in range(30):
            r.set("tmp%d" % (i * 30 + j), 1)
        r.delete(*["tmp%d" % (i * 30 + j - 15) for j in range(15)])
        i += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_scan_cursor_parsing(r):
    r.set("a", 1)
    assert raw(r, "SCAN", "0").startswith(b"*2\r\n$1\r\n0\r\n")
    # strtoul's rules: a sign is accepted, -1 wraps around, empty is 0
    assert raw(r, "SCAN", "-1").startswith(b"*2\r\n")
    assert raw(r, "SCAN", "+0").startswith(b"*2\r\n")
    assert raw(r, "SCAN", "").startswith(b"*2\r\n")
    assert raw(r, "SCAN", "18446744073709551615").startswith(b"*2\r\n")
    for bad in ["abc", "18446744073709551616", " 1", "1 ", "0x", "1.0"]:
        assert err(r, "SCAN", bad) == "ERR invalid cursor", bad


def test_scan_option_errors(r):
    assert err(r, "SCAN", "0", "COUNT", "0") == "ERR syntax error"
    assert err(r, "SCAN", "0", "COUNT", "-1") == "ERR syntax error"
    assert err(r, "SCAN", "0", "COUNT", "abc") == NOT_INT
    assert err(r, "SCAN", "0", "COUNT") == "ERR syntax error"
    assert err(r, "SCAN", "0", "FOO", "1") == "ERR syntax error"
    assert err(r, "SCAN", "0", "MATCH") == "ERR syntax error"
    assert err(r, "SCAN", "abc", "COUNT", "0") == "ERR invalid cursor"


def test_scan_empty_db(r):
    assert raw(r, "SCAN", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"


# ---- RANDOMKEY, DBSIZE ---------------------------------------------------------

def test_randomkey_dbsize(r):
    assert r.randomkey() is None
    assert raw(r, "RANDOMKEY") == b"$-1\r\n"
    assert r.dbsize() == 0
    r.set("only", 1)
    assert r.randomkey() == b"only"
    r.mset({"a": 1, "b": 2})
    assert r.randomkey() in (b"only", b"a", b"b")
    assert r.dbsize() == 3


# ---- RENAME ---------------------------------------------------------------------

def test_rename(r):
    r.set("a", "v")
    assert r.rename("a", "b") is True
    assert r.get("b") == b"v"
    assert r.exists("a") == 0
    r.set("c", "old")
    r.expire("c", 1000)
    r.expire("b", 100)
    assert r.rename("b", "c") is True
    assert r.get("c") == b"v"
    assert 99 <= r.ttl("c") <= 100
    r.set("d", "x")
    r.rename("d", "c")
    assert r.ttl("c") == -1
    assert err(r, "RENAME", "nokey", "x") == "ERR no such key"
    assert err(r, "RENAMENX", "nokey", "x") == "ERR no such key"


def test_rename_same_key(r):
    assert err(r, "RENAME", "k", "k") == "ERR no such key"
    assert err(r, "RENAMENX", "k", "k") == "ERR no such key"
    r.set("k", "v")
    r.expire("k", 100)
    assert raw(r, "RENAME", "k", "k") == b"+OK\r\n"
    assert raw(r, "RENAMENX", "k", "k") == b":0\r\n"
    assert r.get("k") == b"v"
    assert r.ttl("k") > 0


def test_renamenx(r):
    r.mset({"a": 1, "b": 2})
    assert r.renamenx("a", "b") is False
    assert r.get("a") == b"1"
    assert r.renamenx("a", "c") is True
    assert r.get("c") == b"1"
    r.rpush("l", "x")
    assert r.rename("l", "l2") is True
    assert r.lrange("l2", 0, -1) == [b"x"]


# ---- EXPIRE family ---------------------------------------------------------------

def test_expire_basic(r):
    assert r.expire("nokey", 100) is False
    r.set("k", "v")
    assert r.expire("k", 100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.pexpire("k", 50000) is True
    assert 49000 <= r.pttl("k") <= 50000
    at = int(time.time()) + 500
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    assert r.pexpireat("k", at * 1000 + 123) is True
    assert r.execute_command("PEXPIRETIME", "k") == at * 1000 + 123
    assert r.execute_command("EXPIRETIME", "k") == at
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.persist("nokey") is False
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert r.execute_command("EXPIRETIME", "k") == -1
    assert r.execute_command("PEXPIRETIME", "k") == -1
    assert r.ttl("nokey") == -2
    assert r.pttl("nokey") == -2
    assert r.execute_command("EXPIRETIME", "nokey") == -2
    assert r.execute_command("PEXPIRETIME", "nokey") == -2


def test_expire_in_the_past_deletes(r):
    for cmd, arg in [("EXPIRE", "0"), ("EXPIRE", "-10"), ("PEXPIRE", "-1"),
                     ("PEXPIREAT", "1"), ("EXPIREAT", "1")]:
        r.set("k", "v")
        assert raw(r, cmd, "k", arg) == b":1\r\n"
        assert r.exists("k") == 0
    assert raw(r, "EXPIRE", "k", "0") == b":0\r\n"


def test_expire_really_expires(r):
    r.set("k", "v", px=50)
    time.sleep(0.15)
    assert r.get("k") is None
    assert r.ttl("k") == -2


def test_expire_options(r):
    r.set("k", "v")
    # NX: only without TTL
    assert r.expire("k", 100, nx=True) is True
    assert r.expire("k", 200, nx=True) is False
    # XX: only with a TTL
    assert r.expire("k", 300, xx=True) is True
    assert 299 <= r.ttl("k") <= 300
    r.persist("k")
    assert r.expire("k", 300, xx=True) is False
    # GT: no TTL counts as infinite, so GT never sets it
    assert r.expire("k", 100, gt=True) is False
    assert r.ttl("k") == -1
    # LT: no TTL is infinite, so LT sets it
    assert r.expire("k", 100, lt=True) is True
    assert r.expire("k", 200, lt=True) is False
    assert r.expire("k", 50, lt=True) is True
    assert r.expire("k", 40, gt=True) is False     # 40 s < the 50 s left
    assert r.expire("k", 60, gt=True) is True
    assert 59 <= r.ttl("k") <= 60
    assert raw(r, "EXPIRE", "k", "70", "XX", "GT") == b":1\r\n"
    assert raw(r, "EXPIRE", "k", "70", "xx", "lt") == b":0\r\n"
    assert raw(r, "EXPIRE", "nokey", "70", "NX") == b":0\r\n"


def test_expire_errors(r):
    r.set("k", "v")
    nx = "ERR NX and XX, GT or LT options at the same time are not compatible"
    gl = "ERR GT and LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "k", "10", "NX", "XX") == nx
    assert err(r, "EXPIRE", "k", "10", "NX", "GT") == nx
    assert err(r, "EXPIRE", "k", "10", "LT", "NX") == nx
    assert err(r, "EXPIRE", "k", "10", "GT", "LT") == gl
    assert err(r, "EXPIRE", "k", "10", "FOO") == "ERR Unsupported option FOO"
    assert err(r, "EXPIRE", "k", "abc", "foo") == "ERR Unsupported option foo"
    assert err(r, "EXPIRE", "k", "abc") == NOT_INT
    assert err(r, "EXPIRE", "k", "9223372036854775807") == \
        "ERR invalid expire time in 'expire' command"
    assert err(r, "EXPIRE", "k", "-9223372036854775808") == \
        "ERR invalid expire time in 'expire' command"
    assert err(r, "PEXPIRE", "k", "9223372036854775807") == \
        "ERR invalid expire time in 'pexpire' command"
    assert err(r, "EXPIREAT", "k", "9223372036854775807") == \
        "ERR invalid expire time in 'expireat' command"
    assert raw(r, "PEXPIREAT", "k", "9223372036854775807") == b":1\r\n"
    assert err(r, "EXPIRE", "k") == \
        "ERR wrong number of arguments for 'expire' command"
    assert err(r, "TTL", "k", "x") == \
        "ERR wrong number of arguments for 'ttl' command"


def test_ttl_rounding(r):
    r.set("k", "v", px=1600)
    assert r.ttl("k") == 2
    r.set("k", "v", px=1400)
    assert r.ttl("k") == 1


# ---- SELECT, MOVE, SWAPDB, FLUSH --------------------------------------------------

def test_select(r):
    assert raw(r, "SELECT", "15") == b"+OK\r\n"
    assert err(r, "SELECT", "16") == "ERR DB index is out of range"
    assert err(r, "SELECT", "-1") == "ERR DB index is out of range"
    assert err(r, "SELECT", "abc") == NOT_INT
    assert err(r, "SELECT", "4294967296") == \
        "ERR value is out of range, value must between -2147483648 and " \
        "2147483647"
    assert err(r, "SELECT", "9223372036854775808") == NOT_INT
    assert err(r, "SWAPDB", "4294967296", "0") == \
        "ERR invalid first DB index"
    assert err(r, "MOVE", "k", "4294967296") == \
        "ERR value is out of range, value must between -2147483648 and " \
        "2147483647"
    r1 = client(r, 1)
    r1.set("k", "in1")
    assert r.get("k") is None
    assert r1.get("k") == b"in1"
    assert r1.dbsize() == 1
    assert r.dbsize() == 0
    assert raw(r, "GET", "k", db=1) == b"$3\r\nin1\r\n"


def test_move(r):
    r1 = client(r, 1)
    r.set("k", "v")
    r.expire("k", 100)
    assert r.move("k", 1) is True
    assert r.exists("k") == 0
    assert r1.get("k") == b"v"
    assert 99 <= r1.ttl("k") <= 100
    assert r.move("k", 1) is False
    r.set("k", "other")
    assert r.move("k", 1) is False
    assert r.get("k") == b"other"
    assert r1.get("k") == b"v"
    assert err(r, "MOVE", "k", "0") == \
        "ERR source and destination objects are the same"
    assert err(r, "MOVE", "k", "16") == "ERR DB index is out of range"
    assert err(r, "MOVE", "k", "x") == NOT_INT
    assert err(r, "MOVE", "k", "1", db=1) == \
        "ERR source and destination objects are the same"


def test_swapdb(r):
    r1 = client(r, 1)
    r.set("a", "0")
    r1.set("b", "1")
    assert r.swapdb(0, 1) is True
    assert r.get("b") == b"1"
    assert r.get("a") is None
    assert r1.get("a") == b"0"
    assert r.swapdb(1, 1) is True
    assert err(r, "SWAPDB", "0", "16") == "ERR DB index is out of range"
    assert err(r, "SWAPDB", "x", "1") == "ERR invalid first DB index"
    assert err(r, "SWAPDB", "1", "x") == "ERR invalid second DB index"
    assert err(r, "SWAPDB", "-1", "0") == "ERR DB index is out of range"


def test_flushdb_flushall(r):
    r1 = client(r, 1)
    r.set("a", 1)
    r1.set("b", 1)
    assert r.flushdb() is True
    assert r.dbsize() == 0
    assert r1.dbsize() == 1
    r.set("a", 1)
    assert raw(r, "FLUSHDB", "ASYNC") == b"+OK\r\n"
    assert raw(r, "FLUSHDB", "sync") == b"+OK\r\n"
    assert err(r, "FLUSHDB", "FOO") == "ERR syntax error"
    assert err(r, "FLUSHDB", "ASYNC", "SYNC") == "ERR syntax error"
    r.set("a", 1)
    assert r.flushall() is True
    assert r.dbsize() == 0
    assert r1.dbsize() == 0
    assert raw(r, "FLUSHALL", "ASYNC") == b"+OK\r\n"
    assert err(r, "FLUSHALL", "x") == "ERR syntax error"


def test_flush_and_swapdb_abort_watch(r):
    r.set("w", 1)
    with r.pipeline() as p:
        p.watch("w")
        r.flushall()
        p.multi()
        p.set("x", 1)
        with pytest.raises(redis.WatchError):
            p.execute()
    r1 = client(r, 1)
    r1.set("w", 1)
    with r.pipeline() as p:
        p.watch("w")           # absent in db 0, present in db 1
        r.swapdb(0, 1)
        p.multi()
        p.set("x", 1)
        with pytest.raises(redis.WatchError):
            p.execute()
    with r.pipeline() as p:
        p.watch("nokey")       # absent: FLUSHDB does not abort
        r.flushdb()
        p.multi()
        p.set("x", 2)
        assert p.execute() == [True]


# ---- COPY -----------------------------------------------------------------------

def test_copy(r):
    r.set("a", "v")
    assert r.copy("a", "b") is True
    assert r.get("b") == b"v"
    assert r.copy("a", "b") is False
    r.set("a", "w")
    assert r.copy("a", "b", replace=True) is True
    assert r.get("b") == b"w"
    assert r.copy("nokey", "c") is False
    assert err(r, "COPY", "a", "a") == \
        "ERR source and destination objects are the same"
    assert err(r, "COPY", "a", "a", "DB", "0") == \
        "ERR source and destination objects are the same"
    r1 = client(r, 1)
    assert r.copy("a", "a", destination_db=1) is True
    assert r1.get("a") == b"w"
    assert r.copy("a", "a", destination_db=1) is False
    assert err(r, "COPY", "a", "x", "DB", "16") == \
        "ERR DB index is out of range"
    assert err(r, "COPY", "a", "x", "DB", "z") == NOT_INT
    assert err(r, "COPY", "a", "x", "FOO") == "ERR syntax error"
    assert err(r, "COPY", "a", "x", "DB") == "ERR syntax error"


def test_copy_keeps_ttl_and_encoding(r):
    r.set("i", 123)
    r.set("e", "short")
    r.set("raw", "x" * 100)
    r.append("ap", "ab")
    r.append("ap", "c")
    r.expire("raw", 100)
    for k in ["i", "e", "raw", "ap"]:
        assert r.copy(k, k + "2") is True
        assert r.get(k + "2") == r.get(k)
        assert r.object("encoding", k + "2") == r.object("encoding", k)
    assert 99 <= r.ttl("raw2") <= 100
    assert r.ttl("i2") == -1
    # the copy is independent
    r.append("raw2", "y")
    assert r.get("raw") == b"x" * 100


def test_copy_list(r):
    r.rpush("l", "a", "b")
    assert r.copy("l", "l2") is True
    r.rpush("l", "c")
    assert r.lrange("l2", 0, -1) == [b"a", b"b"]


def test_copy_other_types(r):
    r.hset("h", mapping={"f": "v", "g": "w"})
    r.sadd("s", "a", "b", 1)
    r.sadd("si", 1, 2, 3)
    r.zadd("z", {"m": 1.5, "n": 2})
    for k in ["h", "s", "si", "z"]:
        assert r.copy(k, k + "2") is True
        assert r.type(k + "2") == r.type(k)
        assert r.object("encoding", k + "2") == r.object("encoding", k)
    assert r.hgetall("h2") == {b"f": b"v", b"g": b"w"}
    assert r.smembers("s2") == {b"a", b"b", b"1"}
    assert r.smembers("si2") == {b"1", b"2", b"3"}
    assert r.zrange("z2", 0, -1, withscores=True) == [(b"m", 1.5), (b"n", 2.0)]
    r.hset("h", "f", "changed")
    assert r.hget("h2", "f") == b"v"
    r1 = client(r, 1)
    assert r.copy("z", "z", destination_db=1) is True
    assert r1.zscore("z", "n") == 2.0


# ---- OBJECT -----------------------------------------------------------------------

def test_object(r):
    r.set("s", "hello")
    r.set("n", 123)
    r.set("big", 123456)
    assert r.object("encoding", "s") == b"embstr"
    assert r.object("encoding", "nokey") is None
    assert raw(r, "OBJECT", "ENCODING", "nokey") == b"$-1\r\n"
    assert r.object("refcount", "s") == 1
    assert r.object("refcount", "n") == 2147483647
    assert r.object("refcount", "big") == 1
    assert r.object("idletime", "s") in (0, 1)      # a second may tick
    assert err(r, "OBJECT", "FREQ", "s") == (
        "ERR An LFU maxmemory policy is not selected, access frequency not "
        "tracked. Please note that when switching between policies at "
        "runtime LRU and LFU data will take some time to adjust.")
    assert raw(r, "OBJECT", "FREQ", "nokey") == b"$-1\r\n"
    assert err(r, "OBJECT", "foo") == \
        "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    assert err(r, "object", "foo", "bar") == \
        "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    assert err(r, "OBJECT", "ENCODING") == \
        "ERR wrong number of arguments for 'object|encoding' command"
    assert err(r, "OBJECT", "encoding", "a", "b") == \
        "ERR wrong number of arguments for 'object|encoding' command"
    assert err(r, "OBJECT", "HELP", "x") == \
        "ERR wrong number of arguments for 'object|help' command"
    assert err(r, "OBJECT") == \
        "ERR wrong number of arguments for 'object' command"


def test_object_help(r):
    out = raw(r, "OBJECT", "HELP")
    assert out.startswith(b"*15\r\n+OBJECT <subcommand> [<arg> [value] "
                          b"[opt] ...]. Subcommands are:\r\n+ENCODING <key>"
                          b"\r\n")
    assert out.endswith(b"+HELP\r\n+    Prints this help.\r\n")


def test_object_lfu(store_server):
    srv = store_server(maxmemory_policy="allkeys-lfu")
    r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    r.set("k", "v")
    assert isinstance(r.object("freq", "k"), int)
    with pytest.raises(redis.ResponseError) as e:
        r.object("idletime", "k")
    assert str(e.value).startswith("An LFU maxmemory policy is selected")
    r.close()


def test_object_idletime_grows(r):
    r.set("k", "v")
    time.sleep(2.1)
    assert r.object("idletime", "k") >= 1
    r.execute_command("TYPE", "k")        # TYPE does not touch
    assert r.object("idletime", "k") >= 1
    r.get("k")
    assert r.object("idletime", "k") == 0


# ---- keyspace events ---------------------------------------------------------------

def test_keyspace_events(store_server):
    """The events the string, keyspace and SORT commands publish, in
    order, as __keyevent@<db>__:<event> <key>."""
    srv = store_server(notify_keyspace_events="KEA")
    r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    p = r.pubsub()
    p.psubscribe("__keyevent@*__:*")
    assert p.get_message(timeout=5)["type"] == "psubscribe"

    r.set("a", "1")
    r.set("b", "x", ex=100)
    r.incr("a")
    r.incrbyfloat("a", "1.5")
    r.append("b", "y")
    r.setrange("b", 0, "z")
    r.expire("a", 100)
    r.persist("a")
    r.rename("a", "c")
    r.copy("c", "d")
    r.move("d", 1)
    r.getdel("b")
    r.delete("c", "nokey")
    r.rpush("l", 2, 1)
    r.execute_command("SORT", "l", "STORE", "s")
    r.expire("s", 0)

    want = [
        ("0", "set", "a"), ("0", "set", "b"), ("0", "expire", "b"),
        ("0", "incrby", "a"), ("0", "incrbyfloat", "a"),
        ("0", "append", "b"), ("0", "setrange", "b"),
        ("0", "expire", "a"), ("0", "persist", "a"),
        ("0", "rename_from", "a"), ("0", "rename_to", "c"),
        ("0", "copy_to", "d"),
        ("0", "move_from", "d"), ("1", "move_to", "d"),
        ("0", "del", "b"), ("0", "del", "c"),
        ("0", "rpush", "l"), ("0", "sortstore", "s"), ("0", "del", "s"),
    ]
    got = []
    while len(got) < len(want):
        m = p.get_message(timeout=5)
        assert m is not None, got
        if m["type"] != "pmessage":
            continue
        ch = m["channel"].decode()
        db = ch[len("__keyevent@"):ch.index("__:")]
        got.append((db, ch[ch.index("__:") + 3:], m["data"].decode()))
    assert got == want
    p.close()
    r.close()


# ---- blocked clients served by keys that arrive ----------------------------------

def _blpop_waiter(r, db, key):
    conn = RespConn(r.server.port)
    if db:
        assert conn.cmd("SELECT", db) == b"+OK\r\n"
    conn.send("BLPOP", key, "5")
    time.sleep(0.2)                       # blocked by now
    return conn


def _reply_of(conn):
    with conn:
        return conn.reply()


@pytest.mark.parametrize("how", ["rename", "move", "copy", "swapdb"])
def test_blocked_client_served_by_arriving_key(r, how):
    r1 = client(r, 1)
    s = _blpop_waiter(r, 0, "q")
    if how == "rename":
        r.rpush("tmp", "x")
        r.rename("tmp", "q")
    elif how == "move":
        r1.rpush("q", "x")
        r1.move("q", 0)
    elif how == "copy":
        r.rpush("tmp", "x")
        r.copy("tmp", "q")
    else:
        r1.rpush("q", "x")
        r.swapdb(0, 1)
    t0 = time.monotonic()
    assert _reply_of(s) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert time.monotonic() - t0 < 2


# ---- RESP3 shapes ------------------------------------------------------------------

def test_resp3_shapes(r):
    with RespConn(r.server.port) as s:
        cmd = s.cmd
        assert cmd("HELLO", "3").startswith(b"%7\r\n")
        assert cmd("GET", "nokey") == b"_\r\n"
        assert cmd("RANDOMKEY") == b"_\r\n"
        assert cmd("OBJECT", "ENCODING", "nokey") == b"_\r\n"
        assert cmd("MSET", "a", "ohmytext", "b", "mynewtext") == b"+OK\r\n"
        assert cmd("LCS", "a", "b", "IDX", "MINMATCHLEN", "4") == (
            b"%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n"
            b"*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n")
        assert cmd("SCAN", "0", "MATCH", "a") == \
            b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"
        assert cmd("INCRBYFLOAT", "f", "1.5") == b"$3\r\n1.5\r\n"
        assert cmd("EXISTS", "a") == b":1\r\n"
        assert cmd("RPUSH", "l", "1") == b":1\r\n"
        assert cmd("SORT", "l", "GET", "nokey*") == b"*1\r\n_\r\n"
        assert cmd("SET", "a", "x", "NX", "GET") == b"$8\r\nohmytext\r\n"
