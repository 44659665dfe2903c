"""
The one memory budget (issue 6): a small budget with mixed item sizes keeps
the most recent items, and memcached's page-mover commands (`slabs
reassign`, `slabs automove`) answer exactly as memcached 1.6.18 does.
Both targets.
"""
import random
import time

from obtest import McConn


def _line(conn):
    return conn.read_line().decode()


def _cmd(conn, line):
    conn.send(line.encode() + b"\r\n")
    return _line(conn)


def _stats(conn, sub=""):
    conn.send(("stats %s\r\n" % sub).strip().encode() + b"\r\n")
    out = {}
    while True:
        line = _line(conn)
        if line == "END":
            return out
        _, k, v = line.split(" ", 2)
        out[k] = v


def test_small_budget_mixed_sizes_keeps_recent_items(cache_server, target):
    """-m 16, values from 10 B to 1 MB (log-uniform): most of the last 200
    written survive (memcached 1.6.18: about 165 here, 180 with other
    seeds).  memcached gets there by granting every class its first page
    over the limit (39 MB in use); onebox stays within the 16 MB, with
    smaller pages for a small budget (ob_arena_page_size_fit) and pages
    going to whichever class holds the oldest data (ob_arena.c's
    rebalance): 165 kept."""
    srv = cache_server("-m", "16")
    conn = McConn(srv.port, timeout=10.0)
    rnd = random.Random(6)
    keys = []
    for i in range(3000):
        size = int(10 * (10 ** (rnd.random() * 5)))
        size = min(size, 1024 * 1024 - 512)
        key = "k%d" % i
        conn.send(b"set %s 0 0 %d\r\n" % (key.encode(), size)
                  + b"x" * size + b"\r\n")
        reply = _line(conn)
        assert reply in ("STORED", "SERVER_ERROR out of memory storing object"), reply
        if reply == "STORED":
            keys.append(key)
    last = keys[-200:]
    hits = 0
    for key in last:
        conn.send(b"mg %s v\r\n" % key.encode())
        line = _line(conn)
        if line.startswith("VA "):
            conn.read_exact(int(line.split()[1]) + 2)
            hits += 1
        else:
            assert line == "EN", line
    assert hits >= 150, hits
    if target != "real":
        # the promise memcached does not keep: memory stays within -m
        slabs = _stats(conn, "slabs")
        assert int(slabs["total_malloced"]) <= 16 * 1024 * 1024
    conn.close()


def test_slabs_replies(mc):
    exact = [
        ("slabs reassign 1 1", "SAME src and dst class are identical"),
        ("slabs reassign -1 -1", "SAME src and dst class are identical"),
        ("slabs reassign 5 200", "BADCLASS invalid src or dst class id"),
        ("slabs reassign -2 1", "BADCLASS invalid src or dst class id"),
        ("slabs reassign -1 3", "BADCLASS invalid src or dst class id"),
        ("slabs reassign 3 0", "NOSPARE source class has no spare pages"),
        ("slabs reassign a 1", "CLIENT_ERROR bad command line format"),
        ("slabs reassign 1 b", "CLIENT_ERROR bad command line format"),
        ("slabs reassign 1 2 noreply", "ERROR"),
        ("slabs reassign 1", "ERROR"),
        ("slabs", "ERROR"),
        ("slabs bogus", "ERROR"),
        ("slabs automove", "ERROR"),
        ("slabs automove 0", "OK"),
        ("slabs automove 2", "OK"),
        ("slabs automove 1", "OK"),
        ("slabs automove 3", "ERROR"),
        ("slabs automove x", "CLIENT_ERROR bad command line format"),
        ("slabs automove ratio 0.5", "OK"),
        ("slabs automove ratio", "ERROR"),
        ("slabs automove ratio x", "ERROR"),
    ]
    for line, want in exact:
        assert _cmd(mc, line) == want, line
    assert _stats(mc, "settings")["slab_reassign"] == "yes"


def test_slabs_reassign_moves_a_page(cache_server):
    """A class with 3 pages gives one to the pool: OK, then (the move is
    asynchronous in memcached) its page count drops."""
    srv = cache_server("-m", "64")
    conn = McConn(srv.port)
    value = b"v" * 20000
    for i in range(160):                       # about 3 MB in one class
        conn.send(b"set r%d 0 0 %d\r\n%s\r\n" % (i, len(value), value))
        assert _line(conn) == "STORED"
    slabs = _stats(conn, "slabs")
    cls = max((k.split(":")[0] for k in slabs if k.endswith(":total_pages")),
              key=lambda c: int(slabs[c + ":total_pages"]))
    pages = int(slabs[cls + ":total_pages"])
    assert pages >= 3
    assert _cmd(conn, "slabs reassign %s 0" % cls) == "OK"
    deadline = time.time() + 10
    while time.time() < deadline:
        now = int(_stats(conn, "slabs").get(cls + ":total_pages", "0"))
        if now < pages:
            break
        time.sleep(0.2)
    assert now == pages - 1
    conn.close()
