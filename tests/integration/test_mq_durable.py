"""Durability of the AMQP broker, as RabbitMQ 3.10 keeps it: durable
exchanges, queues (with their arguments) and bindings survive a restart
and transient ones do not; persistent messages in durable queues survive
a clean restart and a kill -9 once confirmed, transient messages and
non-durable queues do not; acked messages are not redelivered after a
clean restart, delivered-but-unacked ones come back redelivered; a deleted
queue stays deleted; and (onebox only) the message log's segments are
unlinked or compacted once their messages are acked.

Each test here starts a broker of its own (mq_fresh_server): with
--target real a restart costs ~10 s, so each test restarts once.
"""
import os
import subprocess
import time

import pika
import pytest

from mqtest import PYTHON, pika_conn, unique

pytestmark = pytest.mark.mq_fresh_server


def _exists(server, kind, name):
    """1 when `kind` ("queue" or "exchange") `name` exists: a passive
    declare on a connection of its own (a 404 closes the channel)."""
    conn = pika_conn(server)
    try:
        ch = conn.channel()
        try:
            if kind == "queue":
                ch.queue_declare(name, passive=True)
            else:
                ch.exchange_declare(name, passive=True)
            return True
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 404, e
            return False
    finally:
        if conn.is_open:
            conn.close()


def _drain(ch, queue):
    """Every message of queue by basic.get, acked: [(method, props, body)]."""
    out = []
    while True:
        m, p, b = ch.basic_get(queue)
        if m is None:
            return out
        out.append((m, p, b))
        ch.basic_ack(m.delivery_tag)


def test_definitions_survive_restart(mq_server):
    s = mq_server(fresh=True)
    dx, tx, dq, tq, dq2 = (unique("dx"), unique("tx"), unique("dq"),
                           unique("tq"), unique("dq2"))
    e2e, gone = unique("e2e"), unique("gone")
    conn = pika_conn(s)
    ch = conn.channel()
    ch.exchange_declare(dx, "topic", durable=True)
    ch.exchange_declare(e2e, "fanout", durable=True)
    ch.exchange_declare(tx, "direct", durable=False)
    ch.queue_declare(dq, durable=True, arguments={"x-max-length": 10})
    ch.queue_declare(dq2, durable=True)
    ch.queue_declare(tq, durable=False)
    ch.queue_declare(gone, durable=True)
    ch.queue_bind(dq, dx, "a.*.c")
    ch.queue_bind(dq, "amq.direct", dq)
    ch.exchange_bind(e2e, dx, "e2e.#")        # e2e: destination e2e
    ch.queue_bind(dq2, e2e, "")
    ch.queue_bind(tq, dx, "t.#")              # to a transient queue
    ch.queue_bind(dq, tx, "k")                # from a transient exchange
    ch.queue_delete(gone)
    conn.close()

    s.restart()

    assert _exists(s, "exchange", dx)
    assert _exists(s, "exchange", e2e)
    assert not _exists(s, "exchange", tx)
    assert _exists(s, "queue", dq)
    assert _exists(s, "queue", dq2)
    assert not _exists(s, "queue", tq)
    assert not _exists(s, "queue", gone)

    conn = pika_conn(s)
    ch = conn.channel()
    # the arguments came back: the same ones are accepted, others are not
    ch.queue_declare(dq, durable=True, arguments={"x-max-length": 10})
    # the bindings came back (and only between durable entities)
    ch.basic_publish(dx, "a.b.c", b"topic")
    ch.basic_publish("amq.direct", dq, b"direct")
    ch.basic_publish(dx, "e2e.x", b"e2e")
    ch.basic_publish(dx, "t.x", b"nowhere")
    assert [b for _, _, b in _drain(ch, dq)] == [b"topic", b"direct"]
    assert [b for _, _, b in _drain(ch, dq2)] == [b"e2e"]
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        ch.queue_declare(dq, durable=True, arguments={"x-max-length": 11})
    assert ei.value.reply_code == 406
    conn.close()


def test_messages_survive_restart(mq_server):
    s = mq_server(fresh=True)
    dq, tq = unique("dq"), unique("tq")
    conn = pika_conn(s)
    ch = conn.channel()
    ch.queue_declare(dq, durable=True)
    ch.queue_declare(tq, durable=False)
    ch.confirm_delivery()
    persistent = pika.BasicProperties(delivery_mode=2,
                                      content_type="text/plain",
                                      headers={"n": 1, "s": "x"},
                                      message_id="m")
    for i in range(20):
        ch.basic_publish("", dq, b"p%d" % i, persistent)
    ch.basic_publish("", dq, b"transient",
                     pika.BasicProperties(delivery_mode=1))
    ch.basic_publish("", tq, b"in a transient queue", persistent)
    # p0..p4 acked; p5 and p6 delivered and left unacked
    for _ in range(5):
        m, _, _ = ch.basic_get(dq)
        ch.basic_ack(m.delivery_tag)
    unacked = [ch.basic_get(dq)[2] for _ in range(2)]
    assert unacked == [b"p5", b"p6"]

    s.restart()                               # with p5, p6 still unacked

    assert not _exists(s, "queue", tq)
    conn = pika_conn(s)
    ch = conn.channel()
    got = _drain(ch, dq)
    assert [b for _, _, b in got] == [b"p%d" % i for i in range(5, 20)]
    assert [m.redelivered for m, _, _ in got] == [True, True] + [False] * 13
    props = got[0][1]
    assert props.delivery_mode == 2
    assert props.content_type == "text/plain"
    assert props.headers == {"n": 1, "s": "x"}
    assert props.message_id == "m"
    conn.close()

    # what was acked just now stays acked across a second clean restart
    s.restart()
    conn = pika_conn(s)
    ch = conn.channel()
    assert ch.queue_declare(dq, passive=True).method.message_count == 0
    conn.close()


PUBLISHER = r"""
import sys, pika
port, queue, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = pika.BlockingConnection(pika.ConnectionParameters(
    "127.0.0.1", port, credentials=pika.PlainCredentials("guest", "guest")))
ch = conn.channel()
ch.confirm_delivery()
props = pika.BasicProperties(delivery_mode=2)
with open(out, "w") as f:
    i = 0
    while True:
        ch.basic_publish("", queue, b"%d" % i, props)   # returns once confirmed
        f.write("%d\n" % i)
        f.flush()
        i += 1
"""


def test_kill9_loses_no_confirmed_message(mq_server, tmp_path):
    s = mq_server(fresh=True)
    q = unique("crash")
    conn = pika_conn(s)
    conn.channel().queue_declare(q, durable=True)
    conn.close()
    # A declare-ok does not promise that the queue's record is on disk
    # (RabbitMQ writes it to Mnesia's log lazily; a kill -9 right after it
    # lost the queue once): a graceful restart settles it, so that what
    # the crash tests is the confirmed messages.
    s.restart()
    out = tmp_path / "confirmed.txt"
    pub = subprocess.Popen([PYTHON, "-c", PUBLISHER, str(s.port), q,
                            str(out)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if out.exists() and out.read_text().count("\n") >= 300:
                break
            assert pub.poll() is None, "the publisher stopped"
            time.sleep(0.05)
        s.kill9()                             # in the middle of the loop
    finally:
        try:
            pub.wait(timeout=30)              # it fails once the server is gone
        except subprocess.TimeoutExpired:
            pub.kill()
            pub.wait(timeout=30)
    confirmed = [int(x) for x in out.read_text().split("\n") if x]
    assert len(confirmed) >= 300

    s.start_again()
    conn = pika_conn(s)
    ch = conn.channel()
    got = [int(b) for _, _, b in _drain(ch, q)]
    conn.close()
    assert set(confirmed) <= set(got), sorted(set(confirmed) - set(got))[:10]
    assert len(got) == len(set(got))          # none twice
    assert got == sorted(got)                 # in publish order
    # nothing was published that the publisher did not send
    assert max(got) <= max(confirmed) + 1


def _dir_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f))
               for f in os.listdir(path) if f.startswith("msgs."))


@pytest.mark.onebox_only
def test_log_segments_are_reclaimed(mq_server):
    """The message log's segments (8 MB) go once their messages are
    acked; one long-lived message in the oldest segment does not pin the
    log (its segment is copied forward and unlinked)."""
    s = mq_server(fresh=True)
    keep, churn = unique("keep"), unique("churn")
    log_dir = os.path.join(s.data_dir, "mq")
    conn = pika_conn(s)
    ch = conn.channel()
    ch.queue_declare(keep, durable=True)
    ch.queue_declare(churn, durable=True)
    ch.confirm_delivery()
    persistent = pika.BasicProperties(delivery_mode=2)
    ch.basic_publish("", keep, b"long-lived", persistent)
    body = b"x" * 20000
    peak = 0
    for _ in range(8):                        # 8 x 2 MB through the log
        for _ in range(100):
            ch.basic_publish("", churn, body, persistent)
        peak = max(peak, _dir_bytes(log_dir))
        for _ in range(100):
            m, _, _ = ch.basic_get(churn)
            ch.basic_ack(m.delivery_tag)
    # a little more traffic so that the log notices (syncs, rolls, rewrites)
    for _ in range(60):
        ch.basic_publish("", churn, body, persistent)
        m, _, _ = ch.basic_get(churn)
        ch.basic_ack(m.delivery_tag)
    time.sleep(0.5)
    ch.basic_publish("", churn, b"tick", persistent)
    ch.basic_get(churn, auto_ack=True)
    final = _dir_bytes(log_dir)
    segments = [f for f in os.listdir(log_dir) if f.startswith("msgs.")]
    conn.close()
    assert peak > 8 << 20
    assert final < 10 << 20, (final, segments)
    assert len(segments) <= 2, segments

    s.restart()
    conn = pika_conn(s)
    ch = conn.channel()
    assert [b for _, _, b in _drain(ch, keep)] == [b"long-lived"]
    assert _drain(ch, churn) == []
    conn.close()


@pytest.mark.onebox_only
def test_log_reclaimed_after_queue_delete(mq_server):
    """Deleting a durable queue frees its messages' log segments, also
    with some of them delivered and unacked at the time."""
    s = mq_server(fresh=True)
    big, other = unique("big"), unique("other")
    log_dir = os.path.join(s.data_dir, "mq")
    conn = pika_conn(s)
    ch = conn.channel()
    ch.queue_declare(big, durable=True)
    ch.queue_declare(other, durable=True)
    ch.confirm_delivery()
    persistent = pika.BasicProperties(delivery_mode=2)
    body = b"y" * 20000
    for _ in range(600):                      # 12 MB: two segments and more
        ch.basic_publish("", big, body, persistent)
    ch.basic_publish("", other, b"survivor", persistent)
    held = [ch.basic_get(big)[0] for _ in range(3)]
    assert all(m is not None for m in held)
    assert _dir_bytes(log_dir) > 8 << 20
    ch.queue_delete(big)
    for m in held:                            # settling entries of no queue
        ch.basic_ack(m.delivery_tag)
    for _ in range(3):                        # let the log sync and collect
        ch.basic_publish("", other, b"tick", persistent)
        ch.basic_get(other, auto_ack=False)
        time.sleep(0.1)
    conn.close()
    segments = [f for f in os.listdir(log_dir) if f.startswith("msgs.")]
    assert len(segments) <= 2, segments
    assert _dir_bytes(log_dir) < 4 << 20

    s.restart()
    assert not _exists(s, "queue", big)
    conn = pika_conn(s)
    ch = conn.channel()
    got = [b for _, _, b in _drain(ch, other)]
    assert got[0] == b"survivor"
    conn.close()


def _publish_and_stop(server, queue, count):
    """Declares the durable queue, publishes b"m0".. persistent with
    confirms, and stops the server gracefully: the names of the message
    log's segments, sorted."""
    conn = pika_conn(server)
    ch = conn.channel()
    ch.queue_declare(queue, durable=True)
    ch.confirm_delivery()
    for i in range(count):
        ch.basic_publish("", queue, b"m%d" % i,
                         pika.BasicProperties(delivery_mode=2))
    conn.close()
    server.stop_gracefully()
    log_dir = os.path.join(server.data_dir, "mq")
    return sorted(f for f in os.listdir(log_dir) if f.startswith("msgs."))


@pytest.mark.onebox_only
def test_torn_log_tail_is_cut(mq_server):
    """A torn write at the end of the log (garbage after the last record)
    and a damaged last record are cut off at start-up with a warning;
    what came before is restored."""
    s = mq_server(fresh=True)
    q = unique("torn")
    log_dir = os.path.join(s.data_dir, "mq")
    segments = _publish_and_stop(s, q, 5)
    last = os.path.join(log_dir, [f for f in segments
                                  if os.path.getsize(os.path.join(log_dir, f))
                                  > 0][-1])
    with open(last, "r+b") as f:
        data = f.read()
        f.seek(len(data) - 3)                 # inside m4's enqueue record
        f.write(bytes(b ^ 0xff for b in data[-3:]))
        f.write(b"\x07\x00\x00")               # and a torn record after it
    s.start_again()
    conn = pika_conn(s)
    ch = conn.channel()
    assert [b for _, _, b in _drain(ch, q)] == [b"m0", b"m1", b"m2", b"m3"]
    conn.close()
    assert "cutting the segment there" in s.output()


def _records(data):
    """The message log's records of one segment: [(type, raw bytes)]."""
    out, off = [], 0
    while off + 9 <= len(data):
        n = int.from_bytes(data[off + 4:off + 8], "little")
        out.append((data[off + 8], data[off:off + 9 + n]))
        off += 9 + n
    return out


@pytest.mark.onebox_only
def test_split_copy_is_rehomed(mq_server):
    """A copy forward cut short by a crash (a message's MSG record in a
    newer segment, some of its entries' ENQ records only in the older
    one): the start-up writes the message whole into the new head, so
    that it survives the older segment's deletion once the others in it
    are acked."""
    s = mq_server(fresh=True)
    q = unique("split")
    log_dir = os.path.join(s.data_dir, "mq")
    segments = _publish_and_stop(s, q, 3)
    data = open(os.path.join(log_dir, segments[-1]), "rb").read()
    msg_records = [raw for t, raw in _records(data) if t == 1]
    assert len(msg_records) == 3
    # the cut copy: m0's MSG record alone in a newer segment
    newer = "msgs.%010d" % (int(segments[-1][5:]) + 1)
    with open(os.path.join(log_dir, newer), "wb") as f:
        f.write(msg_records[0])
    s.start_again()
    conn = pika_conn(s)
    ch = conn.channel()
    got = [ch.basic_get(q) for _ in range(3)]
    assert [b for _, _, b in got] == [b"m0", b"m1", b"m2"]
    for m, _, _ in got[1:]:                   # the old segment empties
        ch.basic_ack(m.delivery_tag)
    ch.basic_nack(got[0][0].delivery_tag, requeue=True)
    conn.close()
    s.restart()
    conn = pika_conn(s)
    ch = conn.channel()
    got = _drain(ch, q)
    assert [b for _, _, b in got] == [b"m0"]
    assert got[0][0].redelivered
    conn.close()
