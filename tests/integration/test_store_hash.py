"""The store's hash commands against redis-py (and raw sockets for exact
error bytes and RESP3 shapes): HSET HSETNX HMSET HGET HMGET HDEL HEXISTS
HLEN HSTRLEN HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN,
the listpack -> hashtable conversion at Redis 7.0's limits (512 fields:
redis-server 7.0.15's hash-max-listpack-entries default; 64-byte fields
and values), and keyspace events.  Every expectation was
taken from redis-server 7.0.15 (`--target real`)."""
import time

import pytest
import redis

from obtest import WRONGTYPE_REPLY

LONG = b"x" * 65          # one byte over hash-max-listpack-value
EDGE = b"y" * 64          # exactly at it


@pytest.fixture
def resp3(resp):
    """The `resp` connection, switched to RESP3 (HELLO 3)."""
    assert resp.cmd("HELLO", "3").startswith(b"%7\r\n")
    return resp


def enc(r, key):
    return r.object("encoding", key)


# ---- HSET HMSET HSETNX HGET HMGET -------------------------------------------

def test_hset_hget(r):
    assert r.hset("h", "f1", "v1") == 1
    assert r.hset("h", mapping={"f1": "v2", "f2": "v3", "f3": 7}) == 2
    assert r.hget("h", "f1") == b"v2"
    assert r.hget("h", "f3") == b"7"
    assert r.hget("h", "nosuch") is None
    assert r.hget("nokey", "f") is None
    assert r.type("h") == b"hash"
    assert enc(r, "h") == b"listpack"
    # the same field twice in one call counts once; the last value wins
    assert r.execute_command("HSET", "h2", "a", "1", "a", "2") == 1
    assert r.hget("h2", "a") == b"2"
    # empty field and value are values like any other
    assert r.hset("h", "", "") == 1
    assert r.hget("h", "") == b""
    assert r.hstrlen("h", "") == 0


def test_hset_binary_and_integers(r):
    assert r.hset("h", b"\x00\xff\r\n", b"\x01\x02") == 1
    assert r.hget("h", b"\x00\xff\r\n") == b"\x01\x02"
    for v in [b"0", b"-1", b"9223372036854775807", b"-9223372036854775808",
              b"18446744073709551616", b"01", b"+1", b" 1", b"1.5"]:
        r.hset("h", "n", v)
        assert r.hget("h", "n") == v
        assert r.hstrlen("h", "n") == len(v)


def test_hset_arity(resp):
    assert resp.cmd("HSET", "h", "a") == \
        b"-ERR wrong number of arguments for 'hset' command\r\n"
    assert resp.cmd("HSET", "h", "a", "b", "c") == \
        b"-ERR wrong number of arguments for 'hset' command\r\n"
    assert resp.cmd("HMSET", "h", "a", "b", "c") == \
        b"-ERR wrong number of arguments for 'hmset' command\r\n"
    assert resp.cmd("HSET", "h") == \
        b"-ERR wrong number of arguments for 'hset' command\r\n"
    assert resp.cmd("HGET", "h") == \
        b"-ERR wrong number of arguments for 'hget' command\r\n"
    assert resp.cmd("EXISTS", "h") == b":0\r\n"
    # odd arity is checked before the key's type
    assert resp.cmd("SET", "s", "x") == b"+OK\r\n"
    assert resp.cmd("HSET", "s", "a", "b", "c") == \
        b"-ERR wrong number of arguments for 'hset' command\r\n"


def test_hmset_reply(resp):
    assert resp.cmd("HMSET", "h", "a", "1", "b", "2") == b"+OK\r\n"
    assert resp.cmd("HMSET", "h", "a", "3") == b"+OK\r\n"
    assert resp.cmd("HGET", "h", "a") == b"$1\r\n3\r\n"
    assert resp.cmd("HLEN", "h") == b":2\r\n"


def test_hsetnx(r):
    assert r.hsetnx("h", "f", "v") == 1
    assert r.hsetnx("h", "f", "w") == 0
    assert r.hget("h", "f") == b"v"
    # a long value over an existing field converts nothing
    assert r.hsetnx("h", "f", LONG) == 0
    assert enc(r, "h") == b"listpack"
    assert r.hsetnx("h", "g", LONG) == 1
    assert enc(r, "h") == b"hashtable"
    assert r.hget("h", "g") == LONG
    assert r.hsetnx("h", "g", "short") == 0
    assert r.hget("h", "g") == LONG


def test_hmget(r, resp):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hmget("h", ["a", "nosuch", "b", "a"]) == [b"1", None, b"2", b"1"]
    assert r.hmget("nokey", ["a", "b"]) == [None, None]
    assert resp.cmd("HMGET", "h", "a", "zz") == \
        b"*2\r\n$1\r\n1\r\n$-1\r\n"


# ---- HDEL HEXISTS HLEN HSTRLEN --------------------------------------------

def test_hdel(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("h", "a", "nosuch") == 1
    assert r.hdel("h", "a") == 0
    assert r.hdel("h", "b", "b") == 1
    assert r.hlen("h") == 1
    assert r.hdel("nokey", "a") == 0
    # the last field takes the key with it
    assert r.hdel("h", "c", "zz") == 1
    assert r.exists("h") == 0
    assert r.type("h") == b"none"


def test_hdel_hashtable_empties(r):
    fields = {"f%d" % i: i for i in range(600)}
    r.hset("h", mapping=fields)
    assert enc(r, "h") == b"hashtable"
    assert r.hdel("h", *fields.keys()) == 600
    assert r.exists("h") == 0


def test_hexists_hlen_hstrlen(r):
    r.hset("h", mapping={"a": "hello", "n": 12345, "neg": -7})
    assert r.hexists("h", "a") is True
    assert r.hexists("h", "b") is False
    assert r.hexists("nokey", "a") is False
    assert r.hlen("h") == 3
    assert r.hlen("nokey") == 0
    assert r.hstrlen("h", "a") == 5
    assert r.hstrlen("h", "n") == 5
    assert r.hstrlen("h", "neg") == 2
    assert r.hstrlen("h", "zz") == 0
    assert r.hstrlen("nokey", "a") == 0


# ---- HKEYS HVALS HGETALL ------------------------------------------------------

def test_whole_hash_reads(r, resp):
    r.hset("h", mapping={"z": "1", "a": "2", "m": "3"})
    # a listpack keeps insertion order
    assert r.hkeys("h") == [b"z", b"a", b"m"]
    assert r.hvals("h") == [b"1", b"2", b"3"]
    assert r.hgetall("h") == {b"z": b"1", b"a": b"2", b"m": b"3"}
    assert resp.cmd("HGETALL", "h") == (
        b"*6\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n"
        b"$1\r\nm\r\n$1\r\n3\r\n")
    assert r.hkeys("nokey") == []
    assert r.hvals("nokey") == []
    assert r.hgetall("nokey") == {}
    assert resp.cmd("HGETALL", "nokey") == b"*0\r\n"


def test_whole_hash_reads_hashtable(r):
    fields = {("field:%d" % i).encode(): str(i * 3).encode()
              for i in range(1000)}
    r.hset("h", mapping=fields)
    assert enc(r, "h") == b"hashtable"
    assert r.hgetall("h") == fields
    assert sorted(r.hkeys("h")) == sorted(fields)
    assert sorted(r.hvals("h")) == sorted(fields.values())
    assert r.hlen("h") == 1000


def test_hgetall_resp3(resp3):
    assert resp3.cmd("HSET", "h", "a", "1", "b", "xy") == b":2\r\n"
    assert resp3.cmd("HGETALL", "h") == \
        b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\nxy\r\n"
    assert resp3.cmd("HGETALL", "nokey") == b"%0\r\n"
    assert resp3.cmd("HKEYS", "h") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert resp3.cmd("HKEYS", "nokey") == b"*0\r\n"
    assert resp3.cmd("HGET", "h", "zz") == b"_\r\n"
    assert resp3.cmd("HMGET", "h", "a", "zz") == b"*2\r\n$1\r\n1\r\n_\r\n"
    assert resp3.cmd("HINCRBYFLOAT", "h", "a", "1.5") == b"$3\r\n2.5\r\n"
    assert resp3.cmd("HEXISTS", "h", "a") == b":1\r\n"


def test_hgetall_resp3_hashtable(resp3):
    args = []
    for i in range(600):
        args += [b"f%d" % i, b"v%d" % i]
    assert resp3.cmd("HSET", "h", *args) == b":600\r\n"
    assert resp3.cmd("OBJECT", "ENCODING", "h") == b"$9\r\nhashtable\r\n"
    reply = resp3.cmd("HGETALL", "h")
    assert reply.startswith(b"%600\r\n")
    items = reply.split(b"\r\n")[1:-1]
    # $len, data pairs: 260 bulk strings
    data = items[1::2]
    assert len(data) == 1200
    assert dict(zip(data[0::2], data[1::2])) == \
        {b"f%d" % i: b"v%d" % i for i in range(600)}


# ---- wrong type --------------------------------------------------------------

@pytest.mark.parametrize("cmd", [
    ("HSET", "s", "a", "b"), ("HSETNX", "s", "a", "b"), ("HMSET", "s", "a", "b"),
    ("HGET", "s", "a"), ("HMGET", "s", "a"), ("HDEL", "s", "a"),
    ("HEXISTS", "s", "a"), ("HLEN", "s"), ("HSTRLEN", "s", "a"),
    ("HKEYS", "s"), ("HVALS", "s"), ("HGETALL", "s"),
    ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"),
    ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2"),
    ("HRANDFIELD", "s", "0"), ("HSCAN", "s", "0"),
    ("HSCAN", "s", "0", "COUNT", "0"),
])
def test_wrongtype(resp, cmd):
    assert resp.cmd("SET", "s", "x") == b"+OK\r\n"
    assert resp.cmd(*cmd) == WRONGTYPE_REPLY
    assert resp.cmd("GET", "s") == b"$1\r\nx\r\n"


# ---- HINCRBY HINCRBYFLOAT ---------------------------------------------------

def test_hincrby(r, resp):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hget("h", "n") == b"-2"
    assert r.hincrby("h", "new") == 1
    r.hset("h", "big", 9223372036854775807)
    assert resp.cmd("HINCRBY", "h", "big", "1") == \
        b"-ERR increment or decrement would overflow\r\n"
    r.hset("h", "small", -9223372036854775808)
    assert resp.cmd("HINCRBY", "h", "small", "-1") == \
        b"-ERR increment or decrement would overflow\r\n"
    assert r.hincrby("h", "small", 0) == -9223372036854775808
    for bad in [b"abc", b"1.5", b" 1", b"+1", b"01", b""]:
        r.hset("h", "s", bad)
        assert resp.cmd("HINCRBY", "h", "s", "1") == \
            b"-ERR hash value is not an integer\r\n"
        assert r.hget("h", "s") == bad
    assert resp.cmd("HINCRBY", "h", "n", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert resp.cmd("HINCRBY", "h", "n", "9223372036854775808") == \
        b"-ERR value is not an integer or out of range\r\n"
    # a bad increment creates nothing
    assert resp.cmd("HINCRBY", "nokey", "n", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert r.exists("nokey") == 0


def test_hincrbyfloat(r, resp):
    assert r.hincrbyfloat("h", "f", 10.5) == 10.5
    assert resp.cmd("HINCRBYFLOAT", "h", "f", "0.1") == b"$4\r\n10.6\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "g", "5.0e3") == b"$4\r\n5000\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "g", "-5000") == b"$1\r\n0\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "x", "0x10") == b"$2\r\n16\r\n"
    r.hset("h", "i", 3)
    assert resp.cmd("HINCRBYFLOAT", "h", "i", "1.5") == b"$3\r\n4.5\r\n"
    r.hset("h", "plus", "+1")
    assert resp.cmd("HINCRBYFLOAT", "h", "plus", "1") == b"$1\r\n2\r\n"
    for bad in [b"abc", b" 1", b"1 ", b"nan", b""]:
        r.hset("h", "s", bad)
        assert resp.cmd("HINCRBYFLOAT", "h", "s", "1") == \
            b"-ERR hash value is not a float\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "f", "inf") == \
        b"-ERR value is NaN or Infinity\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "f", "-inf") == \
        b"-ERR value is NaN or Infinity\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "f", "nan") == \
        b"-ERR value is not a valid float\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "f", "abc") == \
        b"-ERR value is not a valid float\r\n"
    assert resp.cmd("HINCRBYFLOAT", "h", "f", "1e5000") == \
        b"-ERR value is not a valid float\r\n"
    assert r.hget("h", "f") == b"10.6"
    assert resp.cmd("HINCRBYFLOAT", "nokey", "f", "abc") == \
        b"-ERR value is not a valid float\r\n"
    assert r.exists("nokey") == 0


def test_hincrbyfloat_long_result_converts(r):
    r.hset("h", "f", "1e308")
    assert enc(r, "h") == b"listpack"
    v = r.hincrbyfloat("h", "f", "1e308")
    assert v == 2e308 or v == float("inf")   # redis-py parses the digits
    text = r.hget("h", "f")
    assert len(text) == 309
    assert text.startswith(b"199999999999999999993")
    assert enc(r, "h") == b"hashtable"


def test_hincrby_long_field_converts(r):
    r.hset("h", "a", "1")
    assert r.hincrby("h", LONG, 2) == 2
    assert enc(r, "h") == b"hashtable"
    assert r.hget("h", LONG) == b"2"
    assert r.hget("h", "a") == b"1"


# ---- encodings ----------------------------------------------------------------

def test_encoding_entries(r):
    r.hset("h", mapping={"f%d" % i: i for i in range(511)})
    r.hset("h", "f511", 511)                        # the 512th field
    assert r.hlen("h") == 512
    assert enc(r, "h") == b"listpack"
    assert r.hset("h", "f0", "again") == 0          # an update adds nothing
    assert enc(r, "h") == b"listpack"
    assert r.hset("h", "f512", 512) == 1
    assert enc(r, "h") == b"hashtable"
    assert r.hlen("h") == 513
    # never back
    r.hdel("h", *["f%d" % i for i in range(1, 513)])
    assert r.hlen("h") == 1
    assert enc(r, "h") == b"hashtable"
    assert r.hgetall("h") == {b"f0": b"again"}


def test_encoding_entries_one_call(r):
    mapping = {"f%d" % i: i for i in range(513)}
    r.hset("a", mapping=dict(list(mapping.items())[:512]))
    assert enc(r, "a") == b"listpack"
    assert r.hgetall("a") == {k.encode(): str(v).encode()
                              for k, v in list(mapping.items())[:512]}
    r.hset("b", mapping=mapping)
    assert enc(r, "b") == b"hashtable"
    assert r.hgetall("b") == {k.encode(): str(v).encode()
                              for k, v in mapping.items()}
    # HSETNX and HINCRBY add a 513th field the same way
    r.hset("c", mapping=dict(list(mapping.items())[:512]))
    assert r.hsetnx("c", "new", "v") == 1
    assert enc(r, "c") == b"hashtable"
    r.hset("d", mapping=dict(list(mapping.items())[:512]))
    assert r.hincrby("d", "new", 3) == 3
    assert enc(r, "d") == b"hashtable"


def test_encoding_value_length(r):
    r.hset("h", "f", EDGE)
    r.hset("h", EDGE, "v")
    assert enc(r, "h") == b"listpack"
    r.hset("h", "g", LONG)
    assert enc(r, "h") == b"hashtable"
    assert r.hget("h", "g") == LONG
    assert r.hget("h", "f") == EDGE
    assert r.hget("h", EDGE) == b"v"
    # back to short values: still a hashtable
    r.hset("h", "g", "short")
    assert enc(r, "h") == b"hashtable"


def test_encoding_field_length(r):
    r.hset("h", LONG, "v")
    assert enc(r, "h") == b"hashtable"
    assert r.hget("h", LONG) == b"v"


def test_encoding_one_long_argument_in_many(r):
    r.hset("h", mapping={"a": "1", "b": LONG, "c": "3"})
    assert enc(r, "h") == b"hashtable"
    assert r.hgetall("h") == {b"a": b"1", b"b": LONG, b"c": b"3"}
    assert r.execute_command("HMSET", "m", "a", "1") is True
    assert r.execute_command("HMSET", "m", "x", "2", LONG, "3") is True
    assert enc(r, "m") == b"hashtable"


def test_update_value_sizes_hashtable(r):
    fields = {"f%d" % i: "v" for i in range(600)}
    r.hset("h", mapping=fields)
    assert enc(r, "h") == b"hashtable"
    for i in range(200):
        r.hset("h", "f%d" % i, "w" * (i % 50 + 1) * (1 if i % 2 else 40))
    for i in range(200):
        assert r.hget("h", "f%d" % i) == \
            b"w" * (i % 50 + 1) * (1 if i % 2 else 40)
    assert r.hlen("h") == 600


# ---- HRANDFIELD ----------------------------------------------------------------

def small_hash(r):
    fields = {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4", b"e": b"5"}
    r.hset("h", mapping=fields)
    return fields


def big_hash(r, n=700):
    fields = {b"f%d" % i: b"v%d" % i for i in range(n)}
    r.hset("h", mapping=fields)
    assert enc(r, "h") == b"hashtable"
    return fields


@pytest.mark.parametrize("maker", [small_hash, big_hash])
def test_hrandfield_counts(r, maker):
    fields = maker(r)
    n = len(fields)
    assert r.hrandfield("h") in fields
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("h", 0, withvalues=True) == []
    for count in [1, 2, n // 3, n // 3 + 1, n - 1, n, n + 1, 1000]:
        got = r.hrandfield("h", count)
        assert len(got) == min(count, n)
        assert len(set(got)) == len(got)
        assert set(got) <= set(fields)
        pairs = r.hrandfield("h", count, withvalues=True)
        assert len(pairs) == 2 * min(count, n)
        keys = pairs[0::2]
        assert len(set(keys)) == len(keys)
        for k, v in zip(pairs[0::2], pairs[1::2]):
            assert fields[k] == v
    for count in [-1, -5, -(n + 7)]:
        got = r.hrandfield("h", count)
        assert len(got) == -count
        assert set(got) <= set(fields)
        pairs = r.hrandfield("h", count, withvalues=True)
        assert len(pairs) == -2 * count
        for k, v in zip(pairs[0::2], pairs[1::2]):
            assert fields[k] == v


def test_hrandfield_covers_all(r):
    fields = big_hash(r, 600)
    seen = set()
    for _ in range(40):
        seen.update(r.hrandfield("h", -300))
    assert seen == set(fields)


def test_hrandfield_one_field_repeats(r):
    r.hset("h", "only", "v")
    assert r.hrandfield("h", -4) == [b"only"] * 4
    assert r.hrandfield("h", 4) == [b"only"]
    assert r.hrandfield("h", -2, withvalues=True) == [b"only", b"v"] * 2


def test_hrandfield_missing_key(r, resp):
    assert r.hrandfield("nokey") is None
    assert resp.cmd("HRANDFIELD", "nokey") == b"$-1\r\n"
    assert resp.cmd("HRANDFIELD", "nokey", "5") == b"*0\r\n"
    assert resp.cmd("HRANDFIELD", "nokey", "-5", "WITHVALUES") == b"*0\r\n"


def test_hrandfield_errors(r, resp):
    small_hash(r)
    assert resp.cmd("HRANDFIELD", "h", "-9223372036854775808") == (
        b"-ERR value is out of range, value must between "
        b"-9223372036854775807 and 9223372036854775807\r\n")
    assert resp.cmd("HRANDFIELD", "h", "-9223372036854775807",
                    "WITHVALUES") == b"-ERR value is out of range\r\n"
    assert resp.cmd("HRANDFIELD", "h", "4611686018427387904",
                    "WITHVALUES") == b"-ERR value is out of range\r\n"
    assert resp.cmd("HRANDFIELD", "h", "abc") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert resp.cmd("HRANDFIELD", "h", "1", "foo") == \
        b"-ERR syntax error\r\n"
    assert resp.cmd("HRANDFIELD", "h", "1", "WITHVALUES", "x") == \
        b"-ERR syntax error\r\n"
    # the count is checked before the key
    assert resp.cmd("HRANDFIELD", "nokey", "abc") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert resp.cmd("HRANDFIELD", "nokey", "1", "foo") == \
        b"-ERR syntax error\r\n"
    # a count just inside the WITHVALUES bound is served (large positive:
    # clamped to the hash)
    got = r.hrandfield("h", 4611686018427387903, withvalues=True)
    assert len(got) == 10
    assert resp.cmd("HRANDFIELD", "h", "withvalues") == \
        b"-ERR value is not an integer or out of range\r\n"


def test_hrandfield_resp3(resp3):
    resp3.cmd("HSET", "h", "a", "1")
    assert resp3.cmd("HRANDFIELD", "h") == b"$1\r\na\r\n"
    assert resp3.cmd("HRANDFIELD", "nokey") == b"_\r\n"
    assert resp3.cmd("HRANDFIELD", "nokey", "2") == b"*0\r\n"
    assert resp3.cmd("HRANDFIELD", "h", "2", "WITHVALUES") == \
        b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert resp3.cmd("HRANDFIELD", "h", "-2", "WITHVALUES") == \
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert resp3.cmd("HRANDFIELD", "h", "-2") == \
        b"*2\r\n$1\r\na\r\n$1\r\na\r\n"
    assert resp3.cmd("HRANDFIELD", "h", "0", "WITHVALUES") == b"*0\r\n"


def test_hrandfield_resp2_raw(resp):
    resp.cmd("HSET", "h", "a", "1")
    assert resp.cmd("HRANDFIELD", "h", "-2", "WITHVALUES") == \
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert resp.cmd("HRANDFIELD", "h", "3", "withvalues") == \
        b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"


# ---- HSCAN ------------------------------------------------------------------

def test_hscan_listpack(r, resp):
    fields = small_hash(r)
    assert r.hscan("h", 0) == (0, fields)
    # a listpack is answered whole whatever the cursor and count
    assert r.hscan("h", 12345, count=1) == (0, fields)
    assert resp.cmd("HSCAN", "h", "0", "MATCH", "[ab]") == (
        b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n")
    assert resp.cmd("HSCAN", "h", "0", "MATCH", "zz*") == \
        b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert resp.cmd("HSCAN", "h", "-1") == resp.cmd("HSCAN", "h", "0")
    assert r.hscan("nokey", 0) == (0, {})
    assert resp.cmd("HSCAN", "nokey", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"


def test_hscan_errors(r, resp):
    small_hash(r)
    for cur in ["abc", " 1", "1 ", "18446744073709551616", "1.5"]:
        assert resp.cmd("HSCAN", "h", cur) == b"-ERR invalid cursor\r\n"
    assert resp.cmd("HSCAN", "nokey", "abc") == b"-ERR invalid cursor\r\n"
    assert resp.cmd("HSCAN", "h", "0", "COUNT", "0") == \
        b"-ERR syntax error\r\n"
    assert resp.cmd("HSCAN", "h", "0", "COUNT", "-1") == \
        b"-ERR syntax error\r\n"
    assert resp.cmd("HSCAN", "h", "0", "COUNT", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert resp.cmd("HSCAN", "h", "0", "MATCH") == b"-ERR syntax error\r\n"
    assert resp.cmd("HSCAN", "h", "0", "TYPE", "string") == \
        b"-ERR syntax error\r\n"
    assert resp.cmd("HSCAN", "h", "0", "FOO", "bar") == \
        b"-ERR syntax error\r\n"
    # a missing key answers an empty scan before looking at the options
    assert resp.cmd("HSCAN", "nokey", "0", "COUNT", "0") == \
        b"*2\r\n$1\r\n0\r\n*0\r\n"


def scan_all(r, key, **kw):
    cursor, seen, calls = 0, {}, 0
    while True:
        cursor, page = r.hscan(key, cursor, **kw)
        seen.update(page)
        calls += 1
        if cursor == 0:
            return seen, calls


def test_hscan_hashtable(r):
    fields = big_hash(r, 1000)
    seen, calls = scan_all(r, "h")
    assert seen == fields
    assert calls > 10                 # COUNT 10 by default: many pages
    seen, calls = scan_all(r, "h", count=100)
    assert seen == fields
    seen, _ = scan_all(r, "h", match="f1*")
    assert seen == {k: v for k, v in fields.items() if k.startswith(b"f1")}
    seen, calls = scan_all(r, "h", count=100000)
    assert seen == fields
    assert calls == 1


def test_hscan_while_changing(r):
    fields = big_hash(r, 700)
    cursor, seen = 0, {}
    added = 0
    while True:
        cursor, page = r.hscan("h", cursor, count=20)
        seen.update(page)
        # grow the table under the scan: what was there all along is seen
        for _ in range(30):
            r.hset("h", "new%d" % added, "x")
            added += 1
        if cursor == 0:
            break
    for k, v in fields.items():
        assert seen[k] == v


# ---- keyspace ---------------------------------------------------------------

def test_key_lifecycle(r):
    r.hset("h", "a", "1")
    r.expire("h", 100)
    r.hset("h", "b", "2")                 # a field write keeps the TTL
    assert 0 < r.ttl("h") <= 100
    r.hincrby("h", "n", 1)
    assert 0 < r.ttl("h") <= 100
    r.delete("h")
    assert r.hgetall("h") == {}


def test_keyspace_events(store_server):
    srv = store_server(notify_keyspace_events="KEA")
    c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    p = c.pubsub()
    p.psubscribe("__keyevent@0__:*")
    assert p.get_message(timeout=5)["type"] == "psubscribe"
    c.hset("h", "a", "1")
    c.hsetnx("h", "a", "2")               # nothing set: no event
    c.hsetnx("h", "b", "2")
    c.execute_command("HMSET", "h", "c", "3")
    c.hincrby("h", "n", 1)
    c.hincrbyfloat("h", "x", 1.5)
    c.hdel("h", "zz")                     # nothing deleted: no event
    c.hdel("h", "a", "b", "c", "n", "x")
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 7 and time.monotonic() < deadline:
        m = p.get_message(timeout=1)
        if m and m["type"] == "pmessage":
            got.append((m["channel"], m["data"]))
    assert got == [
        (b"__keyevent@0__:hset", b"h"),
        (b"__keyevent@0__:hset", b"h"),
        (b"__keyevent@0__:hset", b"h"),
        (b"__keyevent@0__:hincrby", b"h"),
        (b"__keyevent@0__:hincrbyfloat", b"h"),
        (b"__keyevent@0__:hdel", b"h"),
        (b"__keyevent@0__:del", b"h"),
    ]
    p.close()
    c.close()
