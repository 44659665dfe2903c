"""The change counter (INFO persistence rdb_changes_since_last_save, what
the save rules read) counts what Redis 7.0.15 counts: changes, not
commands.  MSET adds one per pair, HSET one per pair given, HDEL the
fields deleted, DEL the keys deleted, RENAME/MOVE/COPY one, SORT ... STORE
the elements stored; a command that changed nothing adds nothing.

Each case: the setup commands, the command measured, and the exact delta
of rdb_changes_since_last_save across that one command."""

import pytest


def changes(r):
    return int(r.info("persistence")["rdb_changes_since_last_save"])


def delta(r, *cmd):
    """Runs `cmd` (errors are fine: some cases are failures) and returns
    how much it moved the change counter."""
    before = changes(r)
    try:
        r.execute_command(*cmd)
    except Exception:       # noqa: BLE001 (a failing command is a case)
        pass
    return changes(r) - before


CASES = [
    # ---- strings ----
    ("set-new", [], ("SET", "k", "v"), 1),
    ("set-existing", [("SET", "k", "a")], ("SET", "k", "v"), 1),
    ("set-nx-exists", [("SET", "k", "a")], ("SET", "k", "v", "NX"), 0),
    ("set-xx-missing", [], ("SET", "k", "v", "XX"), 0),
    ("set-get", [("SET", "k", "a")], ("SET", "k", "v", "GET"), 1),
    ("set-ex", [], ("SET", "k", "v", "EX", "100"), 1),
    ("set-keepttl", [("SET", "k", "a", "EX", "100")],
     ("SET", "k", "v", "KEEPTTL"), 1),
    ("setnx-new", [], ("SETNX", "k", "v"), 1),
    ("setnx-exists", [("SET", "k", "a")], ("SETNX", "k", "v"), 0),
    ("setex", [], ("SETEX", "k", "100", "v"), 1),
    ("psetex", [], ("PSETEX", "k", "100000", "v"), 1),
    ("getset-new", [], ("GETSET", "k", "v"), 1),
    ("getset-existing", [("SET", "k", "a")], ("GETSET", "k", "v"), 1),
    ("get", [("SET", "k", "a")], ("GET", "k"), 0),
    ("getdel", [("SET", "k", "a")], ("GETDEL", "k"), 1),
    ("getdel-missing", [], ("GETDEL", "k"), 0),
    ("getex-plain", [("SET", "k", "a")], ("GETEX", "k"), 0),
    ("getex-ex", [("SET", "k", "a")], ("GETEX", "k", "EX", "100"), 1),
    ("getex-persist", [("SET", "k", "a", "EX", "100")],
     ("GETEX", "k", "PERSIST"), 1),
    ("getex-persist-no-ttl", [("SET", "k", "a")],
     ("GETEX", "k", "PERSIST"), 0),
    ("getex-pxat-past", [("SET", "k", "a")],
     ("GETEX", "k", "PXAT", "1"), 1),
    ("getex-missing", [], ("GETEX", "k", "EX", "100"), 0),
    ("mset-1", [], ("MSET", "a", "1"), 1),
    ("mset-3", [("SET", "a", "0")], ("MSET", "a", "1", "b", "2", "c", "3"), 3),
    ("mset-dup-keys", [], ("MSET", "a", "1", "a", "2"), 2),
    ("msetnx-ok", [], ("MSETNX", "a", "1", "b", "2", "c", "3"), 3),
    ("msetnx-fails", [("SET", "b", "0")],
     ("MSETNX", "a", "1", "b", "2", "c", "3"), 0),
    ("mset-arity", [], ("MSET", "a", "1", "b"), 0),
    ("incr-new", [], ("INCR", "n"), 1),
    ("incr", [("SET", "n", "5")], ("INCR", "n"), 1),
    ("incr-not-int", [("SET", "n", "x")], ("INCR", "n"), 0),
    ("decr", [("SET", "n", "5")], ("DECR", "n"), 1),
    ("incrby", [("SET", "n", "5")], ("INCRBY", "n", "10"), 1),
    ("incrby-0", [("SET", "n", "5")], ("INCRBY", "n", "0"), 1),
    ("decrby", [("SET", "n", "5")], ("DECRBY", "n", "10"), 1),
    ("incrbyfloat", [("SET", "n", "5")], ("INCRBYFLOAT", "n", "1.5"), 1),
    ("incrbyfloat-bad", [("SET", "n", "x")], ("INCRBYFLOAT", "n", "1"), 0),
    ("append-new", [], ("APPEND", "k", "abc"), 1),
    ("append", [("SET", "k", "a")], ("APPEND", "k", "bcd"), 1),
    ("append-empty", [("SET", "k", "a")], ("APPEND", "k", ""), 1),
    ("append-empty-new", [], ("APPEND", "k", ""), 1),
    ("setrange-new", [], ("SETRANGE", "k", "3", "abc"), 1),
    ("setrange", [("SET", "k", "hello")], ("SETRANGE", "k", "1", "a"), 1),
    ("setrange-empty-missing", [], ("SETRANGE", "k", "3", ""), 0),
    ("setrange-empty-existing", [("SET", "k", "hello")],
     ("SETRANGE", "k", "1", ""), 0),
    ("setrange-same-bytes", [("SET", "k", "hello")],
     ("SETRANGE", "k", "0", "he"), 1),
    ("mget", [("SET", "a", "1")], ("MGET", "a", "b"), 0),
    ("strlen", [("SET", "a", "1")], ("STRLEN", "a"), 0),
    # ---- keys ----
    ("del-1", [("SET", "a", "1")], ("DEL", "a"), 1),
    ("del-some-missing", [("SET", "a", "1"), ("SET", "b", "1")],
     ("DEL", "a", "x", "b", "y"), 2),
    ("del-missing", [], ("DEL", "x", "y"), 0),
    ("del-dup", [("SET", "a", "1")], ("DEL", "a", "a"), 1),
    ("unlink", [("SET", "a", "1"), ("RPUSH", "l", "1", "2")],
     ("UNLINK", "a", "l", "x"), 2),
    ("exists", [("SET", "a", "1")], ("EXISTS", "a"), 0),
    ("touch", [("SET", "a", "1")], ("TOUCH", "a", "b"), 0),
    ("rename", [("SET", "a", "1")], ("RENAME", "a", "b"), 1),
    ("rename-over", [("SET", "a", "1"), ("SET", "b", "2")],
     ("RENAME", "a", "b"), 1),
    ("rename-same", [("SET", "a", "1")], ("RENAME", "a", "a"), 0),
    ("rename-missing", [], ("RENAME", "a", "b"), 0),
    ("renamenx", [("SET", "a", "1")], ("RENAMENX", "a", "b"), 1),
    ("renamenx-exists", [("SET", "a", "1"), ("SET", "b", "2")],
     ("RENAMENX", "a", "b"), 0),
    ("expire", [("SET", "a", "1")], ("EXPIRE", "a", "100"), 1),
    ("expire-missing", [], ("EXPIRE", "a", "100"), 0),
    ("expire-nx-has-ttl", [("SET", "a", "1", "EX", "50")],
     ("EXPIRE", "a", "100", "NX"), 0),
    ("expire-past", [("SET", "a", "1")], ("EXPIRE", "a", "-1"), 1),
    ("pexpire", [("SET", "a", "1")], ("PEXPIRE", "a", "100000"), 1),
    ("expireat", [("SET", "a", "1")], ("EXPIREAT", "a", "9999999999"), 1),
    ("pexpireat-past", [("SET", "a", "1")], ("PEXPIREAT", "a", "1"), 1),
    ("ttl", [("SET", "a", "1", "EX", "50")], ("TTL", "a"), 0),
    ("persist", [("SET", "a", "1", "EX", "50")], ("PERSIST", "a"), 1),
    ("persist-no-ttl", [("SET", "a", "1")], ("PERSIST", "a"), 0),
    ("move", [("SET", "a", "1")], ("MOVE", "a", "1"), 1),
    ("move-missing", [], ("MOVE", "a", "1"), 0),
    ("move-exists-there", [("SET", "a", "1"), ("SELECT", "1"),
                           ("SET", "a", "2"), ("SELECT", "0")],
     ("MOVE", "a", "1"), 0),
    ("swapdb", [("SET", "a", "1")], ("SWAPDB", "0", "1"), 1),
    ("swapdb-same", [], ("SWAPDB", "0", "0"), 1),
    ("copy", [("SET", "a", "1")], ("COPY", "a", "b"), 1),
    ("copy-exists", [("SET", "a", "1"), ("SET", "b", "2")],
     ("COPY", "a", "b"), 0),
    ("copy-replace", [("SET", "a", "1"), ("SET", "b", "2")],
     ("COPY", "a", "b", "REPLACE"), 1),
    ("copy-db", [("HSET", "h", "f", "v", "g", "w")],
     ("COPY", "h", "h", "DB", "1"), 1),
    ("copy-missing", [], ("COPY", "a", "b"), 0),
    ("flushdb", [("MSET", "a", "1", "b", "2", "c", "3")], ("FLUSHDB",), 3),
    ("flushdb-empty", [], ("FLUSHDB",), 0),
    ("flushdb-async", [("MSET", "a", "1", "b", "2")],
     ("FLUSHDB", "ASYNC"), 2),
    ("flushall", [("MSET", "a", "1", "b", "2"), ("SELECT", "2"),
                  ("SET", "c", "3"), ("SELECT", "0")], ("FLUSHALL",), 3),
    ("flushall-empty", [], ("FLUSHALL",), 0),
    ("keys", [("SET", "a", "1")], ("KEYS", "*"), 0),
    ("type", [("SET", "a", "1")], ("TYPE", "a"), 0),
    # ---- hashes ----
    ("hset-new", [], ("HSET", "h", "f", "v"), 1),
    ("hset-3", [], ("HSET", "h", "a", "1", "b", "2", "c", "3"), 3),
    ("hset-update", [("HSET", "h", "a", "1", "b", "2")],
     ("HSET", "h", "a", "9", "b", "8", "c", "3"), 3),
    ("hset-same-value", [("HSET", "h", "a", "1")], ("HSET", "h", "a", "1"), 1),
    ("hset-dup-fields", [], ("HSET", "h", "a", "1", "a", "2"), 2),
    ("hset-wrongtype", [("SET", "h", "x")], ("HSET", "h", "a", "1"), 0),
    ("hset-arity", [], ("HSET", "h", "a", "1", "b"), 0),
    ("hmset", [("HSET", "h", "a", "1")], ("HMSET", "h", "a", "2", "b", "3"), 2),
    ("hsetnx-new", [], ("HSETNX", "h", "f", "v"), 1),
    ("hsetnx-exists", [("HSET", "h", "f", "v")], ("HSETNX", "h", "f", "w"), 0),
    ("hsetnx-other-field", [("HSET", "h", "f", "v")],
     ("HSETNX", "h", "g", "w"), 1),
    ("hdel-1", [("HSET", "h", "a", "1", "b", "2")], ("HDEL", "h", "a"), 1),
    ("hdel-some", [("HSET", "h", "a", "1", "b", "2", "c", "3")],
     ("HDEL", "h", "a", "x", "b"), 2),
    ("hdel-all", [("HSET", "h", "a", "1", "b", "2")],
     ("HDEL", "h", "a", "b", "c"), 2),
    ("hdel-none", [("HSET", "h", "a", "1")], ("HDEL", "h", "x", "y"), 0),
    ("hdel-missing-key", [], ("HDEL", "h", "x"), 0),
    ("hdel-dup", [("HSET", "h", "a", "1", "b", "2")],
     ("HDEL", "h", "a", "a"), 1),
    ("hincrby-new", [], ("HINCRBY", "h", "f", "5"), 1),
    ("hincrby", [("HSET", "h", "f", "1")], ("HINCRBY", "h", "f", "5"), 1),
    ("hincrby-bad", [("HSET", "h", "f", "x")], ("HINCRBY", "h", "f", "5"), 0),
    ("hincrbyfloat", [("HSET", "h", "f", "1")],
     ("HINCRBYFLOAT", "h", "f", "0.5"), 1),
    ("hget", [("HSET", "h", "f", "1")], ("HGET", "h", "f"), 0),
    ("hgetall", [("HSET", "h", "f", "1")], ("HGETALL", "h"), 0),
    # ---- sort ----
    ("sort", [("RPUSH", "l", "3", "1", "2")], ("SORT", "l"), 0),
    ("sort-store", [("RPUSH", "l", "3", "1", "2")],
     ("SORT", "l", "STORE", "d"), 3),
    ("sort-store-over", [("RPUSH", "l", "3", "1", "2"), ("SET", "d", "x")],
     ("SORT", "l", "STORE", "d"), 3),
    ("sort-store-limit", [("RPUSH", "l", "3", "1", "2", "5")],
     ("SORT", "l", "LIMIT", "1", "2", "STORE", "d"), 2),
    ("sort-store-gets", [("RPUSH", "l", "3", "1", "2")],
     ("SORT", "l", "GET", "#", "GET", "w_*", "STORE", "d"), 6),
    ("sort-store-empty-deletes", [("SET", "d", "x")],
     ("SORT", "nosuch", "STORE", "d"), 1),
    ("sort-store-empty-nothing", [], ("SORT", "nosuch", "STORE", "d"), 0),
    ("sort-store-set", [("SADD", "s", "b", "a")],
     ("SORT", "s", "ALPHA", "STORE", "d"), 2),
    ("sort-ro", [("RPUSH", "l", "3", "1", "2")], ("SORT_RO", "l"), 0),
    ("sort-store-by-nosort", [("RPUSH", "l", "3", "1", "2")],
     ("SORT", "l", "BY", "nosort", "STORE", "l"), 3),
    # ---- more edge cases ----
    ("set-pxat-past", [("SET", "k", "a")], ("SET", "k", "v", "PXAT", "1"), 1),
    ("set-ex-0", [("SET", "k", "a")], ("SET", "k", "v", "EX", "0"), 0),
    ("set-syntax", [], ("SET", "k", "v", "NX", "XX"), 0),
    ("setrange-grow", [("SET", "k", "ab")], ("SETRANGE", "k", "10", "x"), 1),
    ("setrange-wrongtype", [("RPUSH", "k", "a")],
     ("SETRANGE", "k", "0", "x"), 0),
    ("append-wrongtype", [("RPUSH", "k", "a")], ("APPEND", "k", "x"), 0),
    ("incr-overflow", [("SET", "n", "9223372036854775807")],
     ("INCR", "n"), 0),
    ("expire-xx-no-ttl", [("SET", "a", "1")],
     ("EXPIRE", "a", "100", "XX"), 0),
    ("expire-gt", [("SET", "a", "1", "EX", "50")],
     ("EXPIRE", "a", "100", "GT"), 1),
    ("expire-lt-fails", [("SET", "a", "1", "EX", "50")],
     ("EXPIRE", "a", "100", "LT"), 0),
    ("rename-with-ttl", [("SET", "a", "1", "EX", "50")],
     ("RENAME", "a", "b"), 1),
    ("rename-hash", [("HSET", "a", "f", "1", "g", "2")],
     ("RENAME", "a", "b"), 1),
    ("copy-db-replace", [("SET", "a", "1"), ("SELECT", "1"),
                         ("SET", "a", "2"), ("SELECT", "0")],
     ("COPY", "a", "a", "DB", "1", "REPLACE"), 1),
    ("copy-same", [("SET", "a", "1")], ("COPY", "a", "a"), 0),
    ("hset-big-convert", [("HSET", "h", "a", "1")],
     ("HSET", "h", "b", "x" * 100, "c", "3"), 2),
    ("hset-many", [], ("HSET", "h") + tuple(
        x for i in range(200) for x in ("f%d" % i, str(i))), 200),
    ("hdel-big", [("HSET", "h") + tuple(
        x for i in range(200) for x in ("f%d" % i, str(i)))],
     ("HDEL", "h", "f1", "f2", "f3", "nope"), 3),
    ("hincrbyfloat-new", [], ("HINCRBYFLOAT", "h", "f", "2.5"), 1),
    ("hsetnx-wrongtype", [("SET", "h", "x")], ("HSETNX", "h", "f", "v"), 0),
    ("hdel-wrongtype", [("SET", "h", "x")], ("HDEL", "h", "f"), 0),
]


@pytest.mark.parametrize("setup,cmd,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_dirty_delta(r, setup, cmd, expected):
    for s in setup:
        r.execute_command(*s)
    assert delta(r, *cmd) == expected


def test_counter_sums_over_commands(r):
    """A MULTI/EXEC block counts the changes of the commands in it (and
    nothing for EXEC itself)."""
    before = changes(r)
    p = r.pipeline(transaction=True)
    p.mset({"a": 1, "b": 2})
    p.hset("h", mapping={"f": 1, "g": 2, "i": 3})
    p.delete("a", "b", "zz")
    p.execute()
    assert changes(r) - before == 2 + 3 + 2


EXPIRED_CASES = [
    # A key whose TTL passed is not a key: deleting it lazily is no
    # change of its own, so only what the command itself did counts.
    ("get", ("GET", "k"), 0),
    ("del", ("DEL", "k"), 0),
    ("set", ("SET", "k", "v"), 1),
    ("setnx", ("SETNX", "k", "v"), 1),
    ("append", ("APPEND", "k", "x"), 1),
    ("rename", ("RENAME", "k", "z"), 0),
    ("persist", ("PERSIST", "k"), 0),
    ("hset", ("HSET", "k", "a", "1", "b", "2"), 2),
    ("msetnx", ("MSETNX", "k", "1", "j", "2"), 2),
]


@pytest.mark.parametrize("cmd,expected", [c[1:] for c in EXPIRED_CASES],
                         ids=[c[0] for c in EXPIRED_CASES])
def test_dirty_delta_on_expired_key(r, cmd, expected):
    import time
    r.execute_command("SET", "k", "old", "PX", "30")
    time.sleep(0.1)
    assert delta(r, *cmd) == expected
