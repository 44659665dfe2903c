"""Message rates: the management plugin's basic rates (message_stats'
<counter>_details.rate in /api/overview) on both targets, and the same
rates in onebox's /stats.  A steady publisher and consumer run for a few
seconds; the rates must then be positive and of the order of what they
sent (RabbitMQ averages over its sample window, onebox over 5 s).
"""
import json
import threading
import time

import pytest

from mqtest import pika_conn, unique
from obtest import http_get


def _steady_traffic(server, qname, seconds, per_second=200):
    """Publishes per_second messages a second to qname and consumes them
    with acks, for `seconds`; returns how many went through."""
    conn = pika_conn(server)
    ch = conn.channel()
    ch.queue_declare(qname)
    sent = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(per_second // 10):
            ch.basic_publish("", qname, b"rate")
            sent += 1
        while True:
            method, _, _ = ch.basic_get(qname)
            if method is None:
                break
            ch.basic_ack(method.delivery_tag)
        conn.process_data_events(time_limit=0.1)
    conn.close()
    return sent


def _rates_seen(doc):
    ms = doc.get("message_stats", {})
    return {k: ms.get(k + "_details", {}).get("rate", 0.0)
            for k in ("publish", "ack")}


def test_overview_has_basic_rates(mq):
    api = mq.api()
    seen = {}
    done = threading.Event()
    qname = unique("rates")

    def sample():
        while not done.is_set():
            rates = _rates_seen(api.get("/api/overview"))
            for k, v in rates.items():
                seen[k] = max(seen.get(k, 0.0), v)
            time.sleep(0.2)

    t = threading.Thread(target=sample)
    t.start()
    try:
        sent = _steady_traffic(mq, qname, 6)
    finally:
        done.set()
        t.join()
    assert sent > 500
    doc = api.get("/api/overview")
    assert doc["rates_mode"] == "basic"
    # ~200 messages a second went through; the rates show that order.
    assert 20 < seen["publish"] < 2000, seen
    assert 20 < seen["ack"] < 2000, seen


@pytest.mark.onebox_only
def test_stats_show_rates_and_depth(mq):
    qname = unique("depth")
    sent = _steady_traffic(mq, qname, 3)
    assert sent > 300
    conn = pika_conn(mq)
    ch = conn.channel()
    for _ in range(7):
        ch.basic_publish("", qname, b"left")
    conn.close()
    status, _, body = http_get(mq.api_port, "/stats")
    assert status == 200
    section = json.loads(body)["modules"]["mq"]
    assert section["messages_ready"] == 7
    assert section["queues"] == 1
    assert section["published"] == sent + 7
    assert section["publish_rate"] > 20, section
    assert section["ack_rate"] > 20, section
    assert section["deliver_get_rate"] > 20, section
