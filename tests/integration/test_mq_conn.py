"""The AMQP connection layer: handshake, framing errors, heartbeats,
channels, publish/get/consume/ack, confirms, transactions, returns, flow
and cancel notifications.  Every test runs against onebox and, with
--target real, against rabbitmq-server 3.10: the replies asserted here are
RabbitMQ's."""
import socket
import struct
import time

import pytest

from mqtest import (FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD,
                    PROTOCOL_HEADER, RawAmqp, body_frame, frame,
                    header_frame, longstr, method_frame, pika_conn,
                    shortstr, table, unique, amqp_tool, have_tools)

pika = pytest.importorskip("pika")


def _start_props(start):
    r = start.reader()
    major, minor = r.octet(), r.octet()
    props = r.table()
    mechanisms = r.longstr()
    locales = r.longstr()
    return major, minor, props, mechanisms, locales


def _consume_args(queue, tag="", no_ack=False, exclusive=False):
    bits = (no_ack << 1) | (exclusive << 2)
    return (struct.pack(">H", 0) + shortstr(queue) + shortstr(tag)
            + struct.pack(">B", bits) + table({}))


def _publish_args(exchange, key, mandatory=False, immediate=False):
    return (struct.pack(">H", 0) + shortstr(exchange) + shortstr(key)
            + struct.pack(">B", mandatory | (immediate << 1)))


def _close_after(mq, *chunks, open_channel=True):
    """Opens a connection (and channel 1), sends each chunk of bytes in
    turn, and returns the connection.close it brings: (code, text, class,
    method)."""
    with RawAmqp(mq) as r:
        r.handshake()
        if open_channel:
            r.open_channel(1)
        for chunk in chunks:
            r.send(chunk)
        return r.expect_connection_close()


# --- handshake ---------------------------------------------------------------

def test_start_and_tune_as_rabbitmq(mq):
    with RawAmqp(mq) as r:
        start = r.handshake()
        major, minor, props, mechanisms, locales = _start_props(start)
        assert (major, minor) == (0, 9)
        assert set(mechanisms.split()) == {b"PLAIN", b"AMQPLAIN"}
        assert locales == b"en_US"
        for key in (b"capabilities", b"cluster_name", b"copyright",
                    b"information", b"platform", b"product", b"version"):
            assert key in props
        for cap in (b"publisher_confirms", b"exchange_exchange_bindings",
                    b"basic.nack", b"consumer_cancel_notify",
                    b"connection.blocked", b"authentication_failure_close",
                    b"per_consumer_qos"):
            assert shortstr(cap) + b"t\x01" in props
        assert r.tune == (2047, 131072, 60)
        r.open_channel(1)


def test_amqplain_login(mq):
    with RawAmqp(mq) as r:
        r.send(PROTOCOL_HEADER)
        r.expect(10, 10, channel=0)
        resp = table({"LOGIN": "guest", "PASSWORD": "guest"})[4:]
        r.send_method(0, 10, 11, table({"product": "t"})
                      + shortstr("AMQPLAIN") + longstr(resp)
                      + shortstr("en_US"))
        r.expect(10, 30, channel=0)


def test_wrong_protocol_header_gets_ours_and_close(mq):
    s = socket.create_connection((mq.host, mq.port), timeout=10)
    s.sendall(b"AMQP\x00\x00\x08\x00")
    got = b""
    try:
        while True:
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass            # rabbitmq-server may reset once it has written
    s.close()
    assert got in (PROTOCOL_HEADER, b"") if mq.target == "real" \
        else got == PROTOCOL_HEADER


def test_bad_login_pika_probable_authentication_error(mq):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        pika_conn(mq, credentials=pika.PlainCredentials("guest", "wrong"))


def test_bad_login_403_text(mq):
    with RawAmqp(mq) as r:
        m = r.handshake(password="wrong")
        assert m.ids == (10, 50)
        assert m.close_args() == (
            403, "ACCESS_REFUSED - Login was refused using authentication "
            "mechanism PLAIN. For details see the broker logfile.", 0, 0)


def test_bad_login_without_capability_just_closes(mq):
    with RawAmqp(mq) as r:
        with pytest.raises(OSError):
            r.handshake(password="wrong", capabilities={})


def test_tune_ok_frame_max_below_minimum_closes(mq):
    with RawAmqp(mq) as r:
        r.handshake(frame_max=100, open_connection=False)
        assert r.is_closed(timeout=8)


def test_unknown_vhost_530(mq):
    with RawAmqp(mq) as r:
        r.handshake(open_connection=False)
        r.send_method(0, 10, 40, shortstr("nosuchvhost") + shortstr("")
                      + b"\x00")
        assert r.expect_connection_close() == (
            530, "NOT_ALLOWED - vhost nosuchvhost not found", 10, 40)


def test_connection_close_both_ways(mq):
    with RawAmqp(mq) as r:
        r.handshake()
        r.send_method(0, 10, 50, struct.pack(">H", 200) + shortstr("bye")
                      + struct.pack(">HH", 0, 0))
        r.expect(10, 51, channel=0)


# --- framing errors -------------------------------------------------------------

def test_bad_frame_end_501(mq):
    code, text, _, _ = _close_after(
        mq, frame(FRAME_METHOD, 1, struct.pack(">HH", 20, 40), end=b"\x00"))
    assert code == 501 and text.startswith("FRAME_ERROR - ")


def test_frame_over_frame_max_501(mq):
    code, text, _, _ = _close_after(mq, frame(FRAME_BODY, 1, b"\0" * 200000))
    assert code == 501 and text.startswith("FRAME_ERROR - ")


def test_method_on_unopened_channel_504(mq):
    assert _close_after(
        mq, method_frame(3, 50, 10, struct.pack(">H", 0) + shortstr("x")
                         + b"\0" + table({})),
        open_channel=False) == (
            504, "CHANNEL_ERROR - expected 'channel.open'", 50, 10)


def test_second_channel_open_504(mq):
    assert _close_after(mq, method_frame(1, 20, 10, shortstr(""))) == (
        504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10)


def test_content_without_publish_505(mq):
    assert _close_after(mq, header_frame(1, 5)) == (
        505, "UNEXPECTED_FRAME - expected method frame, got non method "
        "frame instead", 0, 0)


def test_method_in_the_middle_of_content_505(mq):
    assert _close_after(
        mq,
        method_frame(1, 60, 40, _publish_args("", "q")) + header_frame(1, 5),
        method_frame(1, 60, 10, struct.pack(">IHB", 0, 1, 0))) == (
            505, "UNEXPECTED_FRAME - expected content body, got non content "
            "body frame instead", 60, 40)


def test_immediate_540_and_qos_size_540(mq):
    assert _close_after(
        mq, method_frame(1, 60, 40, _publish_args("", "q", immediate=True))
        + header_frame(1, 0)) == (
            540, "NOT_IMPLEMENTED - immediate=true", 60, 40)
    assert _close_after(
        mq, method_frame(1, 60, 10, struct.pack(">IHB", 10, 1, 0))) == (
            540, "NOT_IMPLEMENTED - prefetch_size!=0 (10)", 60, 10)


def test_publish_to_missing_exchange_404(mq):
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.publish(1, "nosuchexchange", "k", b"hi")
        assert r.expect_channel_close(1) == (
            404, "NOT_FOUND - no exchange 'nosuchexchange' in vhost '/'",
            60, 40)
        # the connection lives on: the channel number can be reused
        r.open_channel(1)


# --- heartbeats -----------------------------------------------------------------

def test_pika_heartbeat_1_survives_idle(mq_server):
    srv = mq_server(heartbeat=1)
    conn = pika_conn(srv, heartbeat=1)
    ch = conn.channel()
    conn.sleep(5)
    assert conn.is_open
    name = unique("hb")
    ch.queue_declare(name, auto_delete=True)
    ch.queue_delete(name)
    conn.close()


def test_silent_client_is_dropped_after_heartbeats(mq_server):
    srv = mq_server(heartbeat=1)
    with RawAmqp(srv) as r:
        r.handshake(heartbeat=1)
        ftype, channel, payload = r.read_frame(timeout=4)
        assert (ftype, channel, payload) == (FRAME_HEARTBEAT, 0, b"")
        assert r.is_closed(timeout=10)


# --- basic ----------------------------------------------------------------------

@pytest.fixture
def chan(mq):
    conn = pika_conn(mq)
    ch = conn.channel()
    name = unique("q")
    ch.queue_declare(name)
    ch.name = name
    yield ch
    if conn.is_open:
        try:
            c2 = conn.channel()
            c2.queue_delete(name)
        except Exception:
            pass
        conn.close()


def test_get_counts_and_get_empty(chan):
    for i in range(3):
        chan.basic_publish("", chan.name, b"m%d" % i)
    m, _, body = chan.basic_get(chan.name, auto_ack=True)
    assert body == b"m0" and m.message_count == 2
    m, _, body = chan.basic_get(chan.name, auto_ack=True)
    assert body == b"m1" and m.message_count == 1
    m, _, body = chan.basic_get(chan.name, auto_ack=True)
    assert m.message_count == 0
    assert chan.basic_get(chan.name) == (None, None, None)


def test_delivery_tags_shared_by_get_and_deliver(chan):
    chan.basic_publish("", chan.name, b"a")
    chan.basic_publish("", chan.name, b"b")
    m, _, _ = chan.basic_get(chan.name)
    assert m.delivery_tag == 1
    for meth, _, body in chan.consume(chan.name, inactivity_timeout=2):
        assert meth.delivery_tag == 2 and body == b"b"
        chan.basic_ack(meth.delivery_tag)
        break
    chan.cancel()
    chan.basic_ack(1)


def test_nack_requeue_sets_redelivered_reject_drops(chan):
    chan.basic_publish("", chan.name, b"x")
    m, _, _ = chan.basic_get(chan.name)
    assert not m.redelivered
    chan.basic_nack(m.delivery_tag, requeue=True)
    m, _, body = chan.basic_get(chan.name)
    assert m.redelivered and body == b"x"
    chan.basic_reject(m.delivery_tag, requeue=False)
    assert chan.basic_get(chan.name) == (None, None, None)


def test_ack_multiple_and_zero(chan):
    for i in range(4):
        chan.basic_publish("", chan.name, b"%d" % i)
    tags = [chan.basic_get(chan.name)[0].delivery_tag for _ in range(4)]
    assert tags == [1, 2, 3, 4]
    chan.basic_ack(2, multiple=True)
    chan.basic_ack(0, multiple=True)
    chan.basic_recover(requeue=True)
    assert chan.basic_get(chan.name) == (None, None, None)


def test_unknown_delivery_tag_406(chan):
    chan.basic_ack(99)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        chan.basic_get(chan.name)
    assert e.value.reply_code == 406
    assert e.value.reply_text == \
        "PRECONDITION_FAILED - unknown delivery tag 99"


def test_close_requeues_unacked_redelivered(mq):
    name = unique("rq")
    conn = pika_conn(mq)
    ch = conn.channel()
    ch.queue_declare(name)
    ch.basic_publish("", name, b"keep")
    m, _, _ = ch.basic_get(name)
    assert not m.redelivered
    conn.close()
    conn = pika_conn(mq)
    ch = conn.channel()
    m, _, body = ch.basic_get(name, auto_ack=True)
    assert body == b"keep" and m.redelivered
    ch.queue_delete(name)
    conn.close()


def test_recover_requeues(chan):
    chan.basic_publish("", chan.name, b"r")
    m, _, _ = chan.basic_get(chan.name)
    chan.basic_recover(requeue=True)
    m, _, body = chan.basic_get(chan.name, auto_ack=True)
    assert m.redelivered and body == b"r"


def test_prefetch_limits_unacked(chan):
    for i in range(5):
        chan.basic_publish("", chan.name, b"%d" % i)
    chan.basic_qos(prefetch_count=2)
    got = []
    chan.basic_consume(chan.name, lambda c, m, p, b: got.append(m))
    chan.connection.process_data_events(time_limit=1)
    assert len(got) == 2
    chan.basic_ack(got[0].delivery_tag)
    chan.connection.process_data_events(time_limit=1)
    assert len(got) == 3
    chan.basic_ack(0, multiple=True)
    chan.connection.process_data_events(time_limit=1)
    assert len(got) == 5


def test_large_body_split_at_frame_max(mq):
    name = unique("big")
    with RawAmqp(mq) as r:
        r.handshake(frame_max=4096)
        r.open_channel(1)
        r.queue_declare(1, name, auto_delete=False)
        body = bytes(range(256)) * 40            # 10240 bytes
        data = method_frame(1, 60, 40, _publish_args("", name))
        data += header_frame(1, len(body))
        for off in range(0, len(body), 4088):
            data += body_frame(1, body[off:off + 4088])
        r.send(data)
        r.send_method(1, 60, 70, struct.pack(">H", 0) + shortstr(name)
                      + b"\x01")
        r.expect(60, 71, channel=1)
        ftype, _, payload = r.read_frame()
        assert ftype == FRAME_HEADER
        assert struct.unpack(">Q", payload[4:12])[0] == len(body)
        got = b""
        while len(got) < len(body):
            ftype, _, payload = r.read_frame()
            assert ftype == FRAME_BODY and len(payload) <= 4088
            got += payload
        assert got == body
        r.send_method(1, 50, 40, struct.pack(">H", 0) + shortstr(name)
                      + b"\x00")
        r.expect(50, 41, channel=1)


def test_server_generated_consumer_tag_and_reuse_530(mq):
    name = unique("ct")
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.queue_declare(1, name, auto_delete=True)
        r.send_method(1, 60, 20, _consume_args(name))
        tag = r.expect(60, 21, channel=1).reader().shortstr()
        assert tag.startswith("amq.ctag-") and len(tag) == 31
        r.send_method(1, 60, 20, _consume_args(name, tag=tag))
        assert r.expect_connection_close() == (
            530, "NOT_ALLOWED - attempt to reuse consumer tag '%s'" % tag,
            60, 20)


def test_exclusive_consume_on_busy_queue_403(mq):
    name = unique("ex")
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.queue_declare(1, name, auto_delete=True)
        r.send_method(1, 60, 20, _consume_args(name, tag="a"))
        r.expect(60, 21, channel=1)
        r.send_method(1, 60, 20, _consume_args(name, tag="b",
                                               exclusive=True))
        assert r.expect_channel_close(1) == (
            403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use"
            % name, 60, 20)


def test_cancel_unknown_tag_gets_cancel_ok(mq):
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.send_method(1, 60, 30, shortstr("nosuchtag") + b"\x00")
        m = r.expect(60, 31, channel=1)
        assert m.reader().shortstr() == "nosuchtag"


def test_consumer_cancel_notify_on_queue_delete(mq):
    name = unique("cn")
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.open_channel(2)
        r.queue_declare(1, name)
        r.send_method(1, 60, 20, _consume_args(name, tag="watch"))
        r.expect(60, 21, channel=1)
        r.send_method(2, 50, 40, struct.pack(">H", 0) + shortstr(name)
                      + b"\x00")
        seen = set()
        while len(seen) < 2:
            m = r.read_method()
            if m.ids == (60, 30):
                assert m.channel == 1
                assert m.reader().shortstr() == "watch"
                seen.add("cancel")
            elif m.ids == (50, 41):
                seen.add("delete-ok")
            else:
                raise AssertionError(m)


def test_mandatory_unroutable_returned(chan):
    returned = []
    chan.add_on_return_callback(
        lambda c, meth, props, body: returned.append((meth, body)))
    chan.basic_publish("", unique("nowhere"), b"lost", mandatory=True)
    chan.connection.process_data_events(time_limit=1)
    assert len(returned) == 1
    meth, body = returned[0]
    assert (meth.reply_code, meth.reply_text, body) == (312, "NO_ROUTE",
                                                        b"lost")


def test_channel_flow(mq):
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.send_method(1, 20, 20, b"\x01")
        assert r.expect(20, 21, channel=1).args == b"\x01"
        r.send_method(1, 20, 20, b"\x00")
        assert r.expect_connection_close() == (
            540, "NOT_IMPLEMENTED - active=false", 20, 20)


# --- confirms and transactions ------------------------------------------------

def test_pika_confirms_and_unroutable(chan):
    chan.confirm_delivery()
    chan.basic_publish("", chan.name, b"c1")
    with pytest.raises(pika.exceptions.UnroutableError):
        chan.basic_publish("", unique("nowhere"), b"c2", mandatory=True)
    m, _, body = chan.basic_get(chan.name, auto_ack=True)
    assert body == b"c1"


def test_confirms_cover_every_publish_in_order(mq):
    name = unique("cf")
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.queue_declare(1, name)
        r.send_method(1, 85, 10, b"\x00")
        r.expect(85, 11, channel=1)
        data = b""
        for i in range(50):
            data += method_frame(1, 60, 40, _publish_args("", name))
            data += header_frame(1, 1) + body_frame(1, b"x")
        r.send(data)
        confirmed = 0
        while confirmed < 50:
            m = r.expect(60, 80, channel=1)
            tag, multiple = struct.unpack(">QB", m.args)
            assert tag > confirmed
            assert multiple or tag == confirmed + 1
            confirmed = tag
        assert confirmed == 50


def test_confirm_and_tx_exclude_each_other(mq):
    with RawAmqp(mq) as r:
        r.handshake()
        r.open_channel(1)
        r.open_channel(2)
        r.send_method(1, 85, 10, b"\x00")
        r.expect(85, 11, channel=1)
        r.send_method(1, 90, 10)
        assert r.expect_channel_close(1) == (
            406, "PRECONDITION_FAILED - cannot switch from confirm to tx "
            "mode", 90, 10)
        r.send_method(2, 90, 10)
        r.expect(90, 11, channel=2)
        r.send_method(2, 85, 10, b"\x00")
        assert r.expect_channel_close(2) == (
            406, "PRECONDITION_FAILED - cannot switch from tx to confirm "
            "mode", 85, 10)


def test_tx_commit_and_rollback(chan):
    chan.tx_select()
    chan.basic_publish("", chan.name, b"t1")
    assert chan.basic_get(chan.name) == (None, None, None)
    chan.tx_commit()
    m, _, body = chan.basic_get(chan.name)
    assert body == b"t1"
    chan.basic_ack(m.delivery_tag)
    chan.basic_publish("", chan.name, b"t2")
    chan.tx_rollback()
    chan.tx_commit()
    assert chan.basic_get(chan.name) == (None, None, None)


def test_tx_ack_applies_at_commit(chan):
    chan.basic_publish("", chan.name, b"a")
    chan.tx_select()
    m, _, _ = chan.basic_get(chan.name)
    chan.basic_ack(m.delivery_tag)
    chan.tx_rollback()
    # rolled back: still unacked, acked for good now
    chan.basic_ack(m.delivery_tag)
    chan.tx_commit()
    chan.basic_recover(requeue=True)
    assert chan.basic_get(chan.name) == (None, None, None)


def test_tx_commit_without_select_406(chan):
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        chan.tx_commit()
    assert (e.value.reply_code, e.value.reply_text) == (
        406, "PRECONDITION_FAILED - channel is not transactional")


# --- rabbitmq-c's tools ----------------------------------------------------

@pytest.mark.skipif(not have_tools(), reason="amqp-tools not installed")
def test_amqp_tools_publish_get(mq):
    name = unique("tools")
    assert amqp_tool(mq, "declare-queue", "-q", name).returncode == 0
    assert amqp_tool(mq, "publish", "-r", name, "-b", "hello").returncode == 0
    got = amqp_tool(mq, "get", "-q", name)
    assert got.returncode == 0 and got.stdout == b"hello"
    assert amqp_tool(mq, "get", "-q", name).returncode == 2
    amqp_tool(mq, "delete-queue", "-q", name)


# --- the memory alarm ------------------------------------------------------

@pytest.mark.onebox_only
def test_connection_blocked_by_memory_alarm(tmp_path):
    """A publisher that publishes while queued messages hold more than
    vm_memory_high_watermark of the budget gets connection.blocked
    ("low on memory") and is no longer read; once the queue is drained it
    gets connection.unblocked and its publishes go through."""
    from mqtest import OneboxMq
    srv = OneboxMq(tmp_path, {"vm_memory_high_watermark": 0.05})
    srv.argv += ["-m", "32"]
    srv.start_again()
    try:
        events = []
        conn = pika_conn(srv)
        conn.add_on_connection_blocked_callback(
            lambda c, m: events.append(("blocked", m.method.reason)))
        conn.add_on_connection_unblocked_callback(
            lambda c, m: events.append(("unblocked", None)))
        ch = conn.channel()
        name = unique("alarm")
        ch.queue_declare(name)
        body = b"x" * 4096
        for _ in range(2000):
            ch.basic_publish("", name, body)
            conn.process_data_events(time_limit=0)
            if events:
                break
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.2)
        assert events and events[0] == ("blocked", "low on memory")

        other = pika_conn(srv)
        och = other.channel()
        och.queue_purge(name)
        deadline = time.monotonic() + 5
        while len(events) < 2 and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.2)
        assert events[1] == ("unblocked", None)
        ch.queue_purge(name)
        ch.basic_publish("", name, b"after")
        m, _, body = ch.basic_get(name, auto_ack=True)
        assert body == b"after"
        other.close()
        conn.close()
    finally:
        assert not srv.close()


def test_reject_publish_overflow_is_nacked(chan):
    name = unique("ovf")
    chan.queue_declare(name, arguments={"x-max-length": 1,
                                        "x-overflow": "reject-publish"})
    chan.confirm_delivery()
    chan.basic_publish("", name, b"fits")
    with pytest.raises(pika.exceptions.NackError):
        chan.basic_publish("", name, b"refused")
    m, _, body = chan.basic_get(name, auto_ack=True)
    assert body == b"fits" and m.message_count == 0
    chan.queue_delete(name)


@pytest.mark.mq_fresh_server
def test_shutdown_closes_connections_320(mq_server):
    srv = mq_server(fresh=True)
    conn = pika_conn(srv)
    conn.channel()
    srv.stop_gracefully()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        conn.process_data_events(time_limit=5)
    assert e.value.reply_code == 320
    assert e.value.reply_text == ("CONNECTION_FORCED - broker forced "
                                  "connection closure with reason "
                                  "'shutdown'")


def test_requeued_messages_go_to_other_consumers(mq):
    name = unique("rr")
    c1, c2 = pika_conn(mq), pika_conn(mq)
    ch1, ch2 = c1.channel(), c2.channel()
    ch1.queue_declare(name)
    ch1.basic_publish("", name, b"one")
    ch1.basic_publish("", name, b"two")
    m1, _, _ = ch1.basic_get(name)
    m2, _, _ = ch1.basic_get(name)
    got = []
    ch2.basic_consume(name, lambda c, m, p, b: got.append((b, m.redelivered)),
                      auto_ack=True)
    c2.process_data_events(time_limit=0.5)
    assert got == []
    ch1.basic_nack(m2.delivery_tag, requeue=True)
    deadline = time.monotonic() + 5
    while len(got) < 1 and time.monotonic() < deadline:
        c2.process_data_events(time_limit=0.2)
    assert got == [(b"two", True)]
    c1.close()          # "one" is still unacked there: requeued on close
    while len(got) < 2 and time.monotonic() < deadline:
        c2.process_data_events(time_limit=0.2)
    assert got == [(b"two", True), (b"one", True)]
    ch2.queue_delete(name)
    c2.close()


def test_publish_to_internal_exchange_403(chan):
    name = unique("intx")
    chan.exchange_declare(name, "direct", internal=True, auto_delete=False)
    chan.basic_publish(name, "k", b"x")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        chan.basic_get(chan.name)
    assert (e.value.reply_code, e.value.reply_text) == (
        403, "ACCESS_REFUSED - cannot publish to internal exchange '%s' in "
        "vhost '/'" % name)
    ch2 = chan.connection.channel()
    ch2.exchange_delete(name)


def test_unfinished_handshake_is_closed(mq):
    with RawAmqp(mq) as r:
        r.send(PROTOCOL_HEADER)
        r.expect(10, 10, channel=0)
        t0 = time.monotonic()
        assert r.is_closed(timeout=20)
        assert time.monotonic() - t0 > 5
