"""The broker's memory alarm (RabbitMQ's vm_memory_high_watermark) and its
place in onebox's one budget.

A publisher that fills a queue nobody consumes gets connection.blocked
("low on memory") once the broker's messages pass the watermark, and its
socket is no longer read; consuming the queue brings the broker back
under it, and connection.unblocked follows.  That protocol behaviour is
checked on both targets: onebox with -m 32 and the default watermark 0.4
(12.8 MB of messages); rabbitmq-server with its watermark set at run time
(rabbitmqctl set_vm_memory_high_watermark absolute) to 64 MB above what
its VM holds when the test starts, then put back to the default 0.4.
(RabbitMQ counts its whole VM against the watermark, onebox only the
broker's messages, so the two block after different amounts: the test
asserts the protocol, not the amount.)

How the alarm shares the budget with the other modules is onebox's own
(onebox_only): the cache is elastic and yields its pages before the broker
is refused; the store is firm and its keys are never taken.
"""
import select
import socket
import struct
import subprocess
import time

import pika
import pytest
import redis

from mqtest import RawAmqp, pika_params, shortstr, unique
from obtest import free_port, http_json, rss_kb, sanitized, wait_port
from test_mq_limits import (broker, publish_frames,  # noqa: F401
                            ready_count)

BODY = 64 * 1024
BLOCKED = (10, 60)
UNBLOCKED = (10, 61)


def rabbitmqctl(srv, *args):
    """rabbitmqctl against a real server of the mq_server fixture."""
    out = subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n",
                          srv.nodename, *args], env=srv.env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def alarm_server(broker, target, args=()):
    """A broker whose alarm goes off after some tens of MB of messages;
    returns (server, undo) where undo() restores a real server's
    watermark."""
    if target != "real":
        return broker(core={"memory_mb": 32}, args=args,
                      vm_memory_high_watermark=0.4), lambda: None
    srv = broker()
    used = int(rabbitmqctl(srv, "eval",
                           "vm_memory_monitor:get_process_memory()."))
    rabbitmqctl(srv, "set_vm_memory_high_watermark", "absolute",
                str(used + 64 * 1024 * 1024))
    return srv, lambda: rabbitmqctl(srv, "set_vm_memory_high_watermark",
                                    "0.4")


class Flooder:
    """A raw publisher that sends 64 KB transient messages to `queue` as
    fast as the broker reads them, and watches what comes back."""

    def __init__(self, srv, queue):
        self.raw = RawAmqp(srv)
        self.raw.handshake(heartbeat=0, capabilities={
            "connection.blocked": True, "publisher_confirms": True,
            "basic.nack": True})
        self.raw.open_channel(1)
        self.raw.queue_declare(1, queue)
        self.one = publish_frames(1, queue, b"p" * BODY)
        self.pending = b""
        self.sent = 0
        self.raw.sock.setblocking(False)

    def pump(self, seconds, stop_on=None):
        """Sends for up to `seconds`; returns the methods received (ids),
        stopping early once `stop_on` arrives."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.pending:
                self.pending = self.one * 8
            r, w, _ = select.select([self.raw.sock], [self.raw.sock], [],
                                    0.05)
            if w:
                try:
                    n = self.raw.sock.send(self.pending)
                    self.pending = self.pending[n:]
                    self.sent += n
                except BlockingIOError:
                    pass
            if r:
                data = self.raw.sock.recv(65536)
                assert data, "closed by the server"
                self.raw.buf += data
                got += self.methods()
                if stop_on in got:
                    break
        return got

    def methods(self):
        out = []
        while len(self.raw.buf) >= 7:
            size = struct.unpack(">I", self.raw.buf[3:7])[0]
            if len(self.raw.buf) < 8 + size:
                break
            ftype, _, payload = self.raw.read_frame()
            if ftype == 1:
                out.append(struct.unpack(">HH", payload[:4]))
                if out[-1] == BLOCKED:
                    self.reason = payload[5:5 + payload[4]].decode()
        return out

    def stalled_for(self, seconds):
        """True when the broker took no byte of ours for `seconds`."""
        before = self.sent
        self.pump(seconds)
        return self.sent == before

    def wait_stalled(self, quiet=2.0, within=30.0):
        """True once the broker takes no byte for `quiet` seconds (after
        the socket buffers on both sides, a few MB, have filled), within
        `within` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.stalled_for(quiet):
                return True
        return False


def drain(srv, queue):
    """Consumes `queue` (no-ack) until it is empty; returns the count."""
    raw = RawAmqp(srv)
    raw.handshake(heartbeat=0)
    raw.open_channel(1)
    n = 0
    while True:
        raw.send_method(1, 60, 70, struct.pack(">H", 0) + shortstr(queue)
                        + b"\x01")
        m = raw.read_method()
        if m.ids == (60, 72):
            break
        assert m.ids == (60, 71), m
        ftype, _, payload = raw.read_frame()
        assert ftype == 2
        size = struct.unpack(">Q", payload[4:12])[0]
        got = 0
        while got < size:
            ftype, _, payload = raw.read_frame()
            got += len(payload)
        n += 1
    raw.close()
    return n


def test_memory_alarm_blocks_publishers_until_consumed(broker, target):
    """connection.blocked "low on memory" to the publisher (and to a pika
    client's add_on_connection_blocked_callback), the publisher's socket
    no longer read, the queue no longer growing; consuming it sends
    connection.unblocked to both, and the publisher is read again.  On
    onebox the resident size stays within the budget plus what one
    connection may buffer."""
    srv, undo = alarm_server(broker, target)
    try:
        queue = unique("alarm")
        events = []
        watcher = pika.BlockingConnection(pika_params(
            srv, blocked_connection_timeout=None))
        watcher.add_on_connection_blocked_callback(
            lambda conn, frame: events.append("blocked"))
        watcher.add_on_connection_unblocked_callback(
            lambda conn, frame: events.append("unblocked"))
        wch = watcher.channel()

        flood = Flooder(srv, queue)
        got = flood.pump(60, stop_on=BLOCKED)
        assert BLOCKED in got, (flood.sent, got)
        assert flood.reason == "low on memory"
        assert UNBLOCKED not in got
        # The watcher publishes one message (RabbitMQ tells a connection
        # it is blocked when it publishes) and sees the notification.
        wch.basic_publish("", queue, b"w")
        deadline = time.monotonic() + 10
        while "blocked" not in events:
            assert time.monotonic() < deadline, events
            watcher.process_data_events(0.1)

        # The broker no longer reads the publisher: the queue stops growing.
        assert flood.wait_stalled()
        counter = RawAmqp(srv)
        counter.handshake(heartbeat=0)
        counter.open_channel(1)
        held = ready_count(counter, 1, queue)
        time.sleep(1)
        assert ready_count(counter, 1, queue) == held
        counter.close()
        assert held > 0
        if target != "real" and not sanitized():
            # the budget plus what a blocked publisher may have buffered
            assert rss_kb(srv.pid) < 128 * 1024, rss_kb(srv.pid)

        # Consuming brings the broker under the watermark again.
        drained = drain(srv, queue)
        assert drained >= held - 1
        # RabbitMQ clears its alarm once its VM has given the memory back
        # (its memory monitor polls every 2.5 s): 8 s observed.
        got = flood.pump(60, stop_on=UNBLOCKED)
        assert UNBLOCKED in got, got
        deadline = time.monotonic() + 10
        while "unblocked" not in events:
            assert time.monotonic() < deadline, events
            watcher.process_data_events(0.1)
        assert not flood.stalled_for(1)        # read again
        watcher.close()
        flood.raw.close()
        print("alarm: %d messages held when blocked, %d drained"
              % (held, drained))
    finally:
        undo()


# ---- onebox: the alarm in the shared budget ---------------------------------

def _mc_fill(port, count, size):
    """count cache items of `size` bytes (noreply, then a no-op to wait)."""
    s = socket.create_connection(("127.0.0.1", port))
    value = b"c" * size
    batch = b""
    for i in range(count):
        batch += b"set c:%d 0 0 %d noreply\r\n%s\r\n" % (i, size, value)
        if len(batch) > 256 * 1024:
            s.sendall(batch)
            batch = b""
    s.sendall(batch + b"mn\r\n")
    buf = b""
    while not buf.endswith(b"MN\r\n"):
        buf += s.recv(65536)
    s.close()


def _arena(srv):
    return http_json(srv.api_port, "/stats")["arena"]


@pytest.mark.onebox_only
def test_cache_yields_before_the_broker_is_blocked(broker, target):
    """-m 32: 2,000 store keys, then the cache filled past the budget, then
    messages until the alarm.  The broker reaches its watermark (0.4 of
    the budget, give or take a page) because the cache gives up pages
    (evictions, fewer cache bytes), the store's keys all stay, and /stats
    shows each owner's share."""
    mc_port, rs_port = free_port(), free_port()
    srv, _ = alarm_server(broker, target, args=(
        "--cache.port", str(mc_port), "--store.port", str(rs_port)))
    wait_port(mc_port)
    wait_port(rs_port)

    r = redis.Redis(port=rs_port)
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.set("s:%d" % i, b"v" * 1000)
    pipe.execute()
    _mc_fill(mc_port, 40000, 1000)
    before = _arena(srv)
    limit = before["limit"]
    assert before["modules"]["cache"]["bytes"] > limit // 2, before

    flood = Flooder(srv, unique("budget"))
    got = flood.pump(60, stop_on=BLOCKED)
    assert BLOCKED in got, (flood.sent, got)
    after = _arena(srv)
    mods = after["modules"]
    assert mods["mq"]["bytes"] >= 0.35 * limit, after
    assert mods["cache"]["bytes"] < before["modules"]["cache"]["bytes"]
    assert after["used"] <= limit
    stats = http_json(srv.api_port, "/stats")["modules"]
    assert stats["cache"]["evictions"] > 0
    assert r.dbsize() == 2000
    assert all(v == b"v" * 1000 for v in
               r.mget(["s:%d" % i for i in range(2000)]))
    assert mods["store"]["bytes"] >= before["modules"]["store"]["bytes"]
    flood.raw.close()
    print("budget %d MB: mq %.1f MB, cache %.1f -> %.1f MB, store %.1f MB"
          % (limit >> 20, mods["mq"]["bytes"] / 2**20,
             before["modules"]["cache"]["bytes"] / 2**20,
             mods["cache"]["bytes"] / 2**20, mods["store"]["bytes"] / 2**20))
