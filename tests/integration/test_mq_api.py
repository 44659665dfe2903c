"""The broker's management API (/api/...): the paths, fields, JSON types
and values of RabbitMQ 3.10's management plugin, read after driving the
broker with pika.  Runs against onebox and (--target real) rabbitmq-server
with the management plugin.

RabbitMQ refreshes its figures every collect_statistics_interval, so counts
are polled until they settle (with a deadline), never slept for.
"""
import base64
import json
import time
import urllib.error
import urllib.request

import pytest

from mqtest import pika_conn, q, unique

VH = q("/")


def wait_for(fetch, check, timeout=15):
    """Calls fetch() until check(result) is true; returns the last result
    (the assertion that follows shows what it was)."""
    deadline = time.monotonic() + timeout
    while True:
        doc = fetch()
        try:
            if check(doc):
                return doc
        except (KeyError, TypeError, IndexError):
            pass
        if time.monotonic() > deadline:
            return doc
        time.sleep(0.05)


def raw_get(port, path, auth=None):
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(
            auth.encode()).decode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def find(docs, **match):
    for d in docs:
        if all(d.get(k) == v for k, v in match.items()):
            return d
    return None


# --- login and errors -------------------------------------------------------

def test_login_required(mq):
    status, headers, body = raw_get(mq.api_port, "/api/overview")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="RabbitMQ Management"'
    assert body == b""

    status, _, body = raw_get(mq.api_port, "/api/queues", "guest:wrong")
    assert status == 401
    assert json.loads(body) == {"error": "not_authorized",
                                "reason": "Login failed"}

    status, _, body = raw_get(mq.api_port, "/api/queues", "nobody:guest")
    assert status == 401
    assert json.loads(body)["error"] == "not_authorized"

    status, _, body = raw_get(mq.api_port, "/api/queues", "guest:guest")
    assert status == 200
    assert isinstance(json.loads(body), list)


def test_whoami(mq):
    me = mq.api().get("/api/whoami")
    assert me["name"] == "guest"
    assert "administrator" in me["tags"]


@pytest.mark.parametrize("path", [
    "/api/queues/%2F/no-such-queue",
    "/api/queues/no-such-vhost",
    "/api/exchanges/%2F/no-such-exchange",
    "/api/exchanges/no-such-vhost",
    "/api/vhosts/no-such-vhost",
    "/api/no-such-thing",
])
def test_not_found(mq, path):
    status, body = mq.api().request("GET", path)
    assert status == 404
    assert body == {"error": "Object Not Found", "reason": "Not Found"}


def test_method_not_allowed(mq):
    status, _ = mq.api().request("POST", "/api/overview", body={})
    assert status == 405


# --- overview, vhosts -------------------------------------------------------

def test_overview(mq):
    api = mq.api()
    base = api.get("/api/overview")
    for key in ("management_version", "rabbitmq_version", "product_name",
                "product_version", "node", "cluster_name"):
        assert isinstance(base[key], str) and base[key], key
    assert base["management_version"].startswith("3.")
    names = sorted(t["name"] for t in base["exchange_types"])
    assert names == ["direct", "fanout", "headers", "topic"]

    qname = unique("ov")
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        ch.queue_declare(qname)
        ch.confirm_delivery()
        for i in range(3):
            ch.basic_publish("", qname, b"m%d" % i)
        ch.basic_publish("", unique("nowhere"), b"x")

        def settled(doc):
            return (doc["object_totals"]["queues"] == 1
                    and doc["object_totals"]["connections"] == 1
                    and doc["object_totals"]["channels"] == 1
                    and doc["queue_totals"]["messages"] == 3
                    and doc["message_stats"]["publish"]
                    - base.get("message_stats", {}).get("publish", 0) == 4)
        doc = wait_for(lambda: api.get("/api/overview"), settled)
        totals = doc["object_totals"]
        assert totals["queues"] == 1
        assert totals["connections"] == 1
        assert totals["channels"] == 1
        assert totals["consumers"] == 0
        # the seven predeclared exchanges of "/"
        assert totals["exchanges"] == 7
        assert doc["queue_totals"]["messages"] == 3
        assert doc["queue_totals"]["messages_ready"] == 3
        assert doc["queue_totals"]["messages_unacknowledged"] == 0
        stats = doc["message_stats"]
        old = base.get("message_stats", {})
        assert stats["publish"] - old.get("publish", 0) == 4
        assert stats["confirm"] - old.get("confirm", 0) == 4
        assert stats["drop_unroutable"] - old.get("drop_unroutable", 0) == 1
        assert doc["node"] == api.get("/api/queues/%s/%s"
                                      % (VH, q(qname)))["node"]
    finally:
        conn.close()


def test_vhosts(mq):
    api = mq.api()
    vhosts = api.get("/api/vhosts")
    assert [v["name"] for v in vhosts] == ["/"]
    one = api.get("/api/vhosts/%2F")
    assert one["name"] == "/"
    assert one["tracing"] is False
    assert isinstance(one["description"], str)
    assert one["tags"] == []


# --- queues -----------------------------------------------------------------

def test_queue_fields(mq):
    api = mq.api()
    qname = unique("fields")
    args = {"x-max-length": 100, "x-message-ttl": 60000,
            "x-dead-letter-exchange": "dlx-" + qname,
            "x-custom": {"a": [1, "b", True]}}
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        ch.queue_declare(qname, durable=True, arguments=args)
        ch.confirm_delivery()
        for i in range(10):
            ch.basic_publish("", qname, b"x" * 10)
        got = []
        ch2 = conn.channel()
        ch2.basic_qos(prefetch_count=4)
        ch2.basic_consume(qname, lambda c, m, p, b: got.append(m),
                          auto_ack=False, consumer_tag="ctag-" + qname)
        deadline = time.monotonic() + 10
        while len(got) < 4 and time.monotonic() < deadline:
            conn.process_data_events(0.05)
        assert len(got) == 4

        path = "/api/queues/%s/%s" % (VH, q(qname))
        doc = wait_for(lambda: api.get(path),
                       lambda d: d["messages"] == 10
                       and d["messages_unacknowledged"] == 4
                       and d["consumers"] == 1
                       and d["message_stats"]["deliver_get"] == 4)
        assert doc["name"] == qname
        assert doc["vhost"] == "/"
        assert doc["durable"] is True
        assert doc["auto_delete"] is False
        assert doc["exclusive"] is False
        assert doc["arguments"] == args
        assert doc["state"] == "running"
        assert doc["type"] == "classic"
        assert doc["messages"] == 10
        assert doc["messages_ready"] == 6
        assert doc["messages_unacknowledged"] == 4
        assert doc["consumers"] == 1
        assert doc["message_bytes"] == 100
        assert doc["message_bytes_ready"] == 60
        assert doc["message_bytes_unacknowledged"] == 40
        assert doc["message_stats"]["publish"] == 10
        assert doc["message_stats"]["deliver_get"] == 4
        assert doc["message_stats"]["ack"] == 0
        details = doc["consumer_details"]
        assert len(details) == 1
        assert details[0]["consumer_tag"] == "ctag-" + qname
        assert details[0]["ack_required"] is True
        assert details[0]["prefetch_count"] == 4

        # acks show up too
        ch2.basic_ack(got[-1].delivery_tag, multiple=True)
        doc = wait_for(lambda: api.get(path),
                       lambda d: d["message_stats"]["ack"] == 4
                       and d["messages"] == 10 - 4 + 0
                       and d["messages_unacknowledged"] == 4)
        assert doc["message_stats"]["ack"] == 4
        # four more went out once the first four were acked
        assert doc["messages_unacknowledged"] == 4
        assert doc["messages"] == 6
    finally:
        conn.close()

    # the listing holds the same queue, and /api/queues/%2F too
    listed = find(api.get("/api/queues"), name=qname)
    assert listed is not None and listed["vhost"] == "/"
    assert listed["durable"] is True
    assert find(api.get("/api/queues/%2F"), name=qname) is not None


def test_queue_exclusive_auto_delete(mq):
    api = mq.api()
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        name = ch.queue_declare("", exclusive=True).method.queue
        assert name.startswith("amq.gen-")
        doc = api.get("/api/queues/%s/%s" % (VH, q(name)))
        assert doc["exclusive"] is True
        assert doc["auto_delete"] is False     # as declared
        assert doc["durable"] is False
        assert doc["arguments"] == {}
    finally:
        conn.close()
    # gone with its connection
    status = wait_for(
        lambda: api.request("GET", "/api/queues/%s/%s" % (VH, q(name)))[0],
        lambda s: s == 404)
    assert status == 404


def test_columns(mq):
    api = mq.api()
    qname = unique("cols")
    conn = pika_conn(mq)
    try:
        conn.channel().queue_declare(qname)
        rows = api.get("/api/queues?columns=name,vhost")
        assert {"name": qname, "vhost": "/"} in rows
        assert all(set(r) <= {"name", "vhost"} for r in rows)
    finally:
        conn.close()


# --- exchanges and bindings -------------------------------------------------

def test_exchanges(mq):
    api = mq.api()
    xname = unique("ex")
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        ch.exchange_declare(xname, "topic", durable=False,
                            arguments={"alternate-exchange": "ae"})
        docs = api.get("/api/exchanges/%2F")
        default = find(docs, name="")
        assert default is not None
        assert default["type"] == "direct"
        assert default["durable"] is True
        names = {d["name"] for d in docs}
        assert {"amq.direct", "amq.fanout", "amq.topic", "amq.headers",
                "amq.match", "amq.rabbitmq.trace", xname} <= names
        assert find(docs, name="amq.rabbitmq.trace")["internal"] is True
        assert find(docs, name="amq.match")["type"] == "headers"

        mine = api.get("/api/exchanges/%s/%s" % (VH, q(xname)))
        assert mine["name"] == xname
        assert mine["vhost"] == "/"
        assert mine["type"] == "topic"
        assert mine["durable"] is False
        assert mine["auto_delete"] is False
        assert mine["internal"] is False
        assert mine["arguments"] == {"alternate-exchange": "ae"}

        assert api.get("/api/exchanges/%2F/amq.default")["name"] == ""
        assert find(api.get("/api/exchanges"), name=xname) is not None
    finally:
        conn.close()


def test_bindings(mq):
    api = mq.api()
    qname, xname = unique("bq"), unique("bx")
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        ch.queue_declare(qname)
        ch.exchange_declare(xname, "direct")
        ch.queue_bind(qname, xname, "x y/z")
        ch.queue_bind(qname, "amq.topic", "a.#", arguments={"k": "v"})

        docs = [b for b in api.get("/api/bindings/%2F")
                if b["destination"] == qname]
        assert len(docs) == 3
        implicit = find(docs, source="")
        assert implicit == {"source": "", "vhost": "/",
                            "destination": qname,
                            "destination_type": "queue",
                            "routing_key": qname, "arguments": {},
                            "properties_key": qname}
        plain = find(docs, source=xname)
        assert plain["routing_key"] == "x y/z"
        assert plain["properties_key"] == "x+y%2Fz"
        assert plain["destination_type"] == "queue"
        assert plain["arguments"] == {}
        topic = find(docs, source="amq.topic")
        assert topic["routing_key"] == "a.#"
        assert topic["arguments"] == {"k": "v"}
        assert topic["properties_key"].startswith("a.%23~")

        per_queue = api.get("/api/queues/%s/%s/bindings" % (VH, q(qname)))
        assert sorted(b["source"] for b in per_queue) \
            == sorted(["", xname, "amq.topic"])
        src = api.get("/api/exchanges/%s/%s/bindings/source"
                      % (VH, q(xname)))
        assert [b["destination"] for b in src] == [qname]
        between = api.get("/api/bindings/%s/e/%s/q/%s"
                          % (VH, q(xname), q(qname)))
        assert [b["routing_key"] for b in between] == ["x y/z"]
        assert find(api.get("/api/bindings"), source=xname) is not None
    finally:
        conn.close()


# --- connections, channels, consumers ---------------------------------------

def test_connections_channels_consumers(mq):
    api = mq.api()
    qname = unique("cc")
    conn = pika_conn(mq, heartbeat=30)
    try:
        ch = conn.channel()
        ch.queue_declare(qname)
        ch.basic_qos(prefetch_count=7)
        ch.basic_consume(qname, lambda *a: None, auto_ack=False,
                         consumer_tag="tag-" + qname)
        ch2 = conn.channel()
        ch2.confirm_delivery()
        local_port = conn._impl._transport._sock.getsockname()[1]

        conns = wait_for(lambda: api.get("/api/connections"),
                         lambda d: len(d) == 1 and d[0]["channels"] == 2)
        assert len(conns) == 1
        c = conns[0]
        assert c["name"] == "127.0.0.1:%d -> 127.0.0.1:%d" % (local_port,
                                                              mq.port)
        assert c["peer_host"] == "127.0.0.1"
        assert c["peer_port"] == local_port
        assert c["host"] == "127.0.0.1"
        assert c["port"] == mq.port
        assert c["user"] == "guest"
        assert c["vhost"] == "/"
        assert c["channels"] == 2
        assert c["state"] == "running"
        assert c["timeout"] == 30
        assert c["frame_max"] == 131072
        assert isinstance(c["channel_max"], int)
        assert isinstance(c["connected_at"], int)
        assert abs(c["connected_at"] / 1000 - time.time()) < 60
        assert c["protocol"] == "AMQP 0-9-1"
        props = c["client_properties"]
        assert props["product"] == "Pika Python Client Library"
        assert props["capabilities"]["publisher_confirms"] is True

        one = api.get("/api/connections/%s" % q(c["name"]))
        assert one["name"] == c["name"]
        assert len(api.get("/api/connections/%s/channels"
                           % q(c["name"]))) == 2

        chans = wait_for(lambda: api.get("/api/channels"),
                         lambda d: len(d) == 2)
        assert sorted(x["number"] for x in chans) == [1, 2]
        first = find(chans, number=1)
        assert first["name"] == c["name"] + " (1)"
        assert first["connection_details"]["name"] == c["name"]
        assert first["connection_details"]["peer_port"] == local_port
        assert first["consumer_count"] == 1
        assert first["prefetch_count"] == 7
        assert first["confirm"] is False
        assert first["transactional"] is False
        assert first["user"] == "guest"
        assert find(chans, number=2)["confirm"] is True
        assert api.get("/api/channels/%s" % q(first["name"]))["number"] == 1

        consumers = wait_for(lambda: api.get("/api/consumers"),
                             lambda d: len(d) == 1)
        assert len(consumers) == 1
        cons = consumers[0]
        assert cons["consumer_tag"] == "tag-" + qname
        assert cons["queue"] == {"name": qname, "vhost": "/"}
        assert cons["ack_required"] is True
        assert cons["exclusive"] is False
        assert cons["prefetch_count"] == 7
        assert cons["channel_details"]["number"] == 1
        assert cons["channel_details"]["connection_name"] == c["name"]
        assert api.get("/api/consumers/%2F") == consumers
    finally:
        conn.close()
    gone = wait_for(lambda: api.get("/api/connections"), lambda d: d == [])
    assert gone == []


# --- onebox's /stats --------------------------------------------------------

@pytest.mark.onebox_only
def test_stats_section(mq):
    qname = unique("st")
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        ch.queue_declare(qname)
        for _ in range(5):
            ch.basic_publish("", qname, b"abc")
        ch.queue_declare(qname, passive=True)   # a round trip
        status, _, body = raw_get(mq.api_port, "/stats")
        assert status == 200
        st = json.loads(body)["modules"]["mq"]
        assert st["port"] == mq.port
        assert st["connections"] == 1
        assert st["channels"] == 1
        assert st["queues"] == 1
        assert st["messages_ready"] == 5
        assert st["messages_unacknowledged"] == 0
        assert st["published"] == 5
        assert st["memory"] > 0
        assert st["alarm"] is False
    finally:
        conn.close()


# --- hostile input ----------------------------------------------------------

def test_bad_paths(mq):
    api = mq.api()
    # a broken %-escape is a bad request, empty, as RabbitMQ's server says
    status, body = api.request("GET", "/api/queues/%2")
    assert status == 400 and body is None
    status, _ = api.request("GET", "/api/queues/%2F/%zz")
    assert status == 400
    for path in ["/api/queues/%2F/" + "a" * 300,
                 "/api/a/b/c/d/e/f/g/h/i/j/k",
                 "/api/queues/%2F/q%00x",
                 "/api/queues/%2F/%FF%FE"]:
        status, body = api.request("GET", path)
        assert status == 404, path
        assert body == {"error": "Object Not Found", "reason": "Not Found"}
    # the server is still there
    assert api.get("/api/overview")["node"]


def test_bad_credentials(mq):
    status, _, body = raw_get(mq.api_port, "/api/overview", None)
    assert status == 401
    req = urllib.request.Request(
        "http://127.0.0.1:%d/api/overview" % mq.api_port,
        headers={"Authorization": "Bearer something"})
    try:
        urllib.request.urlopen(req, timeout=10)
        assert False, "no 401"
    except urllib.error.HTTPError as e:
        assert e.code == 401
        assert json.loads(e.read()) == {"error": "not_authorized",
                                        "reason": "Login failed"}
    # "guest:" with no password, and a user with a colon in the password
    status, _, _ = raw_get(mq.api_port, "/api/overview", "guest:")
    assert status == 401
    status, _, _ = raw_get(mq.api_port, "/api/overview", "guest:guest:x")
    assert status == 401


# --- writes -----------------------------------------------------------------

def test_delete_queue(mq):
    import pika
    api = mq.api()
    qname = unique("del")
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        ch.queue_declare(qname, durable=True)
        ch.basic_publish("", qname, b"x")
        path = "/api/queues/%s/%s" % (VH, q(qname))
        status, body = api.request("DELETE", path)
        assert status == 204 and body is None
        assert api.request("GET", path)[0] == 404
        assert api.request("DELETE", path)[0] == 404
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            ch.queue_declare(qname, passive=True)
        assert e.value.reply_code == 404
    finally:
        if conn.is_open:
            conn.close()


def test_delete_connection(mq):
    import pika
    api = mq.api()
    conn = pika_conn(mq)
    try:
        conns = wait_for(lambda: api.get("/api/connections"),
                         lambda d: len(d) == 1)
        name = conns[0]["name"]
        status, _ = api.request("DELETE", "/api/connections/%s" % q(name))
        assert status == 204
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
            conn.process_data_events(5)
            conn.channel()
        assert e.value.reply_code == 320
        assert e.value.reply_text \
            == "CONNECTION_FORCED - Closed via management plugin"
        gone = wait_for(lambda: api.get("/api/connections"),
                        lambda d: d == [])
        assert gone == []
        status, _ = api.request("DELETE", "/api/connections/%s" % q(name))
        assert status == 404
    finally:
        if conn.is_open:
            conn.close()


def test_get_messages(mq):
    import pika
    api = mq.api()
    qname = unique("get")
    path = "/api/queues/%s/%s/get" % (VH, q(qname))
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        ch.queue_declare(qname)
        ch.confirm_delivery()
        ch.basic_publish("", qname, b"hello", pika.BasicProperties(
            delivery_mode=2, headers={"h": 1}, content_type="text/plain",
            priority=3, message_id="m1", timestamp=1700000000))
        ch.basic_publish("", qname, b"\xff\x00bin")
        ch.basic_publish("", qname, b"third")

        status, got = api.request("POST", path, body={
            "count": 2, "ackmode": "ack_requeue_true", "encoding": "auto",
            "truncate": 50000})
        assert status == 200
        assert len(got) == 2
        first, second = got
        assert first["payload"] == "hello"
        assert first["payload_encoding"] == "string"
        assert first["payload_bytes"] == 5
        assert first["redelivered"] is False
        assert first["exchange"] == ""
        assert first["routing_key"] == qname
        assert first["message_count"] == 2
        assert first["properties"] == {
            "delivery_mode": 2, "headers": {"h": 1},
            "content_type": "text/plain", "priority": 3,
            "message_id": "m1", "timestamp": 1700000000}
        assert second["payload"] == "/wBiaW4="
        assert second["payload_encoding"] == "base64"
        assert second["properties"] == []
        assert second["message_count"] == 1

        # requeued: again from the head, now redelivered; base64, truncated
        status, got = api.request("POST", path, body={
            "count": 1, "ackmode": "ack_requeue_false", "encoding": "base64",
            "truncate": 3})
        assert status == 200
        assert got[0]["redelivered"] is True
        assert got[0]["payload"] == "aGVs"
        assert got[0]["payload_bytes"] == 5
        assert got[0]["message_count"] == 2
        # that one was acked: two are left
        assert ch.queue_declare(qname, passive=True).method.message_count \
            == 2

        status, body = api.request("POST", path, body={"count": 1})
        assert status == 400
        assert body == {"error": "bad_request", "reason":
                        "[{key_missing,ackmode},{key_missing,encoding}]"}
        status, body = api.request(
            "POST", "/api/queues/%s/%s/get" % (VH, q(qname + "-none")),
            body={"count": 1, "ackmode": "ack_requeue_true",
                  "encoding": "auto"})
        assert status == 404
        assert body == {"error": "not_found", "reason":
                        "NOT_FOUND - no queue '%s-none' in vhost '/'"
                        % qname}
    finally:
        conn.close()


def test_get_messages_bad_body(mq):
    qname = unique("getbad")
    conn = pika_conn(mq)
    try:
        conn.channel().queue_declare(qname)
        auth = "Basic " + base64.b64encode(b"guest:guest").decode()
        req = urllib.request.Request(
            "http://127.0.0.1:%d/api/queues/%%2F/%s/get"
            % (mq.api_port, q(qname)), data=b"xx", method="POST",
            headers={"Authorization": auth,
                     "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=10)
            assert False, "no 400"
        except urllib.error.HTTPError as e:
            assert e.code == 400
            assert json.loads(e.read()) == {"error": "bad_request",
                                            "reason": "not_json"}
        # an empty queue gives an empty list, whatever the count
        status, got = mq.api().request(
            "POST", "/api/queues/%%2F/%s/get" % q(qname),
            body={"count": 1000000, "ackmode": "ack_requeue_true",
                  "encoding": "auto"})
        assert status == 200 and got == []
    finally:
        conn.close()


def test_sort_and_pages(mq):
    api = mq.api()
    prefix = unique("pg")
    names = [prefix + "-" + s for s in ("a", "b", "c", "d", "e")]
    conn = pika_conn(mq)
    try:
        ch = conn.channel()
        for n in names:
            ch.queue_declare(n)
        rows = [r["name"] for r in api.get("/api/queues/%2F?columns=name")]
        assert rows == sorted(rows)
        rows = api.get("/api/queues/%2F?sort=name&sort_reverse=true"
                       "&columns=name")
        assert [r["name"] for r in rows if r["name"] in names] \
            == names[::-1]

        page = api.get("/api/queues/%%2F?page=2&page_size=2&name=%s"
                       "&columns=name" % prefix)
        assert page["filtered_count"] == 5
        assert page["item_count"] == 2
        assert page["page"] == 2
        assert page["page_count"] == 3
        assert page["page_size"] == 2
        assert page["total_count"] >= 5
        assert [r["name"] for r in page["items"]] == names[2:4]

        page = api.get("/api/queues/%%2F?page=1&name=%s&use_regex=true"
                       "&columns=name" % q("^" + prefix + "-[ae]$"))
        assert [r["name"] for r in page["items"]] == [names[0], names[4]]
        assert page["page_size"] == 100

        status, body = api.request(
            "GET", "/api/queues/%%2F?page=9&page_size=2&name=%s" % prefix)
        assert status == 400
        assert body == {"error": "page_out_of_range", "reason":
                        "Page out of range, page: 9 page size: 2, len: 5"}
        status, body = api.request("GET", "/api/queues/%2F?page=0")
        assert status == 400
        assert body["error"] == "invalid_pagination_parameters"
        status, body = api.request("GET", "/api/queues/%2F?page=x")
        assert (status, body) == (400, {
            "error": "bad_request",
            "reason": "Pagination parameters are invalid"})
        status, body = api.request("GET", "/api/queues/%2F?page=1"
                                   "&page_size=1000")
        assert status == 400
        assert body["error"] == "invalid_pagination_parameters"
    finally:
        conn.close()


def test_nodes_and_healthcheck(mq):
    api = mq.api()
    node = api.get("/api/overview")["node"]
    # RabbitMQ fills a node's figures in after its first statistics tick
    nodes = wait_for(lambda: api.get("/api/nodes"),
                     lambda d: "mem_alarm" in d[0] and "fd_used" in d[0])
    assert len(nodes) == 1
    n = nodes[0]
    assert n["name"] == node
    assert n["running"] is True
    assert n["type"] == "disc"
    assert n["mem_alarm"] is False
    for key in ("mem_used", "mem_limit", "fd_used", "fd_total", "uptime",
                "processors"):
        assert isinstance(n[key], int) and n[key] > 0, key
    assert n["os_pid"].isdigit()
    assert n["partitions"] == []
    assert api.get("/api/nodes/%s" % q(node))["name"] == node
    assert api.get("/api/healthchecks/node") == {"status": "ok"}
