"""Hostile load on the AMQP port: a consumer that never reads its socket,
thousands of idle or half-open connections, frames and contents that are
announced and never finish, a message over max_message_size, a publisher
that floods with confirms on and never reads them, and one channel too
many.  Other clients must keep working on both targets, and the replies
(codes, texts, which side closes and when) are RabbitMQ 3.10's.

Memory bounds are asserted on onebox only: RabbitMQ's resident size is the
Erlang VM's (well over 100 MB before the first message, bounded by its own
memory alarm at a fraction of the machine's RAM), so it says nothing about
what onebox promises: its budget (core.memory_mb) plus per-connection
bounds (core.output_buffer_soft and _hard, max_input_buffer).

The raw client (mqtest.RawAmqp) speaks frames directly: these cases need a
client that stops in the middle of a frame, never reads, or sends what
pika would refuse to.
"""
import select
import socket
import struct
import time

import pytest

from mqtest import (PROTOCOL_HEADER, OneboxMq, RawAmqp, body_frame,
                    header_frame, method_frame, shortstr, table, unique)
from obtest import rss_kb, sanitized

SLOW = 4 if sanitized() else 1
HEARTBEAT = b"\x08\x00\x00\x00\x00\x00\x00\xce"


# ---- the server and raw frames ---------------------------------------------------

@pytest.fixture
def broker(target, tmp_path, mq_server):
    """start(core={...}, args=(), **mq_conf): mq_server, except that on
    onebox the core section can be set too (memory_mb, max_connections,
    idle_timeout) and more arguments given (the other modules' ports),
    which have no meaning for rabbitmq-server and are ignored there."""
    own = []

    def start(core=None, args=(), **conf):
        if target == "real":
            return mq_server(**conf)
        srv = OneboxMq(tmp_path, conf)
        for key, value in (core or {}).items():
            srv.argv += ["--core.%s" % key, str(value)]
        srv.argv += list(args)
        own.append(srv)
        return srv.start_again()

    yield start
    complaints = []
    for srv in own:
        complaints += srv.close()
    assert not complaints, "\n".join(complaints)


def publish_frames(channel, routing_key, body, frame_max=131072,
                   exchange=""):
    """basic.publish, its header and the body in frames of at most
    frame_max bytes."""
    out = method_frame(channel, 60, 40, struct.pack(">H", 0)
                       + shortstr(exchange) + shortstr(routing_key) + b"\x00")
    out += header_frame(channel, len(body))
    step = frame_max - 8
    for i in range(0, len(body), step):
        out += body_frame(channel, body[i:i + step])
    return out


def consume_frame(channel, queue, no_ack=False):
    return method_frame(channel, 60, 20, struct.pack(">H", 0)
                        + shortstr(queue) + shortstr("")
                        + struct.pack(">B", 0x02 if no_ack else 0)
                        + table({}))


def get_frame(channel, queue, no_ack=True):
    return method_frame(channel, 60, 70, struct.pack(">H", 0)
                        + shortstr(queue) + struct.pack(">B", no_ack))


def connect_raw(srv, rcvbuf=None, timeout=10.0):
    """A RawAmqp whose socket buffer is set before the connect (so that the
    TCP window is small from the start)."""
    raw = RawAmqp.__new__(RawAmqp)
    raw.server = srv
    raw.timeout = timeout
    raw.buf = b""
    raw.tune = None
    raw.sock = socket.socket()
    if rcvbuf:
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.sock.settimeout(timeout)
    raw.sock.connect((srv.host, srv.port))
    return raw


def ready_count(raw, channel, queue):
    """messages ready in `queue` (passive queue.declare)."""
    raw.send_method(channel, 50, 10, struct.pack(">H", 0) + shortstr(queue)
                    + b"\x01" + table({}))
    r = raw.expect(50, 11, channel=channel).reader()
    r.shortstr()
    return r.long()


def confirmed_publish(raw, channel, queue, n, body):
    """n messages into `queue` with confirms, pipelined; returns once the
    broker has confirmed them all."""
    raw.send_method(channel, 85, 10, b"\x00")
    raw.expect(85, 11, channel=channel)
    one = publish_frames(channel, queue, body)
    for i in range(0, n, 500):
        raw.send(one * min(500, n - i))
    acked = 0
    while acked < n:
        m = raw.read_method()
        assert m.ids == (60, 80), m
        acked = max(acked, m.reader().longlong())


def round_trips(srv, n=50):
    """publish + basic.get of one small message, n times, on a connection
    of its own: the sorted latencies in seconds."""
    queue = unique("rt")
    with RawAmqp(srv) as raw:
        raw.handshake(heartbeat=0)
        raw.open_channel(1)
        raw.queue_declare(1, queue)
        lat = []
        for i in range(n):
            body = b"ping %d" % i
            t0 = time.monotonic()
            raw.send(publish_frames(1, queue, body) + get_frame(1, queue))
            raw.expect(60, 71, channel=1)
            assert raw.read_frame()[0] == 2
            ftype, _, payload = raw.read_frame()
            assert (ftype, payload) == (3, body)
            lat.append(time.monotonic() - t0)
    return sorted(lat)


def assert_fast(srv, n=50):
    """The p99 of n round trips of another client is under 200 ms."""
    lat = round_trips(srv, n)
    p99 = lat[min(len(lat) - 1, len(lat) * 99 // 100)]
    assert p99 < 0.2 * SLOW, lat[-5:]
    return lat


def rss_checked(srv, target, bound_mb):
    """onebox's resident size in MB, asserted under bound_mb (not on the
    real server, nor on the sanitizer build, whose shadow memory is
    several times the heap)."""
    if target == "real" or sanitized():
        return None
    rss = rss_kb(srv.pid) // 1024
    assert rss < bound_mb, rss
    return rss


def send_for(socks, data, seconds):
    """Sends `data` on each non-blocking socket for as long as the server
    takes it (at most `seconds`); returns the bytes sent on each."""
    pending = [data for _ in socks]
    sent = [0 for _ in socks]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(pending):
        for i, s in enumerate(socks):
            if pending[i]:
                try:
                    n = s.send(pending[i][:1 << 20])
                    pending[i] = pending[i][n:]
                    sent[i] += n
                except (BlockingIOError, ConnectionError):
                    pass
        time.sleep(0.005)
    return sent


# ---- a consumer that never reads ---------------------------------------------

N_STALLED = 20000
STALLED_BODY = 4096


def test_consumer_without_prefetch_that_never_reads(broker, target):
    """basic.consume with no prefetch limit and manual acks on a queue of
    20,000 x 4 KB, from a client with a 4 KB receive window that never
    reads: the broker stops handing that consumer messages once its
    socket is full (RabbitMQ 3.10 delivered about 850 and left the rest
    ready), others keep their latency, and when the consumer goes all
    20,000 are ready again.  onebox: its output is held to
    core.output_buffer_soft (4 MB), so its memory grows by no more than
    that plus slack while the consumer stalls."""
    srv = broker(core={"memory_mb": 256}, vm_memory_high_watermark=0.8)
    queue = unique("stalled")
    filler = RawAmqp(srv)
    filler.handshake(heartbeat=0)
    filler.open_channel(1)
    filler.queue_declare(1, queue)
    confirmed_publish(filler, 1, queue, N_STALLED, b"m" * STALLED_BODY)
    filler.open_channel(2)
    assert ready_count(filler, 2, queue) == N_STALLED
    rss_before = None if target == "real" else rss_kb(srv.pid) // 1024

    bad = connect_raw(srv, rcvbuf=4096)
    bad.handshake(heartbeat=0)
    bad.open_channel(1)
    bad.send(consume_frame(1, queue))
    time.sleep(2)
    ready = ready_count(filler, 2, queue)
    assert ready >= N_STALLED // 2, ready

    lat = assert_fast(srv)
    time.sleep(0.5)
    # still stalled: most are still ready
    assert ready_count(filler, 2, queue) >= N_STALLED // 2
    rss = rss_checked(srv, target, 256 + 128)
    if rss is not None:
        assert rss - rss_before < 48, (rss_before, rss)

    # The consumer goes: what it held unacked is requeued.
    bad.close()
    deadline = time.monotonic() + 10
    while ready_count(filler, 2, queue) != N_STALLED:
        assert time.monotonic() < deadline, "not requeued"
        time.sleep(0.1)
    filler.close()
    print("stalled consumer: ready while stalled %d, max %.1f ms, RSS %s MB"
          " (before %s)" % (ready, lat[-1] * 1000, rss, rss_before))


# ---- idle and silent connections --------------------------------------------

def test_two_thousand_idle_connections(broker, target):
    """700 connections that send nothing, 700 that send the protocol header
    and stop, 600 fully open and silent (heartbeats off): other clients
    keep their latency, and an idle open connection still works."""
    srv = broker(core={"max_connections": 4096})
    idle = []
    for _ in range(700):
        idle.append(socket.create_connection((srv.host, srv.port)))
    for _ in range(700):
        s = socket.create_connection((srv.host, srv.port))
        s.sendall(PROTOCOL_HEADER)
        idle.append(s)
    opened = []
    for _ in range(600):
        raw = RawAmqp(srv)
        raw.handshake(heartbeat=0)
        opened.append(raw)
    lat = assert_fast(srv)
    rss = rss_checked(srv, target, 200)
    # The first and last of the open ones still answer.
    for raw in (opened[0], opened[-1]):
        raw.open_channel(1)
        raw.queue_declare(1, unique("idle"))
    for raw in opened:
        raw.close()
    for s in idle:
        s.close()
    print("2000 idle: max %.1f ms, RSS %s MB" % (lat[-1] * 1000, rss))


def _closed_at(socks, seconds, received=None):
    """Waits up to `seconds` for the server to close each socket (by
    name); returns {name: seconds until its close}, and `received`
    ({name: the bytes read meanwhile}) filled in."""
    t0 = time.monotonic()
    closed = {}
    while time.monotonic() - t0 < seconds and len(closed) < len(socks):
        live = {s: n for n, s in socks.items() if n not in closed}
        r, _, _ = select.select(list(live), [], [], 0.2)
        for s in r:
            try:
                data = s.recv(65536)
            except ConnectionError:
                data = b""
            if not data:
                closed[live[s]] = time.monotonic() - t0
            elif received is not None:
                received[live[s]] = received.get(live[s], b"") + data
    return closed


def test_silent_peers_are_dropped(broker):
    """RabbitMQ 3.10 closes a connection whose handshake has not finished
    after handshake_timeout (10 s) whatever stage it stopped at (nothing
    sent, the protocol header only, start-ok without tune-ok), and one that
    negotiated heartbeat 1 s and stays silent after two missed beats (3 s
    observed), without a connection.close.  A silent connection with
    heartbeats off stays."""
    srv = broker()
    socks = {}
    socks["nothing"] = socket.create_connection((srv.host, srv.port))
    s = socket.create_connection((srv.host, srv.port))
    s.sendall(PROTOCOL_HEADER)
    socks["header"] = s
    raw = RawAmqp(srv)
    raw.send(PROTOCOL_HEADER)
    raw.expect(10, 10)
    raw.send_method(0, 10, 11, table({}) + shortstr("PLAIN")
                    + struct.pack(">I", 12) + b"\0guest\0guest"
                    + shortstr("en_US"))
    raw.expect(10, 30)
    socks["tune"] = raw.sock
    beat = RawAmqp(srv)
    beat.handshake(heartbeat=1)
    socks["heartbeat"] = beat.sock
    quiet = RawAmqp(srv)
    quiet.handshake(heartbeat=0)
    t_start = time.monotonic()
    received = {}
    closed = _closed_at(socks, 14 * SLOW, received)
    assert set(closed) == {"nothing", "header", "tune", "heartbeat"}, closed
    # Closed without a word: no connection.close, only the heartbeats the
    # silent peer never answered (and connection.start to the one that
    # sent its header).
    beats = received.get("heartbeat", b"")
    assert beats == HEARTBEAT * (len(beats) // len(HEARTBEAT)), beats[:40]
    assert received.get("nothing", b"") == b""
    assert received.get("tune", b"") == b""
    start = received.get("header", b"")
    assert start[:7] == b"\x01\x00\x00" + start[3:7]
    assert len(start) == 8 + struct.unpack(">I", start[3:7])[0], start[-40:]
    assert 1.5 <= closed["heartbeat"] <= 5 * SLOW, closed
    for name in ("nothing", "header", "tune"):
        assert 8 <= closed[name] <= 13 * SLOW, closed
    assert time.monotonic() - t_start < 15 * SLOW
    # the heartbeat-less one is still there and working
    quiet.open_channel(1)
    quiet.close()
    beat.close()
    raw.close()
    for s in socks.values():
        s.close()


@pytest.mark.onebox_only
def test_core_idle_timeout_applies_to_amqp(broker):
    """onebox's core.idle_timeout (no request completed, no byte written
    for that long) applies to AMQP connections too: with 2 s, a connection
    stuck before its handshake ends is closed long before RabbitMQ's 10 s
    handshake timeout.  An open connection with heartbeats is not idle
    (it writes heartbeats) and stays."""
    srv = broker(core={"idle_timeout": 2})
    s = socket.create_connection((srv.host, srv.port))
    s.sendall(PROTOCOL_HEADER)
    beat = RawAmqp(srv)
    beat.handshake(heartbeat=1)
    closed = _closed_at({"header": s}, 6)
    assert "header" in closed and closed["header"] < 4, closed
    # `beat` answers heartbeats for 3 s and stays open.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        ftype, _, _ = beat.read_frame()
        assert ftype == 8
        beat.send(HEARTBEAT)
    beat.open_channel(1)
    beat.close()
    s.close()


# ---- half-sent frames ---------------------------------------------------------

def test_half_sent_frames(broker, target):
    """50 connections send a frame header announcing a 100 KB method
    payload and 10 bytes of it; 20 announce a 100 MB message body in its
    content header and send 3 body frames of it; all then fall silent.
    Others keep their latency; onebox's memory stays near its budget (the
    announced sizes are not allocated up front).  A publisher that pauses
    in the middle of a 10 MB body and then finishes it has its message
    delivered whole."""
    srv = broker(core={"memory_mb": 64, "max_connections": 4096})
    half = []
    for _ in range(50):
        raw = RawAmqp(srv)
        raw.handshake(heartbeat=0)
        raw.send(struct.pack(">BHI", 1, 0, 100 * 1024)
                 + b"\x00\x14\x00\x0a" + b"x" * 6)
        half.append(raw)
    chunk = b"b" * (131072 - 8)
    for i in range(20):
        raw = RawAmqp(srv)
        raw.handshake(heartbeat=0)
        raw.open_channel(1)
        raw.send(method_frame(1, 60, 40, struct.pack(">H", 0) + shortstr("")
                              + shortstr("nowhere") + b"\x00")
                 + header_frame(1, 100 * 1000 * 1000)
                 + body_frame(1, chunk) * 3)
        half.append(raw)

    queue = unique("slow-body")
    slow = RawAmqp(srv)
    slow.handshake(heartbeat=0)
    slow.open_channel(1)
    slow.queue_declare(1, queue)
    body = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    frames = publish_frames(1, queue, body)
    slow.send(frames[:len(frames) // 2])

    lat = assert_fast(srv)
    rss = rss_checked(srv, target, 64 + 128)
    slow.send(frames[len(frames) // 2:])
    slow.send(get_frame(1, queue))
    get_ok = slow.expect(60, 71, channel=1)
    assert get_ok.reader().longlong() == 1
    ftype, _, payload = slow.read_frame()
    assert ftype == 2 and struct.unpack(">Q", payload[4:12])[0] == len(body)
    got = b""
    while len(got) < len(body):
        ftype, _, payload = slow.read_frame()
        assert ftype == 3
        got += payload
    assert got == body
    slow.close()
    # The half-sent ones were not closed for it (no timeout applies to a
    # connection that is open: heartbeats are off).
    for raw in half[:3] + half[-3:]:
        assert not raw.is_closed(0.05)
        raw.close()
    for raw in half[3:-3]:
        raw.close()
    print("half-sent: max %.1f ms, RSS %s MB" % (lat[-1] * 1000, rss))


# ---- max_message_size, channel_max ----------------------------------------------

def test_message_over_max_message_size(broker):
    """RabbitMQ checks the size once the body is complete: a message one
    byte over gets channel.close 406 PRECONDITION_FAILED naming both sizes
    (class/method of basic.publish); one exactly at the limit is taken;
    the connection, its other channels and other clients go on."""
    limit = 1024 * 1024
    srv = broker(max_message_size=limit)
    queue = unique("size")
    raw = RawAmqp(srv)
    raw.handshake(heartbeat=0)
    raw.open_channel(1)
    raw.open_channel(2)
    raw.queue_declare(2, queue)
    raw.send(publish_frames(1, queue, b"x" * (limit + 1)))
    assert raw.expect_channel_close(1) == (
        406, "PRECONDITION_FAILED - message size %d is larger than "
        "configured max size %d" % (limit + 1, limit), 60, 40)
    raw.send(publish_frames(2, queue, b"y" * limit))
    raw.send(get_frame(2, queue))
    raw.expect(60, 71, channel=2)
    ftype, _, payload = raw.read_frame()
    assert ftype == 2 and struct.unpack(">Q", payload[4:12])[0] == limit
    got = 0
    while got < limit:
        ftype, _, payload = raw.read_frame()
        assert ftype == 3
        got += len(payload)
    # channel 1 can be opened again after close-ok
    raw.open_channel(1)
    raw.close()
    assert_fast(srv, 20)


def test_one_channel_over_channel_max(broker):
    """Opening channel_max channels works; one more is a connection error:
    530 NOT_ALLOWED with the counts (RabbitMQ 3.10's text), on the
    negotiated limit (the server's 2047, or a client's lower one)."""
    srv = broker()
    for client_max in (None, 10):
        raw = RawAmqp(srv)
        raw.handshake(heartbeat=0, channel_max=client_max)
        n = client_max or raw.tune[0]
        assert n == (client_max or 2047)
        raw.send(b"".join(method_frame(ch, 20, 10, shortstr(""))
                          for ch in range(1, n + 1)))
        # RabbitMQ's channels answer in any order.
        opened = {raw.expect(20, 11).channel for _ in range(n)}
        assert opened == set(range(1, n + 1))
        raw.send(method_frame(n + 1, 20, 10, shortstr("")))
        code, text, _, _ = raw.expect_connection_close()
        assert (code, text) == (
            530, "NOT_ALLOWED - number of channels opened (%d) has reached "
            "the negotiated channel_max (%d)" % (n, n))
        assert raw.is_closed()
        raw.close()
    assert_fast(srv, 20)


# ---- a publisher that never reads its confirms -----------------------------------

def test_confirm_flood_never_read(broker, target):
    """A publisher with confirms on sends small messages for 5 s and never
    reads the acks, into a queue held to 1000 messages (x-max-length).
    The broker stops reading it once the acks back up; others keep their
    latency; onebox's memory stays bounded; and when the publisher
    finally reads, every message it sent whole is confirmed, in order."""
    srv = broker(core={"memory_mb": 64})
    queue = unique("flood")
    pub = connect_raw(srv, rcvbuf=4096)
    pub.handshake(heartbeat=0)
    pub.open_channel(1)
    pub.queue_declare(1, queue, arguments={"x-max-length": 1000})
    pub.send_method(1, 85, 10, b"\x00")
    pub.expect(85, 11, channel=1)
    one = publish_frames(1, queue, b"f" * 16)
    pub.sock.setblocking(False)
    batch = one * 4096
    sent = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            sent += pub.sock.send(batch[sent % len(batch):])
        except BlockingIOError:
            time.sleep(0.01)
    whole = sent // len(one)
    assert whole > 10000
    lat = assert_fast(srv)
    rss = rss_checked(srv, target, 64 + 128)

    # Finish the message cut in the middle, then read every ack.
    partial = sent % len(one)
    tail = one[partial:] if partial else b""
    pub.sock.setblocking(True)
    pub.sock.settimeout(10)
    # Reading and writing together: the broker may wait for us to read
    # before it takes the rest.
    while tail:
        r, w, _ = select.select([pub.sock], [pub.sock], [], 5)
        if w:
            tail = tail[pub.sock.send(tail):]
        if r:
            pub._fill()
    total = whole + (1 if partial else 0)
    acked = 0
    while acked < total:
        m = pub.read_method(timeout=30)
        assert m.ids == (60, 80), m
        r = m.reader()
        tag = r.longlong()
        assert tag > acked
        acked = tag
    assert acked == total
    assert ready_count(pub, 1, queue) == 1000
    pub.close()
    print("confirm flood: %d messages, max %.1f ms, RSS %s MB"
          % (total, lat[-1] * 1000, rss))
