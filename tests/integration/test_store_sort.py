"""SORT and SORT_RO against Redis 7.0.15's replies (numeric and ALPHA
sorting, BY with key and hash-field patterns and the no-sort pattern,
LIMIT, GET with # and patterns, STORE); every test passes against
redis-server too (--target real)."""
import pytest

from obtest import resp_err as err


def sort(r, *args):
    return r.execute_command("SORT", *args)


def test_sort_numeric_list(r):
    r.rpush("l", 3, 1, 2, 5, 4)
    assert sort(r, "l") == [b"1", b"2", b"3", b"4", b"5"]
    assert sort(r, "l", "DESC") == [b"5", b"4", b"3", b"2", b"1"]
    assert sort(r, "l", "asc") == [b"1", b"2", b"3", b"4", b"5"]
    # the list itself is unchanged
    assert r.lrange("l", 0, -1) == [b"3", b"1", b"2", b"5", b"4"]


def test_sort_floats_and_ties(r):
    r.rpush("l", "1.5", "-2", "1e1", "0x10", " 3", "b1", "a1")
    with pytest.raises(Exception):
        sort(r, "l")
    r.delete("l")
    r.rpush("l", "1.5", "-2", "1e1", "10", "010", "")
    # equal scores are ordered by their bytes; "" is 0
    assert sort(r, "l") == [b"-2", b"", b"1.5", b"010", b"10", b"1e1"]


def test_sort_limit(r):
    r.rpush("l", 3, 1, 2, 5, 4)
    assert sort(r, "l", "LIMIT", 0, 2) == [b"1", b"2"]
    assert sort(r, "l", "LIMIT", 1, 2) == [b"2", b"3"]
    assert sort(r, "l", "LIMIT", 2, 9223372036854775807) == \
        [b"3", b"4", b"5"]
    assert sort(r, "l", "LIMIT", -5, 2) == [b"1", b"2"]
    assert sort(r, "l", "LIMIT", 10, 2) == []
    assert sort(r, "l", "LIMIT", 0, 0) == []
    assert sort(r, "l", "LIMIT", 0, -1) == [b"1", b"2", b"3", b"4", b"5"]
    assert sort(r, "l", "DESC", "LIMIT", 1, 2) == [b"4", b"3"]
    assert err(r, "SORT", "l", "LIMIT", "a", "1") == \
        "ERR value is not an integer or out of range"
    assert err(r, "SORT", "l", "LIMIT", "1") == "ERR syntax error"


def test_sort_alpha(r):
    r.rpush("l", "banana", "apple", "cherry", "Apple", "10", "9")
    assert sort(r, "l", "ALPHA") == \
        [b"10", b"9", b"Apple", b"apple", b"banana", b"cherry"]
    assert sort(r, "l", "ALPHA", "DESC", "LIMIT", 0, 2) == \
        [b"cherry", b"banana"]
    assert err(r, "SORT", "l") == \
        "ERR One or more scores can't be converted into double"


def test_sort_by_pattern(r):
    r.rpush("l", "a", "b", "c", "d")
    r.mset({"w_a": 3, "w_b": 1, "w_c": 2})       # w_d missing: 0
    assert sort(r, "l", "BY", "w_*") == [b"d", b"b", b"c", b"a"]
    assert sort(r, "l", "BY", "w_*", "DESC") == [b"a", b"c", b"b", b"d"]
    r.mset({"n_a": "x", "n_b": "y", "n_c": "z"})
    assert sort(r, "l", "BY", "n_*", "ALPHA") == [b"d", b"a", b"b", b"c"]
    assert sort(r, "l", "BY", "n_*", "ALPHA", "DESC") == \
        [b"c", b"b", b"a", b"d"]
    r.set("bad_a", "notanumber")
    assert err(r, "SORT", "l", "BY", "bad_*") == \
        "ERR One or more scores can't be converted into double"
    # a BY key of another type counts as missing
    r.rpush("w_d", "x")
    assert sort(r, "l", "BY", "w_*") == [b"d", b"b", b"c", b"a"]


def test_sort_by_hash_field(r):
    r.rpush("l", 1, 2, 3)
    r.hset("h1", mapping={"age": 30, "name": "c"})
    r.hset("h2", mapping={"age": 10, "name": "a"})
    r.hset("h3", mapping={"age": 20, "name": "b"})
    assert sort(r, "l", "BY", "h*->age") == [b"2", b"3", b"1"]
    assert sort(r, "l", "BY", "h*->name", "ALPHA", "DESC") == \
        [b"1", b"3", b"2"]
    assert sort(r, "l", "BY", "h*->age", "GET", "h*->name") == \
        [b"a", b"b", b"c"]
    assert sort(r, "l", "BY", "h*->missing", "GET", "#") == \
        [b"1", b"2", b"3"]
    # "->" at the end is part of the key name, not a field
    assert sort(r, "l", "BY", "h*->", "GET", "h*->") == \
        [None, None, None]


def test_sort_nosort_pattern(r):
    r.rpush("l", 3, 1, 2, 5, 4)
    assert sort(r, "l", "BY", "nosort") == [b"3", b"1", b"2", b"5", b"4"]
    assert sort(r, "l", "BY", "nosort", "DESC") == \
        [b"4", b"5", b"2", b"1", b"3"]
    assert sort(r, "l", "BY", "nosort", "LIMIT", 1, 2) == [b"1", b"2"]
    assert sort(r, "l", "BY", "nosort", "DESC", "LIMIT", 1, 2) == \
        [b"5", b"2"]
    assert sort(r, "l", "BY", "nosort", "LIMIT", 10, 2) == []
    # no numeric check without sorting
    r.rpush("s", "x", "y")
    assert sort(r, "s", "BY", "nosort") == [b"x", b"y"]


def test_sort_get(r):
    r.rpush("l", 2, 1, 3)
    r.mset({"o_1": "one", "o_2": "two"})
    assert sort(r, "l", "GET", "o_*") == [b"one", b"two", None]
    assert sort(r, "l", "GET", "#", "GET", "o_*") == \
        [b"1", b"one", b"2", b"two", b"3", None]
    assert sort(r, "l", "GET", "o_*", "LIMIT", 1, 1) == [b"two"]
    # a pattern without '*' finds nothing
    assert sort(r, "l", "GET", "fixed") == [None, None, None]
    assert err(r, "SORT", "l", "GET") == "ERR syntax error"


def test_sort_store(r):
    r.rpush("l", 3, 1, 2)
    assert sort(r, "l", "STORE", "dst") == 3
    assert r.lrange("dst", 0, -1) == [b"1", b"2", b"3"]
    assert r.type("dst") == b"list"
    # STORE replaces any type and drops the TTL
    r.set("dst2", "x", ex=100)
    assert sort(r, "l", "DESC", "STORE", "dst2") == 3
    assert r.lrange("dst2", 0, -1) == [b"3", b"2", b"1"]
    assert r.ttl("dst2") == -1
    # GET values are stored, a missing one as ""
    r.set("o_1", "one")
    assert sort(r, "l", "GET", "o_*", "GET", "#", "STORE", "dst") == 6
    assert r.lrange("dst", 0, -1) == \
        [b"one", b"1", b"", b"2", b"", b"3"]
    # an empty result deletes the destination
    assert sort(r, "nokey", "STORE", "dst") == 0
    assert r.exists("dst") == 0
    assert sort(r, "l", "LIMIT", 5, 5, "STORE", "dst2") == 0
    assert r.exists("dst2") == 0
    # storing over the source itself
    assert sort(r, "l", "STORE", "l") == 3
    assert r.lrange("l", 0, -1) == [b"1", b"2", b"3"]


def test_sort_ro(r):
    r.rpush("l", 2, 1)
    assert r.execute_command("SORT_RO", "l") == [b"1", b"2"]
    assert r.execute_command("SORT_RO", "l", "DESC", "LIMIT", 0, 1) == [b"2"]
    assert err(r, "SORT_RO", "l", "STORE", "x") == "ERR syntax error"
    assert r.exists("x") == 0


def test_sort_set_and_zset(r):
    r.sadd("s", 5, 3, 9, 1)
    assert sort(r, "s") == [b"1", b"3", b"5", b"9"]
    assert sort(r, "s", "DESC", "LIMIT", 0, 2) == [b"9", b"5"]
    r.sadd("t", "b", "a", "c")
    assert sort(r, "t", "ALPHA") == [b"a", b"b", b"c"]
    # BY nosort with STORE sorts a set anyway (ALPHA)
    assert sort(r, "t", "BY", "nosort", "STORE", "dst") == 3
    assert r.lrange("dst", 0, -1) == [b"a", b"b", b"c"]
    r.zadd("z", {"x": 3, "y": 1, "w": 2})
    assert sort(r, "z", "BY", "nosort") == [b"y", b"w", b"x"]
    assert sort(r, "z", "BY", "nosort", "DESC", "LIMIT", 0, 2) == \
        [b"x", b"w"]
    assert sort(r, "z", "ALPHA") == [b"w", b"x", b"y"]
    assert sort(r, "z", "BY", "nosort", "LIMIT", 1, 5) == [b"w", b"x"]


def test_sort_zset_becomes_skiplist(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert r.object("encoding", "z") == b"listpack"
    sort(r, "z", "ALPHA")
    assert r.object("encoding", "z") == b"skiplist"


def test_sort_errors_and_missing(r):
    assert sort(r, "nokey") == []
    r.set("str", "x")
    assert err(r, "SORT", "str") == \
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    r.hset("h", "f", "v")
    assert err(r, "SORT", "h") == \
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    r.rpush("l", 1)
    assert err(r, "SORT", "l", "FOO") == "ERR syntax error"
    assert err(r, "SORT", "l", "BY") == "ERR syntax error"
    assert err(r, "SORT", "l", "STORE") == "ERR syntax error"
    # options are parsed before the key is looked at
    assert err(r, "SORT", "str", "FOO") == "ERR syntax error"
    assert err(r, "SORT") == \
        "ERR wrong number of arguments for 'sort' command"


def test_sort_large_list(r):
    vals = list(range(2000))
    import random
    rnd = random.Random(7)
    rnd.shuffle(vals)
    r.rpush("l", *vals)
    assert sort(r, "l") == [str(v).encode() for v in range(2000)]
    assert sort(r, "l", "ALPHA", "LIMIT", 0, 3) == [b"0", b"1", b"10"]
