"""AMQP 0-9-1 at the byte level, with the raw client of mqtest: what the
broker answers to a bad protocol header, bad frames, methods on the wrong
channel, content frames out of place, the heartbeat and a refused login.

The expected replies are RabbitMQ 3.10's, as observed: reply code, reply
text and the class/method ids of connection.close.  Where RabbitMQ's text is
an Erlang term dump (the FRAME_ERROR texts, e.g. "FRAME_ERROR - type 1, all
octets = <<0,20,0,10,0>>: {invalid_frame_end_marker,0}") only its prefix is
compared."""
import socket
import struct
import time

import pytest

from mqtest import (FRAME_HEARTBEAT, PROTOCOL_HEADER, RawAmqp, body_frame,
                    frame, header_frame, longstr, method_frame, shortstr,
                    table, unique, pika_conn)

# One configuration for every test that needs small limits or a fast
# heartbeat, so that --target real starts one extra server for them all.
SMALL = dict(heartbeat=1, frame_max=8192, channel_max=16,
             max_message_size=65536)


def publish_method(channel, exchange, routing_key, mandatory=False):
    return method_frame(channel, 60, 40, struct.pack(">H", 0)
                        + shortstr(exchange) + shortstr(routing_key)
                        + struct.pack(">B", 1 if mandatory else 0))


def declare_args(name, passive=False):
    return (struct.pack(">H", 0) + shortstr(name)
            + struct.pack(">B", 1 if passive else 0) + table({}))


def opened(mq, channel=1, **kw):
    """A raw client past the handshake, with `channel` open."""
    raw = RawAmqp(mq)
    raw.handshake(**kw)
    if channel:
        raw.open_channel(channel)
    return raw


def message_count(mq, queue):
    conn = pika_conn(mq)
    try:
        return conn.channel().queue_declare(queue, passive=True) \
            .method.message_count
    finally:
        conn.close()


@pytest.mark.parametrize("header", [b"AMQP\x00\x00\x09\x02",
                                    b"AMQX\x00\x00\x09\x01",
                                    b"GET / HTTP/1.1\r\n\r\n"])
def test_wrong_protocol_header_gets_ours_and_a_close(mq, header):
    with RawAmqp(mq) as raw:
        raw.send(header)
        assert raw.read_bytes(8) == PROTOCOL_HEADER
        assert raw.is_closed()
        assert raw.buf == b""


def test_handshake_start_and_tune(mq):
    with RawAmqp(mq) as raw:
        start = raw.handshake()
        r = start.reader()
        assert (r.octet(), r.octet()) == (0, 9)
        r.table()
        assert b"PLAIN" in r.longstr().split()
        assert r.longstr() == b"en_US"
        assert raw.tune == (2047, 131072, 60)
        raw.open_channel(1)


def test_tune_proposes_the_configured_limits(mq_server):
    with RawAmqp(mq_server(**SMALL)) as raw:
        raw.handshake()
        assert raw.tune == (16, 8192, 1)


def test_bad_frame_end(mq):
    with opened(mq, channel=0) as raw:
        raw.send(method_frame(1, 20, 10, shortstr(""))[:-1] + b"\x00")
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (501, 0, 0)
        assert text.startswith("FRAME_ERROR - ")
        assert raw.is_closed()


def test_frame_over_negotiated_frame_max(mq):
    with opened(mq, frame_max=4096) as raw:
        raw.send(frame(1, 1, b"\x00\x3c\x00\x28" + b"x" * 5000))
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (501, 0, 0)
        assert text.startswith("FRAME_ERROR - ")
        assert raw.is_closed()


def test_frame_over_configured_frame_max(mq_server):
    with opened(mq_server(**SMALL)) as raw:
        assert raw.tune[1] == 8192
        raw.send(frame(1, 1, b"\x00\x3c\x00\x28" + b"x" * 9000))
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (501, 0, 0)
        assert text.startswith("FRAME_ERROR - ")


def test_frame_of_exactly_frame_max_is_fine(mq_server):
    srv = mq_server(**SMALL)
    name = unique("q")
    with opened(srv) as raw:
        raw.queue_declare(1, name)
        # frame_max counts the whole frame: 7 bytes of header, the
        # payload, the frame-end octet.
        body = b"b" * (8192 - 8)
        raw.send(publish_method(1, "", name) + header_frame(1, len(body))
                 + body_frame(1, body))
        raw.send_method(1, 60, 70, struct.pack(">H", 0) + shortstr(name)
                        + b"\x01")
        assert raw.expect(60, 71, channel=1)
        ftype, _, _ = raw.read_frame()
        assert ftype == 2
        ftype, _, payload = raw.read_frame()
        assert (ftype, payload) == (3, body)


def test_unknown_frame_type(mq):
    with opened(mq) as raw:
        raw.send(frame(7, 0, b""))
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (501, 0, 0)
        assert text.startswith("FRAME_ERROR - ")


def test_truncated_method_arguments(mq):
    with opened(mq) as raw:
        raw.send_method(1, 50, 10, b"\x00")
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (501, 50, 10)
        assert text.startswith("FRAME_ERROR - ")


def test_method_on_unopened_channel(mq):
    with opened(mq, channel=0) as raw:
        raw.send_method(1, 50, 10, declare_args("x"))
        assert raw.expect_connection_close() == (
            504, "CHANNEL_ERROR - expected 'channel.open'", 50, 10)
        assert raw.is_closed()


def test_method_on_closed_channel(mq):
    with opened(mq) as raw:
        raw.send_method(1, 20, 40, struct.pack(">H", 200) + shortstr("bye")
                        + struct.pack(">HH", 0, 0))
        raw.expect(20, 41, channel=1)
        raw.send_method(1, 60, 70, struct.pack(">H", 0) + shortstr("x")
                        + b"\x00")
        assert raw.expect_connection_close() == (
            504, "CHANNEL_ERROR - expected 'channel.open'", 60, 70)


def test_channel_open_twice(mq):
    with opened(mq) as raw:
        raw.send_method(1, 20, 10, shortstr(""))
        assert raw.expect_connection_close() == (
            504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10)


def test_channel_method_on_channel_zero(mq):
    with opened(mq, channel=0) as raw:
        raw.send(publish_method(0, "", "q"))
        assert raw.expect_connection_close() == (
            504, "CHANNEL_ERROR - unexpected method in connection state "
            "running", 60, 40)


def test_channel_reopened_after_close(mq):
    with opened(mq) as raw:
        raw.send_method(1, 20, 40, struct.pack(">H", 200) + shortstr("")
                        + struct.pack(">HH", 0, 0))
        raw.expect(20, 41, channel=1)
        raw.open_channel(1)
        name = unique("q")
        assert raw.queue_declare(1, name) == (name, 0, 0)


@pytest.mark.parametrize("ids", [(60, 999), (77, 10)])
def test_unknown_class_or_method_ends_the_connection(mq, ids):
    # RabbitMQ drops the connection without a close frame here; whatever a
    # broker sends before the end, it must be a connection.close.
    with opened(mq) as raw:
        raw.send_method(1, *ids)
        assert raw.is_closed()
        if raw.buf:
            assert raw.buf[:1] == b"\x01" and raw.buf[7:11] == \
                b"\x00\x0a\x00\x32", raw.buf


@pytest.mark.parametrize("content", ["header", "body"])
def test_content_frame_without_publish(mq, content):
    with opened(mq) as raw:
        raw.send(header_frame(1, 5) if content == "header"
                 else body_frame(1, b"hello"))
        assert raw.expect_connection_close() == (
            505, "UNEXPECTED_FRAME - expected method frame, got non method "
            "frame instead", 0, 0)
        assert raw.is_closed()


def test_method_in_the_middle_of_content(mq):
    name = unique("q")
    with opened(mq) as raw:
        raw.queue_declare(1, name)
        raw.send(publish_method(1, "", name) + header_frame(1, 3))
        raw.send_method(1, 50, 10, declare_args(name))
        assert raw.expect_connection_close() == (
            505, "UNEXPECTED_FRAME - expected content body, got non content "
            "body frame instead", 60, 40)
    assert message_count(mq, name) == 0


def test_method_instead_of_content_header(mq):
    name = unique("q")
    with opened(mq) as raw:
        raw.queue_declare(1, name)
        raw.send(publish_method(1, "", name))
        raw.send_method(1, 50, 10, declare_args(name))
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (505, 60, 40)
        assert text.startswith("UNEXPECTED_FRAME - expected content header")
    assert message_count(mq, name) == 0


def test_content_header_of_another_class(mq):
    with opened(mq) as raw:
        raw.send(publish_method(1, "", "q") + header_frame(1, 3, class_id=50))
        assert raw.expect_connection_close() == (
            505, "UNEXPECTED_FRAME - expected content header for class 60, "
            "got one for class 50 instead", 60, 40)


def test_body_longer_than_announced(mq):
    # RabbitMQ notices at the next frame of the channel: the message is
    # never routed and the connection is closed with 505.
    name = unique("q")
    with opened(mq) as raw:
        raw.queue_declare(1, name)
        raw.send(publish_method(1, "", name) + header_frame(1, 3)
                 + body_frame(1, b"abcdef"))
        raw.send_method(1, 60, 70, struct.pack(">H", 0) + shortstr(name)
                        + b"\x01")
        code, text, _, _ = raw.expect_connection_close()
        assert code == 505
        assert text.startswith("UNEXPECTED_FRAME - ")
    assert message_count(mq, name) == 0


def test_body_in_several_frames(mq):
    name = unique("q")
    with opened(mq) as raw:
        raw.queue_declare(1, name)
        raw.send(publish_method(1, "", name) + header_frame(1, 6)
                 + body_frame(1, b"ab") + body_frame(1, b"cd"))
        # The rest comes after another channel's traffic: frames of
        # different channels may interleave.
        raw.open_channel(2)
        raw.send(body_frame(1, b"ef"))
        raw.send_method(2, 60, 70, struct.pack(">H", 0) + shortstr(name)
                        + b"\x01")
        m = raw.expect(60, 71, channel=2)
        r = m.reader()
        r.longlong()
        r.octet()
        assert (r.shortstr(), r.shortstr(), r.long()) == ("", name, 0)
        raw.read_frame()
        assert raw.read_frame() == (3, 2, b"abcdef")


def test_heartbeat_on_a_channel_other_than_zero(mq):
    with opened(mq) as raw:
        raw.send(frame(FRAME_HEARTBEAT, 1, b""))
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (505, 0, 0)
        assert text.startswith("UNEXPECTED_FRAME - ")


def test_unknown_vhost(mq):
    with RawAmqp(mq) as raw:
        raw.handshake(open_connection=False)
        raw.send_method(0, 10, 40, shortstr("no-such-vhost") + shortstr("")
                        + b"\x00")
        assert raw.expect_connection_close() == (
            530, "NOT_ALLOWED - vhost no-such-vhost not found", 10, 40)


def test_channel_max_is_enforced(mq_server):
    srv = mq_server(**SMALL)
    with opened(srv, channel=0) as raw:
        for ch in range(1, 17):
            raw.open_channel(ch)
        raw.send_method(17, 20, 10, shortstr(""))
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (530, 0, 0)
        assert text == ("NOT_ALLOWED - number of channels opened (16) has "
                        "reached the negotiated channel_max (16)")


def test_max_message_size(mq_server):
    srv = mq_server(**SMALL)
    name = unique("q")
    with opened(srv) as raw:
        raw.queue_declare(1, name)
        body = b"m" * 65537
        data = publish_method(1, "", name) + header_frame(1, len(body))
        for i in range(0, len(body), 8000):
            data += body_frame(1, body[i:i + 8000])
        raw.send(data)
        assert raw.expect_channel_close(1) == (
            406, "PRECONDITION_FAILED - message size 65537 is larger than "
            "configured max size 65536", 60, 40)
    assert message_count(srv, name) == 0


def test_heartbeats_sent_while_idle(mq_server):
    srv = mq_server(**SMALL)
    with opened(srv) as raw:
        assert raw.tune[2] == 1
        beats = 0
        deadline = time.monotonic() + 2.6
        next_beat = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_beat:
                raw.send(frame(FRAME_HEARTBEAT, 0, b""))
                next_beat = time.monotonic() + 0.4
            try:
                ftype, channel, payload = raw.read_frame(timeout=0.2)
            except socket.timeout:
                continue
            assert (ftype, channel, payload) == (FRAME_HEARTBEAT, 0, b"")
            beats += 1
        assert beats >= 2
        # We kept beating: still open.
        raw.open_channel(2)


def test_silent_client_is_disconnected(mq_server):
    srv = mq_server(**SMALL)
    with opened(srv) as raw:
        started = time.monotonic()
        assert raw.is_closed(timeout=8)
        assert 1.0 <= time.monotonic() - started <= 6.0
        # Only heartbeats (and possibly a close) came before the end.
        assert raw.buf.replace(b"\x08\x00\x00\x00\x00\x00\x00\xce",
                               b"")[:1] in (b"", b"\x01")


def test_heartbeat_zero_in_tune_ok_disables_it(mq_server):
    srv = mq_server(**SMALL)
    with opened(srv, heartbeat=0) as raw:
        assert not raw.is_closed(timeout=3.5)
        assert FRAME_HEARTBEAT not in raw.buf[:1]
        raw.open_channel(2)


def test_half_sent_frame_does_not_stop_others(mq):
    name = unique("q")
    with opened(mq) as stuck:
        stuck.queue_declare(1, name)
        data = publish_method(1, "", name)
        stuck.send(data[:5])
        conn = pika_conn(mq)
        ch = conn.channel()
        for i in range(20):
            ch.basic_publish("", name, b"m%d" % i)
        got = [ch.basic_get(name, auto_ack=True)[2] for _ in range(20)]
        assert got == [b"m%d" % i for i in range(20)]
        conn.close()
        # The stuck client completes its frame and carries on.
        stuck.send(data[5:] + header_frame(1, 1) + body_frame(1, b"z"))
        stuck.send_method(1, 60, 70, struct.pack(">H", 0) + shortstr(name)
                          + b"\x01")
        stuck.expect(60, 71, channel=1)


def test_bad_login_with_authentication_failure_close(mq):
    with RawAmqp(mq) as raw:
        m = raw.handshake(password="wrong")
        assert m.ids == (10, 50)
        assert m.close_args() == (
            403, "ACCESS_REFUSED - Login was refused using authentication "
            "mechanism PLAIN. For details see the broker logfile.", 0, 0)
        assert raw.is_closed()


def test_unknown_user_refused(mq):
    with RawAmqp(mq) as raw:
        m = raw.handshake(user="nobody", password="guest")
        assert m.ids == (10, 50)
        assert m.close_args()[0] == 403


def test_bad_login_without_the_capability_gets_no_tune(mq):
    with RawAmqp(mq) as raw:
        raw.send(PROTOCOL_HEADER)
        raw.expect(10, 10)
        raw.send_method(0, 10, 11, table({}) + shortstr("PLAIN")
                        + longstr(b"\0guest\0wrong") + shortstr("en_US"))
        assert raw.is_closed(timeout=10)
        assert b"\x00\x0a\x00\x1e" not in raw.buf      # no tune


def test_guest_from_loopback_allowed(mq):
    with RawAmqp(mq) as raw:
        raw.handshake()
        raw.open_channel(1)


def test_unknown_mechanism(mq):
    with RawAmqp(mq) as raw:
        raw.send(PROTOCOL_HEADER)
        raw.expect(10, 10)
        raw.send_method(0, 10, 11, table({}) + shortstr("NOPE")
                        + longstr(b"x") + shortstr("en_US"))
        # RabbitMQ drops the connection (its log says "unsupported
        # authentication mechanism 'NOPE'").
        assert raw.is_closed()
        assert b"\x00\x0a\x00\x1e" not in raw.buf      # no tune


def test_configured_users_and_vhosts(mq_server):
    srv = mq_server(users={"guest": "guest", "alice": "s3cret"},
                    vhosts="/,other")
    with RawAmqp(srv) as raw:
        raw.handshake(user="alice", password="s3cret")
        raw.open_channel(1)
    name = unique("q")
    with RawAmqp(srv) as raw:
        raw.handshake(vhost="other")
        raw.open_channel(1)
        raw.queue_declare(1, name)
    # Vhosts do not share queues.
    with RawAmqp(srv) as raw:
        raw.handshake(user="alice", password="s3cret")
        raw.open_channel(1)
        raw.send_method(1, 50, 10, declare_args(name, passive=True))
        assert raw.expect_channel_close(1) == (
            404, "NOT_FOUND - no queue '%s' in vhost '/'" % name, 50, 10)
    with RawAmqp(srv) as raw:
        m = raw.handshake(user="alice", password="guest")
        assert m.ids == (10, 50)
        assert m.close_args()[0] == 403
    with RawAmqp(srv) as raw:
        raw.handshake()


def test_frame_size_limit_is_the_payload(mq_server):
    """RabbitMQ compares a frame's payload size with frame_max minus the
    8 octets of framing, plus 8 of tolerance: a payload of frame_max
    octets passes, one more is a frame error."""
    srv = mq_server(**SMALL)
    name = unique("q")
    with opened(srv) as raw:
        raw.queue_declare(1, name)
        body = b"p" * 8192
        raw.send(publish_method(1, "", name) + header_frame(1, len(body))
                 + body_frame(1, body))
        raw.send_method(1, 60, 70, struct.pack(">H", 0) + shortstr(name)
                        + b"\x01")
        raw.expect(60, 71, channel=1)
        raw.read_frame()
        got = b""
        while len(got) < len(body):
            ftype, _, payload = raw.read_frame()
            assert ftype == 3 and len(payload) <= 8192 - 8
            got += payload
        assert got == body
        raw.send(publish_method(1, "", name) + header_frame(1, 8193)
                 + body_frame(1, b"p" * 8193))
        code, text, cls, mth = raw.expect_connection_close()
        assert (code, cls, mth) == (501, 0, 0)
        assert text == ("FRAME_ERROR - type 3, all octets = <<>>: "
                        "{frame_too_large,8193,8184}")


# Connection errors (connection.close) and channel errors (channel.close)
# of single methods, as RabbitMQ 3.10 sends them.
CONNECTION_ERRORS = {
    "immediate": (
        publish_method(1, "", "q")[:-2] + b"\x02\xce" + header_frame(1, 1)
        + body_frame(1, b"x"),
        (540, "NOT_IMPLEMENTED - immediate=true", 60, 40)),
    "prefetch_size": (
        method_frame(1, 60, 10, struct.pack(">IHB", 10, 5, 0)),
        (540, "NOT_IMPLEMENTED - prefetch_size!=0 (10)", 60, 10)),
    "flow_off": (
        method_frame(1, 20, 20, b"\x00"),
        (540, "NOT_IMPLEMENTED - active=false", 20, 20)),
}

CHANNEL_ERRORS = {
    "reserved_queue_name": (
        [method_frame(1, 50, 10, declare_args("amq.x"))],
        (403, "ACCESS_REFUSED - queue name 'amq.x' contains reserved prefix "
         "'amq.*'", 50, 10)),
    "commit_without_tx": (
        [method_frame(1, 90, 20)],
        (406, "PRECONDITION_FAILED - channel is not transactional", 90, 20)),
    "ack_unknown_tag": (
        [method_frame(1, 60, 80, struct.pack(">QB", 1, 0))],
        (406, "PRECONDITION_FAILED - unknown delivery tag 1", 60, 80)),
    "tx_then_confirm": (
        [method_frame(1, 90, 10), (90, 11), method_frame(1, 85, 10, b"\x00")],
        (406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode",
         85, 10)),
    "confirm_then_tx": (
        [method_frame(1, 85, 10, b"\x00"), (85, 11), method_frame(1, 90, 10)],
        (406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode",
         90, 10)),
}


@pytest.mark.parametrize("case", sorted(CONNECTION_ERRORS))
def test_connection_errors(mq, case):
    data, expected = CONNECTION_ERRORS[case]
    with opened(mq, heartbeat=0) as raw:
        raw.send(data)
        assert raw.expect_connection_close() == expected
        assert raw.is_closed()


@pytest.mark.parametrize("case", sorted(CHANNEL_ERRORS))
def test_channel_errors(mq, case):
    steps, expected = CHANNEL_ERRORS[case]
    with opened(mq, heartbeat=0) as raw:
        for step in steps:
            if isinstance(step, tuple):
                raw.expect(*step, channel=1)
            else:
                raw.send(step)
        assert raw.expect_channel_close(1) == expected
        # The channel is closed, the connection is not: reopen it.
        raw.open_channel(1)
