"""The broker through rabbitmq-c 0.11's command-line tools (Debian's
amqp-tools): amqp-declare-queue, amqp-publish, amqp-get, amqp-consume and
amqp-delete-queue, their output and exit codes, and the errors they print
from the broker's replies (RabbitMQ's texts)."""
import subprocess
import time

import pytest

from mqtest import amqp_tool, have_tools, pika_conn, unique

pytestmark = pytest.mark.skipif(not have_tools(), reason="no amqp-tools")


def ok(result):
    assert result.returncode == 0, (result.returncode, result.stderr)
    return result.stdout


@pytest.fixture
def ch(mq):
    """A pika channel in confirm mode: its publishes are in their queues
    when basic_publish returns (RabbitMQ routes them asynchronously
    otherwise, and a count read at once may lag)."""
    conn = pika_conn(mq)
    channel = conn.channel()
    channel.confirm_delivery()
    yield channel
    conn.close()


def consumers(ch, name):
    return ch.queue_declare(name, passive=True).method.consumer_count


def wait_consumers(ch, name, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if consumers(ch, name) == n:
                return ch
        except Exception:
            # The queue is not declared yet: the passive declare closed
            # the channel; take a new one.
            ch = ch.connection.channel()
        assert time.monotonic() < deadline, "no consumer on %s" % name
        time.sleep(0.02)


def test_declare_queue(mq, ch):
    name = unique("q")
    assert ok(amqp_tool(mq, "declare-queue", "-q", name)) == \
        name.encode() + b"\n"
    # Declaring again is fine.
    assert ok(amqp_tool(mq, "declare-queue", "-q", name)) == \
        name.encode() + b"\n"
    ok_frame = ch.queue_declare(name, passive=True).method
    assert (ok_frame.message_count, ok_frame.consumer_count) == (0, 0)
    # Not durable: a durable redeclare is refused.
    r = amqp_tool(mq, "declare-queue", "-q", name, "-d")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "queue.declare: server channel error 406, message: "
        "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in "
        "vhost '/': received 'true' but current is 'false'" % name)


def test_declare_durable_queue(mq, ch):
    name = unique("q")
    ok(amqp_tool(mq, "declare-queue", "-q", name, "-d"))
    ch.queue_declare(name, durable=True)        # equivalent: no error
    r = amqp_tool(mq, "declare-queue", "-q", name)
    assert r.returncode == 1
    assert b"received 'false' but current is 'true'" in r.stderr


def test_publish_options_and_get(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    ok(amqp_tool(mq, "publish", "-r", name, "-b", "hello", "-p",
                 "-C", "text/plain", "-E", "utf-8", "-t", "replies",
                 "-H", "k1: v1", "-H", "k2: two words"))
    ok(amqp_tool(mq, "publish", "-r", name, "-b", "plain"))
    method, props, body = ch.basic_get(name, auto_ack=True)
    assert body == b"hello"
    assert props.delivery_mode == 2
    assert props.content_type == "text/plain"
    assert props.content_encoding == "utf-8"
    assert props.reply_to == "replies"
    assert props.headers == {"k1": "v1", "k2": "two words"}
    method, props, body = ch.basic_get(name, auto_ack=True)
    assert body == b"plain"
    assert props.delivery_mode == 1
    assert props.headers is None


def test_publish_body_from_stdin(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    data = bytes(range(256)) * 1024         # 256 KiB, several frames
    ok(amqp_tool(mq, "publish", "-r", name, input=data))
    assert ch.basic_get(name, auto_ack=True)[2] == data


def test_publish_lines(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    lines = "".join("line %d\n" % i for i in range(100))
    ok(amqp_tool(mq, "publish", "-r", name, "-l", input=lines))
    assert ch.queue_declare(name, passive=True).method.message_count == 100
    got = [ch.basic_get(name, auto_ack=True)[2] for _ in range(100)]
    # Each message keeps its newline.
    assert got == [b"line %d\n" % i for i in range(100)]


def test_publish_through_an_exchange(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    ch.queue_bind(name, "amq.topic", "a.*")
    ok(amqp_tool(mq, "publish", "-e", "amq.topic", "-r", "a.b", "-b", "t"))
    ok(amqp_tool(mq, "publish", "-e", "amq.topic", "-r", "b.b", "-b", "x"))
    method, _, body = ch.basic_get(name, auto_ack=True)
    assert (method.exchange, method.routing_key, body) == \
        ("amq.topic", "a.b", b"t")
    assert method.message_count == 0


def test_publish_to_missing_exchange(mq):
    r = amqp_tool(mq, "publish", "-e", "no-such-exchange", "-r", "k",
                  "-b", "x")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "closing channel: server channel error 404, message: NOT_FOUND - "
        "no exchange 'no-such-exchange' in vhost '/'")


def test_get(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    ch.basic_publish("", name, b"first")
    ch.basic_publish("", name, b"")
    assert ok(amqp_tool(mq, "get", "-q", name)) == b"first"
    assert ok(amqp_tool(mq, "get", "-q", name)) == b""
    r = amqp_tool(mq, "get", "-q", name)
    assert (r.returncode, r.stdout) == (2, b"")


def test_get_from_missing_queue(mq):
    r = amqp_tool(mq, "get", "-q", "no-such-queue")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "basic.get: server channel error 404, message: NOT_FOUND - no queue "
        "'no-such-queue' in vhost '/'")


def test_consume_count_with_prefetch(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    for i in range(5):
        ch.basic_publish("", name, b"m%d;" % i)
    out = ok(amqp_tool(mq, "consume", "-q", name, "-c", "3", "-p", "1",
                       "cat"))
    assert out == b"m0;m1;m2;"
    # The three were acked; the rest stay (m3 may have been delivered
    # before the tool closed, and then comes back redelivered).
    method, _, body = ch.basic_get(name, auto_ack=True)
    assert (body, method.message_count) == (b"m3;", 1)


def test_consume_runs_the_command_per_message(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    for word in (b"alpha", b"beta"):
        ch.basic_publish("", name, word)
    out = ok(amqp_tool(mq, "consume", "-q", name, "-c", "2", "--",
                       "sh", "-c", "printf '<%s>' \"$(cat)\""))
    assert out == b"<alpha><beta>"
    assert ch.queue_declare(name, passive=True).method.message_count == 0


def test_consume_no_ack(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    ch.basic_publish("", name, b"x")
    ch.basic_publish("", name, b"y")
    assert ok(amqp_tool(mq, "consume", "-q", name, "-A", "-c", "1",
                        "cat")) == b"x"
    # No acks: both were delivered at once and the tool took them both
    # off the queue, although it printed one.
    assert ch.basic_get(name, auto_ack=True) == (None, None, None)


def test_consume_declares_and_binds(mq, ch):
    """With -e and -r, amqp-consume declares its queue (auto-delete) and
    binds it; once it has gone the queue goes too."""
    name = unique("q")
    key = unique("k")
    proc = subprocess.Popen(
        ["amqp-consume", "-s", mq.host, "--port", str(mq.port), "-q", name,
         "-e", "amq.direct", "-r", key, "-c", "2", "cat"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ch = wait_consumers(ch, name, 1)
        ch.basic_publish("amq.direct", key, b"one,")
        ch.basic_publish("amq.direct", "other", b"lost,")
        ch.basic_publish("amq.direct", key, b"two")
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out == b"one,two"
    deadline = time.monotonic() + 10
    while True:
        try:
            ch.queue_declare(name, passive=True)
        except Exception:
            break
        assert time.monotonic() < deadline, "auto-delete queue stayed"
        time.sleep(0.02)
        ch = ch.connection.channel() if not ch.is_open else ch


def test_delete_queue(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    for _ in range(3):
        ch.basic_publish("", name, b"x")
    assert ch.queue_declare(name, passive=True).method.message_count == 3
    assert ok(amqp_tool(mq, "delete-queue", "-q", name)) == b"3\n"
    # A missing queue deletes fine, with 0 messages.
    assert ok(amqp_tool(mq, "delete-queue", "-q", name)) == b"0\n"


def test_delete_queue_if_empty(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    ch.basic_publish("", name, b"x")
    assert ch.queue_declare(name, passive=True).method.message_count == 1
    r = amqp_tool(mq, "delete-queue", "-q", name, "--if-empty")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "queue.delete: server channel error 406, message: "
        "PRECONDITION_FAILED - queue '%s' in vhost '/' not empty" % name)
    ch.basic_get(name, auto_ack=True)
    assert ok(amqp_tool(mq, "delete-queue", "-q", name, "--if-empty")) == \
        b"0\n"


def test_delete_queue_if_unused(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    tag = ch.basic_consume(name, lambda *a: None)
    r = amqp_tool(mq, "delete-queue", "-q", name, "--if-unused")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "queue.delete: server channel error 406, message: "
        "PRECONDITION_FAILED - queue '%s' in vhost '/' in use" % name)
    ch.basic_cancel(tag)
    assert ok(amqp_tool(mq, "delete-queue", "-q", name, "--if-unused")) == \
        b"0\n"


def test_url_forms(mq):
    name = unique("q")
    base = "amqp://guest:guest@%s:%d" % (mq.host, mq.port)
    for url in (base, base + "/%2F", base + "/%2f"):
        r = subprocess.run(["amqp-declare-queue", "--url", url, "-q", name],
                           capture_output=True, timeout=20)
        assert (r.returncode, r.stdout) == (0, name.encode() + b"\n"), r
    # A trailing slash is the vhost "".
    r = subprocess.run(["amqp-declare-queue", "--url", base + "/", "-q",
                        name], capture_output=True, timeout=20)
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "logging in to AMQP server: server connection error 530, message: "
        "NOT_ALLOWED - vhost  not found")


def test_bad_password(mq):
    r = amqp_tool(mq, "declare-queue", "-q", unique("q"), password="bad")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "logging in to AMQP server: server connection error 403, message: "
        "ACCESS_REFUSED - Login was refused using authentication mechanism "
        "PLAIN. For details see the broker logfile.")


def test_tools_with_heartbeat(mq, ch):
    name = unique("q")
    ch.queue_declare(name)
    ok(amqp_tool(mq, "publish", "--heartbeat", "5", "-r", name, "-b", "hb"))
    assert ok(amqp_tool(mq, "get", "--heartbeat", "5", "-q", name)) == b"hb"


def test_large_messages_through_the_tools(mq, ch):
    """rabbitmq-c refuses any frame over its frame_max (131072): a 1 MiB
    body must come in frames that fit."""
    name = unique("q")
    ch.queue_declare(name)
    data = bytes(range(256)) * 4096
    ok(amqp_tool(mq, "publish", "-r", name, input=data))
    ch.basic_publish("", name, data[::-1])
    assert ok(amqp_tool(mq, "get", "-q", name)) == data
    out = ok(amqp_tool(mq, "consume", "-q", name, "-c", "1", "--",
                       "sh", "-c", "cat | wc -c"))
    assert out.strip() == str(len(data)).encode()
