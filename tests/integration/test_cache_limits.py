"""Limits that protect other clients, on onebox and on the real memcached:
the connection limit (-c), a flood of bytes without a newline, a client
that vanishes in the middle of a request, and the hostile cases of issue 6
(replies amplified from one large item, unfinished large sets, binary
requests)."""
import socket
import time

import pytest

from obtest import McConn, rss_kb, sanitized


def test_over_max_connections_the_server_keeps_answering(cache_server):
    # memcached sets its descriptor limit from -c and needs some for itself:
    # 32 is about the smallest it starts with.
    srv = cache_server("-c", "32")
    first = McConn(srv.port)
    assert first.cmd("set k 0 0 1\r\nv\r\n") == b"STORED"

    # Far more than -c: those over the limit are refused (memcached sends
    # "ERROR Too many open connections" and closes), none crash anything.
    extra, refused = [], 0
    for _ in range(80):
        conn = McConn(srv.port)
        extra.append(conn)
    for conn in extra:
        conn.send("version\r\n")
    for conn in extra:
        try:
            line = conn.read_line()
        except (ConnectionError, OSError):
            refused += 1
            continue
        if line == b"ERROR Too many open connections":
            refused += 1
            assert conn.is_closed()
        else:
            assert line.startswith(b"VERSION ")
    assert refused >= 80 - 32

    # The connection made before is served as before ...
    first.send("get k\r\n")
    assert first.read_until() == b"VALUE k 0 1\r\nv\r\nEND\r\n"
    # ... and once the others go, newcomers are accepted again.
    for conn in extra:
        conn.close()
    deadline = time.monotonic() + 5
    while True:
        late = McConn(srv.port)
        late.send("version\r\n")
        try:
            if late.read_line().startswith(b"VERSION "):
                break
        except (ConnectionError, OSError):
            pass
        late.close()
        assert time.monotonic() < deadline, "no slot freed up"
        time.sleep(0.1)
    late.close()
    first.close()


def test_flood_without_newline_is_cut_off_alone(cache_server):
    srv = cache_server()
    good = McConn(srv.port)
    bad = socket.create_connection(("127.0.0.1", srv.port))
    try:
        bad.sendall(b"x" * (1 << 20))
    except OSError:
        pass                            # already cut off: fine
    bad.settimeout(5)
    try:
        assert bad.recv(100) == b""
    except ConnectionResetError:
        pass
    bad.close()
    assert good.cmd("set a 0 0 1\r\n1\r\n") == b"STORED"
    good.close()


def test_client_gone_mid_request(cache_server):
    srv = cache_server()
    for partial in (b"set half 0 0 10\r\nabc", b"get par", b"mg k v"):
        conn = socket.create_connection(("127.0.0.1", srv.port))
        conn.sendall(partial)
        conn.close()
    mc = McConn(srv.port)
    mc.send("get half\r\n")
    assert mc.read_until() == b"END\r\n"
    mc.close()


# ---- limits that hold inside a batch (issue 6) --------------------------------
#
# A 1 MB item named many times in one line, or by many pipelined gets, from
# a client that does not read: memcached references the item from each
# reply instead of copying it, and stops parsing while a connection's
# output is full.  Memory must stay bounded and other clients served.

BIG = 1000 * 1000                       # fits -I 1m with its header on both
BIG_VALUE_LINE = b"VALUE big 0 %d\r\n" % BIG
RSS_BOUND_KB = 150 * 1024               # -m 64 plus connections and slack


def _set_big(port):
    conn = McConn(port)
    conn.send(b"set big 0 0 %d\r\n" % BIG + b"x" * BIG + b"\r\n")
    assert conn.read_line() == b"STORED"
    assert conn.cmd("set small 0 0 1\r\ns\r\n") == b"STORED"
    return conn


def _stalled_socket(port):
    """A connection that never reads, with small socket buffers so that the
    server's output backs up at once."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    return s


def _latencies(conn, seconds):
    """get small, over and over for `seconds`; the round trips."""
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        conn.send("get small\r\n")
        assert conn.read_until() == b"VALUE small 0 1\r\ns\r\nEND\r\n"
        out.append(time.monotonic() - t0)
    return sorted(out)


def _assert_served(lat):
    # Generous for a shared two-core machine: on main the worst was 1.9 s.
    slow = 4 if sanitized() else 1
    assert len(lat) >= 10
    assert lat[len(lat) * 9 // 10] < 0.1 * slow, lat[-5:]
    assert lat[-1] < 0.5 * slow, lat[-5:]


def test_multiget_of_a_large_item_to_a_stalled_client(cache_server):
    srv = cache_server("-m", "64")
    good = _set_big(srv.port)
    bad = _stalled_socket(srv.port)
    bad.sendall(b"get" + b" big" * 1500 + b"\r\n")

    lat = _latencies(good, 2.0)
    _assert_served(lat)
    assert rss_kb(srv.pid) < RSS_BOUND_KB or sanitized()
    # Replacing and deleting the item while replies still point into it:
    # the readers keep the old bytes, the others see the change.
    assert good.cmd("set big 0 0 1\r\nb\r\n") == b"STORED"
    good.send("get big\r\n")
    assert good.read_until() == b"VALUE big 0 1\r\nb\r\nEND\r\n"
    assert good.cmd("delete big\r\n") == b"DELETED"
    # `bad` stays open: the server is stopped (by the fixture) with those
    # replies pending, and must release them cleanly (its exit status and,
    # in the sanitizer build, leaks and use-after-free are checked then).
    srv.stalled = bad
    good.close()


def test_pipelined_gets_of_a_large_item_to_stalled_clients(cache_server):
    srv = cache_server("-m", "64")
    good = _set_big(srv.port)
    bad = [_stalled_socket(srv.port) for _ in range(3)]
    for s in bad:
        s.setblocking(False)
    pending = [b"get big\r\n" * 400 for _ in bad]

    # Send what the server takes (it stops reading a connection whose
    # output is full, so the requests may not all go in).
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and any(pending):
        for i, s in enumerate(bad):
            if pending[i]:
                try:
                    pending[i] = pending[i][s.send(pending[i]):]
                except BlockingIOError:
                    pass
        time.sleep(0.01)

    lat = _latencies(good, 2.0)
    _assert_served(lat)
    assert rss_kb(srv.pid) < RSS_BOUND_KB or sanitized()
    for s in bad:
        s.close()
    good.close()


def test_large_legal_reply_is_delivered_in_full(cache_server):
    """300 times a 1 MB item in one get: a 300 MB reply, all of it."""
    srv = cache_server("-m", "64")
    _set_big(srv.port).close()
    n = 300
    expect = n * (len(BIG_VALUE_LINE) + BIG + 2) + len(b"END\r\n")

    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(10)
    s.sendall(b"get" + b" big" * n + b"\r\n")
    buf = bytearray(1 << 20)
    got, tail = 0, b""
    first = None
    while got < expect:
        k = s.recv_into(buf)
        assert k > 0, "closed after %d of %d bytes" % (got, expect)
        if first is None:
            first = bytes(buf[:len(BIG_VALUE_LINE)])
        got += k
        tail = (tail + bytes(buf[:k]))[-16:]
    assert got == expect
    assert first == BIG_VALUE_LINE
    assert tail.endswith(b"x\r\nEND\r\n")
    # and the connection still works
    s.sendall(b"version\r\n")
    assert s.recv(100).startswith(b"VERSION ")
    s.close()


def test_unfinished_large_sets_stay_in_the_budget(cache_server):
    """300 connections each holding most of a 1 MB set block: the blocks
    are in the memory budget (memcached reads them into their items), so
    the process stays bounded; the memory is reusable once they close."""
    srv = cache_server("-m", "64")
    conns = []
    for i in range(300):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"set up%d 0 0 %d\r\n" % (i, BIG) + b"y" * (BIG - 1000))
        conns.append(s)
    # Let the server take it all in.
    probe = McConn(srv.port)
    deadline = time.monotonic() + 10
    while True:
        assert probe.cmd("version\r\n").startswith(b"VERSION ")
        st = probe.stats()
        if int(st["bytes_read"]) >= 300 * (BIG - 1000):
            break
        assert time.monotonic() < deadline, st["bytes_read"]
        time.sleep(0.2)
    during = rss_kb(srv.pid)
    # (a sanitizer build keeps freed memory in quarantine: no RSS figure)
    assert during < RSS_BOUND_KB or sanitized(), during

    # Those over the budget are refused with memcached's out of memory
    # reply (and their blocks swallowed).  memcached sends it only once the
    # whole block has been swallowed, onebox at once.
    refused = 0
    for s in conns:
        s.settimeout(0.05)
        try:
            line = s.recv(100)
        except socket.timeout:
            continue
        assert line == b"SERVER_ERROR out of memory storing object\r\n", line
        refused += 1
    if srv.is_onebox():
        assert refused >= 150

    for s in conns:
        s.close()
    time.sleep(0.5)
    # The memory held by the unfinished items is given back to the cache.
    assert probe.cmd(b"set after 0 0 %d\r\n" % BIG + b"z" * BIG + b"\r\n") \
        == b"STORED"
    if srv.is_onebox() and not sanitized():
        assert rss_kb(srv.pid) < during + 16 * 1024
    probe.close()


def test_binary_request_is_answered_or_closed(cache_server):
    """A binary-protocol NOOP: memcached answers it; onebox, which speaks
    only text, answers "unknown command" and closes.  Never a hang."""
    srv = cache_server()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(1.0)
    opaque = b"\x12\x34\x56\x78"
    s.sendall(b"\x80\x0a" + b"\x00" * 10 + opaque + b"\x00" * 8)
    head = b""
    try:
        while len(head) < 24:
            k = s.recv(24 - len(head))
            if not k:
                break
            head += k
    except socket.timeout:
        raise AssertionError("no answer to a binary request within 1 s")
    if head:
        assert len(head) == 24, head
        assert head[0] == 0x81 and head[1] == 0x0a, head
        assert head[12:16] == opaque
        status = int.from_bytes(head[6:8], "big")
        body = int.from_bytes(head[8:12], "big")
        assert status in (0x0000, 0x0081), head
        if status == 0x0081:
            assert body > 0
    s.close()


def test_incr_reads_a_negative_value_as_memcached_does(mc):
    # memcached's safe_strtoull: strtoull wraps the "-" number modulo 2^64
    # and only a result that looks negative as signed is refused.
    mc.send("set n 0 0 20\r\n-9223372036854775809\r\n")
    assert mc.read_line() == b"STORED"
    assert mc.cmd("incr n 1\r\n") == b"9223372036854775808"
    mc.send("set m 0 0 2\r\n-1\r\n")
    assert mc.read_line() == b"STORED"
    assert mc.cmd("incr m 1\r\n") == \
        b"CLIENT_ERROR cannot increment or decrement non-numeric value"


@pytest.mark.onebox_only
def test_cache_memlimit_cannot_raise_the_process_budget(cache_server):
    srv = cache_server("-m", "64")
    mc = McConn(srv.port)
    assert mc.cmd("cache_memlimit 1000\r\n") == b"OK"
    assert mc.stats()["limit_maxbytes"] == str(64 * 1024 * 1024)
    assert mc.cmd("cache_memlimit 16\r\n") == b"OK"
    assert mc.stats()["limit_maxbytes"] == str(16 * 1024 * 1024)
    assert mc.cmd("cache_memlimit 64\r\n") == b"OK"
    assert mc.stats()["limit_maxbytes"] == str(64 * 1024 * 1024)
    mc.close()


def test_pipelined_requests_yield_after_reqs_per_event(mc):
    """memcached handles 20 requests (-R) per turn, then lets the other
    connections run: conn_yields counts it.  Every reply still comes, in
    order."""
    mc.send("set y 0 0 1\r\ny\r\n")
    assert mc.read_line() == b"STORED"
    n = 200
    mc.send("".join("get y\r\nmn\r\n" if i % 2 else "get y\r\n"
                    for i in range(n)))
    for i in range(n):
        assert mc.read_until() == b"VALUE y 0 1\r\ny\r\nEND\r\n"
        if i % 2:
            assert mc.read_line() == b"MN"
    assert int(mc.stats()["conn_yields"]) >= 1


def test_long_line_and_block_arriving_in_pieces(mc):
    """A 3,000-key get line and a 200 KB set block, each sent in small
    pieces: the line end is searched for in what is new only, and the block
    goes into its item as it comes; both are answered as a whole."""
    value = bytes(range(256)) * 800
    req = b"set piecemeal 0 0 %d\r\n" % len(value) + value + b"\r\n"
    for i in range(0, len(req), 4096):
        mc.send(req[i:i + 4096])
    assert mc.read_line() == b"STORED"

    keys = [b"k%d" % i for i in range(3000)] + [b"piecemeal"]
    line = b"get " + b" ".join(keys) + b"\r\n"
    assert len(line) > 2048
    for i in range(0, len(line), 100):
        mc.send(line[i:i + 100])
        time.sleep(0.001)
    assert mc.read_until() == (b"VALUE piecemeal 0 %d\r\n" % len(value)
                               + value + b"\r\nEND\r\n")
