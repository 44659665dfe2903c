"""Which key serves a woken client: Redis serves a blocked client from the
key whose change woke it, in the order keys became ready, and a key that
turned into another type is passed over.  Both targets."""
import threading
import time

import redis


def blocked(r, fn):
    """Runs fn(client) in a thread that blocks; returns (thread, result)."""
    res = {}

    def wait():
        c = redis.Redis(port=r.server.port, socket_timeout=10)
        try:
            res["v"] = fn(c)
        finally:
            c.close()
    t = threading.Thread(target=wait)
    t.start()
    deadline = time.time() + 5
    while r.info("clients")["blocked_clients"] == 0:
        assert time.time() < deadline, "the client never blocked"
        time.sleep(0.01)
    return t, res


def test_blpop_served_from_the_first_key_made_ready(r):
    t, res = blocked(r, lambda c: c.blpop(["a", "b"], 5))
    pipe = r.pipeline(transaction=True)
    pipe.rpush("b", "x")
    pipe.rpush("a", "y")
    pipe.execute()
    t.join()
    assert res["v"] == (b"b", b"x")
    assert r.lrange("a", 0, -1) == [b"y"]


def test_bzpopmin_passes_over_a_key_of_another_type(r):
    t, res = blocked(r, lambda c: c.bzpopmin(["a", "b"], 5))
    r.set("a", "string")
    r.zadd("b", {"m": 1})
    t.join()
    assert res["v"] == (b"b", b"m", 1.0)


def test_bzmpop_served_from_the_first_key_made_ready(r):
    t, res = blocked(r, lambda c: c.execute_command(
        "BZMPOP", 5, 2, "a", "b", "MIN", "COUNT", 2))
    pipe = r.pipeline(transaction=True)
    pipe.zadd("b", {"x": 1, "y": 2})
    pipe.zadd("a", {"z": 1})
    pipe.execute()
    t.join()
    assert res["v"] == [b"b", [[b"x", b"1"], [b"y", b"2"]]]
    assert r.zrange("a", 0, -1) == [b"z"]


def test_xreadgroup_unblocked_when_its_stream_is_deleted(r):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    t, res = blocked(r, lambda c: _catch(
        lambda: c.xreadgroup("g", "c1", {"s": ">"}, block=0)))
    assert r.delete("s") == 1
    t.join(5)
    assert res["v"] == "UNBLOCKED the stream key no longer exists"


def test_xreadgroup_unblocked_when_its_stream_expires(r):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    t, res = blocked(r, lambda c: _catch(
        lambda: c.xreadgroup("g", "c1", {"s": ">"}, block=0)))
    r.pexpire("s", 100)
    t.join(5)
    assert res["v"] == "UNBLOCKED the stream key no longer exists"


def test_xread_stays_blocked_when_its_stream_is_deleted(r):
    r.xadd("s", {"f": "v"}, id="1-1")
    t, res = blocked(r, lambda c: c.xread({"s": "$"}, block=0))
    assert r.delete("s") == 1
    time.sleep(0.2)
    assert "v" not in res
    r.xadd("s", {"f": "w"}, id="2-1")
    t.join(5)
    assert res["v"] == [[b"s", [(b"2-1", {b"f": b"w"})]]]


def _catch(fn):
    try:
        return fn()
    except redis.exceptions.ResponseError as e:
        return str(e)
