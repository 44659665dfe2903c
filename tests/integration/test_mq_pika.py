"""The broker through pika 1.2, as applications use it: BlockingConnection
and SelectConnection (the ioloop adapter); publish, get and consume;
message properties and header tables round trip; large bodies split into
frames; prefetch, acks, nacks, rejects and recover; publisher confirms;
channel errors with RabbitMQ's reply codes and texts; consumer cancel
notifications."""
import datetime
import decimal
import time

import pika
import pika.exceptions as pex
import pytest

from mqtest import pika_conn, pika_params, unique


@pytest.fixture
def conn(mq):
    c = pika_conn(mq)
    yield c
    if c.is_open:
        c.close()


@pytest.fixture
def ch(conn):
    return conn.channel()


def declare(ch, **kw):
    name = unique("q")
    ch.queue_declare(name, **kw)
    return name


def drain_until(conn, pred, timeout=10.0):
    """Runs the connection's I/O until pred() is true (bounded)."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        conn.process_data_events(time_limit=0.05)


def ready_count(ch, name):
    return ch.queue_declare(name, passive=True).method.message_count


def wait_ready(ch, name, n, timeout=10.0):
    """Waits until the queue holds n ready messages: RabbitMQ applies
    requeues (and unconfirmed publishes) asynchronously, so a count read at
    once may lag."""
    deadline = time.monotonic() + timeout
    while True:
        count = ready_count(ch, name)
        if count == n:
            return
        assert time.monotonic() < deadline, (count, n)
        time.sleep(0.02)


# --- basics -----------------------------------------------------------------

def test_publish_and_get(ch):
    name = declare(ch)
    ch.basic_publish("", name, b"hello")
    method, props, body = ch.basic_get(name)
    assert body == b"hello"
    assert method.routing_key == name
    assert method.exchange == ""
    assert method.redelivered is False
    assert method.message_count == 0
    assert method.delivery_tag == 1
    ch.basic_ack(method.delivery_tag)
    assert ch.basic_get(name) == (None, None, None)


def test_get_ok_message_count_is_what_remains(ch):
    name = declare(ch)
    for i in range(3):
        ch.basic_publish("", name, b"%d" % i)
    counts = [ch.basic_get(name, auto_ack=True)[0].message_count
              for _ in range(3)]
    assert counts == [2, 1, 0]


def test_declare_ok_counts(conn, ch):
    name = declare(ch)
    ch.confirm_delivery()
    for i in range(5):
        ch.basic_publish("", name, b"x")
    ok = ch.queue_declare(name, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (name, 5, 0)
    ch2 = conn.channel()
    ch2.basic_consume(name, lambda *a: None)
    ok = ch.queue_declare(name, passive=True).method
    assert ok.consumer_count == 1


def test_server_named_queue(ch):
    ok = ch.queue_declare("", exclusive=True).method
    assert ok.queue.startswith("amq.gen-")
    assert len(ok.queue) == len("amq.gen-") + 22
    ch.basic_publish("", ok.queue, b"x")
    assert ch.basic_get(ok.queue, auto_ack=True)[2] == b"x"


def test_consume_in_order(conn, ch):
    name = declare(ch)
    for i in range(50):
        ch.basic_publish("", name, b"m%d" % i)
    got = []

    def on_message(chan, method, props, body):
        got.append((method.delivery_tag, body))
        chan.basic_ack(method.delivery_tag)

    tag = ch.basic_consume(name, on_message)
    drain_until(conn, lambda: len(got) == 50)
    assert [b for _, b in got] == [b"m%d" % i for i in range(50)]
    assert [t for t, _ in got] == list(range(1, 51))
    ch.basic_cancel(tag)
    assert ready_count(ch, name) == 0


def test_consume_what_another_connection_publishes(mq, conn, ch):
    name = declare(ch)
    got = []
    ch.basic_consume(name, lambda c, m, p, b: got.append(b), auto_ack=True)
    publisher = pika_conn(mq)
    try:
        pch = publisher.channel()
        for i in range(10):
            pch.basic_publish("", name, b"p%d" % i)
        drain_until(conn, lambda: len(got) == 10)
    finally:
        publisher.close()
    assert got == [b"p%d" % i for i in range(10)]


def test_round_robin_between_connections(mq, ch):
    name = declare(ch)
    workers = [pika_conn(mq) for _ in range(2)]
    try:
        got = [[], []]
        for i, w in enumerate(workers):
            w.channel().basic_consume(
                name, lambda c, m, p, b, i=i: got[i].append(b),
                auto_ack=True)
        for i in range(10):
            ch.basic_publish("", name, b"%d" % i)
        deadline = time.monotonic() + 10
        while len(got[0]) + len(got[1]) < 10:
            assert time.monotonic() < deadline, got
            for w in workers:
                w.process_data_events(time_limit=0.02)
        assert got == [[b"0", b"2", b"4", b"6", b"8"],
                       [b"1", b"3", b"5", b"7", b"9"]]
    finally:
        for w in workers:
            w.close()


def test_unacked_go_back_to_the_other_consumer(mq, conn, ch):
    """A consumer's connection closes with deliveries unacked: they go,
    redelivered, to the consumer that is left, on another connection."""
    name = declare(ch)
    for i in range(4):
        ch.basic_publish("", name, b"%d" % i)
    leaver = pika_conn(mq)
    lch = leaver.channel()
    lch.basic_qos(prefetch_count=10)
    taken = []
    lch.basic_consume(name, lambda c, m, p, b: taken.append(b))
    drain_until(leaver, lambda: len(taken) == 4)
    got = []
    ch.basic_consume(name, lambda c, m, p, b: (
        got.append((b, m.redelivered)), c.basic_ack(m.delivery_tag)))
    leaver.close()
    drain_until(conn, lambda: len(got) == 4)
    assert got == [(b"%d" % i, True) for i in range(4)]


def test_delivery_tags_shared_by_get_and_deliver(conn, ch):
    name = declare(ch)
    ch.basic_publish("", name, b"a")
    ch.basic_publish("", name, b"b")
    method, _, _ = ch.basic_get(name)
    assert method.delivery_tag == 1
    got = []
    ch.basic_consume(name, lambda c, m, p, b: got.append(m))
    drain_until(conn, lambda: got)
    assert got[0].delivery_tag == 2
    ch.basic_ack(2, multiple=True)


def test_consume_generator(ch):
    name = declare(ch)
    for i in range(3):
        ch.basic_publish("", name, b"g%d" % i)
    bodies = []
    for method, props, body in ch.consume(name, inactivity_timeout=5):
        assert method is not None
        bodies.append(body)
        ch.basic_ack(method.delivery_tag)
        if len(bodies) == 3:
            break
    ch.cancel()
    assert bodies == [b"g0", b"g1", b"g2"]


def test_exchanges_route(ch):
    direct, fanout, topic = unique("d"), unique("f"), unique("t")
    ch.exchange_declare(direct, "direct")
    ch.exchange_declare(fanout, "fanout")
    ch.exchange_declare(topic, "topic")
    q1, q2, q3 = declare(ch), declare(ch), declare(ch)
    ch.queue_bind(q1, direct, "k1")
    ch.queue_bind(q2, fanout)
    ch.queue_bind(q3, fanout)
    ch.queue_bind(q1, topic, "a.*.c")
    ch.queue_bind(q2, topic, "a.#")
    ch.basic_publish(direct, "k1", b"d1")
    ch.basic_publish(direct, "k2", b"lost")
    ch.basic_publish(fanout, "whatever", b"f")
    ch.basic_publish(topic, "a.b.c", b"t1")
    ch.basic_publish(topic, "a", b"t2")
    ch.basic_publish(topic, "b.b.c", b"lost")

    def bodies(q):
        out = []
        while True:
            m = ch.basic_get(q, auto_ack=True)
            if m[0] is None:
                return out
            out.append(m[2])

    assert bodies(q1) == [b"d1", b"t1"]
    assert bodies(q2) == [b"f", b"t1", b"t2"]
    assert bodies(q3) == [b"f"]


# --- properties and bodies ---------------------------------------------------

@pytest.mark.parametrize("how", ["get", "consume"])
def test_all_properties_round_trip(conn, ch, how):
    name = declare(ch, arguments={"x-max-priority": 10})
    when = datetime.datetime(2024, 5, 17, 12, 30, 45)
    headers = {
        "str": "text é",
        "int": 42,
        "negative": -7,
        "big": 2**40,
        "true": True,
        "false": False,
        "none": None,
        "list": [1, "two", [3], {"four": 4}],
        "dict": {"nested": {"deeper": "yes"}, "n": 1},
        "bytes": b"\x00\x01\xff",
        "decimal": decimal.Decimal("3.14"),
        "datetime": when,
    }
    props = pika.BasicProperties(
        content_type="application/json", content_encoding="gzip",
        headers=headers, delivery_mode=2, priority=5,
        correlation_id="corr-1", reply_to="replies",
        expiration="600000", message_id="msg-1", timestamp=1700000000,
        type="kind", user_id="guest", app_id="tests")
    ch.basic_publish("", name, b"{}", properties=props)
    if how == "get":
        method, got, body = ch.basic_get(name, auto_ack=True)
    else:
        deliveries = []
        ch.basic_consume(name, lambda c, m, p, b: deliveries.append((m, p, b)),
                         auto_ack=True)
        drain_until(conn, lambda: deliveries)
        method, got, body = deliveries[0]
    assert body == b"{}"
    for field in ("content_type", "content_encoding", "delivery_mode",
                  "priority", "correlation_id", "reply_to", "expiration",
                  "message_id", "timestamp", "type", "user_id", "app_id"):
        assert getattr(got, field) == getattr(props, field), field
    assert got.headers == headers


def test_cluster_id_property_round_trips(ch):
    name = declare(ch)
    ch.basic_publish("", name, b"x",
                     properties=pika.BasicProperties(cluster_id="c1"))
    _, props, _ = ch.basic_get(name, auto_ack=True)
    assert props.cluster_id == "c1"


def test_no_properties(ch):
    name = declare(ch)
    ch.basic_publish("", name, b"x")
    _, props, _ = ch.basic_get(name, auto_ack=True)
    assert props.headers is None
    assert props.delivery_mode is None
    assert props.content_type is None


def test_user_id_must_be_the_login(conn, ch):
    name = declare(ch)
    ch.confirm_delivery()
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.basic_publish("", name, b"x",
                         properties=pika.BasicProperties(user_id="mallory"))
    assert e.value.reply_code == 406
    assert e.value.reply_text == ("PRECONDITION_FAILED - user_id property "
                                  "set to 'mallory' but authenticated user "
                                  "was 'guest'")


def test_empty_body(ch):
    name = declare(ch)
    ch.basic_publish("", name, b"")
    method, props, body = ch.basic_get(name, auto_ack=True)
    assert body == b""
    assert method is not None


@pytest.mark.parametrize("frame_max", [131072, 4096])
def test_body_larger_than_frame_max(mq, frame_max):
    conn = pika_conn(mq, frame_max=frame_max)
    try:
        ch = conn.channel()
        name = declare(ch)
        body = bytes(range(256)) * 4096         # 1 MiB
        ch.basic_publish("", name, body)
        ch.basic_publish("", name, body[:frame_max - 8])
        ch.basic_publish("", name, body[:frame_max - 7])
        assert ch.basic_get(name, auto_ack=True)[2] == body
        got = []
        ch.basic_consume(name, lambda c, m, p, b: got.append(b),
                         auto_ack=True)
        drain_until(conn, lambda: len(got) == 2)
        assert got == [body[:frame_max - 8], body[:frame_max - 7]]
    finally:
        conn.close()


def test_many_channels(conn):
    name = unique("q")
    channels = [conn.channel() for _ in range(100)]
    channels[0].queue_declare(name)
    for i, c in enumerate(channels):
        c.basic_publish("", name, b"%d" % i)
    got = set()
    for c in reversed(channels):
        got.add(c.basic_get(name, auto_ack=True)[2])
    assert got == {b"%d" % i for i in range(100)}
    for c in channels[::2]:
        c.close()
    assert channels[1].is_open
    assert ready_count(channels[1], name) == 0


def test_channel_numbers_are_reused(conn):
    first = conn.channel()
    number = first.channel_number
    first.close()
    again = conn.channel(number)
    assert again.channel_number == number
    again.queue_declare("", exclusive=True)


# --- acks, prefetch, redelivery ----------------------------------------------

def test_prefetch_limits_unacked(conn, ch):
    name = declare(ch)
    for i in range(10):
        ch.basic_publish("", name, b"%d" % i)
    ch.basic_qos(prefetch_count=3)
    got = []
    ch.basic_consume(name, lambda c, m, p, b: got.append(m.delivery_tag))
    drain_until(conn, lambda: len(got) == 3)
    conn.process_data_events(time_limit=0.3)
    assert len(got) == 3
    ch.basic_ack(got[0])
    drain_until(conn, lambda: len(got) == 4)
    conn.process_data_events(time_limit=0.3)
    assert len(got) == 4
    ch.basic_ack(got[-1], multiple=True)
    drain_until(conn, lambda: len(got) == 7)
    conn.process_data_events(time_limit=0.3)
    assert len(got) == 7


def test_prefetch_is_per_consumer(conn, ch):
    name = declare(ch)
    for i in range(10):
        ch.basic_publish("", name, b"%d" % i)
    ch.basic_qos(prefetch_count=2)
    a, b = [], []
    ch.basic_consume(name, lambda c, m, p, body: a.append(body))
    ch.basic_consume(name, lambda c, m, p, body: b.append(body))
    drain_until(conn, lambda: len(a) + len(b) == 4)
    conn.process_data_events(time_limit=0.3)
    assert (len(a), len(b)) == (2, 2)


def test_ack_multiple_then_close_requeues_the_rest(mq, conn, ch):
    name = declare(ch)
    for i in range(5):
        ch.basic_publish("", name, b"%d" % i)
    other = pika_conn(mq)
    och = other.channel()
    got = []
    och.basic_consume(name, lambda c, m, p, b: got.append(m))
    drain_until(other, lambda: len(got) == 5)
    assert [m.redelivered for m in got] == [False] * 5
    och.basic_ack(got[2].delivery_tag, multiple=True)
    other.close()
    wait_ready(ch, name, 2)
    first = ch.basic_get(name, auto_ack=True)
    second = ch.basic_get(name, auto_ack=True)
    assert (first[2], second[2]) == (b"3", b"4")
    assert first[0].redelivered and second[0].redelivered


def test_nack_requeue_sets_redelivered(conn, ch):
    name = declare(ch)
    ch.basic_publish("", name, b"again")
    method, _, _ = ch.basic_get(name)
    assert method.redelivered is False
    ch.basic_nack(method.delivery_tag, requeue=True)
    method, _, body = ch.basic_get(name)
    assert (body, method.redelivered) == (b"again", True)
    ch.basic_nack(method.delivery_tag, requeue=False)
    assert ch.basic_get(name) == (None, None, None)


def test_nack_multiple(ch):
    name = declare(ch)
    for i in range(4):
        ch.basic_publish("", name, b"%d" % i)
    tags = [ch.basic_get(name)[0].delivery_tag for _ in range(4)]
    ch.basic_nack(tags[2], multiple=True, requeue=True)
    wait_ready(ch, name, 3)
    ch.basic_ack(tags[3])
    got = [ch.basic_get(name, auto_ack=True) for _ in range(3)]
    assert [g[2] for g in got] == [b"0", b"1", b"2"]
    assert all(g[0].redelivered for g in got)


def test_reject(ch):
    name = declare(ch)
    ch.basic_publish("", name, b"r")
    method, _, _ = ch.basic_get(name)
    ch.basic_reject(method.delivery_tag, requeue=True)
    method, _, _ = ch.basic_get(name)
    assert method.redelivered is True
    ch.basic_reject(method.delivery_tag, requeue=False)
    assert ready_count(ch, name) == 0


def test_recover_requeues_unacked(conn, ch):
    name = declare(ch)
    ch.basic_publish("", name, b"1")
    ch.basic_publish("", name, b"2")
    m1 = ch.basic_get(name)[0]
    ch.basic_get(name)
    ch.basic_ack(m1.delivery_tag)
    ch.basic_recover(requeue=True)
    method, _, body = ch.basic_get(name)
    assert (body, method.redelivered) == (b"2", True)
    ch.basic_ack(method.delivery_tag)


def test_unknown_delivery_tag(ch):
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.basic_ack(99)
        ch.queue_declare("", exclusive=True)     # a round trip to see it
    assert (e.value.reply_code, e.value.reply_text) == (
        406, "PRECONDITION_FAILED - unknown delivery tag 99")


def test_double_ack(ch):
    name = declare(ch)
    ch.basic_publish("", name, b"x")
    method = ch.basic_get(name)[0]
    ch.basic_ack(method.delivery_tag)
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.basic_ack(method.delivery_tag)
        ch.queue_declare("", exclusive=True)
    assert (e.value.reply_code, e.value.reply_text) == (
        406, "PRECONDITION_FAILED - unknown delivery tag 1")


# --- confirms ----------------------------------------------------------------

def test_confirms(ch):
    name = declare(ch)
    ch.confirm_delivery()
    for i in range(20):
        ch.basic_publish("", name, b"%d" % i)
    assert ready_count(ch, name) == 20


def test_confirm_mandatory_unroutable(ch):
    ch.confirm_delivery()
    with pytest.raises(pex.UnroutableError) as e:
        ch.basic_publish("", unique("nowhere"), b"x", mandatory=True)
    returned = e.value.messages[0]
    assert returned.method.reply_code == 312
    assert returned.method.reply_text == "NO_ROUTE"
    assert returned.body == b"x"
    # Not mandatory: dropped and confirmed all the same.
    ch.basic_publish("", unique("nowhere"), b"x")


def test_mandatory_return_without_confirms(conn, ch):
    returned = []
    ch.add_on_return_callback(
        lambda c, m, p, b: returned.append((m.reply_code, m.reply_text,
                                            m.exchange, m.routing_key, b)))
    key = unique("nowhere")
    ch.basic_publish("amq.direct", key, b"back", mandatory=True,
                     properties=pika.BasicProperties(message_id="m1"))
    drain_until(conn, lambda: returned)
    assert returned == [(312, "NO_ROUTE", "amq.direct", key, b"back")]


def test_confirm_publish_to_missing_exchange(ch):
    ch.confirm_delivery()
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.basic_publish("no-such-exchange", "k", b"x")
    assert (e.value.reply_code, e.value.reply_text) == (
        404, "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'")


# --- channel errors ----------------------------------------------------------

def test_get_from_missing_queue(conn, ch):
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.basic_get("no-such-queue")
    assert (e.value.reply_code, e.value.reply_text) == (
        404, "NOT_FOUND - no queue 'no-such-queue' in vhost '/'")
    assert not ch.is_open
    assert conn.is_open
    conn.channel().queue_declare("", exclusive=True)


def test_passive_declares_of_missing_things(conn):
    ch = conn.channel()
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.queue_declare("no-such-queue", passive=True)
    assert (e.value.reply_code, e.value.reply_text) == (
        404, "NOT_FOUND - no queue 'no-such-queue' in vhost '/'")
    ch = conn.channel()
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.exchange_declare("no-such-exchange", passive=True)
    assert (e.value.reply_code, e.value.reply_text) == (
        404, "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'")


def test_consume_from_missing_queue(ch):
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.basic_consume("no-such-queue", lambda *a: None)
    assert (e.value.reply_code, e.value.reply_text) == (
        404, "NOT_FOUND - no queue 'no-such-queue' in vhost '/'")


def test_publish_to_missing_exchange_closes_the_channel(conn, ch):
    ch.basic_publish("no-such-exchange", "k", b"x")
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.queue_declare("", exclusive=True)
    assert (e.value.reply_code, e.value.reply_text) == (
        404, "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'")


def test_redeclare_with_other_flags(conn):
    ch = conn.channel()
    name = declare(ch)
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.queue_declare(name, durable=True)
    assert (e.value.reply_code, e.value.reply_text) == (
        406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue "
        "'%s' in vhost '/': received 'true' but current is 'false'" % name)
    ch = conn.channel()
    ex = unique("x")
    ch.exchange_declare(ex, "direct")
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.exchange_declare(ex, "fanout")
    assert (e.value.reply_code, e.value.reply_text) == (
        406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange "
        "'%s' in vhost '/': received 'fanout' but current is 'direct'" % ex)


def test_exclusive_queue_of_another_connection(mq, ch):
    name = unique("q")
    ch.queue_declare(name, exclusive=True)
    other = pika_conn(mq)
    try:
        with pytest.raises(pex.ChannelClosedByBroker) as e:
            other.channel().basic_get(name)
        assert e.value.reply_code == 405
        assert e.value.reply_text == (
            "RESOURCE_LOCKED - cannot obtain exclusive access to locked "
            "queue '%s' in vhost '/'. It could be originally declared on "
            "another connection or the exclusive property value does not "
            "match that of the original declaration." % name)
    finally:
        other.close()


def test_exclusive_queue_goes_with_its_connection(mq, ch):
    other = pika_conn(mq)
    name = unique("q")
    other.channel().queue_declare(name, exclusive=True)
    other.close()
    deadline = time.monotonic() + 10
    while True:
        c = ch.connection.channel() if not ch.is_open else ch
        try:
            c.queue_declare(name, passive=True)
        except pex.ChannelClosedByBroker as e:
            assert e.reply_code == 404
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_reserved_exchange_name(ch):
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        ch.exchange_declare("amq.mine", "direct")
    assert (e.value.reply_code, e.value.reply_text) == (
        403, "ACCESS_REFUSED - exchange name 'amq.mine' contains reserved "
        "prefix 'amq.*'")


def test_bad_login(mq):
    with pytest.raises(pex.ProbableAuthenticationError) as e:
        pika_conn(mq, credentials=pika.PlainCredentials("guest", "nope"))
    assert "ACCESS_REFUSED" in str(e.value)


def test_connection_close_from_server_on_unknown_vhost(mq):
    with pytest.raises(pex.ProbableAccessDeniedError) as e:
        pika_conn(mq, virtual_host="no-such-vhost")
    assert "NOT_ALLOWED - vhost no-such-vhost not found" in str(e.value)


# --- consumer cancel notification --------------------------------------------

def test_consumer_cancelled_when_queue_deleted(mq, conn, ch):
    name = declare(ch)
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(
        frame.method.consumer_tag))
    tag = ch.basic_consume(name, lambda *a: None)
    other = pika_conn(mq)
    other.channel().queue_delete(name)
    other.close()
    drain_until(conn, lambda: cancelled)
    assert cancelled == [tag]
    assert ch.is_open


def test_consumer_cancel_by_client(conn, ch):
    name = declare(ch)
    got = []
    tag = ch.basic_consume(name, lambda c, m, p, b: got.append(b),
                           auto_ack=True)
    ch.basic_publish("", name, b"1")
    drain_until(conn, lambda: got)
    ch.basic_cancel(tag)
    ch.basic_publish("", name, b"2")
    wait_ready(ch, name, 1)
    assert got == [b"1"]


def test_queue_delete_and_purge_counts(ch):
    name = declare(ch)
    for _ in range(3):
        ch.basic_publish("", name, b"x")
    assert ch.queue_purge(name).method.message_count == 3
    ch.basic_publish("", name, b"x")
    assert ch.queue_delete(name).method.message_count == 1
    assert ch.queue_delete(name).method.message_count == 0


# --- SelectConnection --------------------------------------------------------

def test_select_connection_round_trip(mq):
    """The ioloop adapter: connect, open a channel, declare, publish 20,
    consume them with acks, cancel, close."""
    name = unique("q")
    state = {"got": [], "closed": False, "error": None}

    def on_open(connection):
        connection.channel(on_open_callback=on_channel)

    def on_channel(channel):
        state["channel"] = channel
        channel.queue_declare(name, callback=lambda frame: on_declared(
            channel, frame))

    def on_declared(channel, frame):
        assert frame.method.queue == name
        channel.confirm_delivery(lambda frame: None)
        for i in range(20):
            channel.basic_publish("", name, b"s%d" % i)
        channel.basic_qos(prefetch_count=5, callback=lambda f: (
            channel.basic_consume(name, on_message)))

    def on_message(channel, method, props, body):
        state["got"].append((body, method.delivery_tag))
        channel.basic_ack(method.delivery_tag)
        if len(state["got"]) == 20:
            channel.basic_cancel(method.consumer_tag,
                                 callback=lambda f: conn.close())

    def on_open_error(connection, err):
        state["error"] = err
        connection.ioloop.stop()

    def on_closed(connection, reason):
        state["closed"] = True
        connection.ioloop.stop()

    conn = pika.SelectConnection(pika_params(mq),
                                 on_open_callback=on_open,
                                 on_open_error_callback=on_open_error,
                                 on_close_callback=on_closed)
    timer = conn.ioloop.call_later(20, conn.ioloop.stop)
    conn.ioloop.start()
    conn.ioloop.remove_timeout(timer)
    assert state["error"] is None
    assert state["closed"]
    assert [b for b, _ in state["got"]] == [b"s%d" % i for i in range(20)]
    # Delivery tags continue after the 20 publishes' confirm tags? No:
    # confirm sequence numbers and delivery tags are separate counters.
    assert [t for _, t in state["got"]] == list(range(1, 21))


def test_select_connection_channel_error(mq):
    state = {}

    def on_open(connection):
        connection.channel(on_open_callback=on_channel)

    def on_channel(channel):
        channel.add_on_close_callback(on_channel_closed)
        channel.queue_declare("no-such-queue", passive=True)

    def on_channel_closed(channel, reason):
        state["reason"] = reason
        channel.connection.close()

    conn = pika.SelectConnection(
        pika_params(mq), on_open_callback=on_open,
        on_close_callback=lambda c, r: c.ioloop.stop())
    timer = conn.ioloop.call_later(20, conn.ioloop.stop)
    conn.ioloop.start()
    conn.ioloop.remove_timeout(timer)
    reason = state["reason"]
    assert isinstance(reason, pex.ChannelClosedByBroker)
    assert (reason.reply_code, reason.reply_text) == (
        404, "NOT_FOUND - no queue 'no-such-queue' in vhost '/'")


# --- durability (a server of the test's own) ---------------------------------

@pytest.mark.mq_fresh_server
def test_durable_things_survive_restart_and_crash(mq_server):
    srv = mq_server(fresh=True)
    durable, transient_q = unique("durable"), unique("transient")
    ex = unique("x")
    persistent = pika.BasicProperties(delivery_mode=2)
    conn = pika_conn(srv)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare(ex, "fanout", durable=True)
    ch.queue_declare(durable, durable=True)
    ch.queue_declare(transient_q)
    ch.queue_bind(durable, ex)
    ch.basic_publish(ex, "", b"kept", properties=persistent)
    ch.basic_publish("", durable, b"not persistent")
    ch.basic_publish("", transient_q, b"gone", properties=persistent)
    conn.close()

    srv.restart()
    conn = pika_conn(srv)
    ch = conn.channel()
    ch.confirm_delivery()
    # The queue, the exchange and the binding are back, with the
    # persistent message only.
    assert ready_count(ch, durable) == 1
    method, props, body = ch.basic_get(durable)
    assert (body, props.delivery_mode) == (b"kept", 2)
    ch.basic_nack(method.delivery_tag, requeue=True)
    with pytest.raises(pex.ChannelClosedByBroker) as e:
        conn.channel().queue_declare(transient_q, passive=True)
    assert e.value.reply_code == 404
    # Confirmed persistent messages survive a crash too.
    for i in range(100):
        ch.basic_publish(ex, "", b"c%d" % i, properties=persistent)
    conn.close()

    srv.kill9()
    srv.start_again()
    conn = pika_conn(srv)
    ch = conn.channel()
    got = []
    while True:
        method, props, body = ch.basic_get(durable, auto_ack=True)
        if method is None:
            break
        got.append(body)
    assert got == [b"kept"] + [b"c%d" % i for i in range(100)]
    conn.close()
