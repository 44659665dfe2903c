"""The broker through kombu 5.2 on py-amqp 5.1 (what Celery uses):
producers and consumers over direct, fanout and topic exchanges,
SimpleQueue, queue arguments (expires, message_ttl, max_length,
max_priority), publisher confirms, and a Celery-style work queue whose
crashed worker's task is redelivered to another worker."""
import socket
import time

import amqp.exceptions
import pika
import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue

from mqtest import pika_conn, unique


def kombu_url(mq):
    # kombu's form of vhost "/" is a double slash.
    return "amqp://guest:guest@%s:%d//" % (mq.host, mq.port)


@pytest.fixture
def conn(mq):
    c = Connection(kombu_url(mq), transport_options={"confirm_publish":
                                                       True})
    c.connect()
    yield c
    c.release()


def drain(conn, pred, timeout=10.0):
    """Runs conn's event loop until pred() is true (bounded)."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        try:
            conn.drain_events(timeout=0.05)
        except socket.timeout:
            pass


def collect(conn, queue, n, timeout=10.0):
    """The bodies of the first n messages consumed from queue (acked)."""
    got = []

    def on_message(body, message):
        got.append(body)
        message.ack()

    with Consumer(conn, queues=[queue], callbacks=[on_message],
                  accept=["json", "text/plain", "application/data"]):
        drain(conn, lambda: len(got) >= n, timeout)
    return got


def test_direct_exchange(conn):
    ex = Exchange(unique("direct"), type="direct")
    q1 = Queue(unique("q"), ex, routing_key="red")
    q2 = Queue(unique("q"), ex, routing_key="blue")
    q1(conn).declare()
    q2(conn).declare()
    producer = Producer(conn, exchange=ex)
    producer.publish({"colour": "red"}, routing_key="red")
    producer.publish({"colour": "blue"}, routing_key="blue")
    producer.publish({"colour": "green"}, routing_key="green")
    assert collect(conn, q1, 1) == [{"colour": "red"}]
    assert collect(conn, q2, 1) == [{"colour": "blue"}]
    assert q1(conn).get() is None and q2(conn).get() is None


def test_fanout_exchange(conn):
    ex = Exchange(unique("fanout"), type="fanout")
    queues = [Queue(unique("q"), ex) for _ in range(3)]
    for q in queues:
        q(conn).declare()
    Producer(conn, exchange=ex).publish("to all", routing_key="ignored")
    for q in queues:
        assert collect(conn, q, 1) == ["to all"]


def test_topic_exchange(conn):
    ex = Exchange(unique("topic"), type="topic")
    patterns = {"star": "celery.*.task", "hash": "celery.#",
                "exact": "celery.a.task", "zero": "#.end"}
    queues = {k: Queue(unique("q"), ex, routing_key=p)
              for k, p in patterns.items()}
    for q in queues.values():
        q(conn).declare()
    producer = Producer(conn, exchange=ex)
    for key in ("celery.a.task", "celery.b.task", "celery", "celery.a.b.task",
                "end", "x.end", "other"):
        producer.publish(key, routing_key=key)

    def bodies(q):
        out = []
        while True:
            m = q(conn).get(no_ack=True)
            if m is None:
                return out
            out.append(m.payload)

    assert bodies(queues["star"]) == ["celery.a.task", "celery.b.task"]
    assert bodies(queues["hash"]) == ["celery.a.task", "celery.b.task",
                                      "celery", "celery.a.b.task"]
    assert bodies(queues["exact"]) == ["celery.a.task"]
    assert bodies(queues["zero"]) == ["end", "x.end"]


def test_message_properties_and_headers(conn):
    q = Queue(unique("q"))
    q(conn).declare()
    Producer(conn).publish({"n": 1}, routing_key=q.name,
                           headers={"task": "add", "retries": 3},
                           correlation_id="c-1", reply_to="r",
                           delivery_mode=2, expiration=60)
    m = q(conn).get(no_ack=True)
    assert m.payload == {"n": 1}
    assert m.content_type == "application/json"
    assert m.headers == {"task": "add", "retries": 3}
    assert m.properties["correlation_id"] == "c-1"
    assert m.properties["reply_to"] == "r"
    assert m.properties["delivery_mode"] == 2
    assert m.properties["expiration"] == "60000"
    assert m.delivery_info["redelivered"] is False


def test_simple_queue(conn):
    name = unique("simple")
    sq = conn.SimpleQueue(name)
    for i in range(5):
        sq.put({"i": i})
    assert sq.qsize() == 5
    got = []
    for _ in range(5):
        m = sq.get(timeout=5)
        got.append(m.payload["i"])
        m.ack()
    assert got == [0, 1, 2, 3, 4]
    with pytest.raises(sq.Empty):
        sq.get(block=False)
    sq.close()


def test_simple_buffer_no_ack(conn):
    sb = conn.SimpleBuffer(unique("buffer"))
    sb.put("a")
    sb.put("b")
    assert sb.get(timeout=5).payload == "a"
    assert sb.get(timeout=5).payload == "b"
    sb.close()


def test_max_length_drops_the_oldest(conn):
    q = Queue(unique("q"), max_length=2)
    q(conn).declare()
    producer = Producer(conn)
    for i in range(5):
        producer.publish(i, routing_key=q.name)
    got = [q(conn).get(no_ack=True).payload for _ in range(2)]
    assert got == [3, 4]
    assert q(conn).get() is None


def test_max_priority(conn):
    q = Queue(unique("q"), max_priority=10)
    q(conn).declare()
    producer = Producer(conn)
    for body, prio in (("low", 1), ("high", 9), ("mid", 5), ("none", None),
                       ("over", 200)):
        producer.publish(body, routing_key=q.name, priority=prio)
    got = [q(conn).get(no_ack=True).payload for _ in range(5)]
    # A priority over the maximum counts as the maximum; none as 0.
    assert got == ["over", "high", "mid", "low", "none"]


def test_message_ttl(conn):
    q = Queue(unique("q"), message_ttl=1.0)
    q(conn).declare()
    Producer(conn).publish("short-lived", routing_key=q.name)
    assert q(conn).queue_declare(passive=True).message_count == 1
    deadline = time.monotonic() + 10
    while q(conn).queue_declare(passive=True).message_count:
        assert time.monotonic() < deadline, "message never expired"
        time.sleep(0.05)
    assert q(conn).get() is None


def test_message_ttl_zero_with_a_consumer_waiting(conn):
    """x-message-ttl 0 drops messages unless they can be delivered at
    once: a waiting consumer still gets them."""
    q = Queue(unique("q"), message_ttl=0)
    q(conn).declare()
    Producer(conn).publish("dropped", routing_key=q.name)
    assert q(conn).get() is None
    got = []
    with Consumer(conn, queues=[q], callbacks=[lambda b, m: (got.append(b),
                                                             m.ack())],
                  accept=["json", "text/plain"]):
        Producer(conn).publish("delivered", routing_key=q.name)
        drain(conn, lambda: got)
    assert got == ["delivered"]


def test_expires_deletes_an_unused_queue(mq, conn):
    q = Queue(unique("q"), expires=0.3)
    q(conn).declare()
    # A declare (even a passive one) or a get would count as a use and
    # renew the queue's lease; a publish does not.  So look for the queue
    # with mandatory publishes: once it has gone they come back unroutable.
    pc = pika_conn(mq)
    try:
        ch = pc.channel()
        ch.confirm_delivery()
        deadline = time.monotonic() + 10
        while True:
            try:
                ch.basic_publish("", q.name, b"probe", mandatory=True)
            except pika.exceptions.UnroutableError:
                break
            assert time.monotonic() < deadline, "queue did not expire"
            time.sleep(0.05)
    finally:
        pc.close()
    with pytest.raises(amqp.exceptions.NotFound) as e:
        q(conn.channel()).queue_declare(passive=True)
    assert e.value.reply_text == "NOT_FOUND - no queue '%s' in vhost '/'" \
        % q.name


def test_declared_arguments_are_checked(conn):
    name = unique("q")
    Queue(name, max_length=3)(conn).declare()
    Queue(name, max_length=3)(conn.channel()).declare()     # same: fine
    with pytest.raises(amqp.exceptions.PreconditionFailed) as e:
        Queue(name, max_length=4)(conn.channel()).declare()
    assert e.value.reply_text == (
        "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue "
        "'%s' in vhost '/': received '4' but current is '3'" % name)


def test_confirm_publish(mq):
    c = Connection(kombu_url(mq), transport_options={"confirm_publish":
                                                       True})
    try:
        ch = c.channel()
        q = Queue(unique("q"))
        q(ch).declare()
        producer = Producer(ch)
        for i in range(10):
            producer.publish(i, routing_key=q.name)
        assert q(ch).queue_declare(passive=True).message_count == 10
        with pytest.raises(amqp.exceptions.NotFound) as e:
            Producer(ch, exchange=Exchange("no-such-exchange",
                                           passive=True)).publish(
                1, routing_key="k", declare=[])
        assert e.value.reply_text == ("NOT_FOUND - no exchange "
                                      "'no-such-exchange' in vhost '/'")
    finally:
        c.release()


def test_bad_password(mq):
    c = Connection("amqp://guest:wrong@%s:%d//" % (mq.host, mq.port),
                   connect_timeout=5)
    with pytest.raises(amqp.exceptions.AccessRefused) as e:
        c.connect()
    assert e.value.reply_code == 403
    assert "ACCESS_REFUSED - Login was refused using authentication " \
        "mechanism" in str(e.value)


class Worker:
    """A Celery-style worker: its own connection, prefetch 1, manual acks.
    `done` lists the task ids it acked; `held` the one it holds unacked
    (with hold=True it never acks)."""

    def __init__(self, mq, queue, hold=False):
        self.conn = Connection(kombu_url(mq))
        self.conn.connect()
        self.done = []
        self.held = []
        self.redelivered = {}
        self.hold = hold
        self.consumer = Consumer(self.conn, queues=[queue],
                                 callbacks=[self.on_task],
                                 prefetch_count=1, accept=["json"])
        self.consumer.consume()

    def on_task(self, body, message):
        self.redelivered[body["id"]] = message.delivery_info["redelivered"]
        if self.hold:
            self.held.append(body["id"])
            return
        self.done.append(body["id"])
        message.ack()

    def step(self):
        try:
            self.conn.drain_events(timeout=0.02)
        except socket.timeout:
            pass

    def crash(self):
        """Ends the TCP connection with no AMQP close and no acks."""
        self.conn.connection.transport.sock.shutdown(socket.SHUT_RDWR)
        self.conn.connection.transport.sock.close()

    def close(self):
        try:
            self.conn.release()
        except Exception:
            pass


def test_work_queue_redelivers_a_crashed_workers_task(mq, conn):
    queue = Queue(unique("celery"), Exchange(unique("celery"), "direct"),
                  routing_key="task")
    queue(conn).declare()
    a = Worker(mq, queue)
    crasher = Worker(mq, queue, hold=True)
    c = Worker(mq, queue)
    try:
        producer = Producer(conn, exchange=queue.exchange)
        for i in range(30):
            producer.publish({"id": i}, routing_key="task")
        # The crasher gets one task (prefetch 1) and never acks it.
        deadline = time.monotonic() + 10
        while not crasher.held:
            assert time.monotonic() < deadline
            crasher.step()
        crasher.step()
        assert len(crasher.held) == 1, crasher.held
        task = crasher.held[0]
        assert crasher.redelivered[task] is False
        crasher.crash()

        deadline = time.monotonic() + 20
        while len(a.done) + len(c.done) < 30:
            assert time.monotonic() < deadline, (a.done, c.done)
            a.step()
            c.step()
        done = sorted(a.done + c.done)
        assert done == list(range(30))
        assert task in a.done or task in c.done
        redelivered = {**a.redelivered, **c.redelivered}
        assert redelivered[task] is True
        assert [i for i, r in redelivered.items() if r] == [task]
        # Both workers took part.
        assert a.done and c.done
        for _ in range(10):
            a.step()
            c.step()
        assert len(a.done) + len(c.done) == 30
    finally:
        for w in (a, crasher, c):
            w.close()
    assert queue(conn.channel()).queue_declare(passive=True) \
        .message_count == 0


def test_worker_prefetch_is_respected(mq, conn):
    queue = Queue(unique("q"))
    queue(conn).declare()
    w = Worker(mq, queue, hold=True)
    try:
        producer = Producer(conn)
        for i in range(5):
            producer.publish({"id": i}, routing_key=queue.name)
        deadline = time.monotonic() + 10
        while not w.held:
            assert time.monotonic() < deadline
            w.step()
        for _ in range(10):
            w.step()
        assert w.held == [0]
    finally:
        w.close()


def test_celery_style_task_round_trip(mq, conn):
    """What a Celery task publish looks like to the broker: a durable
    direct exchange and queue, persistent JSON with Celery's protocol-2
    headers, published with retry and declare; a worker acks it and
    replies on an auto-delete reply queue with an expiry."""
    exchange = Exchange(unique("celery"), "direct", durable=True)
    tasks = Queue(unique("celery"), exchange, routing_key="celery",
                  durable=True)
    replies = Queue(unique("reply"), Exchange(unique("reply.celery"),
                                              "direct", durable=False,
                                              auto_delete=True),
                    routing_key="r", auto_delete=True, expires=60,
                    message_ttl=300)
    producer = Producer(conn)
    producer.publish(
        [[2, 3], {}, {"callbacks": None}], exchange=exchange,
        routing_key="celery", serializer="json", delivery_mode=2,
        retry=True, declare=[tasks, replies],
        headers={"lang": "py", "task": "tasks.add", "id": "t-1",
                 "retries": 0, "eta": None, "expires": None,
                 "timelimit": [None, None], "argsrepr": "(2, 3)"},
        correlation_id="t-1", reply_to=replies.name, priority=0)
    worker = Connection(kombu_url(mq))
    try:
        got = []

        def on_task(body, message):
            got.append((body, message.headers, message.properties))
            args, _, _ = body
            Producer(worker).publish(
                {"status": "SUCCESS", "result": sum(args)},
                exchange=replies.exchange, routing_key="r",
                correlation_id=message.properties["correlation_id"])
            message.ack()

        with Consumer(worker, queues=[tasks], callbacks=[on_task],
                      prefetch_count=4, accept=["json"]):
            drain(worker, lambda: got)
        body, headers, props = got[0]
        assert body == [[2, 3], {}, {"callbacks": None}]
        assert headers["task"] == "tasks.add"
        assert headers["timelimit"] == [None, None]
        assert headers["eta"] is None
        assert props["delivery_mode"] == 2
        assert props["reply_to"] == replies.name
        reply = replies(conn).get(no_ack=True)
        assert reply.payload == {"status": "SUCCESS", "result": 5}
        assert reply.properties["correlation_id"] == "t-1"
    finally:
        worker.release()


def test_pidbox_style_broadcast(mq, conn):
    """Celery's remote control: a fanout exchange, one auto-delete queue
    per node, each node gets every broadcast."""
    pidbox = Exchange(unique("celery.pidbox"), "fanout", durable=False,
                      auto_delete=True)
    nodes = [Queue(unique("node.celery.pidbox"), pidbox, auto_delete=True,
                   expires=10, message_ttl=300) for _ in range(3)]
    conns = [Connection(kombu_url(mq)) for _ in nodes]
    try:
        received = [[] for _ in nodes]
        consumers = []
        for i, (c, q) in enumerate(zip(conns, nodes)):
            consumer = Consumer(c, queues=[q], no_ack=True, accept=["json"],
                                callbacks=[lambda body, m, i=i:
                                           received[i].append(body)])
            consumer.consume()
            consumers.append(consumer)
        Producer(conn).publish({"method": "ping"}, exchange=pidbox,
                               routing_key="", declare=[pidbox])
        deadline = time.monotonic() + 10
        while not all(received):
            assert time.monotonic() < deadline, received
            for c in conns:
                try:
                    c.drain_events(timeout=0.02)
                except socket.timeout:
                    pass
        assert received == [[{"method": "ping"}]] * 3
        for consumer in consumers:
            consumer.cancel()
        # Auto-delete: each node's queue goes with its consumer.
        for q in nodes:
            deadline = time.monotonic() + 10
            while True:
                try:
                    q(conn.channel()).queue_declare(passive=True)
                except amqp.exceptions.NotFound:
                    break
                assert time.monotonic() < deadline, q.name
                time.sleep(0.02)
    finally:
        for c in conns:
            c.release()


def test_heartbeat_with_kombu(mq_server):
    srv = mq_server(heartbeat=1, frame_max=8192, channel_max=16,
                    max_message_size=65536)
    c = Connection(kombu_url(srv), heartbeat=1)
    try:
        c.connect()
        assert c.connection.heartbeat == 1
        q = Queue(unique("q"))
        q(c).declare()
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            c.heartbeat_check(rate=4)
            try:
                c.drain_events(timeout=0.1)
            except socket.timeout:
                pass
        # Still connected after more than three heartbeat intervals.
        Producer(c).publish("alive", routing_key=q.name)
        assert q(c).get(no_ack=True).payload == "alive"
    finally:
        c.release()
