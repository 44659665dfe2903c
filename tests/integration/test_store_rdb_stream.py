"""Streams in RDB files, both ways, against Redis 7.0.15 itself.

A stream written by the server under test (onebox, or redis-server with
--target real) must pass redis-check-rdb (which checks every stream
listpack deeply) and load into a real redis-server with the same entries,
XINFO STREAM FULL and PELs; a stream a real redis-server wrote must load
into the server under test the same way.  The datasets cover several
listpack nodes (by entry count and by bytes), master-field and other-field
entries, integer-looking fields and values, empty values, XDEL and XTRIM
tombstones, empty streams, and consumer groups with PELs, claimed
entries, consumers without pending entries, and an unknown read counter.

XINFO STREAM FULL's radix-tree-nodes counts Redis's rax nodes, which
onebox has no equivalent of (store_cmd_xinfo.c): it is left out of the
comparisons.  Times (delivery, seen) are compared as absolute values,
which the file carries; XPENDING's idle times are not compared.
"""
import os
import shutil
import time

import pytest
import redis

from storetest import check_rdb, client_of, real_redis  # noqa: F401


# ---- datasets ---------------------------------------------------------------

def fill(c):
    """Streams exercising every part of the format; deterministic IDs."""
    p = c.pipeline(transaction=False)
    # s1: 260 entries: two field sets (SAMEFIELDS or not inside a node),
    # integer-looking fields and values, 3 nodes by count.
    for i in range(1, 261):
        if i % 5 == 0:
            p.xadd("s1", {"n": str(i), "neg": str(-i), "12": ""},
                   id="%d-%d" % (1000 + i, i % 3))
        else:
            p.xadd("s1", {"f1": "v%d" % i, "f2": str(i * 1000)},
                   id="%d-%d" % (1000 + i, i % 3))
    p.execute()
    c.xdel("s1", "1001-1", "1002-2", "1150-0", "1260-0", "1259-2")
    c.xtrim("s1", maxlen=240, approximate=False)
    c.xgroup_create("s1", "g1", id="0")
    c.xgroup_create("s1", "g0", id="$")
    c.execute_command("XGROUP", "CREATE", "s1", "g2", "1100-0",
                      "ENTRIESREAD", "7")
    c.xreadgroup("g1", "alice", {"s1": ">"}, count=5)
    c.xreadgroup("g1", "bob", {"s1": ">"}, count=3)
    c.xreadgroup("g2", "alice", {"s1": ">"}, count=2)
    pend = c.xpending_range("s1", "g1", "-", "+", 10)
    c.xclaim("s1", "g1", "carol", 0, [pend[1]["message_id"]])
    c.xclaim("s1", "g1", "alice", 0, [pend[2]["message_id"]])
    c.xgroup_createconsumer("s1", "g1", "dave")
    # names that look like integers go int-encoded (rdbSaveRawString)
    c.xgroup_create("s1", "7", id="0")
    c.xreadgroup("7", "42", {"s1": ">"}, count=2)
    c.xreadgroup("7", "-1", {"s1": ">"}, count=1)
    # a read counter made unknown: XDEL inside the group's range
    c.xdel("s1", pend[3]["message_id"])

    # big: values of 3000 bytes, nodes closed by bytes; huge integers
    p = c.pipeline(transaction=False)
    for i in range(1, 9):
        p.xadd("big", {"blob": "b" * 3000, "i": str(2 ** 63 - i),
                       "j": str(-2 ** 63 + i)}, id="5-%d" % i)
    p.execute()

    # nums: non-canonical integers stay strings; one-field entries
    p = c.pipeline(transaction=False)
    for i, v in enumerate(["0", "-0", "01", "+1", "127", "128", "-4096",
                           "8388607", "2147483648", "1e3", " 1", ""], 1):
        p.xadd("nums", {v or "empty": v}, id="7-%d" % i)
    p.execute()

    # empty: a stream whose entries were all deleted is still a key
    c.xadd("empty", {"a": "b"}, id="9-1")
    c.xdel("empty", "9-1")
    c.xgroup_create("empty", "lonely", id="$")
    # trimmed to nothing by MAXLEN 0
    c.xadd("trimmed", {"a": "b"}, id="3-3")
    c.xtrim("trimmed", maxlen=0)


def strip_rax_nodes(flat):
    out = list(flat)
    if b"radix-tree-nodes" in out:
        i = out.index(b"radix-tree-nodes")
        del out[i:i + 2]
    return out


def snapshot(c):
    """What must survive a save and a load, per key."""
    snap = {}
    # the replies as they come (redis-py's parser wants one XPENDING form)
    c.set_response_callback("XPENDING", lambda resp, **kw: resp)
    for key in sorted(c.keys("*")):
        assert c.type(key) == b"stream"
        full = c.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", "0")
        groups = c.execute_command("XINFO", "GROUPS", key)
        pending = {}
        for g in c.xinfo_groups(key):
            name = g["name"]
            summary = c.execute_command("XPENDING", key, name)
            ext = c.execute_command("XPENDING", key, name, "-", "+", "1000")
            pending[name] = (summary, [(e[0], e[1], e[3]) for e in ext])
        snap[key] = {
            "xrange": c.execute_command("XRANGE", key, "-", "+"),
            "xrevrange": c.execute_command("XREVRANGE", key, "+", "-",
                                           "COUNT", "7"),
            "full": strip_rax_nodes(full),
            "groups": groups,
            "pending": pending,
            "xlen": c.xlen(key),
        }
    return snap


# ---- tests ------------------------------------------------------------------

def test_saved_streams_pass_redis_check_rdb_and_load_into_redis(
        store_server, real_redis, tmp_path):
    srv = store_server()
    c = client_of(srv)
    fill(c)
    before = snapshot(c)
    assert c.save()
    rdb = tmp_path / "store-data" / "dump.rdb"
    check_rdb(rdb)

    rc, _ = real_redis("loader", rdb)
    assert snapshot(rc) == before
    c.close()


def test_streams_redis_wrote_load(store_server, real_redis, tmp_path):
    rc, rdir = real_redis("writer")
    fill(rc)
    before = snapshot(rc)
    assert rc.save()
    data = tmp_path / "store-data"
    data.mkdir(exist_ok=True)
    shutil.copyfile(rdir / "dump.rdb", data / "dump.rdb")

    srv = store_server()
    c = client_of(srv)
    assert snapshot(c) == before

    # and what it loaded it writes back as redis-check-rdb wants it
    assert c.save()
    check_rdb(data / "dump.rdb")
    c.close()


def test_streams_redis_wrote_uncompressed_load(store_server, real_redis,
                                               tmp_path):
    rc, rdir = real_redis("writer")
    rc.config_set("rdbcompression", "no")
    fill(rc)
    before = snapshot(rc)
    assert rc.save()
    data = tmp_path / "store-data"
    data.mkdir(exist_ok=True)
    shutil.copyfile(rdir / "dump.rdb", data / "dump.rdb")
    srv = store_server()
    c = client_of(srv)
    assert snapshot(c) == before
    c.close()


def test_loaded_streams_grow_as_redis_does(store_server, real_redis,
                                           tmp_path):
    """Appends after a load fill the tail node as Redis does: the
    tombstones a file carries count against the node's limits."""
    rc, rdir = real_redis("writer")
    p = rc.pipeline(transaction=False)
    for i in range(1, 91):
        p.xadd("t", {"k": "v%d" % i}, id="1-%d" % i)
    p.execute()
    rc.xdel("t", *["1-%d" % i for i in range(2, 60)])
    assert rc.save()
    data = tmp_path / "store-data"
    data.mkdir(exist_ok=True)
    shutil.copyfile(rdir / "dump.rdb", data / "dump.rdb")

    srv = store_server()
    c = client_of(srv)
    for cl in (rc, c):
        p = cl.pipeline(transaction=False)
        for i in range(91, 131):
            p.xadd("t", {"k": "v%d" % i}, id="1-%d" % i)
        p.execute()
    assert snapshot(c) == snapshot(rc)
    assert c.xinfo_stream("t")["radix-tree-keys"] == 2
    c.close()


def test_restart_keeps_streams(store_server, tmp_path):
    srv = store_server()
    c = client_of(srv)
    fill(c)
    before = snapshot(c)
    assert c.save()
    c.close()
    srv.terminate()

    srv2 = store_server()
    c2 = client_of(srv2)
    assert snapshot(c2) == before
    # the IDs go on from the saved last ID
    with pytest.raises(redis.ResponseError):
        c2.xadd("s1", {"a": "b"}, id="1000-0")
    assert c2.xadd("empty", {"a": "b"}) is not None
    c2.close()


def test_bgsave_child_writes_streams(store_server, real_redis, tmp_path):
    """The forked child writes streams the same way SAVE does."""
    srv = store_server()
    c = client_of(srv)
    fill(c)
    before = snapshot(c)
    assert c.info("persistence")["rdb_changes_since_last_save"] > 0
    c.bgsave()
    deadline = time.time() + 20
    while True:
        # done: no child, and the changes counted as saved
        info = c.info("persistence")
        if (not info["rdb_bgsave_in_progress"]
                and info["rdb_changes_since_last_save"] == 0):
            break
        assert time.time() < deadline, info
        time.sleep(0.05)
    assert info["rdb_last_bgsave_status"] == "ok"
    rdb = tmp_path / "store-data" / "dump.rdb"
    check_rdb(rdb)
    rc, _ = real_redis("loader", rdb)
    assert snapshot(rc) == before
    c.close()
