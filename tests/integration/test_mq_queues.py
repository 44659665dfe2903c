"""Queues as RabbitMQ 3.10 has them: queue.declare (server-named,
passive, exclusive, redeclaration, argument checks with RabbitMQ's texts),
purge, delete, auto-delete, x-expires, message TTL (per queue and per
message), max-length with its overflow modes, priorities, requeue order,
and dead-lettering with the x-death header.  Every test runs against
onebox and, with --target real, against rabbitmq-server."""
import re
import time

import pika
import pytest

from mqtest import broker_error, get_all, pika_conn, unique


def get_wait(ch, q, timeout=5.0):
    """The next message of q (basic.get, no-ack), waiting for one."""
    end = time.time() + timeout
    while True:
        r = ch.basic_get(q, auto_ack=True)
        if r[0] is not None or time.time() > end:
            return r
        time.sleep(0.05)


def wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


LOCKED = ("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue "
          "'%s' in vhost '/'. It could be originally declared on another "
          "connection or the exclusive property value does not match that "
          "of the original declaration.")


# --- declare -------------------------------------------------------------

def test_declare_ok_counts(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    r = ch.queue_declare(q)
    assert (r.method.queue, r.method.message_count,
            r.method.consumer_count) == (q, 0, 0)
    for i in range(3):
        ch.basic_publish("", q, b"m%d" % i)
    ch.basic_consume(q, lambda *a: None, auto_ack=False)
    r = c.channel().queue_declare(q, passive=True)
    assert r.method.consumer_count == 1
    # The consumer took what was ready (no prefetch limit): none left ready.
    assert wait_for(lambda: c.channel().queue_declare(
        q, passive=True).method.message_count == 0)
    c.close()


def test_server_named(mq):
    c = pika_conn(mq)
    ch = c.channel()
    r = ch.queue_declare("", exclusive=True)
    assert re.fullmatch(r"amq\.gen-[A-Za-z0-9_-]{22}", r.method.queue)
    r2 = ch.queue_declare("", exclusive=True)
    assert r2.method.queue != r.method.queue
    ch.basic_publish("", r.method.queue, b"hi")
    assert get_all(ch, r.method.queue) == [b"hi"]
    c.close()


def test_passive_missing(mq):
    c = pika_conn(mq)
    q = unique("q")
    assert broker_error(lambda: c.channel().queue_declare(q, passive=True)) \
        == (404, "NOT_FOUND - no queue '%s' in vhost '/'" % q)
    c.close()


def test_reserved_name(mq):
    c = pika_conn(mq)
    assert broker_error(lambda: c.channel().queue_declare("amq.foo")) == (
        403, "ACCESS_REFUSED - queue name 'amq.foo' contains reserved "
        "prefix 'amq.*'")
    c.close()


def test_redeclare_inequivalent(mq):
    c = pika_conn(mq)
    q = unique("q")
    c.channel().queue_declare(q, arguments={"x-message-ttl": 1000})
    base = "PRECONDITION_FAILED - inequivalent arg '%s' for queue '" + q + \
        "' in vhost '/': "
    assert broker_error(lambda: c.channel().queue_declare(
        q, durable=True, arguments={"x-message-ttl": 1000})) == (
        406, base % "durable" + "received 'true' but current is 'false'")
    assert broker_error(lambda: c.channel().queue_declare(
        q, auto_delete=True, arguments={"x-message-ttl": 1000})) == (
        406, base % "auto_delete" + "received 'true' but current is 'false'")
    assert broker_error(lambda: c.channel().queue_declare(
        q, arguments={"x-message-ttl": 2000})) == (
        406, base % "x-message-ttl" + "received '2000' but current is '1000'")
    assert broker_error(lambda: c.channel().queue_declare(q)) == (
        406, base % "x-message-ttl" + "received none but current is the "
        "value '1000' of type 'signedint'")
    assert broker_error(lambda: c.channel().queue_declare(
        q, arguments={"x-message-ttl": 1000,
                      "x-dead-letter-exchange": "a"})) == (
        406, base % "x-dead-letter-exchange" + "received the value 'a' of "
        "type 'longstr' but current is none")
    assert broker_error(lambda: c.channel().queue_declare(
        q, exclusive=True, arguments={"x-message-ttl": 1000})) == (
        405, LOCKED % q)
    # Arguments RabbitMQ does not compare may differ.
    c.channel().queue_declare(q, arguments={"x-message-ttl": 1000, "foo": 1})
    c.close()


@pytest.mark.parametrize("arg,value,detail", [
    ("x-max-length", "a", '"expected integer, got longstr"'),
    ("x-max-length", True, '"expected integer, got bool"'),
    ("x-max-length", -1, "{value_negative,-1}"),
    ("x-max-length-bytes", -1, "{value_negative,-1}"),
    ("x-message-ttl", -1, "{value_negative,-1}"),
    ("x-message-ttl", 2 ** 40, "{value_too_large,1099511627776}"),
    ("x-expires", 0, "{value_zero,0}"),
    ("x-expires", -5, "{value_negative,-5}"),
    ("x-max-priority", 256, "{max_value_exceeded,256}"),
    ("x-overflow", "foo", "invalid_overflow"),
    ("x-overflow", 1, "{unacceptable_type,signedint}"),
    ("x-dead-letter-routing-key", "k", "routing_key_but_no_dlx_defined"),
    ("x-queue-type", "foo", "\"unsupported queue type 'foo'\""),
    ("x-single-active-consumer", "x", "{unacceptable_type,longstr}"),
])
def test_invalid_args(mq, arg, value, detail):
    c = pika_conn(mq)
    q = unique("q")
    assert broker_error(lambda: c.channel().queue_declare(
        q, arguments={arg: value})) == (
        406, "PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost "
        "'/': %s" % (arg, q, detail))
    c.close()


def test_invalid_dlx_type_and_quorum(mq):
    c = pika_conn(mq)
    q = unique("q")
    assert broker_error(lambda: c.channel().queue_declare(
        q, arguments={"x-dead-letter-exchange": 1})) == (
        406, "PRECONDITION_FAILED - invalid type 'signedint' for arg "
        "'x-dead-letter-exchange' in queue '%s' in vhost '/'" % q)
    for t in ("quorum", "stream"):
        assert broker_error(lambda: c.channel().queue_declare(
            q, arguments={"x-queue-type": t})) == (
            406, "PRECONDITION_FAILED - invalid property 'non-durable' for "
            "queue '%s' in vhost '/'" % q)
    c.channel().queue_declare(q, arguments={"x-queue-type": "classic"})
    c.close()


def test_exclusive_locked(mq):
    owner = pika_conn(mq)
    other = pika_conn(mq)
    q = unique("q")
    och = owner.channel()
    och.queue_declare(q, exclusive=True)
    for f in (lambda ch: ch.queue_declare(q, exclusive=True),
              lambda ch: ch.queue_declare(q, passive=True),
              lambda ch: ch.queue_declare(q),
              lambda ch: ch.queue_bind(q, "amq.direct", "k"),
              lambda ch: ch.queue_purge(q),
              lambda ch: ch.queue_delete(q),
              lambda ch: ch.basic_get(q)):
        assert broker_error(lambda: f(other.channel())) == (405, LOCKED % q)
    # The owner itself may not redeclare it non-exclusive either.
    assert broker_error(lambda: owner.channel().queue_declare(q)) == (
        405, LOCKED % q)
    owner.close()
    # Gone with its connection.
    assert broker_error(lambda: other.channel().queue_declare(
        q, passive=True))[0] == 404
    other.close()


# --- purge / delete ------------------------------------------------------

def test_purge(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q)
    for i in range(5):
        ch.basic_publish("", q, b"x")
    m, _, _ = ch.basic_get(q)              # one unacked: not purged
    assert ch.queue_purge(q).method.message_count == 4
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    ch.basic_nack(m.delivery_tag, requeue=True)
    assert wait_for(lambda: ch.queue_declare(
        q, passive=True).method.message_count == 1)
    assert broker_error(lambda: c.channel().queue_purge(unique("none"))
                        )[0] == 404
    c.close()


def test_delete(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q)
    ch.basic_publish("", q, b"x")
    ch.basic_publish("", q, b"y")
    assert broker_error(lambda: c.channel().queue_delete(q, if_empty=True)) \
        == (406, "PRECONDITION_FAILED - queue '%s' in vhost '/' not empty" % q)
    ch2 = c.channel()
    ch2.basic_consume(q, lambda *a: None)
    assert broker_error(lambda: c.channel().queue_delete(q, if_unused=True)) \
        == (406, "PRECONDITION_FAILED - queue '%s' in vhost '/' in use" % q)
    ch3 = c.channel()
    q2 = unique("q")
    ch3.queue_declare(q2)
    ch3.basic_publish("", q2, b"1")
    ch3.basic_publish("", q2, b"2")
    assert ch3.queue_delete(q2).method.message_count == 2
    assert ch3.queue_delete(unique("missing")).method.message_count == 0
    c.close()


def test_delete_cancels_consumers(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q)
    cancelled = []
    ch.basic_consume(q, lambda *a: None)
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame))
    c.channel().queue_delete(q)
    c.process_data_events(time_limit=0.5)
    assert wait_for(lambda: (c.process_data_events(0.1), cancelled)[1])
    c.close()


def test_auto_delete(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q, auto_delete=True)
    # No consumer ever came: it stays.
    ch.queue_declare(q, auto_delete=True, passive=True)
    tag = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(tag)
    assert broker_error(lambda: c.channel().queue_declare(
        q, passive=True))[0] == 404
    c.close()


def test_expires(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q, arguments={"x-expires": 300})
    ch.queue_declare(q, passive=True, arguments={"x-expires": 300})
    time.sleep(1.2)
    assert broker_error(lambda: c.channel().queue_declare(
        q, passive=True))[0] == 404
    # A consumer keeps it.
    q2 = unique("q")
    ch = c.channel()
    ch.queue_declare(q2, arguments={"x-expires": 300})
    ch.basic_consume(q2, lambda *a: None)
    time.sleep(1.0)
    c.channel().queue_declare(q2, passive=True)
    c.close()


# --- TTL -----------------------------------------------------------------

def test_queue_ttl(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q, arguments={"x-message-ttl": 200})
    ch.basic_publish("", q, b"old")
    time.sleep(0.5)
    ch.basic_publish("", q, b"new")
    assert get_all(ch, q) == [b"new"]
    c.close()


def test_message_ttl(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q)
    ch.basic_publish("", q, b"short",
                     pika.BasicProperties(expiration="200"))
    ch.basic_publish("", q, b"long",
                     pika.BasicProperties(expiration="60000"))
    ch.basic_publish("", q, b"none")
    time.sleep(0.5)
    assert get_all(ch, q) == [b"long", b"none"]
    c.close()


def test_ttl_zero_without_consumer_dropped(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q, arguments={"x-message-ttl": 0})
    ch.basic_publish("", q, b"gone")
    time.sleep(0.1)
    assert get_all(ch, q) == []
    # With a consumer waiting it is delivered.
    got = []
    ch.basic_consume(q, lambda ch_, m, p, b: got.append(b), auto_ack=True)
    ch.basic_publish("", q, b"taken")
    assert wait_for(lambda: (c.process_data_events(0.1), got)[1]) == \
        [b"taken"]
    c.close()


# --- max-length ----------------------------------------------------------

def test_max_length_drop_head(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q, arguments={"x-max-length": 2})
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    assert get_all(ch, q) == [b"3", b"4"]
    q2 = unique("q")
    ch.queue_declare(q2, arguments={"x-max-length-bytes": 10})
    for i in range(4):
        ch.basic_publish("", q2, b"abcd%d" % i)
    assert get_all(ch, q2) == [b"abcd2", b"abcd3"]
    c.close()


def test_max_length_reject_publish(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q, arguments={"x-max-length": 2,
                                   "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"3")
    assert get_all(ch, q) == [b"1", b"2"]
    c.close()


def test_max_length_reject_publish_dlx(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q, dlq = unique("q"), unique("dlq")
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={"x-max-length": 1,
                                   "x-overflow": "reject-publish-dlx",
                                   "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"2")
    assert get_all(ch, q) == [b"1"]
    m = get_wait(ch, dlq)
    assert m[2] == b"2"
    assert m[1].headers["x-death"][0]["reason"] == "maxlen"
    c.close()


# --- priorities, requeue order -------------------------------------------

def test_priorities(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q, arguments={"x-max-priority": 5})
    for body, prio in ((b"a", 1), (b"b", 9), (b"c", None), (b"d", 5),
                       (b"e", 1)):
        ch.basic_publish("", q, body, pika.BasicProperties(priority=prio))
    # 9 counts as the maximum, 5; equal priorities keep publish order.
    assert get_all(ch, q) == [b"b", b"d", b"a", b"e", b"c"]
    c.close()


def test_requeue_keeps_position(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q)
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    m0 = ch.basic_get(q)[0]
    m1 = ch.basic_get(q)[0]
    ch.basic_nack(m1.delivery_tag, requeue=True)
    ch.basic_nack(m0.delivery_tag, requeue=True)
    m, _, body = ch.basic_get(q, auto_ack=True)
    assert body == b"0" and m.redelivered
    m, _, body = ch.basic_get(q, auto_ack=True)
    assert body == b"1" and m.redelivered
    m, _, body = ch.basic_get(q, auto_ack=True)
    assert body == b"2" and not m.redelivered
    c.close()


def test_round_robin(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    ch.queue_declare(q)
    got = {"a": [], "b": []}
    ch.basic_consume(q, lambda ch_, m, p, b: got["a"].append(b),
                     auto_ack=True)
    ch.basic_consume(q, lambda ch_, m, p, b: got["b"].append(b),
                     auto_ack=True)
    for i in range(6):
        ch.basic_publish("", q, b"%d" % i)
    wait_for(lambda: (c.process_data_events(0.1),
                      len(got["a"]) + len(got["b"]) == 6)[1])
    assert len(got["a"]) == 3 and len(got["b"]) == 3
    assert sorted(got["a"] + got["b"]) == [b"%d" % i for i in range(6)]
    c.close()


# --- dead-lettering ------------------------------------------------------

def dl_setup(ch, **extra):
    q, dlq, dlx = unique("q"), unique("dlq"), unique("dlx")
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dlq)
    ch.queue_bind(dlq, dlx)
    args = {"x-dead-letter-exchange": dlx}
    args.update(extra)
    ch.queue_declare(q, arguments=args)
    return q, dlq, dlx


def test_deadletter_rejected(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q, dlq, dlx = dl_setup(ch)
    ch.basic_publish("", q, b"body", pika.BasicProperties(
        headers={"h": "v"}, expiration="60000"))
    m = ch.basic_get(q)[0]
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, props, body = get_wait(ch, dlq)
    assert body == b"body"
    h = props.headers
    assert props.expiration is None
    assert h["h"] == "v"
    assert h["x-first-death-exchange"] == ""
    assert h["x-first-death-queue"] == q
    assert h["x-first-death-reason"] == "rejected"
    assert len(h["x-death"]) == 1
    d = h["x-death"][0]
    assert d["count"] == 1 and d["reason"] == "rejected"
    assert d["queue"] == q and d["exchange"] == ""
    assert d["routing-keys"] == [q]
    assert d["original-expiration"] == "60000"
    assert abs(d["time"].timestamp() - time.time()) < 60 \
        if hasattr(d["time"], "timestamp") else True
    assert m.exchange == dlx and m.routing_key == q
    # Key order on the wire, as RabbitMQ writes it: the headers sorted, a
    # new death's table in construction order.
    assert list(h) == ["h", "x-death", "x-first-death-exchange",
                       "x-first-death-queue", "x-first-death-reason"]
    assert list(d) == ["count", "reason", "queue", "time", "exchange",
                       "routing-keys", "original-expiration"]
    # Dead-lettered again from the same queue for the same reason: the
    # count goes up and the table comes back sorted.
    ch.basic_publish("", q, body, props)
    m = ch.basic_get(q)[0]
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, props, body = get_wait(ch, dlq)
    deaths = props.headers["x-death"]
    assert len(deaths) == 1 and deaths[0]["count"] == 2
    assert list(deaths[0]) == sorted(deaths[0])
    c.close()


def test_deadletter_expired_and_count(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q, dlq, dlx = dl_setup(ch, **{"x-message-ttl": 100})
    ch.basic_publish("", q, b"x")
    assert get_wait(ch, dlq)[2] == b"x"
    # Back into q by hand, expires again: the same (queue, reason) death is
    # counted, not repeated.
    ch.queue_purge(dlq)
    ch.basic_publish("", q, b"y")
    time.sleep(0.5)
    m, props, body = ch.basic_get(dlq, auto_ack=True)
    assert body == b"y"
    ch.basic_publish("", q, body, pika.BasicProperties(headers=props.headers))
    time.sleep(0.5)
    m, props, body = ch.basic_get(dlq, auto_ack=True)
    assert body == b"y"
    deaths = props.headers["x-death"]
    assert len(deaths) == 1
    assert deaths[0]["count"] == 2 and deaths[0]["reason"] == "expired"
    assert props.headers["x-first-death-reason"] == "expired"
    c.close()


def test_deadletter_maxlen_and_routing_key(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q, dlq = unique("q"), unique("dlq")
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={"x-max-length": 1,
                                   "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"first")
    ch.basic_publish("", q, b"second")
    m, props, body = get_wait(ch, dlq)
    assert body == b"first" and m.routing_key == dlq
    assert props.headers["x-death"][0]["reason"] == "maxlen"
    assert props.headers["x-death"][0]["routing-keys"] == [q]
    c.close()


def test_deadletter_cycle_dropped(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q = unique("q")
    # Expired messages dead-letter back into the queue itself: a cycle,
    # dropped, not looping.
    ch.queue_declare(q, arguments={"x-message-ttl": 50,
                                   "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": q})
    ch.basic_publish("", q, b"x")
    time.sleep(0.6)
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    # A rejection is no cycle: the message comes back.
    q2 = unique("q")
    ch.queue_declare(q2, arguments={"x-dead-letter-exchange": "",
                                    "x-dead-letter-routing-key": q2})
    ch.basic_publish("", q2, b"r")
    m = ch.basic_get(q2)[0]
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, props, body = get_wait(ch, q2)
    assert body == b"r" and props.headers["x-death"][0]["count"] == 1
    c.close()


# --- more of RabbitMQ's edges --------------------------------------------

def test_empty_name_is_last_declared(mq):
    c = pika_conn(mq)
    ch = c.channel()
    for f in (lambda: ch.queue_bind("", "amq.direct", "k"),
              lambda: ch.queue_purge(""),
              lambda: ch.queue_delete("")):
        assert broker_error(f) == (
            404, "NOT_FOUND - no previously declared queue")
        ch = c.channel()
    q = unique("q")
    ch.queue_declare(q)
    key = unique("k")
    ch.queue_bind("", "amq.direct", key)
    ch.basic_publish("amq.direct", key, b"x")
    assert ch.queue_purge("").method.message_count == 1
    ch.queue_unbind("", "amq.direct", key)
    ch.basic_publish("amq.direct", key, b"lost")
    assert ch.queue_delete("").method.message_count == 0
    assert broker_error(lambda: c.channel().queue_declare(
        "", passive=True)) == (404, "NOT_FOUND - no queue '' in vhost '/'")
    c.close()


def test_quorum_and_stream_properties(mq):
    c = pika_conn(mq)
    for t in ("quorum", "stream"):
        q = unique("q")
        for kw, prop in (({"durable": True, "auto_delete": True},
                          "auto-delete"),
                         ({"durable": True, "exclusive": True},
                          "exclusive-owner")):
            assert broker_error(lambda: c.channel().queue_declare(
                q, arguments={"x-queue-type": t}, **kw)) == (
                406, "PRECONDITION_FAILED - invalid property '%s' for queue "
                "'%s' in vhost '/'" % (prop, q))
    # A durable quorum queue is accepted; redeclaring it without the type
    # is inequivalent.
    q = unique("q")
    ch = c.channel()
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
    assert broker_error(lambda: c.channel().queue_declare(
        q, durable=True)) == (
        406, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for "
        "queue '%s' in vhost '/': received none but current is the value "
        "'quorum' of type 'longstr'" % q)
    c.channel().queue_delete(q)
    c.close()


def test_classic_type_and_mode(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q1, q2 = unique("q"), unique("q")
    # No x-queue-type means classic.
    ch.queue_declare(q1, arguments={"x-queue-type": "classic"})
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_declare(q2, arguments={"x-queue-type": "classic"})
    q3 = unique("q")
    ch.queue_declare(q3, arguments={"x-queue-mode": "lazy"})
    assert broker_error(lambda: c.channel().queue_declare(
        unique("q"), arguments={"x-queue-mode": "foo"}))[1].endswith(
        "\"unsupported queue mode 'foo'\"")
    c.close()


def test_unbind_other_connections_exclusive_queue(mq):
    owner = pika_conn(mq)
    other = pika_conn(mq)
    q, key = unique("q"), unique("k")
    och = owner.channel()
    och.queue_declare(q, exclusive=True)
    och.queue_bind(q, "amq.direct", key)
    # No such binding: unbind-ok; the binding: 405.
    other.channel().queue_unbind(q, "amq.direct", unique("nokey"))
    assert broker_error(lambda: other.channel().queue_unbind(
        q, "amq.direct", key)) == (405, LOCKED % q)
    och.basic_publish("amq.direct", key, b"x")
    assert wait_for(lambda: och.queue_declare(
        q, passive=True).method.message_count == 1)
    owner.close()
    other.close()


def test_expires_reset_by_use(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q1, q2 = unique("q"), unique("q")
    ch.queue_declare(q1, arguments={"x-expires": 800})
    ch.queue_declare(q2, arguments={"x-expires": 800})
    for _ in range(5):
        time.sleep(0.3)
        ch.queue_declare(q1, arguments={"x-expires": 800})   # redeclare
        ch.basic_get(q2)                                      # get
    ch.queue_declare(q1, passive=True)
    ch.queue_declare(q2, passive=True)
    time.sleep(2.0)
    for q in (q1, q2):
        assert broker_error(lambda: c.channel().queue_declare(
            q, passive=True))[0] == 404
    c.close()


def test_exclusive_consumer(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q1, q2 = unique("q"), unique("q")
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    tag = ch.basic_consume(q1, lambda *a: None, exclusive=True)
    in_use = "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use"
    assert broker_error(lambda: c.channel().basic_consume(
        q1, lambda *a: None)) == (403, in_use % q1)
    ch.basic_consume(q2, lambda *a: None)
    assert broker_error(lambda: c.channel().basic_consume(
        q2, lambda *a: None, exclusive=True)) == (403, in_use % q2)
    # Once the exclusive consumer is cancelled, others may come.
    ch.basic_cancel(tag)
    c.channel().basic_consume(q1, lambda *a: None)
    c.close()
