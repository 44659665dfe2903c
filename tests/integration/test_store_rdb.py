"""RDB files both ways against Redis 7.0.15 itself, every type but streams
(test_store_rdb_stream.py has those).

A dump.rdb written by the server under test (SAVE) must pass
redis-check-rdb and load into a real redis-server with every key's type,
value, encoding and TTL; a dump.rdb written by a real redis-server must
load into the server under test at start-up the same way.  The dataset
covers every encoding 7.0 writes: int, embstr, raw and long (LZF)
strings, binary keys and values, lists of one listpack node and of many
(with a 9000-byte element), intset and hashtable sets, listpack and
hashtable hashes (by count and by value size), listpack and skiplist
zsets (by count and by member size, infinite and negative scores), keys
in several databases, and TTLs.  On --target real both sides are
redis-server.

A dump that is truncated or corrupt stops onebox's start with a message
that names the file, the problem and the byte offset (onebox_only: h-save
owns the start-up, these check the loader's error text).
"""
import shutil
import signal
import subprocess
import time

import pytest

from obtest import free_port, store_argv
from storetest import (check_rdb, client_of, data_dir,  # noqa: F401
                       real_redis)


# ---- dataset ----------------------------------------------------------------

def pseudo_random_text(n, seed):
    """Deterministic text that LZF compresses only somewhat."""
    out = bytearray()
    x = seed
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out += b"%x " % (x >> 40)
    return bytes(out[:n])


TTL_S = 100000


def fill(c):
    """Every encoding 7.0 writes; some keys with TTLs, three databases."""
    p = c.pipeline(transaction=False)
    # strings
    p.set("int", "12345")
    p.set("negint", "-2000000000")
    p.set("bigint", "9223372036854775807")
    p.set("notint", "007")
    p.set("embstr", "hello world")
    p.set("raw", "r" * 60)
    p.set("lzf", "a" * 1000)
    p.set("long", pseudo_random_text(200000, 7))
    p.set("empty", "")
    p.set(b"bin\x00\xff key", bytes(range(256)))
    p.set("12345", "an int-looking key")
    p.set("ttl-string", "v", ex=TTL_S)
    # lists
    p.rpush("list-small", "a", "b", "1", "-7", "x" * 30)
    for i in range(0, 5000, 500):
        p.rpush("list-big", *[("e%d" % j) if j % 3 else str(j)
                              for j in range(i, i + 500)])
    p.lpush("list-big", "z" * 9000)
    p.rpush("list-ttl", "only")
    p.expire("list-ttl", TTL_S)
    # sets
    p.sadd("set-intset", 1, 2, 300, -70000, 2 ** 40)
    p.sadd("set-bigints", *range(600))
    p.sadd("set-ht", "a", "b", "c", "1")
    p.sadd("set-ht-big", *["m%d" % i for i in range(700)])
    # hashes
    p.hset("hash-lp", mapping={"f": "v", "n": "17", "e": ""})
    p.hset("hash-ht", mapping={"f%d" % i: "v%d" % i for i in range(600)})
    p.hset("hash-long", mapping={"f": "v" * 70, "g": "1"})
    p.hset("hash-ttl", "f", "v")
    p.pexpire("hash-ttl", TTL_S * 1000 + 123)
    # zsets
    p.zadd("zset-lp", {"a": 1.5, "b": -2, "c": 3e100, "d": 7})
    p.zadd("zset-sl", {"m%d" % i: i / 3.0 for i in range(200)})
    p.zadd("zset-long", {"y" * 70: 1, "x": float("inf"),
                         "w": float("-inf")})
    p.execute()

    c.select(5)
    c.set("in-db5", "five")
    c.rpush("list-db5", "l")
    c.expire("in-db5", TTL_S)
    c.select(15)
    c.zadd("zset-db15", {"q": 0})
    c.select(0)


def snapshot(c):
    """Per database, per key: type, encoding, value and TTL (ms)."""
    snap = {}
    for db in (0, 5, 15):
        c.select(db)
        keys = {}
        for key in c.keys("*"):
            t = c.type(key).decode()
            enc = c.object("encoding", key)
            if t == "string":
                val = c.get(key)
            elif t == "list":
                val = c.lrange(key, 0, -1)
            elif t == "set":
                val = sorted(c.smembers(key))
            elif t == "hash":
                val = sorted(c.hgetall(key).items())
            elif t == "zset":
                val = c.zrange(key, 0, -1, withscores=True)
            else:
                raise AssertionError("type %s" % t)
            keys[key] = (t, enc, val, c.pttl(key))
        snap[db] = keys
    c.select(0)
    return snap


def assert_same(got, want):
    """Equal but for TTLs, which may differ by the time a save, a copy and
    a start took (2 s)."""
    assert sorted(got) == sorted(want)
    for db in want:
        assert sorted(got[db]) == sorted(want[db]), db
        for key, (t, enc, val, ttl) in want[db].items():
            gt, genc, gval, gttl = got[db][key]
            assert (gt, genc) == (t, enc), key
            assert gval == val, key
            if ttl < 0:
                assert gttl == ttl, key
            else:
                assert 0 < gttl <= ttl and ttl - gttl < 2000, (key, ttl, gttl)


# ---- the server under test writes, redis-server reads --------------------------

@pytest.mark.parametrize("compression", ["yes", "no"])
def test_saved_file_checks_and_loads_into_redis(store_server, real_redis,
                                                tmp_path, compression):
    srv = store_server(rdbcompression=compression)
    c = client_of(srv)
    fill(c)
    before = snapshot(c)
    assert c.save()
    path = data_dir(tmp_path) / "dump.rdb"
    check_rdb(path)
    if compression == "no":
        # no LZF string anywhere: the 1000 x "a" value is there as is
        assert b"a" * 1000 in path.read_bytes()
    else:
        assert b"a" * 1000 not in path.read_bytes()

    rc, _ = real_redis("reader", rdb=path)
    assert_same(snapshot(rc), before)
    c.close()


def test_round_trip_through_redis(store_server, real_redis, tmp_path):
    """The server under test -> redis-server -> the server under test:
    every type and encoding, TTLs, three databases come back the same."""
    srv = store_server()
    c = client_of(srv)
    fill(c)
    before = snapshot(c)
    assert c.save()
    c.close()
    assert srv.terminate(signal.SIGTERM) == 0

    rc, rdir = real_redis("middle", rdb=data_dir(tmp_path) / "dump.rdb")
    assert_same(snapshot(rc), before)
    assert rc.save()
    shutil.copyfile(rdir / "dump.rdb", data_dir(tmp_path) / "dump.rdb")

    c = client_of(store_server())
    assert_same(snapshot(c), before)
    c.close()


def test_saved_file_without_checksum(store_server, real_redis, tmp_path):
    srv = store_server(rdbchecksum="no")
    c = client_of(srv)
    c.set("k", "v")
    c.hset("h", "f", "v")
    assert c.save()
    path = data_dir(tmp_path) / "dump.rdb"
    data = path.read_bytes()
    assert data.startswith(b"REDIS0010")
    assert data.endswith(b"\xff" + b"\x00" * 8)
    check_rdb(path)
    rc, _ = real_redis("reader", rdb=path)
    assert rc.get("k") == b"v"
    assert rc.hgetall("h") == {b"f": b"v"}
    c.close()


def test_saved_file_header(store_server, tmp_path):
    """The AUX fields 7.0.15 writes, in its order."""
    srv = store_server()
    c = client_of(srv)
    c.select(3)
    c.set("k", "v")
    assert c.save()
    text = check_rdb(data_dir(tmp_path) / "dump.rdb")
    fields = [line.split("AUX FIELD ")[1].split(" = ")[0]
              for line in text.splitlines() if "AUX FIELD" in line]
    assert fields == ["redis-ver", "redis-bits", "ctime", "used-mem",
                      "aof-base"]
    assert "AUX FIELD redis-ver = '7.0.15'" in text
    assert "Selecting DB ID 3" in text
    assert "Selecting DB ID 0" not in text          # empty dbs are skipped
    c.close()


# ---- redis-server writes, the server under test reads ---------------------------

@pytest.mark.parametrize("compression", ["yes", "no"])
def test_redis_written_file_loads(store_server, real_redis, tmp_path,
                                  compression):
    rc, rdir = real_redis("writer", rdbcompression=compression)
    fill(rc)
    before = snapshot(rc)
    assert rc.save()
    data = data_dir(tmp_path)
    data.mkdir(exist_ok=True)
    shutil.copyfile(rdir / "dump.rdb", data / "dump.rdb")

    srv = store_server()
    c = client_of(srv)
    assert_same(snapshot(c), before)
    # and writes it back as redis-check-rdb wants it
    assert c.save()
    check_rdb(data / "dump.rdb")
    c.close()


def test_redis_written_expired_keys_are_dropped(store_server, real_redis,
                                                tmp_path):
    rc, rdir = real_redis("writer")
    rc.set("gone", "x", px=300)
    rc.set("kept", "y")
    assert rc.save()
    time.sleep(0.5)
    data = data_dir(tmp_path)
    data.mkdir(exist_ok=True)
    shutil.copyfile(rdir / "dump.rdb", data / "dump.rdb")
    srv = store_server()
    c = client_of(srv)
    assert c.get("gone") is None
    assert c.get("kept") == b"y"
    assert c.dbsize() == 1
    c.close()


def test_restart_round_trip(store_server, tmp_path):
    srv = store_server()
    c = client_of(srv)
    fill(c)
    before = snapshot(c)
    assert c.save()
    c.close()
    srv.terminate()
    srv2 = store_server()
    c2 = client_of(srv2)
    assert_same(snapshot(c2), before)
    c2.close()


# ---- bad files stop onebox's start --------------------------------------------

def run_onebox(tmp_path):
    argv = store_argv("onebox", free_port(), data_dir(tmp_path))
    out = subprocess.run(argv, capture_output=True, timeout=30)
    return out.returncode, (out.stdout + out.stderr).decode(errors="replace")


def saved_dump(store_server, tmp_path):
    srv = store_server()
    c = client_of(srv)
    fill(c)
    assert c.save()
    c.close()
    srv.terminate()
    return (data_dir(tmp_path) / "dump.rdb").read_bytes()


@pytest.mark.onebox_only
def test_truncated_dump_names_the_problem(store_server, tmp_path):
    dump = saved_dump(store_server, tmp_path)
    path = data_dir(tmp_path) / "dump.rdb"
    for cut in (5, 100, len(dump) // 2, len(dump) - 3):
        path.write_bytes(dump[:cut])
        rc, text = run_onebox(tmp_path)
        assert rc != 0
        assert str(path) in text, text
        assert "truncated" in text, text
        assert "offset %d" % cut in text, text


@pytest.mark.onebox_only
def test_corrupt_dump_names_the_problem(store_server, tmp_path):
    dump = saved_dump(store_server, tmp_path)
    path = data_dir(tmp_path) / "dump.rdb"

    bad = bytearray(dump)
    bad[-2] ^= 0x01                                     # the checksum
    path.write_bytes(bytes(bad))
    rc, text = run_onebox(tmp_path)
    assert rc != 0 and "checksum" in text, text

    path.write_bytes(b"REDIS0011" + dump[9:])
    rc, text = run_onebox(tmp_path)
    assert rc != 0 and "version 11" in text, text

    path.write_bytes(b"not an RDB file at all")
    rc, text = run_onebox(tmp_path)
    assert rc != 0 and "signature" in text, text

    # a listpack whose count lies: caught by the walk, not the checksum
    body = (b"REDIS0010\xfe\x00\x10\x01h\x0d"
            b"\x0d\x00\x00\x00\x03\x00\x81f\x02\x81v\x02\xff")
    path.write_bytes(body + b"\xff" + b"\x00" * 8)
    rc, text = run_onebox(tmp_path)
    assert rc != 0 and "listpack" in text and "offset" in text, text

    # 2^40 bytes claimed for a string: refused, not allocated; 2^32 - 1:
    # read until the file ends (the buffer grows with what arrives)
    path.write_bytes(b"REDIS0010\xfe\x00\x00\x01k\x81" + (1 << 40).to_bytes(
        8, "big") + b"abc")
    rc, text = run_onebox(tmp_path)
    assert rc != 0 and "4 GiB" in text and "offset 23" in text, text
    path.write_bytes(b"REDIS0010\xfe\x00\x00\x01k\x80\xff\xff\xff\xff"
                     + b"abc")
    rc, text = run_onebox(tmp_path)
    assert rc != 0 and "truncated" in text and "offset 22" in text, text


@pytest.mark.parametrize("policy,opcode", [("allkeys-lfu", 0xF9),
                                           ("volatile-lru", 0xF8),
                                           ("noeviction", None)])
def test_idle_and_freq_by_policy(store_server, real_redis, tmp_path, policy,
                                 opcode):
    """FREQ (an LFU policy) or IDLE (an LRU one) before each key's type, as
    7.0.15 writes them; neither under other policies."""
    srv = store_server(maxmemory_policy=policy)
    c = client_of(srv)
    c.set("k", "v")
    assert c.save()
    path = data_dir(tmp_path) / "dump.rdb"
    data = path.read_bytes()
    check_rdb(path)
    i = data.index(b"\x00\x01k\x01v\xff")
    if opcode == 0xF9:
        assert data[i - 2] == 0xF9                  # FREQ <1 byte>
    elif opcode == 0xF8:
        assert data[i - 2] == 0xF8 and data[i - 1] < 0x40   # IDLE <len>
    else:
        assert data[i - 3:i] == b"\xfb\x01\x00"     # RESIZEDB 1 0
    rc, _ = real_redis("reader", rdb=path)
    assert rc.get("k") == b"v"
    c.close()


@pytest.mark.onebox_only
def test_dump_with_more_databases_stops_the_start(tmp_path):
    """A file that selects a db the server does not have: redis-server
    exits too ("Data file was created with a Redis server configured to
    handle more than 4 databases")."""
    data = data_dir(tmp_path)
    data.mkdir(exist_ok=True)
    path = data / "dump.rdb"
    path.write_bytes(b"REDIS0010\xfe\x05\x00\x01k\x01v\xff" + b"\x00" * 8)
    argv = store_argv("onebox", free_port(), data, {"databases": 4})
    out = subprocess.run(argv, capture_output=True, timeout=30)
    text = (out.stdout + out.stderr).decode(errors="replace")
    assert out.returncode != 0
    assert "more than 4 databases" in text and str(path) in text, text


# One key each, in an encoding whose bytes do not depend on hash-table
# order: the body of the file (after the AUX fields, before the checksum)
# must be what redis-server 7.0.15 writes, byte for byte.
SAME_BYTES = {
    "int": lambda c: c.set("k", "12345"),
    "embstr": lambda c: c.set("k", "hello"),
    "lzf": lambda c: c.set("k", "a" * 1000),
    "raw": lambda c: c.set("k", "x" * 60),
    "ttl": lambda c: (c.set("k", "v"), c.pexpireat("k", 4102444800000)),
    "list": lambda c: c.rpush("k", "a", "b", "1", "-7", "x" * 30, "-4096",
                              "70000", "2147483648", "9223372036854775807"),
    "list-edited": lambda c: (c.rpush("k", *range(1000)), c.lpop("k", 300),
                              c.rpop("k", 100),
                              c.linsert("k", "BEFORE", "500", "hey")),
    "intset16": lambda c: c.sadd("k", 1, 2, 300),
    "intset64": lambda c: c.sadd("k", 1, 2, 300, -70000, 2 ** 40),
    "hash": lambda c: c.hset("k", mapping={"f": "v", "n": "17",
                                           "big": "y" * 60}),
    "zset": lambda c: c.zadd("k", {"a": 1.5, "b": -2, "c": 3e100, "d": 10,
                                   "e": float("inf")}),
    "skiplist": lambda c: c.zadd("k", {"m%d" % i: i / 3.0
                                       for i in range(200)}),
    "db4": lambda c: (c.select(4), c.set("x", "y")),
}


def rdb_body(path):
    data = path.read_bytes()
    return data[data.index(b"aof-base") + len(b"aof-base") + 2:-8]


@pytest.mark.parametrize("case", sorted(SAME_BYTES))
def test_same_bytes_as_redis(store_server, real_redis, tmp_path, case):
    srv = store_server()
    c = client_of(srv)
    SAME_BYTES[case](c)
    assert c.save()
    c.close()
    rc, rdir = real_redis("writer")
    SAME_BYTES[case](rc)
    assert rc.save()
    assert (rdb_body(data_dir(tmp_path) / "dump.rdb")
            == rdb_body(rdir / "dump.rdb"))
