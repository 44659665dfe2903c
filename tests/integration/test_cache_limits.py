"""Limits that protect other clients, on onebox and on the real memcached:
the connection limit (-c), a flood of bytes without a newline, and a
client that vanishes in the middle of a request."""
import socket
import time

from obtest import McConn


def test_over_max_connections_the_server_keeps_answering(cache_server):
    # memcached sets its descriptor limit from -c and needs some for itself:
    # 32 is about the smallest it starts with.
    srv = cache_server("-c", "32")
    first = McConn(srv.port)
    assert first.cmd("set k 0 0 1\r\nv\r\n") == b"STORED"

    # Far more than -c: those over the limit are refused (memcached sends
    # "ERROR Too many open connections" and closes), none crash anything.
    extra, refused = [], 0
    for _ in range(80):
        conn = McConn(srv.port)
        extra.append(conn)
    for conn in extra:
        conn.send("version\r\n")
    for conn in extra:
        try:
            line = conn.read_line()
        except (ConnectionError, OSError):
            refused += 1
            continue
        if line == b"ERROR Too many open connections":
            refused += 1
            assert conn.is_closed()
        else:
            assert line.startswith(b"VERSION ")
    assert refused >= 80 - 32

    # The connection made before is served as before ...
    first.send("get k\r\n")
    assert first.read_until() == b"VALUE k 0 1\r\nv\r\nEND\r\n"
    # ... and once the others go, newcomers are accepted again.
    for conn in extra:
        conn.close()
    deadline = time.monotonic() + 5
    while True:
        late = McConn(srv.port)
        late.send("version\r\n")
        try:
            if late.read_line().startswith(b"VERSION "):
                break
        except (ConnectionError, OSError):
            pass
        late.close()
        assert time.monotonic() < deadline, "no slot freed up"
        time.sleep(0.1)
    late.close()
    first.close()


def test_flood_without_newline_is_cut_off_alone(cache_server):
    srv = cache_server()
    good = McConn(srv.port)
    bad = socket.create_connection(("127.0.0.1", srv.port))
    try:
        bad.sendall(b"x" * (1 << 20))
    except OSError:
        pass                            # already cut off: fine
    bad.settimeout(5)
    try:
        assert bad.recv(100) == b""
    except ConnectionResetError:
        pass
    bad.close()
    assert good.cmd("set a 0 0 1\r\n1\r\n") == b"STORED"
    good.close()


def test_client_gone_mid_request(cache_server):
    srv = cache_server()
    for partial in (b"set half 0 0 10\r\nabc", b"get par", b"mg k v"):
        conn = socket.create_connection(("127.0.0.1", srv.port))
        conn.sendall(partial)
        conn.close()
    mc = McConn(srv.port)
    mc.send("get half\r\n")
    assert mc.read_until() == b"END\r\n"
    mc.close()
