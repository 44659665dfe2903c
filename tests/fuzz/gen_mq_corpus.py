#!/usr/bin/python3
"""Writes the seed inputs of fuzz_mq_requests (tests/fuzz/corpus/
mq_requests/): whole AMQP 0-9-1 client sessions as raw bytes, so that the
fuzzer starts from inputs that get past the handshake and reach the
broker's deeper states (content assembly, deliveries, acks, confirms,
transactions, queue arguments, exchange routing), plus a few broken ones.

    /usr/bin/python3 tests/fuzz/gen_mq_corpus.py

Each session is what a client would send with no reply awaited: protocol
header, start-ok (PLAIN guest/guest), tune-ok, connection.open,
channel.open, ... , connection.close.  The delivery tags acked are the
ones the broker gives (1, 2 ...), since basic.get and deliveries on one
channel number from 1.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "mq_requests")


def shortstr(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack(">B", len(s)) + s


def longstr(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(s)) + s


def table(d):
    out = b""
    for k, v in d.items():
        out += shortstr(k)
        if isinstance(v, bool):
            out += b"t" + struct.pack(">B", v)
        elif isinstance(v, int):
            out += b"I" + struct.pack(">i", v)
        elif isinstance(v, dict):
            out += b"F" + table(v)
        elif isinstance(v, list):
            items = b"".join(b"S" + longstr(x) for x in v)
            out += b"A" + longstr(items)
        else:
            out += b"S" + longstr(v)
    return longstr(out)


def frame(ftype, ch, payload):
    return struct.pack(">BHI", ftype, ch, len(payload)) + payload + b"\xce"


def method(ch, cls, mid, args=b""):
    return frame(1, ch, struct.pack(">HH", cls, mid) + args)


def props(headers=None, delivery_mode=None, priority=None, expiration=None,
          content_type=None):
    flags, out = 0, b""
    if content_type is not None:
        flags |= 1 << 15
        out += shortstr(content_type)
    if headers is not None:
        flags |= 1 << 13
        out += table(headers)
    if delivery_mode is not None:
        flags |= 1 << 12
        out += struct.pack(">B", delivery_mode)
    if priority is not None:
        flags |= 1 << 11
        out += struct.pack(">B", priority)
    if expiration is not None:
        flags |= 1 << 8
        out += shortstr(expiration)
    return flags, out


def publish(ch, exchange, key, body, mandatory=False, **p):
    flags, plist = props(**p)
    out = method(ch, 60, 40, struct.pack(">H", 0) + shortstr(exchange)
                 + shortstr(key) + struct.pack(">B", mandatory))
    out += frame(2, ch, struct.pack(">HHQH", 60, 0, len(body), flags) + plist)
    if body:
        out += frame(3, ch, body)
    return out


HEADER = b"AMQP\x00\x00\x09\x01"
START_OK = method(0, 10, 11, table({"product": "fuzz",
                                     "capabilities": {
                                         "publisher_confirms": True,
                                         "consumer_cancel_notify": True,
                                         "connection.blocked": True}})
                  + shortstr("PLAIN") + longstr(b"\0guest\0guest")
                  + shortstr("en_US"))
TUNE_OK = method(0, 10, 31, struct.pack(">HIH", 2047, 131072, 0))
OPEN = method(0, 10, 40, shortstr("/") + shortstr("") + b"\x01")
CH_OPEN = method(1, 20, 10, shortstr(""))
CLOSE = method(0, 10, 50, struct.pack(">H", 200) + shortstr("bye")
               + struct.pack(">HH", 0, 0))
LOGIN = HEADER + START_OK + TUNE_OK + OPEN + CH_OPEN


def queue_declare(ch, name, durable=False, exclusive=False,
                  auto_delete=False, args=None):
    bits = durable << 1 | exclusive << 2 | auto_delete << 3
    return method(ch, 50, 10, struct.pack(">H", 0) + shortstr(name)
                  + struct.pack(">B", bits) + table(args or {}))


def exchange_declare(ch, name, kind, durable=False):
    return method(ch, 40, 10, struct.pack(">H", 0) + shortstr(name)
                  + shortstr(kind) + struct.pack(">B", durable << 1)
                  + table({}))


def queue_bind(ch, queue, exchange, key, args=None):
    return method(ch, 50, 20, struct.pack(">H", 0) + shortstr(queue)
                  + shortstr(exchange) + shortstr(key) + b"\x00"
                  + table(args or {}))


def get(ch, queue, no_ack=False):
    return method(ch, 60, 70, struct.pack(">H", 0) + shortstr(queue)
                  + struct.pack(">B", no_ack))


def ack(ch, tag, multiple=False):
    return method(ch, 60, 80, struct.pack(">QB", tag, multiple))


def nack(ch, tag, multiple=False, requeue=True):
    return method(ch, 60, 120, struct.pack(">QB", tag,
                                           multiple | requeue << 1))


def consume(ch, queue, tag="c1", no_ack=False, exclusive=False):
    return method(ch, 60, 20, struct.pack(">H", 0) + shortstr(queue)
                  + shortstr(tag) + struct.pack(">B", no_ack << 1
                                                 | exclusive << 2)
                  + table({}))


def cancel(ch, tag):
    return method(ch, 60, 30, shortstr(tag) + b"\x00")


def qos(ch, count, is_global=False):
    return method(ch, 60, 10, struct.pack(">IHB", 0, count, is_global))


SEEDS = {
    # the session of the brief: declare, publish, get, ack, consume, close
    "basic_session": LOGIN + queue_declare(1, "fq")
    + publish(1, "", "fq", b"hello") + get(1, "fq") + ack(1, 1)
    + publish(1, "", "fq", b"again") + consume(1, "fq")
    + ack(1, 2) + cancel(1, "c1") + CLOSE,

    "confirms_mandatory": LOGIN + method(1, 85, 10, b"\x00")
    + queue_declare(1, "fc") + publish(1, "", "fc", b"x", mandatory=True)
    + publish(1, "", "nowhere", b"y", mandatory=True)
    + publish(1, "amq.direct", "k", b"z") + CLOSE,

    "tx": LOGIN + method(1, 90, 10) + queue_declare(1, "ft")
    + publish(1, "", "ft", b"1") + method(1, 90, 20)
    + publish(1, "", "ft", b"2") + method(1, 90, 30)
    + get(1, "ft") + ack(1, 1) + method(1, 90, 20) + CLOSE,

    "topic_routing": LOGIN + exchange_declare(1, "fx", "topic")
    + queue_declare(1, "", exclusive=True)
    + queue_bind(1, "", "fx", "a.*.c") + queue_bind(1, "", "fx", "#.z")
    + publish(1, "fx", "a.b.c", b"t1") + publish(1, "fx", "y.z", b"t2")
    + consume(1, "", no_ack=True) + CLOSE,

    "headers_exchange": LOGIN + exchange_declare(1, "fh", "headers")
    + queue_declare(1, "fhq")
    + queue_bind(1, "fhq", "fh", "", {"x-match": "any", "a": "1", "b": 2})
    + publish(1, "fh", "", b"h", headers={"a": "1", "list": ["p", "q"]})
    + get(1, "fhq", no_ack=True) + CLOSE,

    "queue_arguments": LOGIN + exchange_declare(1, "fdlx", "fanout")
    + queue_declare(1, "fdead") + queue_bind(1, "fdead", "fdlx", "")
    + queue_declare(1, "fargs", args={"x-max-length": 2,
                                      "x-message-ttl": 1,
                                      "x-dead-letter-exchange": "fdlx",
                                      "x-max-priority": 5})
    + publish(1, "", "fargs", b"p1", priority=3)
    + publish(1, "", "fargs", b"p2", expiration="0")
    + publish(1, "", "fargs", b"p3", priority=9)
    + get(1, "fargs") + nack(1, 1, requeue=False) + get(1, "fdead")
    + CLOSE,

    "prefetch_requeue": LOGIN + qos(1, 1) + queue_declare(1, "fp")
    + publish(1, "", "fp", b"a") + publish(1, "", "fp", b"b")
    + consume(1, "fp") + nack(1, 1, requeue=True)
    + method(1, 60, 110, b"\x01") + method(1, 20, 40,
                                           struct.pack(">H", 200)
                                           + shortstr("") + b"\0\0\0\0")
    + CLOSE,

    "durable": LOGIN + queue_declare(1, "fdur", durable=True)
    + publish(1, "", "fdur", b"persist", delivery_mode=2,
              content_type="text/plain")
    + get(1, "fdur") + ack(1, 1)
    + method(1, 50, 40, struct.pack(">H", 0) + shortstr("fdur") + b"\x00")
    + CLOSE,

    "multi_frame_body": LOGIN + queue_declare(1, "fm")
    + method(1, 60, 40, struct.pack(">H", 0) + shortstr("")
             + shortstr("fm") + b"\x00")
    + frame(2, 1, struct.pack(">HHQH", 60, 0, 10, 0))
    + frame(3, 1, b"01234") + frame(3, 1, b"56789")
    + frame(8, 0, b"") + get(1, "fm", no_ack=True) + CLOSE,

    "errors": LOGIN + method(1, 50, 10, struct.pack(">H", 0) + shortstr("nope") + b"\x01"
             + table({}))
    + method(1, 20, 41) + CH_OPEN + ack(1, 99) + CLOSE,

    "bad_header": b"AMQP\x01\x01\x00\x09",
    "header_only": HEADER,
    "bad_frame_end": HEADER + START_OK[:-1] + b"\x00",
    "unopened_channel": HEADER + START_OK + TUNE_OK + OPEN
    + queue_declare(5, "x"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
