"""
The change counter (INFO persistence rdb_changes_since_last_save, what the
save rules count) after the list and set commands: Redis 7.0 counts
changes, not commands (RPUSH of 3 elements adds 3, SADD the members it
added, LTRIM the elements it removed ...), and a command that changed
nothing adds nothing.  Each case runs its setup, then the command, and
checks the counter's delta across the command alone.
"""

import threading
import time

import pytest
import redis


def changes(r):
    return int(r.info("persistence")["rdb_changes_since_last_save"])


def delta(r, *cmd):
    """Runs one command (an error reply is fine) and returns how much it
    moved the change counter."""
    before = changes(r)
    try:
        r.execute_command(*cmd)
    except redis.ResponseError:
        pass
    return changes(r) - before


# (setup commands, the command, expected delta)
CASES = [
    # pushes
    ([], ("RPUSH", "l", "a", "b", "c"), 3),
    ([("RPUSH", "l", "x")], ("LPUSH", "l", "a", "b"), 2),
    ([("SET", "l", "v")], ("RPUSH", "l", "a", "b"), 0),
    ([], ("LPUSHX", "l", "a", "b"), 0),
    ([("RPUSH", "l", "x")], ("RPUSHX", "l", "a", "b", "c"), 3),
    ([("SET", "l", "v")], ("LPUSHX", "l", "a"), 0),
    # pops
    ([("RPUSH", "l", "a", "b")], ("LPOP", "l"), 1),
    ([("RPUSH", "l", "a")], ("RPOP", "l"), 1),
    ([("RPUSH", "l", "a", "b", "c", "d")], ("LPOP", "l", "3"), 3),
    ([("RPUSH", "l", "a", "b")], ("RPOP", "l", "5"), 2),
    ([("RPUSH", "l", "a", "b")], ("LPOP", "l", "0"), 0),
    ([], ("LPOP", "l"), 0),
    ([], ("RPOP", "l", "2"), 0),
    ([("SET", "l", "v")], ("LPOP", "l"), 0),
    # in place
    ([("RPUSH", "l", "a", "b")], ("LSET", "l", "0", "z"), 1),
    ([("RPUSH", "l", "a", "b")], ("LSET", "l", "5", "z"), 0),
    ([], ("LSET", "l", "0", "z"), 0),
    ([("RPUSH", "l", "a", "b")], ("LINSERT", "l", "BEFORE", "b", "z"), 1),
    ([("RPUSH", "l", "a", "b")], ("LINSERT", "l", "AFTER", "q", "z"), 0),
    ([], ("LINSERT", "l", "AFTER", "q", "z"), 0),
    ([("RPUSH", "l", "a", "b", "a", "a")], ("LREM", "l", "0", "a"), 3),
    ([("RPUSH", "l", "a", "b", "a", "a")], ("LREM", "l", "-2", "a"), 2),
    ([("RPUSH", "l", "a", "b")], ("LREM", "l", "0", "q"), 0),
    ([("RPUSH", "l", "a", "a")], ("LREM", "l", "0", "a"), 2),
    ([], ("LREM", "l", "0", "a"), 0),
    ([("RPUSH", "l", "a", "b", "c", "d", "e")], ("LTRIM", "l", "1", "2"), 3),
    ([("RPUSH", "l", "a", "b", "c")], ("LTRIM", "l", "0", "-1"), 0),
    ([("RPUSH", "l", "a", "b", "c")], ("LTRIM", "l", "5", "9"), 3),
    ([], ("LTRIM", "l", "0", "1"), 0),
    # moves
    ([("RPUSH", "l", "a", "b")], ("RPOPLPUSH", "l", "m"), 1),
    ([("RPUSH", "l", "a")], ("LMOVE", "l", "m", "LEFT", "RIGHT"), 1),
    ([("RPUSH", "l", "a", "b")], ("LMOVE", "l", "l", "LEFT", "RIGHT"), 1),
    ([], ("LMOVE", "l", "m", "LEFT", "RIGHT"), 0),
    ([("RPUSH", "l", "a"), ("SET", "m", "v")],
     ("LMOVE", "l", "m", "LEFT", "RIGHT"), 0),
    # LMPOP and the blocking pops served at once
    ([("RPUSH", "l", "a", "b", "c")], ("LMPOP", "2", "x", "l", "LEFT",
                                       "COUNT", "2"), 2),
    ([("RPUSH", "l", "a", "b", "c")], ("LMPOP", "1", "l", "RIGHT"), 1),
    ([], ("LMPOP", "1", "l", "RIGHT"), 0),
    ([("RPUSH", "l", "a", "b")], ("BLPOP", "x", "l", "1"), 1),
    ([("RPUSH", "l", "a", "b")], ("BRPOP", "l", "1"), 1),
    ([("RPUSH", "l", "a", "b", "c")], ("BLMPOP", "1", "1", "l", "LEFT",
                                       "COUNT", "5"), 3),
    ([("RPUSH", "l", "a", "b")], ("BLMOVE", "l", "m", "LEFT", "LEFT", "1"),
     1),
    ([("RPUSH", "l", "a", "b")], ("BRPOPLPUSH", "l", "m", "1"), 1),
    # sets
    ([], ("SADD", "s", "a", "b", "c"), 3),
    ([("SADD", "s", "a", "b")], ("SADD", "s", "a", "b", "c", "c"), 1),
    ([("SADD", "s", "a", "b")], ("SADD", "s", "a", "b"), 0),
    ([("SET", "s", "v")], ("SADD", "s", "a"), 0),
    ([("SADD", "s", "a", "b", "c")], ("SREM", "s", "a", "b", "q"), 2),
    ([("SADD", "s", "a")], ("SREM", "s", "q"), 0),
    ([("SADD", "s", "a", "b")], ("SREM", "s", "a", "b"), 2),
    ([], ("SREM", "s", "a"), 0),
    ([("SADD", "s", "a", "b", "c")], ("SPOP", "s"), 1),
    ([("SADD", "s", "a", "b", "c", "d")], ("SPOP", "s", "2"), 2),
    ([("SADD", "s", "a", "b", "c")], ("SPOP", "s", "3"), 3),
    ([("SADD", "s", "a", "b", "c")], ("SPOP", "s", "10"), 3),
    ([("SADD", "s", "a", "b", "c")], ("SPOP", "s", "0"), 0),
    ([], ("SPOP", "s"), 0),
    ([], ("SPOP", "s", "3"), 0),
    ([("SADD", "s", *[str(i) for i in range(20)])], ("SPOP", "s", "15"), 15),
    ([("SADD", "s", *["m%d" % i for i in range(300)])],
     ("SPOP", "s", "200"), 200),
    # SMOVE counts the removal and, when the destination gained it, the add
    ([("SADD", "s", "a", "b")], ("SMOVE", "s", "t", "a"), 2),
    ([("SADD", "s", "a", "b"), ("SADD", "t", "a")], ("SMOVE", "s", "t", "a"),
     1),
    ([("SADD", "s", "a")], ("SMOVE", "s", "t", "q"), 0),
    ([("SADD", "s", "a")], ("SMOVE", "s", "s", "a"), 0),
    ([], ("SMOVE", "s", "t", "a"), 0),
    ([("SADD", "s", "a"), ("SET", "t", "v")], ("SMOVE", "s", "t", "a"), 0),
    # stores: one change for the destination, whatever its size
    ([("SADD", "s", "a", "b", "c"), ("SADD", "t", "a", "b")],
     ("SINTERSTORE", "d", "s", "t"), 1),
    ([("SADD", "s", "a", "b", "c"), ("SADD", "t", "d", "e")],
     ("SUNIONSTORE", "d", "s", "t"), 1),
    ([("SADD", "s", "a", "b", "c"), ("SADD", "t", "a")],
     ("SDIFFSTORE", "d", "s", "t"), 1),
    ([("SADD", "s", "a"), ("SADD", "t", "b")],
     ("SINTERSTORE", "d", "s", "t"), 0),
    ([("SADD", "s", "a"), ("SADD", "t", "b"), ("SET", "d", "v")],
     ("SINTERSTORE", "d", "s", "t"), 1),
    ([("SADD", "s", "a"), ("SET", "d", "v")],
     ("SINTERSTORE", "d", "s", "missing"), 1),
    ([("SADD", "s", "a")], ("SINTERSTORE", "d", "s", "missing"), 0),
    ([("SADD", "s", "a"), ("SET", "d", "v")],
     ("SDIFFSTORE", "d", "s", "s"), 1),
    ([], ("SUNIONSTORE", "d", "x", "y"), 0),
    ([("SADD", "d", "q")], ("SUNIONSTORE", "d", "x", "y"), 1),
    ([("SADD", "s", "a"), ("SET", "w", "v")],
     ("SUNIONSTORE", "d", "s", "w"), 0),
    # read-only ones count nothing
    ([("SADD", "s", "a", "b")], ("SINTERCARD", "1", "s"), 0),
    ([("SADD", "s", "a", "b")], ("SRANDMEMBER", "s", "2"), 0),
    ([("RPUSH", "l", "a", "b")], ("LRANGE", "l", "0", "-1"), 0),
]


@pytest.mark.parametrize("setup,cmd,expected", CASES,
                         ids=[" ".join(c[1])[:60] for c in CASES])
def test_dirty_delta(r, setup, cmd, expected):
    for s in setup:
        r.execute_command(*s)
    assert delta(r, *cmd) == expected


def test_dirty_int_encoded_sets(r):
    r.execute_command("SADD", "s", "1", "2", "3")
    assert delta(r, "SADD", "s", "3", "4", "5") == 2
    assert delta(r, "SREM", "s", "1", "9") == 1
    assert delta(r, "SPOP", "s", "2") == 2


def _served_later(r, cmd, push, expected_reply_len=None):
    """Blocks `cmd` on a second client, then runs `push`; returns the
    counter's delta across both, and the blocked command's reply."""
    blocked = redis.Redis(host="127.0.0.1", port=r.server.port,
                          socket_timeout=10)
    out = {}

    def run():
        out["reply"] = blocked.execute_command(*cmd)

    before = changes(r)
    t = threading.Thread(target=run)
    t.start()
    deadline = time.time() + 5
    while int(r.info("clients")["blocked_clients"]) < 1:
        assert time.time() < deadline
        time.sleep(0.01)
    r.execute_command(*push)
    t.join(5)
    blocked.close()
    return changes(r) - before, out.get("reply")


# Redis 7.0 serves a blocked BLPOP, BRPOP, BLMOVE or BRPOPLPUSH without
# counting the pop (only the push counts), but a blocked BLMPOP counts
# the elements it popped (listPopRangeAndReplyWithKey).
@pytest.mark.parametrize("cmd,push,expected", [
    (("BLPOP", "l", "5"), ("RPUSH", "l", "a", "b", "c"), 3),
    (("BRPOP", "l", "5"), ("LPUSH", "l", "a"), 1),
    (("BLMPOP", "5", "1", "l", "LEFT", "COUNT", "2"),
     ("RPUSH", "l", "a", "b", "c"), 5),
    (("BLMOVE", "l", "m", "LEFT", "RIGHT", "5"), ("RPUSH", "l", "a", "b"), 2),
    (("BRPOPLPUSH", "l", "m", "5"), ("RPUSH", "l", "a"), 1),
])
def test_dirty_blocking_served_by_push(r, cmd, push, expected):
    d, reply = _served_later(r, cmd, push)
    assert reply is not None
    assert d == expected


def test_dirty_blocking_timeout_counts_nothing(r):
    assert delta(r, "BLPOP", "l", "0.05") == 0
    assert delta(r, "BLMPOP", "0.05", "1", "l", "LEFT") == 0
    assert delta(r, "BLMOVE", "l", "m", "LEFT", "RIGHT", "0.05") == 0


def test_dirty_multi_exec_sums(r):
    r.execute_command("RPUSH", "l", "a", "b", "c")
    p = r.pipeline(transaction=True)
    p.execute_command("RPUSH", "l", "d", "e")
    p.execute_command("LPOP", "l", "2")
    p.execute_command("SADD", "s", "a", "b", "c")
    p.execute_command("SREM", "s", "a")
    before = changes(r)
    p.execute()
    assert changes(r) - before == 2 + 2 + 3 + 1


def test_dirty_blocking_pops_inside_exec_count(r):
    # not blocked (EXEC never blocks): counted as the immediate pops are
    r.execute_command("RPUSH", "l", "a", "b", "c", "d")
    p = r.pipeline(transaction=True)
    p.execute_command("BLPOP", "l", "0")
    p.execute_command("BLMOVE", "l", "m", "LEFT", "RIGHT", "0")
    p.execute_command("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "2")
    p.execute_command("BLPOP", "empty", "0")
    before = changes(r)
    p.execute()
    assert changes(r) - before == 1 + 1 + 2


def test_dirty_two_blocked_clients_served_by_one_push(r):
    clients = [redis.Redis(host="127.0.0.1", port=r.server.port,
                           socket_timeout=10) for _ in range(2)]
    replies = []
    threads = [threading.Thread(target=lambda b=b: replies.append(
        b.execute_command("BLPOP", "l", "5"))) for b in clients]
    before = changes(r)
    for t in threads:
        t.start()
    deadline = time.time() + 5
    while int(r.info("clients")["blocked_clients"]) < 2:
        assert time.time() < deadline
        time.sleep(0.01)
    r.execute_command("RPUSH", "l", "a", "b", "c")
    for t in threads:
        t.join(5)
    for b in clients:
        b.close()
    assert len(replies) == 2
    assert changes(r) - before == 3
    assert r.llen("l") == 1
