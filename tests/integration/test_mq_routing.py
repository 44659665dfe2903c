"""Exchanges and routing as RabbitMQ 3.10 has them: the predeclared
exchanges, exchange.declare/delete/bind/unbind with their errors and
texts, queue.bind/unbind errors, and routing through direct, fanout, topic
and headers exchanges, exchange-to-exchange bindings (no loops, each queue
once), auto-delete exchanges and the alternate exchange.  Every test runs
against onebox and, with --target real, against rabbitmq-server."""
import pika
import pytest

from mqtest import broker_error, get_all, pika_conn, unique


def queues(ch, n):
    names = [unique("q") for _ in range(n)]
    for name in names:
        ch.queue_declare(name)
    return names


DEFAULT = "ACCESS_REFUSED - operation not permitted on the default exchange"


# --- exchange.declare / delete -------------------------------------------

def test_predeclared(mq):
    c = pika_conn(mq)
    ch = c.channel()
    for name, kind in (("amq.direct", "direct"), ("amq.fanout", "fanout"),
                       ("amq.topic", "topic"), ("amq.headers", "headers"),
                       ("amq.match", "headers")):
        ch.exchange_declare(name, kind, passive=True)
        ch.exchange_declare(name, kind, durable=True)
    ch.exchange_declare("amq.rabbitmq.trace", "topic", durable=True,
                        internal=True)
    assert broker_error(lambda: c.channel().exchange_declare(
        "amq.direct", "fanout", durable=True)) == (
        406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange "
        "'amq.direct' in vhost '/': received 'fanout' but current is "
        "'direct'")
    c.close()


def test_default_exchange_refused(mq):
    c = pika_conn(mq)
    q = unique("q")
    c.channel().queue_declare(q)
    for f in (lambda ch: ch.exchange_declare("", "direct"),
              lambda ch: ch.exchange_declare("", "direct", passive=True),
              lambda ch: ch.exchange_delete(""),
              lambda ch: ch.exchange_bind("amq.direct", ""),
              lambda ch: ch.exchange_bind("", "amq.direct"),
              lambda ch: ch.queue_bind(q, ""),
              lambda ch: ch.queue_unbind(q, "", q)):
        assert broker_error(lambda: f(c.channel())) == (403, DEFAULT)
    c.close()


def test_declare_errors(mq):
    c = pika_conn(mq)
    x = unique("x")
    assert broker_error(lambda: c.channel().exchange_declare(
        "amq.foo", "direct")) == (
        403, "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved "
        "prefix 'amq.*'")
    assert broker_error(lambda: c.channel().exchange_declare(
        x, passive=True)) == (
        404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x)
    c.channel().exchange_declare(x, "direct")
    base = ("PRECONDITION_FAILED - inequivalent arg '%s' for exchange '" + x
            + "' in vhost '/': received '%s' but current is '%s'")
    assert broker_error(lambda: c.channel().exchange_declare(x, "fanout")) \
        == (406, base % ("type", "fanout", "direct"))
    assert broker_error(lambda: c.channel().exchange_declare(
        x, "direct", durable=True)) == (406, base % ("durable", "true",
                                                      "false"))
    assert broker_error(lambda: c.channel().exchange_declare(
        x, "direct", auto_delete=True)) == (406, base % ("auto_delete",
                                                          "true", "false"))
    assert broker_error(lambda: c.channel().exchange_declare(
        x, "direct", internal=True)) == (406, base % ("internal", "true",
                                                       "false"))
    # Other arguments are not compared.
    c.channel().exchange_declare(x, "direct", arguments={"foo": "bar"})
    c.close()


def test_unknown_type_closes_connection(mq):
    c = pika_conn(mq)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        c.channel().exchange_declare(unique("x"), "nosuchtype")
    assert (ei.value.reply_code, ei.value.reply_text) == (
        503, "COMMAND_INVALID - unknown exchange type 'nosuchtype'")


def test_delete(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x = unique("x")
    ch.exchange_declare(x, "direct")
    (q,) = queues(ch, 1)
    ch.queue_bind(q, x, "k")
    assert broker_error(lambda: c.channel().exchange_delete(
        x, if_unused=True)) == (
        406, "PRECONDITION_FAILED - exchange '%s' in vhost '/' in use" % x)
    assert broker_error(lambda: c.channel().exchange_delete("amq.direct")) \
        == (403, "ACCESS_REFUSED - deletion of system exchange 'amq.direct' "
            "in vhost '/' not allowed")
    ch = c.channel()
    ch.exchange_delete(x)
    ch.exchange_delete(x)               # missing: delete-ok all the same
    assert broker_error(lambda: c.channel().exchange_declare(
        x, passive=True))[0] == 404
    c.close()


def test_bind_errors(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x, nx, nq = unique("x"), unique("nox"), unique("noq")
    ch.exchange_declare(x, "direct")
    (q,) = queues(ch, 1)
    nf = "NOT_FOUND - no %s '%s' in vhost '/'"
    assert broker_error(lambda: c.channel().queue_bind(q, nx)) == (
        404, nf % ("exchange", nx))
    assert broker_error(lambda: c.channel().queue_bind(nq, x)) == (
        404, nf % ("queue", nq))
    assert broker_error(lambda: c.channel().queue_bind(nq, nx)) == (
        404, nf % ("exchange", nx))
    assert broker_error(lambda: c.channel().exchange_bind(x, nx)) == (
        404, nf % ("exchange", nx))
    assert broker_error(lambda: c.channel().exchange_bind(nx, x)) == (
        404, nf % ("exchange", nx))
    ch = c.channel()
    # Unbinding what does not exist is fine.
    ch.queue_unbind(q, x, "nokey")
    ch.queue_unbind(nq, x, "nokey")
    ch.queue_unbind(q, nx, "nokey")
    ch.exchange_unbind(x, "amq.direct", "nokey")
    assert broker_error(lambda: c.channel().queue_bind(
        q, "amq.headers", arguments={"x-match": "foo"})) == (
        406, "PRECONDITION_FAILED - Invalid x-match field value <<\"foo\">>; "
        "expected all, any, all-with-x, or any-with-x")
    c.close()


# --- routing -------------------------------------------------------------

def test_default_exchange_routes_by_name(mq):
    c = pika_conn(mq)
    ch = c.channel()
    q1, q2 = queues(ch, 2)
    ch.basic_publish("", q1, b"1")
    ch.basic_publish("", q2, b"2")
    ch.basic_publish("", unique("nobody"), b"lost")
    assert get_all(ch, q1) == [b"1"] and get_all(ch, q2) == [b"2"]
    c.close()


def test_direct(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x = unique("x")
    ch.exchange_declare(x, "direct")
    q1, q2, q3 = queues(ch, 3)
    ch.queue_bind(q1, x, "a")
    ch.queue_bind(q2, x, "a")
    ch.queue_bind(q2, x, "b")
    ch.queue_bind(q3, x, "c")
    ch.queue_bind(q3, x, "c")          # twice: one binding
    # Many other keys, so that routing must not depend on scanning them.
    for i in range(200):
        ch.queue_bind(q3, x, "k%d" % i)
    for key in ("a", "b", "c", "k150", "zzz"):
        ch.basic_publish(x, key, key.encode())
    assert get_all(ch, q1) == [b"a"]
    assert get_all(ch, q2) == [b"a", b"b"]
    assert get_all(ch, q3) == [b"c", b"k150"]
    ch.queue_unbind(q2, x, "a")
    ch.basic_publish(x, "a", b"again")
    assert get_all(ch, q2) == [] and get_all(ch, q1) == [b"again"]
    c.close()


def test_fanout(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x = unique("x")
    ch.exchange_declare(x, "fanout")
    q1, q2 = queues(ch, 2)
    ch.queue_bind(q1, x, "ignored")
    ch.queue_bind(q1, x, "other")       # two bindings, one copy
    ch.queue_bind(q2, x)
    ch.basic_publish(x, "any", b"m")
    assert get_all(ch, q1) == [b"m"] and get_all(ch, q2) == [b"m"]
    c.close()


def test_topic(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x = unique("x")
    ch.exchange_declare(x, "topic")
    names = queues(ch, 6)
    patterns = ["a.*.c", "a.#", "#", "*.b", "a.#.c", "#.x.#"]
    for q, p in zip(names, patterns):
        ch.queue_bind(q, x, p)
    keys = ["a.b.c", "a", "x.b", "a.x.y.c", "", "b"]
    for k in keys:
        ch.basic_publish(x, k, k.encode() or b"-")
    got = [get_all(ch, q) for q in names]
    assert got[0] == [b"a.b.c"]
    assert got[1] == [b"a.b.c", b"a", b"a.x.y.c"]
    assert got[2] == [b"a.b.c", b"a", b"x.b", b"a.x.y.c", b"-", b"b"]
    assert got[3] == [b"x.b"]
    assert got[4] == [b"a.b.c", b"a.x.y.c"]
    assert got[5] == [b"x.b", b"a.x.y.c"]
    c.close()


def test_headers(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x = unique("x")
    ch.exchange_declare(x, "headers")
    q_all, q_any, q_allx, q_anyx, q_def = queues(ch, 5)
    ch.queue_bind(q_all, x, arguments={"x-match": "all", "a": 1, "b": "s"})
    ch.queue_bind(q_any, x, arguments={"x-match": "any", "a": 1, "b": "s"})
    ch.queue_bind(q_allx, x, arguments={"x-match": "all-with-x",
                                        "x-k": "v", "a": 1})
    ch.queue_bind(q_anyx, x, arguments={"x-match": "any-with-x",
                                        "x-k": "v"})
    ch.queue_bind(q_def, x, arguments={"a": 1})
    sends = [({"a": 1, "b": "s"}, b"both"),
             ({"a": 1}, b"a"),
             ({"b": "s", "x-k": "v"}, b"bx"),
             ({"a": 1, "x-k": "v"}, b"ax"),
             ({"a": 2}, b"a2"),
             (None, b"none")]
    for h, body in sends:
        ch.basic_publish(x, "", body, pika.BasicProperties(headers=h))
    assert get_all(ch, q_all) == [b"both"]
    assert get_all(ch, q_any) == [b"both", b"a", b"bx", b"ax"]
    assert get_all(ch, q_allx) == [b"ax"]
    assert get_all(ch, q_anyx) == [b"bx", b"ax"]
    assert get_all(ch, q_def) == [b"both", b"a", b"ax"]
    c.close()


def test_exchange_to_exchange(mq):
    c = pika_conn(mq)
    ch = c.channel()
    top, mid, fan = unique("top"), unique("mid"), unique("fan")
    ch.exchange_declare(top, "topic")
    ch.exchange_declare(mid, "direct")
    ch.exchange_declare(fan, "fanout")
    q1, q2 = queues(ch, 2)
    ch.exchange_bind(mid, top, "a.#")
    ch.exchange_bind(fan, top, "#")
    ch.exchange_bind(top, fan)          # a loop: top -> fan -> top
    ch.queue_bind(q1, mid, "a.b")
    ch.queue_bind(q1, fan)              # q1 reached twice: one copy
    ch.queue_bind(q2, top, "zzz")
    ch.basic_publish(top, "a.b", b"1")
    ch.basic_publish(top, "zzz", b"2")
    assert get_all(ch, q1) == [b"1", b"2"]
    assert get_all(ch, q2) == [b"2"]
    ch.exchange_unbind(fan, top, "#")
    ch.basic_publish(top, "a.b", b"3")
    assert get_all(ch, q1) == [b"3"]
    c.close()


def test_auto_delete_exchange(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x = unique("x")
    ch.exchange_declare(x, "direct", auto_delete=True)
    # Never bound: it stays.
    ch.exchange_declare(x, "direct", auto_delete=True, passive=True)
    q1, q2 = queues(ch, 2)
    ch.queue_bind(q1, x, "k")
    ch.queue_bind(q2, x, "k")
    ch.queue_unbind(q1, x, "k")
    ch.exchange_declare(x, passive=True)
    ch.queue_delete(q2)                 # the last binding goes with it
    assert broker_error(lambda: c.channel().exchange_declare(
        x, passive=True))[0] == 404
    c.close()


def test_alternate_exchange(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x, ae = unique("x"), unique("ae")
    ch.exchange_declare(ae, "fanout")
    ch.exchange_declare(x, "direct", arguments={"alternate-exchange": ae})
    q1, q2 = queues(ch, 2)
    ch.queue_bind(q1, x, "k")
    ch.queue_bind(q2, ae)
    ch.basic_publish(x, "k", b"routed")
    ch.basic_publish(x, "other", b"unroutable")
    assert get_all(ch, q1) == [b"routed"]
    assert get_all(ch, q2) == [b"unroutable"]
    c.close()


def test_internal_exchange_not_publishable(mq):
    c = pika_conn(mq)
    ch = c.channel()
    x = unique("x")
    ch.exchange_declare(x, "fanout", internal=True)
    ch.basic_publish(x, "", b"m")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        ch.queue_declare(unique("q"))   # the publish error arrives first
    assert ei.value.reply_code == 403
    c.close()


def test_alternate_exchange_inequivalent(mq):
    c = pika_conn(mq)
    x = unique("x")
    c.channel().exchange_declare(x, "direct",
                                 arguments={"alternate-exchange": "a"})
    base = ("PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for "
            "exchange '%s' in vhost '/': " % x)
    assert broker_error(lambda: c.channel().exchange_declare(
        x, "direct", arguments={"alternate-exchange": "b"})) == (
        406, base + "received 'b' but current is 'a'")
    assert broker_error(lambda: c.channel().exchange_declare(x, "direct")) \
        == (406, base + "received none but current is the value 'a' of "
            "type 'longstr'")
    c.close()


def test_empty_exchange_type(mq):
    c = pika_conn(mq)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        c.channel().exchange_declare(unique("x"), "")
    assert (ei.value.reply_code, ei.value.reply_text) == (
        503, "COMMAND_INVALID - invalid exchange type ''")


@pytest.mark.mq_fresh_server
def test_durable_definitions_survive_restart(mq_server):
    s = mq_server(fresh=True)
    c = pika_conn(s)
    ch = c.channel()
    ch.exchange_declare("dtop", "topic", durable=True)
    ch.exchange_declare("dfan", "fanout", durable=True,
                        arguments={"alternate-exchange": "amq.fanout"})
    ch.exchange_declare("dtmp", "direct")                 # transient
    ch.queue_declare("dq1", durable=True,
                     arguments={"x-max-length": 5, "x-max-priority": 3})
    ch.queue_declare("dq2", durable=True)
    ch.queue_declare("tq", durable=False)
    ch.exchange_bind("dfan", "dtop", "a.#")
    ch.queue_bind("dq1", "dfan")
    ch.queue_bind("dq2", "dtop", "*.x")
    ch.queue_bind("dq2", "dtmp", "k")
    ch.basic_publish("dtop", "a.b", b"persistent",
                     pika.BasicProperties(delivery_mode=2, priority=2))
    ch.basic_publish("dtop", "a.c", b"transient")
    c.close()
    s.restart()
    c = pika_conn(s)
    ch = c.channel()
    r = ch.queue_declare("dq1", durable=True,
                         arguments={"x-max-length": 5, "x-max-priority": 3})
    assert r.method.message_count == 1
    m, props, body = ch.basic_get("dq1", auto_ack=True)
    assert body == b"persistent" and props.priority == 2
    assert broker_error(lambda: c.channel().queue_declare(
        "tq", passive=True))[0] == 404
    assert broker_error(lambda: c.channel().exchange_declare(
        "dtmp", passive=True))[0] == 404
    ch = c.channel()
    ch.basic_publish("dtop", "a.z", b"e2e")       # dtop -> dfan -> dq1
    ch.basic_publish("dtop", "q.x", b"direct")    # dtop -> dq2
    assert get_all(ch, "dq1") == [b"e2e"]
    assert get_all(ch, "dq2") == [b"direct"]
    # The redeclaration with other arguments is still inequivalent.
    assert broker_error(lambda: c.channel().queue_declare(
        "dq1", durable=True))[0] == 406
    c.close()
