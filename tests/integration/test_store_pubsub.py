"""Pub/sub on the store's port: (un)subscribe confirmations and counts,
PUBLISH's receiver count, pattern messages, PUBSUB introspection, the
subscribed-mode context (RESP2) and push messages (RESP3), keyspace
notifications, redis-py's PubSub, and the output limit that disconnects
a subscriber that never reads."""
import socket
import time

import pytest
import redis

from obtest import RespConn, bulk, encode


@pytest.fixture
def srv(store_server):
    return store_server()


@pytest.fixture
def conn(srv):
    c = RespConn(srv.port)
    yield c
    c.close()


@pytest.fixture
def r(srv):
    c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    yield c
    c.close()


def arr(*items):
    """A RESP2 array of bulks and integers."""
    out = [b"*%d\r\n" % len(items)]
    for it in items:
        if isinstance(it, int):
            out.append(b":%d\r\n" % it)
        elif it is None:
            out.append(b"$-1\r\n")
        else:
            out.append(bulk(it))
    return b"".join(out)


def push(*items):
    """The same as a RESP3 push frame (null is `_`)."""
    return (b">" + arr(*items)[1:]).replace(b"$-1\r\n", b"_\r\n")


def test_subscribe_confirmations_and_counts(conn):
    conn.send_raw(encode("SUBSCRIBE", "c1", "c2", "c1"))
    assert conn.reply() == arr("subscribe", "c1", 1)
    assert conn.reply() == arr("subscribe", "c2", 2)
    assert conn.reply() == arr("subscribe", "c1", 2)
    conn.send_raw(encode("PSUBSCRIBE", "p*", "q?"))
    assert conn.reply() == arr("psubscribe", "p*", 3)
    assert conn.reply() == arr("psubscribe", "q?", 4)
    conn.send_raw(encode("UNSUBSCRIBE", "c1", "nosuch"))
    assert conn.reply() == arr("unsubscribe", "c1", 3)
    assert conn.reply() == arr("unsubscribe", "nosuch", 3)
    conn.send_raw(encode("PUNSUBSCRIBE", "q?"))
    assert conn.reply() == arr("punsubscribe", "q?", 2)
    conn.send_raw(encode("UNSUBSCRIBE"))
    assert conn.reply() == arr("unsubscribe", "c2", 1)
    conn.send_raw(encode("PUNSUBSCRIBE"))
    assert conn.reply() == arr("punsubscribe", "p*", 0)
    # Out of subscribed mode: any command again.
    assert conn.cmd("ECHO", "x") == b"$1\r\nx\r\n"


def test_unsubscribe_with_nothing_subscribed(conn):
    assert conn.cmd("UNSUBSCRIBE") == arr("unsubscribe", None, 0)
    assert conn.cmd("PUNSUBSCRIBE") == arr("punsubscribe", None, 0)
    assert conn.cmd("PING") == b"+PONG\r\n"


def test_publish_counts_and_messages(srv, conn):
    s1, s2, sp = RespConn(srv.port), RespConn(srv.port), RespConn(srv.port)
    assert s1.cmd("SUBSCRIBE", "news") == arr("subscribe", "news", 1)
    assert s2.cmd("SUBSCRIBE", "news") == arr("subscribe", "news", 1)
    assert sp.cmd("PSUBSCRIBE", "n*") == arr("psubscribe", "n*", 1)
    assert conn.cmd("PUBLISH", "news", "hello") == b":3\r\n"
    assert s1.reply() == arr("message", "news", "hello")
    assert s2.reply() == arr("message", "news", "hello")
    assert sp.reply() == arr("pmessage", "n*", "news", "hello")
    assert conn.cmd("PUBLISH", "nope", "x") == b":1\r\n"
    assert sp.reply() == arr("pmessage", "n*", "nope", "x")
    assert conn.cmd("PUBLISH", "other", "x") == b":0\r\n"
    # A client on both a channel and a matching pattern gets both.
    assert s1.cmd("PSUBSCRIBE", "ne*") == arr("psubscribe", "ne*", 2)
    assert conn.cmd("PUBLISH", "news", b"\x00bin\r\n") == b":4\r\n"
    got = {s1.reply(), s1.reply()}
    assert got == {arr("message", "news", b"\x00bin\r\n"),
                   arr("pmessage", "ne*", "news", b"\x00bin\r\n")}
    assert s1.nothing_pending()


def test_pubsub_introspection(srv, conn):
    a, b = RespConn(srv.port), RespConn(srv.port)
    a.send_raw(encode("SUBSCRIBE", "ch1", "ch2"))
    a.reply(), a.reply()
    b.send_raw(encode("SUBSCRIBE", "ch1", "other"))
    b.reply(), b.reply()
    b.send_raw(encode("PSUBSCRIBE", "p1*", "p2*", "p1*"))
    b.reply(), b.reply(), b.reply()
    a.cmd("PSUBSCRIBE", "p1*")
    reply = conn.cmd("PUBSUB", "CHANNELS")
    assert reply.startswith(b"*3\r\n")
    for ch in (b"ch1", b"ch2", b"other"):
        assert bulk(ch) in reply
    assert conn.cmd("PUBSUB", "CHANNELS", "ch*").startswith(b"*2\r\n")
    assert conn.cmd("PUBSUB", "CHANNELS", "o*") == arr("other")
    assert conn.cmd("PUBSUB", "NUMSUB", "ch1", "ch2", "nosuch") == (
        b"*6\r\n$3\r\nch1\r\n:2\r\n$3\r\nch2\r\n:1\r\n$6\r\nnosuch\r\n:0\r\n")
    assert conn.cmd("PUBSUB", "NUMSUB") == b"*0\r\n"
    # NUMPAT counts distinct patterns, not subscriptions.
    assert conn.cmd("PUBSUB", "NUMPAT") == b":2\r\n"
    assert conn.cmd("PUBSUB", "NOSUCH") == (
        b"-ERR unknown subcommand 'NOSUCH'. Try PUBSUB HELP.\r\n")
    a.close()
    deadline = time.time() + 5
    while conn.cmd("PUBSUB", "NUMSUB", "ch2") != arr("ch2", 0):
        assert time.time() < deadline
        time.sleep(0.02)
    assert conn.cmd("PUBSUB", "NUMSUB", "ch1") == arr("ch1", 1)


def test_subscribed_mode_restrictions_resp2(conn):
    assert conn.cmd("SUBSCRIBE", "c") == arr("subscribe", "c", 1)
    assert conn.cmd("ECHO", "x") == (
        b"-ERR Can't execute 'echo': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE"
        b" / PING / QUIT / RESET are allowed in this context\r\n")
    assert conn.cmd("CONFIG", "GET", "maxmemory") == (
        b"-ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / "
        b"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
        b"context\r\n")
    assert conn.cmd("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert conn.cmd("PING", "hi") == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    assert conn.cmd("PSUBSCRIBE", "x*") == arr("psubscribe", "x*", 2)
    assert conn.cmd("RESET") == b"+RESET\r\n"
    assert conn.cmd("ECHO", "x") == b"$1\r\nx\r\n"


def test_quit_in_subscribed_mode(conn):
    assert conn.cmd("SUBSCRIBE", "c") == arr("subscribe", "c", 1)
    assert conn.cmd("QUIT") == b"+OK\r\n"
    assert conn.is_closed()


def test_resp3_push_messages(srv, conn):
    pub = RespConn(srv.port)
    assert conn.cmd("HELLO", "3").startswith(b"%7")
    assert conn.cmd("SUBSCRIBE", "c") == push("subscribe", "c", 1)
    assert conn.cmd("PSUBSCRIBE", "c*") == push("psubscribe", "c*", 2)
    # Under RESP3 any command runs while subscribed; PING is +PONG.
    assert conn.cmd("ECHO", "x") == b"$1\r\nx\r\n"
    assert conn.cmd("PING") == b"+PONG\r\n"
    assert conn.cmd("CLIENT", "GETNAME") == b"_\r\n"
    assert pub.cmd("PUBLISH", "c", "m") == b":2\r\n"
    assert conn.reply() == push("message", "c", "m")
    assert conn.reply() == push("pmessage", "c*", "c", "m")
    assert conn.cmd("UNSUBSCRIBE", "c") == push("unsubscribe", "c", 1)
    assert conn.cmd("PUNSUBSCRIBE") == push("punsubscribe", "c*", 0)
    assert conn.cmd("UNSUBSCRIBE") == push("unsubscribe", None, 0)


def test_resp3_push_between_replies(srv, conn):
    """A message published while the subscriber's own command runs comes
    as a push frame, not mixed into a reply."""
    pub = RespConn(srv.port)
    conn.cmd("HELLO", "3")
    conn.cmd("SUBSCRIBE", "c")
    for i in range(50):
        pub.send_raw(encode("PUBLISH", "c", "m%d" % i))
        conn.send_raw(encode("ECHO", "e%d" % i))
    got_push, got_echo = [], []
    for _ in range(100):
        frame = conn.reply()
        if frame.startswith(b">"):
            got_push.append(frame)
        else:
            got_echo.append(frame)
    assert got_push == [push("message", "c", "m%d" % i) for i in range(50)]
    assert got_echo == [bulk("e%d" % i) for i in range(50)]


# ---------------------------------------------- keyspace notifications

def test_keyspace_notifications(srv, r):
    assert r.config_set("notify-keyspace-events", "KEA") is True
    assert r.config_get("notify-keyspace-events") == {
        "notify-keyspace-events": "AKE"}
    sub = RespConn(srv.port)
    sub.send_raw(encode("PSUBSCRIBE", "__key*__:*"))
    assert sub.reply() == arr("psubscribe", "__key*__:*", 1)
    r.set("k", "v")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyspace@0__:k", "set")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyevent@0__:set", "k")
    r.expire("k", 100)
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyspace@0__:k", "expire")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyevent@0__:expire", "k")
    r.delete("k")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyspace@0__:k", "del")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyevent@0__:del", "k")
    r.delete("k")                       # nothing deleted: no event
    r.set("e", "1", px=50)
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyspace@0__:e", "set")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyevent@0__:set", "e")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyspace@0__:e", "expire")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyevent@0__:expire", "e")
    # The active expire cycle removes it without anyone asking.
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyspace@0__:e", "expired")
    assert sub.reply() == arr("pmessage", "__key*__:*",
                              "__keyevent@0__:expired", "e")
    assert sub.nothing_pending()


def test_keyspace_notifications_classes(srv, r):
    # Only key-event notifications, only generic commands.
    assert r.config_set("notify-keyspace-events", "Eg") is True
    assert r.config_get("notify-keyspace-events") == {
        "notify-keyspace-events": "gE"}
    sub = RespConn(srv.port)
    assert sub.cmd("PSUBSCRIBE", "*") == arr("psubscribe", "*", 1)
    r.set("k", "v")                     # a string event: not sent
    r.delete("k")
    assert sub.reply() == arr("pmessage", "*", "__keyevent@0__:del", "k")
    assert sub.nothing_pending()
    assert r.config_set("notify-keyspace-events", "") is True
    r.set("k", "v")
    r.delete("k")
    assert sub.nothing_pending()


def test_keyspace_lazy_expiry_event(srv, r):
    r.config_set("notify-keyspace-events", "Ex")
    sub = RespConn(srv.port)
    assert sub.cmd("SUBSCRIBE", "__keyevent@0__:expired") == arr(
        "subscribe", "__keyevent@0__:expired", 1)
    r.set("lazy", "1", px=1)
    time.sleep(0.01)
    assert r.get("lazy") is None
    assert sub.reply() == arr("message", "__keyevent@0__:expired", "lazy")


# ------------------------------------------------------------ redis-py

def test_redis_py_pubsub(srv, r):
    p = r.pubsub()
    p.subscribe("chan")
    assert p.get_message(timeout=5) == {
        "type": "subscribe", "pattern": None, "channel": b"chan",
        "data": 1}
    p.psubscribe("ch*")
    assert p.get_message(timeout=5)["type"] == "psubscribe"
    assert r.publish("chan", "payload") == 2
    msgs = [p.get_message(timeout=5) for _ in range(2)]
    assert {"type": "message", "pattern": None, "channel": b"chan",
            "data": b"payload"} in msgs
    assert {"type": "pmessage", "pattern": b"ch*", "channel": b"chan",
            "data": b"payload"} in msgs
    assert r.pubsub_channels() == [b"chan"]
    assert r.pubsub_numsub("chan") == [(b"chan", 1)]
    assert r.pubsub_numpat() == 1
    p.ping()
    pong = p.get_message(timeout=5)
    assert pong["type"] == "pong"
    p.unsubscribe()
    p.punsubscribe()
    kinds = [p.get_message(timeout=5)["type"] for _ in range(2)]
    assert sorted(kinds) == ["punsubscribe", "unsubscribe"]
    p.close()


def test_redis_py_pubsub_handler(srv, r):
    seen = []
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe(**{"h": seen.append})
    t = p.run_in_thread(sleep_time=0.01)
    try:
        deadline = time.time() + 5
        while r.publish("h", "x") == 0 and time.time() < deadline:
            time.sleep(0.01)
        while not seen and time.time() < deadline:
            time.sleep(0.01)
    finally:
        t.stop()
        t.join(5)
    assert seen[0]["data"] == b"x"


# ------------------------------------------------------- output limit

LIMIT = 1024 * 1024


@pytest.fixture
def limited(store_server, target):
    """A server whose pub/sub clients are disconnected past 1 MiB of
    pending output: Redis's client-output-buffer-limit pubsub class, or
    onebox's pubsub_output_limit."""
    if target == "real":
        return store_server(client_output_buffer_limit="pubsub 1mb 0 0")
    return store_server(pubsub_output_limit=LIMIT)


def test_slow_subscriber_disconnected(limited):
    check_slow_subscriber_disconnected(limited)


def test_output_limit_by_config_set(srv, r):
    """The same limit set at run time, the same way on both servers."""
    assert r.config_set("client-output-buffer-limit",
                        "pubsub 1mb 0 0") is True
    value = r.config_get("client-output-buffer-limit")[
        "client-output-buffer-limit"]
    assert value.startswith("normal 0 0 0 slave ")
    assert value.endswith(" pubsub 1048576 0 0")
    with pytest.raises(redis.ResponseError,
                       match="Wrong number of arguments in buffer limit "
                             "configuration."):
        r.config_set("client-output-buffer-limit", "pubsub 1mb 0")
    with pytest.raises(redis.ResponseError,
                       match="Invalid client class specified in buffer "
                             "limit configuration."):
        r.config_set("client-output-buffer-limit", "foo 1mb 0 0")
    check_slow_subscriber_disconnected(srv)


def check_slow_subscriber_disconnected(limited):
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", limited.port))
    slow.sendall(encode("SUBSCRIBE", "firehose"))
    fast = RespConn(limited.port)
    assert fast.cmd("SUBSCRIBE", "firehose") == arr("subscribe",
                                                      "firehose", 1)
    pub = RespConn(limited.port)
    deadline = time.time() + 5
    while pub.cmd("PUBSUB", "NUMSUB", "firehose") != arr("firehose", 2):
        assert time.time() < deadline
        time.sleep(0.01)
    payload = b"x" * 65536
    counts = []
    for i in range(64):                 # 4 MiB: well past the limit
        pub.send_raw(encode("PUBLISH", "firehose", payload))
        counts.append(int(pub.reply()[1:]))
        # The fast subscriber keeps reading.
        assert fast.reply() == arr("message", "firehose", payload)
    assert counts[0] == 2
    assert counts[-1] == 1              # the slow one is gone
    assert pub.cmd("PUBSUB", "NUMSUB", "firehose") == arr("firehose", 1)
    # Other clients keep working.
    assert pub.cmd("PING") == b"+PONG\r\n"
    assert pub.cmd("PUBLISH", "firehose", "small") == b":1\r\n"
    assert fast.reply() == arr("message", "firehose", "small")
    assert RespConn(limited.port).cmd("ECHO", "ok") == b"$2\r\nok\r\n"
    # The slow subscriber finds its connection closed once it reads.
    slow.settimeout(10)
    got = 0
    try:
        while True:
            chunk = slow.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
    except ConnectionResetError:
        pass
    assert got < 64 * len(payload)


def test_keyspace_miss_and_other_db(srv, r):
    sub = RespConn(srv.port)
    assert sub.cmd("PSUBSCRIBE", "__key*@*") == arr("psubscribe",
                                                    "__key*@*", 1)
    # (The "new" class, n, is not raised by onebox yet: not tested.)
    r.config_set("notify-keyspace-events", "Em")
    r.get("missing")
    assert sub.reply() == arr("pmessage", "__key*@*",
                              "__keyevent@0__:keymiss", "missing")
    r.set("missing", "1")
    assert r.get("missing") == b"1"     # a hit: no event
    assert sub.nothing_pending()
    r.config_set("notify-keyspace-events", "K$")
    other = RespConn(srv.port)
    assert other.cmd("SELECT", "5") == b"+OK\r\n"
    assert other.cmd("SET", "k5", "v") == b"+OK\r\n"
    assert sub.reply() == arr("pmessage", "__key*@*",
                              "__keyspace@5__:k5", "set")
    assert other.cmd("APPEND", "k5", "w") == b":2\r\n"
    assert sub.reply() == arr("pmessage", "__key*@*",
                              "__keyspace@5__:k5", "append")
    assert sub.nothing_pending()


def test_publish_inside_multi_and_pattern_escapes(srv, conn):
    sub = RespConn(srv.port)
    assert sub.cmd("PSUBSCRIBE", r"a\*b", "h[ae]llo") == arr(
        "psubscribe", r"a\*b", 1)
    assert sub.reply() == arr("psubscribe", "h[ae]llo", 2)
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PUBLISH", "a*b", "1") == b"+QUEUED\r\n"
    assert conn.cmd("PUBLISH", "axb", "2") == b"+QUEUED\r\n"
    assert conn.cmd("PUBLISH", "hallo", "3") == b"+QUEUED\r\n"
    assert conn.cmd("PUBLISH", "hillo", "4") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == b"*4\r\n:1\r\n:0\r\n:1\r\n:0\r\n"
    assert sub.reply() == arr("pmessage", r"a\*b", "a*b", "1")
    assert sub.reply() == arr("pmessage", "h[ae]llo", "hallo", "3")
    assert sub.nothing_pending()


def test_many_subscribers_and_channels(srv, conn):
    subs = [RespConn(srv.port) for _ in range(20)]
    for i, s in enumerate(subs):
        chans = ["c%d" % j for j in range(i, i + 50)]
        s.send_raw(encode("SUBSCRIBE", *chans))
        for k, ch in enumerate(chans):
            assert s.reply() == arr("subscribe", ch, k + 1)
    assert conn.cmd("PUBSUB", "NUMSUB", "c0", "c19", "c49", "c68") == (
        arr("c0", 1, "c19", 20, "c49", 20, "c68", 1))
    assert conn.cmd("PUBLISH", "c30", "x") == b":20\r\n"
    for s in subs:
        assert s.reply() == arr("message", "c30", "x")
    assert conn.cmd("PUBSUB", "CHANNELS").startswith(b"*69\r\n")


def test_new_key_events(r):
    """Class n: every key added (SET of a new key, RENAME's and MOVE's
    targets, COPY, each type's first write), not a key overwritten."""
    r.config_set("notify-keyspace-events", "En")
    p = r.pubsub()
    p.psubscribe("__keyevent@*__:new")
    assert p.get_message(timeout=2)["type"] == "psubscribe"
    r.set("a", 1)
    r.set("a", 2)
    r.rename("a", "b")
    r.copy("b", "c")
    r.move("c", 1)
    r.lpush("l", "x")
    r.hset("h", "f", "v")
    r.zadd("z", {"m": 1})
    r.xadd("x", {"f": "v"})
    r.sadd("s", 1)
    got = []
    for _ in range(12):
        m = p.get_message(timeout=1)
        if m is None:
            break
        got.append((m["channel"], m["data"]))
    ev0, ev1 = b"__keyevent@0__:new", b"__keyevent@1__:new"
    assert got == [(ev0, b"a"), (ev0, b"b"), (ev0, b"c"), (ev1, b"c"),
                   (ev0, b"l"), (ev0, b"h"), (ev0, b"z"), (ev0, b"x"),
                   (ev0, b"s")]
    p.close()
