"""
The change counter (INFO persistence rdb_changes_since_last_save, what the
save rules compare) for the sorted-set and stream commands: Redis 7.0.15
counts changes, not commands (ZADD adds the members added or re-scored,
ZREM the members removed, XDEL the entries deleted, a consumer created by
XREADGROUP/XCLAIM/XAUTOCLAIM one more ...).  Each case runs its setup on
an emptied server, then asserts the exact delta one command made; the
expected numbers were measured on redis-server 7.0.15.
"""
import threading
import time

import pytest
import redis

Z3 = [["ZADD", "z", "1", "a", "2", "b", "3", "c"]]
S3 = [["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "2-1", "f", "v"],
      ["XADD", "s", "3-1", "f", "v"]]
G3 = S3 + [["XGROUP", "CREATE", "s", "g", "0"]]
P3 = G3 + [["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]]
# (name, expected delta, setup commands, measured command)
CASES = [
    ("zadd_new", 3, [], ["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
    ("zadd_same_score", 0, Z3, ["ZADD", "z", "1", "a", "2", "b"]),
    ("zadd_update_and_add", 2, Z3, ["ZADD", "z", "5", "a", "2", "b", "4", "d"]),
    ("zadd_dup_member_in_args", 2, [], ["ZADD", "z", "1", "a", "2", "a"]),
    ("zadd_nx", 1, Z3, ["ZADD", "z", "NX", "5", "a", "4", "d"]),
    ("zadd_xx", 1, Z3, ["ZADD", "z", "XX", "5", "a", "4", "d"]),
    ("zadd_xx_missing_key", 0, [], ["ZADD", "z", "XX", "1", "a"]),
    ("zadd_ch", 2, Z3, ["ZADD", "z", "CH", "5", "a", "4", "d", "2", "b"]),
    ("zadd_gt", 2, Z3, ["ZADD", "z", "GT", "0", "a", "9", "b", "4", "d"]),
    ("zadd_lt", 1, Z3, ["ZADD", "z", "LT", "0", "a", "9", "b"]),
    ("zadd_incr_existing", 1, Z3, ["ZADD", "z", "INCR", "5", "a"]),
    ("zadd_incr_new", 1, [], ["ZADD", "z", "INCR", "5", "a"]),
    ("zadd_incr_zero", 0, Z3, ["ZADD", "z", "INCR", "0", "a"]),
    ("zadd_incr_nx_existing", 0, Z3, ["ZADD", "z", "NX", "INCR", "5", "a"]),
    ("zadd_incr_xx_missing", 0, Z3, ["ZADD", "z", "XX", "INCR", "5", "q"]),
    ("zincrby_existing", 1, Z3, ["ZINCRBY", "z", "2", "a"]),
    ("zincrby_new", 1, [], ["ZINCRBY", "z", "2", "a"]),
    ("zincrby_zero", 0, Z3, ["ZINCRBY", "z", "0", "a"]),
    ("zrem_some", 2, Z3, ["ZREM", "z", "a", "b", "x"]),
    ("zrem_none", 0, Z3, ["ZREM", "z", "x", "y"]),
    ("zrem_missing_key", 0, [], ["ZREM", "z", "x"]),
    ("zrem_all", 3, Z3, ["ZREM", "z", "a", "b", "c"]),
    ("zremrangebyscore", 2, Z3, ["ZREMRANGEBYSCORE", "z", "1", "2"]),
    ("zremrangebyscore_none", 0, Z3, ["ZREMRANGEBYSCORE", "z", "7", "8"]),
    ("zremrangebyrank_all", 3, Z3, ["ZREMRANGEBYRANK", "z", "0", "-1"]),
    ("zremrangebyrank_one", 1, Z3, ["ZREMRANGEBYRANK", "z", "0", "0"]),
    ("zremrangebylex", 2, [["ZADD", "z", "0", "a", "0", "b", "0", "c"]],
     ["ZREMRANGEBYLEX", "z", "[a", "[b"]),
    ("zremrangebylex_none", 0, [["ZADD", "z", "0", "a"]],
     ["ZREMRANGEBYLEX", "z", "[x", "[y"]),
    ("zpopmin_two", 2, Z3, ["ZPOPMIN", "z", "2"]),
    ("zpopmin_one", 1, Z3, ["ZPOPMIN", "z"]),
    ("zpopmax_all", 3, Z3, ["ZPOPMAX", "z", "10"]),
    ("zpopmin_missing", 0, [], ["ZPOPMIN", "z"]),
    ("zpopmin_count0", 0, Z3, ["ZPOPMIN", "z", "0"]),
    ("bzpopmin", 1, Z3, ["BZPOPMIN", "z", "0"]),
    ("bzpopmax", 1, Z3, ["BZPOPMAX", "z", "0"]),
    ("zmpop_two", 2, Z3, ["ZMPOP", "1", "z", "MIN", "COUNT", "2"]),
    ("zmpop_all", 3, Z3, ["ZMPOP", "1", "z", "MAX", "COUNT", "9"]),
    ("bzmpop_two", 2, Z3, ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"]),
    ("zunionstore", 1, [["ZADD", "z1", "1", "a", "2", "b"],
                     ["ZADD", "z2", "1", "b", "2", "c"]],
     ["ZUNIONSTORE", "d", "2", "z1", "z2"]),
    ("zunionstore_empty_absent", 0, [], ["ZUNIONSTORE", "d", "1", "nx"]),
    ("zunionstore_empty_existing", 1, [["ZADD", "d", "1", "a"]],
     ["ZUNIONSTORE", "d", "1", "nx"]),
    ("zinterstore", 1, [["ZADD", "z1", "1", "a", "2", "b"],
                     ["ZADD", "z2", "1", "b", "2", "c"]],
     ["ZINTERSTORE", "d", "2", "z1", "z2"]),
    ("zinterstore_empty", 0, [["ZADD", "z1", "1", "a"], ["ZADD", "z2", "1", "b"]],
     ["ZINTERSTORE", "d", "2", "z1", "z2"]),
    ("zdiffstore", 1, [["ZADD", "z1", "1", "a", "2", "b"],
                    ["ZADD", "z2", "1", "b", "2", "c"]],
     ["ZDIFFSTORE", "d", "2", "z1", "z2"]),
    ("zdiffstore_empty_existing", 1, [["ZADD", "z1", "1", "a"],
                                   ["ZADD", "d", "1", "a"]],
     ["ZDIFFSTORE", "d", "2", "z1", "z1"]),
    ("zrangestore", 1, Z3, ["ZRANGESTORE", "d", "z", "0", "1"]),
    ("zrangestore_empty_absent", 0, Z3, ["ZRANGESTORE", "d", "z", "5", "6"]),
    ("zrangestore_empty_existing", 1, Z3 + [["ZADD", "d", "1", "a"]],
     ["ZRANGESTORE", "d", "z", "5", "6"]),
    ("zrangestore_missing_src", 0, [], ["ZRANGESTORE", "d", "z", "0", "1"]),
    ("zscore_readonly", 0, Z3, ["ZSCORE", "z", "a"]),
    ("xadd_auto", 1, [], ["XADD", "s", "*", "f", "v"]),
    ("xadd_explicit", 1, S3, ["XADD", "s", "9-1", "f", "v", "g", "w"]),
    ("xadd_nomkstream_missing", 0, [], ["XADD", "s", "NOMKSTREAM", "*", "f", "v"]),
    ("xadd_nomkstream_existing", 1, S3, ["XADD", "s", "NOMKSTREAM", "*", "f", "v"]),
    ("xadd_maxlen_trims", 1, S3, ["XADD", "s", "MAXLEN", "1", "9-1", "f", "v"]),
    ("xadd_minid_trims", 1, S3, ["XADD", "s", "MINID", "3", "9-1", "f", "v"]),
    ("xadd_id_too_small", 0, S3, ["XADD", "s", "1-1", "f", "v"]),
    ("xdel_some", 2, S3, ["XDEL", "s", "1-1", "2-1", "9-9"]),
    ("xdel_absent", 0, S3, ["XDEL", "s", "9-9"]),
    ("xdel_missing_key", 0, [], ["XDEL", "s", "1-1"]),
    ("xdel_dup", 1, S3, ["XDEL", "s", "1-1", "1-1"]),
    ("xtrim_maxlen", 2, S3, ["XTRIM", "s", "MAXLEN", "1"]),
    ("xtrim_none", 0, S3, ["XTRIM", "s", "MAXLEN", "10"]),
    ("xtrim_minid", 2, S3, ["XTRIM", "s", "MINID", "3"]),
    ("xtrim_missing", 0, [], ["XTRIM", "s", "MAXLEN", "1"]),
    ("xsetid", 1, S3, ["XSETID", "s", "5-0"]),
    ("xsetid_same", 1, S3, ["XSETID", "s", "3-1"]),
    ("xgroup_create", 1, S3, ["XGROUP", "CREATE", "s", "g", "$"]),
    ("xgroup_create_mkstream", 1, [], ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
    ("xgroup_create_exists", 0, G3, ["XGROUP", "CREATE", "s", "g", "$"]),
    ("xgroup_setid", 1, G3, ["XGROUP", "SETID", "s", "g", "$"]),
    ("xgroup_destroy", 1, G3, ["XGROUP", "DESTROY", "s", "g"]),
    ("xgroup_destroy_absent", 0, S3, ["XGROUP", "DESTROY", "s", "g"]),
    ("xgroup_createconsumer", 1, G3, ["XGROUP", "CREATECONSUMER", "s", "g", "c"]),
    ("xgroup_createconsumer_exists", 0, P3,
     ["XGROUP", "CREATECONSUMER", "s", "g", "c1"]),
    ("xgroup_delconsumer", 1, P3, ["XGROUP", "DELCONSUMER", "s", "g", "c1"]),
    ("xgroup_delconsumer_absent", 0, G3, ["XGROUP", "DELCONSUMER", "s", "g", "cx"]),
    ("xreadgroup_new", 2, G3, ["XREADGROUP", "GROUP", "g", "c", "COUNT", "2",
                            "STREAMS", "s", ">"]),
    ("xreadgroup_new_all", 2, G3, ["XREADGROUP", "GROUP", "g", "c",
                                "STREAMS", "s", ">"]),
    ("xreadgroup_noack", 2, G3, ["XREADGROUP", "GROUP", "g", "c", "NOACK",
                              "STREAMS", "s", ">"]),
    ("xreadgroup_nothing_new_consumer", 0, S3 + [["XGROUP", "CREATE", "s", "g", "$"]],
     ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]),
    ("xreadgroup_nothing_old_consumer", 0, P3,
     ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]),
    ("xreadgroup_history", 1, P3,
     ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"]),
    ("xreadgroup_history_other", 2, P3,
     ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", "0"]),
    ("xack_some", 2, P3, ["XACK", "s", "g", "1-1", "2-1", "9-9"]),
    ("xack_none", 0, P3, ["XACK", "s", "g", "9-9"]),
    ("xack_missing_group", 0, S3, ["XACK", "s", "g", "1-1"]),
    ("xclaim_two", 3, P3, ["XCLAIM", "s", "g", "c2", "0", "1-1", "2-1"]),
    ("xclaim_justid", 3, P3, ["XCLAIM", "s", "g", "c2", "0", "1-1", "2-1", "JUSTID"]),
    ("xclaim_not_pending", 0, G3, ["XCLAIM", "s", "g", "c2", "0", "1-1"]),
    ("xclaim_deleted", 3, P3 + [["XDEL", "s", "1-1"]],
     ["XCLAIM", "s", "g", "c2", "0", "1-1", "2-1"]),
    ("xclaim_idle_too_small", 0, P3, ["XCLAIM", "s", "g", "c2", "3600000", "1-1"]),
    ("xclaim_same_consumer", 1, P3, ["XCLAIM", "s", "g", "c1", "0", "1-1"]),
    ("xclaim_force", 2, G3, ["XCLAIM", "s", "g", "c2", "0", "1-1", "FORCE"]),
    ("xclaim_lastid", 2, P3, ["XCLAIM", "s", "g", "c2", "0", "1-1", "LASTID", "3-1"]),
    ("xautoclaim", 3, P3, ["XAUTOCLAIM", "s", "g", "c2", "0", "0", "COUNT", "2"]),
    ("xautoclaim_justid", 4, P3, ["XAUTOCLAIM", "s", "g", "c2", "0", "0", "JUSTID"]),
    ("xautoclaim_deleted", 4, P3 + [["XDEL", "s", "1-1"]],
     ["XAUTOCLAIM", "s", "g", "c2", "0", "0"]),
    ("xautoclaim_none", 0, G3, ["XAUTOCLAIM", "s", "g", "c2", "0", "0"]),
    ("xautoclaim_idle_too_small", 0, P3,
     ["XAUTOCLAIM", "s", "g", "c2", "3600000", "0"]),
    ("xpending_readonly", 0, P3, ["XPENDING", "s", "g"]),
]


def dirty(r):
    return int(r.info("persistence")["rdb_changes_since_last_save"])


def delta(r, cmd):
    """The change count `cmd` adds (its error, if any, swallowed: a
    refused command must count nothing)."""
    before = dirty(r)
    # The raw reply, without redis-py's parsing (which trips on some
    # option spellings, XCLAIM ... JUSTID).
    conn = r.connection_pool.get_connection(cmd[0])
    try:
        conn.send_command(*cmd)
        try:
            conn.read_response()
        except redis.ResponseError:
            pass
    finally:
        r.connection_pool.release(conn)
    return dirty(r) - before


@pytest.mark.parametrize("name,expected,setup,cmd", CASES,
                         ids=[case[0] for case in CASES])
def test_dirty_delta(r, name, expected, setup, cmd):
    r.flushall()
    for s in setup:
        r.execute_command(*s)
    assert delta(r, cmd) == expected, (name, cmd)


def test_dirty_zadd_nan_incr_counts_nothing(r):
    r.zadd("z", {"a": float("inf")})
    assert delta(r, ["ZINCRBY", "z", "-inf", "a"]) == 0
    assert delta(r, ["ZADD", "z", "INCR", "-inf", "a"]) == 0


def _served_delta(r, blocking, wake):
    """The delta of `wake` from another client while `blocking` waits on
    a connection of its own: what the wake-up and the served pop count."""
    port = r.connection_pool.connection_kwargs["port"]
    other = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    result = {}

    def run():
        result["reply"] = other.execute_command(*blocking)

    t = threading.Thread(target=run)
    t.start()
    for _ in range(200):
        if int(r.info("clients")["blocked_clients"]) == 1:
            break
        time.sleep(0.01)
    before = dirty(r)
    r.execute_command(*wake)
    t.join(10)
    other.close()
    assert result.get("reply") is not None
    return dirty(r) - before


def test_dirty_bzpopmin_served(r):
    # ZADD's 2 and the served pop's 1
    assert _served_delta(r, ["BZPOPMIN", "z", "5"],
                         ["ZADD", "z", "1", "a", "2", "b"]) == 3


def test_dirty_bzmpop_served(r):
    assert _served_delta(r, ["BZMPOP", "5", "1", "z", "MIN", "COUNT", "2"],
                         ["ZADD", "z", "1", "a", "2", "b", "3", "c"]) == 5


def test_dirty_xreadgroup_served(r):
    r.xgroup_create("s", "g", "$", mkstream=True)
    assert _served_delta(r, ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000",
                             "STREAMS", "s", ">"],
                         ["XADD", "s", "1-1", "f", "v"]) == 2


def test_dirty_xreadgroup_block_timeout_counts_nothing(r):
    # The consumer is not made while the reader waits, nor when it times
    # out with nothing.
    r.xgroup_create("s", "g", "$", mkstream=True)
    assert delta(r, ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "50",
                     "STREAMS", "s", ">"]) == 0
    assert r.execute_command("XINFO", "CONSUMERS", "s", "g") == []
