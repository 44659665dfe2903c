"""No acknowledged write is lost: several clients write (SET k<i>, INCR)
and record every write the server acknowledged; the server is killed
with SIGKILL in the middle of the load and restarted on the same data
directory; every acknowledged write must be there (appendfsync always),
or all but the last seconds' (everysec: "may lose ~1-2 s").  Both targets.
SIGKILL does not lose what the kernel has (only a power loss would lose
what is not fsynced), so these check that a reply never goes out before
its write(2) (group commit), and the replay of a log cut anywhere."""
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
import redis

from test_store_aof import aof_dir, check_aof, client


def kill9(srv):
    os.kill(srv.pid, signal.SIGKILL)
    srv.proc.wait(timeout=10)
    srv.proc = None
    srv.pid = None


class Writer(threading.Thread):
    """SET k<t>_<i> i and INCR c<t>, each recorded with the time of its
    acknowledgement, until the connection breaks or `stop` is set."""

    def __init__(self, port, t, stop, pipeline=1):
        super().__init__(daemon=True)
        self.port, self.t, self.stop, self.pipeline = port, t, stop, pipeline
        self.acked_sets = []        # (i, ack time)
        self.acked_incr = 0         # the highest INCR reply
        self.incr_time = 0.0

    def run(self):
        r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
        i = 0
        try:
            while not self.stop.is_set():
                if self.pipeline > 1:
                    p = r.pipeline(transaction=False)
                    for j in range(self.pipeline):
                        p.set("k%d_%d" % (self.t, i + j), i + j)
                    p.incr("c%d" % self.t)
                    res = p.execute()
                    now = time.monotonic()
                    self.acked_sets += [(i + j, now)
                                        for j in range(self.pipeline)]
                    self.acked_incr, self.incr_time = res[-1], now
                    i += self.pipeline
                else:
                    r.set("k%d_%d" % (self.t, i), i)
                    self.acked_sets.append((i, time.monotonic()))
                    v = r.incr("c%d" % self.t)
                    self.acked_incr, self.incr_time = v, time.monotonic()
                    i += 1
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                OSError):
            pass
        finally:
            r.close()


def run_and_kill(store_server, fsync, seconds=1.5, threads=8, pipeline=1):
    srv = store_server(appendonly="yes", appendfsync=fsync)
    client(srv).close()             # redis-server may still be LOADING
    stop = threading.Event()
    writers = [Writer(srv.port, t, stop, pipeline if t % 2 else 1)
               for t in range(threads)]
    for w in writers:
        w.start()
    time.sleep(seconds)
    killed_at = time.monotonic()
    kill9(srv)
    stop.set()
    for w in writers:
        w.join(timeout=20)
    assert sum(len(w.acked_sets) for w in writers) > 100
    return writers, killed_at


def missing(r, writers, before=None):
    """The acknowledged writes (acked before `before`, if given) that the
    restarted server does not have."""
    lost = []
    for w in writers:
        sets = [(i, at) for i, at in w.acked_sets
                if before is None or at < before]
        if sets:
            p = r.pipeline(transaction=False)
            for i, _ in sets:
                p.get("k%d_%d" % (w.t, i))
            for (i, _), v in zip(sets, p.execute()):
                if v != str(i).encode():
                    lost.append("k%d_%d" % (w.t, i))
        if w.acked_incr and (before is None or w.incr_time < before):
            v = int(r.get("c%d" % w.t) or 0)
            if v < w.acked_incr:
                lost.append("c%d: %d < %d" % (w.t, v, w.acked_incr))
    return lost


def test_always_loses_no_acknowledged_write(store_server, tmp_path):
    writers, _ = run_and_kill(store_server, "always", pipeline=16)
    r = client(store_server(appendonly="yes", appendfsync="always"))
    assert missing(r, writers) == []


def test_always_restart_twice(store_server, tmp_path):
    # The log cut by the first kill is written on after the restart and
    # cut again: both parts replay.
    writers, _ = run_and_kill(store_server, "always", seconds=1.0)
    more, _ = run_and_kill(store_server, "always", seconds=1.0)
    r = client(store_server(appendonly="yes", appendfsync="always"))
    # The second round's keys overwrote the first's where both wrote.
    for w, m in zip(writers, more):
        done = {i for i, _ in m.acked_sets}
        w.acked_sets = [(i, at) for i, at in w.acked_sets if i not in done]
        w.acked_incr = 0
    assert missing(r, more) == []
    assert missing(r, writers) == []
    code, out = check_aof(tmp_path)
    # A kill may cut the last command: check-aof says so, the load cuts it.
    assert code == 0 or "ok_up_to" in out, out


def test_everysec_bounded_loss(store_server):
    writers, killed_at = run_and_kill(store_server, "everysec", seconds=2.5,
                                      pipeline=16)
    r = client(store_server(appendonly="yes", appendfsync="everysec"))
    # Redis may lose up to ~2 s of acknowledged writes under everysec.
    assert missing(r, writers, before=killed_at - 2.5) == []


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_rewrite_under_load_then_kill(store_server, tmp_path, fsync):
    srv = store_server(appendonly="yes", appendfsync=fsync)
    stop = threading.Event()
    writers = [Writer(srv.port, t, stop, 8 if t % 2 else 1)
               for t in range(4)]
    for w in writers:
        w.start()
    time.sleep(0.5)
    admin = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    assert admin.bgrewriteaof()
    deadline = time.monotonic() + 10
    while admin.info("persistence")["aof_rewrite_in_progress"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    killed_at = time.monotonic()
    kill9(srv)
    stop.set()
    for w in writers:
        w.join(timeout=20)
    names = sorted(os.listdir(aof_dir(tmp_path)))
    assert "appendonly.aof.2.base.rdb" in names, names
    r = client(store_server(appendonly="yes", appendfsync=fsync))
    assert missing(r, writers, None if fsync == "always"
                   else killed_at - 2.5) == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_reply_after_write_and_fsync(store_server, tmp_path, fsync):
    """The order of the server's system calls for one SET: the command
    is written to the AOF (and, under always, fdatasync'ed) before the
    reply is written to the socket.  A kill -9 cannot catch the window
    between them reliably; strace sees the order."""
    srv = store_server(appendonly="yes", appendfsync=fsync)
    r = client(srv)
    r.set("warm", "up")
    trace = tmp_path / "strace.txt"
    st = subprocess.Popen(["strace", "-f", "-e",
                           "trace=write,writev,sendmsg,fdatasync,fsync",
                           "-s", "64", "-o", str(trace), "-p", str(srv.pid)],
                          stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while b"attached" not in st.stderr.read1(4096):
            assert time.monotonic() < deadline
        time.sleep(0.2)
        # Each reply is unique (":7770i"), so it can be told apart.
        for i in range(5):
            assert r.incrby("traced%d" % i, 77700 + i) == 77700 + i
        time.sleep(0.2)
    finally:
        os.kill(st.pid, signal.SIGINT)
        st.wait(timeout=10)
    lines = trace.read_text().splitlines()
    for i in range(5):
        cmd = [n for n, ln in enumerate(lines)
               if "traced%d" % i in ln and "write" in ln]
        reply = [n for n, ln in enumerate(lines)
                 if ":%d\\r\\n" % (77700 + i) in ln]
        assert len(cmd) == 1 and len(reply) == 1, lines
        assert cmd[0] < reply[0], "\n".join(lines)
        if fsync == "always":
            assert any("fdatasync" in ln or "fsync(" in ln
                       for ln in lines[cmd[0]:reply[0]]), "\n".join(lines)


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_served_blocked_reply_after_fsync(store_server, tmp_path):
    """A client blocked in BLPOP and served by another's RPUSH gets its
    reply only after the write and fdatasync of its LPOP."""
    from obtest import RespConn
    srv = store_server(appendonly="yes", appendfsync="always")
    r = client(srv)
    trace = tmp_path / "strace.txt"
    with RespConn(srv.port) as waiter:
        waiter.send("BLPOP", "tracedq", "0")
        time.sleep(0.2)
        st = subprocess.Popen(["strace", "-f", "-e",
                               "trace=write,writev,sendmsg,fdatasync,fsync",
                               "-s", "256", "-o", str(trace), "-p",
                               str(srv.pid)], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while b"attached" not in st.stderr.read1(4096):
                assert time.monotonic() < deadline
            time.sleep(0.2)
            r.rpush("tracedq", "elem77")
            assert waiter.reply() == (b"*2\r\n$7\r\ntracedq\r\n$6\r\n"
                                      b"elem77\r\n")
            time.sleep(0.2)
        finally:
            os.kill(st.pid, signal.SIGINT)
            st.wait(timeout=10)
    lines = trace.read_text().splitlines()
    pop = [n for n, ln in enumerate(lines) if "LPOP" in ln and "write" in ln]
    reply = [n for n, ln in enumerate(lines)
             if "tracedq" in ln and "elem77" in ln and "*2" in ln
             and "rpush" not in ln.lower()]
    assert pop and reply, "\n".join(lines)
    assert pop[0] < reply[0], "\n".join(lines)
    assert any("fdatasync" in ln or "fsync(" in ln
               for ln in lines[pop[0]:reply[0]]), "\n".join(lines)


def test_kill_during_rewrite(store_server, tmp_path):
    """kill -9 right after BGREWRITEAOF started, writes going on: the
    manifest already lists the new incr (the base is not there yet), so
    the restart replays the old base and both incrs."""
    srv = store_server(appendonly="yes", appendfsync="always")
    r = client(srv)
    with r.pipeline(transaction=False) as p:
        for i in range(50000):
            p.set("bulk%d" % i, "v" * 20)
        p.execute()
    for i in range(100):
        r.set("before%d" % i, i)
    assert r.bgrewriteaof()
    for i in range(100):
        r.set("during%d" % i, i)
        r.incr("counter")
    kill9(srv)
    r2 = client(store_server(appendonly="yes", appendfsync="always"))
    assert r2.dbsize() == 50000 + 100 + 100 + 1
    assert r2.get("counter") == b"100"
    assert r2.get("during99") == b"99" and r2.get("before0") == b"0"
