"""Snapshots: SAVE, BGSAVE, LASTSAVE, the save rules, SHUTDOWN, the
MISCONF error of stop-writes-on-bgsave-error, and loading dump.rdb at
start-up.  Every test but the start-up failures runs on both targets.

A restart is a second server started on the same data directory (the
fixture's tmp_path/"store-data") after the first one left through
SHUTDOWN NOSAVE, so that what the second one holds came from the file the
test wrote, not from a save at exit.

A save is made to fail the same way on both targets (and as root, whom
chmod does not stop): a non-empty directory where dump.rdb goes, so the
final rename(2) fails with EISDIR.
"""
import os
import signal
import subprocess
import threading
import time

import pytest
import redis

from obtest import RespConn, free_port, onebox_bin, store_argv
from storetest import client_of as client, data_dir

MISCONF = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently "
    "unable to persist to disk. Commands that may modify the data set are "
    "disabled, because this instance is configured to report errors during "
    "writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
    "Please check the Redis logs for details about the RDB error.")


def cmd(srv, *args):
    """One command's raw reply (redis-py turns SAVE into True, LASTSAVE
    into a datetime)."""
    with RespConn(srv.port, timeout=20) as conn:
        return conn.cmd(*args)


def lastsave(srv):
    reply = cmd(srv, "LASTSAVE")
    assert reply.startswith(b":")
    return int(reply[1:])


def persistence(r):
    return r.info("persistence")


def wait_bgsave_done(r, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        info = persistence(r)
        if info["rdb_bgsave_in_progress"] == 0:
            return info
        assert time.monotonic() < deadline, "BGSAVE did not end"
        time.sleep(0.02)


def shutdown(srv, *args):
    """SHUTDOWN [args]: the connection closes without a reply and the
    process exits 0."""
    with RespConn(srv.port, timeout=20) as conn:
        conn.send("SHUTDOWN", *args)
        with pytest.raises(ConnectionError):
            conn.reply()
    assert srv.proc.wait(timeout=20) == 0


def populate(r):
    """A little of every type, a TTL, and a second database."""
    r.set("str", "hello")
    r.set("int", 12345)
    r.set("long", "a" * 100)
    r.rpush("list", "a", "b", 1, 2)
    r.hset("hash", mapping={"f": "v", "g": "w"})
    r.sadd("set", "x", "y")
    r.sadd("intset", 1, 2, 300)
    r.zadd("zset", {"a": 1.5, "b": 2})
    r.set("ttl", "v", ex=1000)
    r.execute_command("SELECT", 1)
    r.set("in-db1", "yes")
    r.execute_command("SELECT", 0)


def check_populated(r):
    assert r.get("str") == b"hello"
    assert r.get("int") == b"12345"
    assert r.get("long") == b"a" * 100
    assert r.lrange("list", 0, -1) == [b"a", b"b", b"1", b"2"]
    assert r.hgetall("hash") == {b"f": b"v", b"g": b"w"}
    assert r.smembers("set") == {b"x", b"y"}
    assert r.smembers("intset") == {b"1", b"2", b"300"}
    assert r.zrange("zset", 0, -1, withscores=True) == [(b"a", 1.5),
                                                          (b"b", 2.0)]
    assert 900 < r.ttl("ttl") <= 1000
    assert r.dbsize() == 9
    r.execute_command("SELECT", 1)
    assert r.get("in-db1") == b"yes"
    r.execute_command("SELECT", 0)


# ------------------------------------------------------------ SAVE, restart

def test_save_then_restart_keeps_every_key(store_server, tmp_path):
    srv = store_server()
    r = client(srv)
    populate(r)
    assert persistence(r)["rdb_changes_since_last_save"] >= 10
    assert cmd(srv, "SAVE") == b"+OK\r\n"
    info = persistence(r)
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_saves"] == 1
    assert (data_dir(tmp_path) / "dump.rdb").exists()
    r.set("after-save", 1)          # not saved: NOSAVE below
    shutdown(srv, "NOSAVE")

    r = client(store_server())
    check_populated(r)
    assert r.get("after-save") is None
    info = persistence(r)
    assert info["rdb_last_load_keys_loaded"] == 10
    assert info["rdb_last_load_keys_expired"] == 0
    assert info["rdb_changes_since_last_save"] == 0


def test_expired_keys_are_dropped_at_load(store_server):
    srv = store_server()
    r = client(srv)
    r.set("short", "v", px=600)
    r.set("kept", "v")
    assert cmd(srv, "SAVE") == b"+OK\r\n"
    shutdown(srv, "NOSAVE")
    time.sleep(0.8)
    r = client(store_server())
    assert r.get("short") is None and r.get("kept") == b"v"
    info = persistence(r)
    assert info["rdb_last_load_keys_loaded"] == 1
    assert info["rdb_last_load_keys_expired"] == 1


def test_lastsave_moves_with_each_save(store_server):
    srv = store_server()
    r = client(srv)
    first = lastsave(srv)
    assert abs(first - time.time()) < 5
    time.sleep(1.1)
    assert cmd(srv, "SAVE") == b"+OK\r\n"
    second = lastsave(srv)
    assert second > first
    time.sleep(1.1)
    assert cmd(srv, "BGSAVE") == b"+Background saving started\r\n"
    wait_bgsave_done(r)
    assert lastsave(srv) > second
    assert persistence(r)["rdb_last_save_time"] == lastsave(srv)


# ------------------------------------------------------------------ BGSAVE

def test_info_persistence_fields(store_server):
    srv = store_server()
    r = client(srv)
    info = persistence(r)
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_last_bgsave_time_sec"] == -1
    assert info["rdb_current_bgsave_time_sec"] == -1
    assert info["rdb_saves"] == 0
    assert info["rdb_last_cow_size"] == 0
    assert info["rdb_last_load_keys_loaded"] == 0
    r.set("a", 1)
    r.set("b", 2)
    assert persistence(r)["rdb_changes_since_last_save"] == 2
    with RespConn(srv.port) as conn:
        # Read together: the child is still there for INFO (children are
        # reaped by the cron).
        conn.send_raw(b"BGSAVE\r\nINFO persistence\r\n")
        assert conn.reply() == b"+Background saving started\r\n"
        text = conn.reply().decode()
    assert "\r\nrdb_bgsave_in_progress:1\r\n" in text
    assert "\r\nrdb_current_bgsave_time_sec:0\r\n" in text
    assert "\r\ncurrent_save_keys_total:2\r\n" in text
    info = wait_bgsave_done(r)
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_last_bgsave_time_sec"] >= 0
    assert info["rdb_current_bgsave_time_sec"] == -1
    assert info["rdb_saves"] == 1
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_last_cow_size"] >= 0
    keys = ["current_cow_peak", "current_cow_size", "current_cow_size_age",
            "current_fork_perc", "current_save_keys_processed",
            "current_save_keys_total", "rdb_changes_since_last_save",
            "rdb_bgsave_in_progress", "rdb_last_save_time",
            "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec",
            "rdb_current_bgsave_time_sec", "rdb_saves", "rdb_last_cow_size",
            "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded"]
    reply = cmd(srv, "INFO", "persistence")
    text = reply[reply.index(b"\r\n") + 2:].decode()
    names = [line.split(":")[0] for line in text.split("\r\n")
             if ":" in line]
    start = names.index("current_cow_peak")
    assert names[start:start + len(keys)] == keys
    assert r.info("stats")["total_forks"] >= 1


def test_bgsave_while_a_write_load_runs(store_server, tmp_path):
    srv = store_server()
    r = client(srv)
    pipe = r.pipeline(transaction=False)
    for i in range(100000):
        pipe.set("pre:%d" % i, "v" * 50)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    stop = threading.Event()
    written = [0]
    errors = []

    def writer():
        w = client(srv)
        try:
            n = 0
            while not stop.is_set():
                p = w.pipeline(transaction=False)
                for _ in range(200):
                    p.set("load:%d" % (n % 20000), "x" * 100)
                    p.incr("counter")
                    n += 1
                p.execute()
            written[0] = n
        except Exception as exc:        # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.3)
        assert cmd(srv, "BGSAVE") == b"+Background saving started\r\n"
        latencies = []
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            assert r.ping()
            latencies.append(time.monotonic() - t0)
            time.sleep(0.01)
    finally:
        stop.set()
        t.join(timeout=30)
    assert not errors, errors
    assert written[0] > 0
    # The loop kept answering while the child wrote.
    assert max(latencies) < 0.5, max(latencies)
    info = wait_bgsave_done(r)
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_saves"] == 1
    # The writes made while the child ran touched pages it shares.
    assert info["rdb_last_cow_size"] > 0
    # Changes made during the save still count towards the next one.
    assert info["rdb_changes_since_last_save"] > 0
    counter = int(r.get("counter"))
    shutdown(srv, "NOSAVE")

    r = client(store_server())
    assert r.get("pre:0") == b"v" * 50 and r.get("pre:99999") == b"v" * 50
    loaded = r.dbsize()
    assert 100000 <= loaded <= 100000 + 20001
    assert int(r.get("counter") or 0) <= counter
    assert persistence(r)["rdb_last_load_keys_loaded"] == loaded


def test_bgsave_errors_and_busy(store_server):
    srv = store_server()
    r = client(srv)
    with RespConn(srv.port) as conn:
        assert conn.cmd("BGSAVE", "x") == b"-ERR syntax error\r\n"
        assert conn.cmd("BGSAVE", "SCHEDULE", "x") == b"-ERR syntax error\r\n"
        assert conn.cmd("SAVE", "x") == (
            b"-ERR wrong number of arguments for 'save' command\r\n")
        assert conn.cmd("LASTSAVE", "x") == (
            b"-ERR wrong number of arguments for 'lastsave' command\r\n")
        # A child is reaped by the cron only: the second and third find it.
        conn.send_raw(b"BGSAVE\r\nBGSAVE\r\nBGSAVE SCHEDULE\r\nSAVE\r\n")
        assert conn.reply() == b"+Background saving started\r\n"
        assert conn.reply() == b"-ERR Background save already in progress\r\n"
        assert conn.reply() == b"-ERR Background save already in progress\r\n"
        assert conn.reply() == b"-ERR Background save already in progress\r\n"
        wait_bgsave_done(r)
        # Inside a transaction Redis never forks: it schedules.
        assert conn.cmd("MULTI") == b"+OK\r\n"
        assert conn.cmd("BGSAVE") == b"+QUEUED\r\n"
        assert conn.cmd("EXEC") == b"*1\r\n+Background saving scheduled\r\n"
    deadline = time.monotonic() + 10
    while persistence(r)["rdb_saves"] < 2:
        assert time.monotonic() < deadline, "the scheduled BGSAVE never ran"
        time.sleep(0.05)
    assert wait_bgsave_done(r)["rdb_last_bgsave_status"] == "ok"


def test_command_info(store_server):
    srv = store_server()
    with RespConn(srv.port) as conn:
        assert conn.cmd("COMMAND", "INFO", "lastsave") == (
            b"*1\r\n*10\r\n$8\r\nlastsave\r\n:1\r\n*3\r\n+loading\r\n"
            b"+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n"
            b"+@fast\r\n+@dangerous\r\n*1\r\n$23\r\nnondeterministic_output"
            b"\r\n*0\r\n*0\r\n")
    r = client(srv)
    info = r.execute_command("COMMAND", "INFO", "save", "bgsave", "shutdown")
    assert info["save"]["arity"] == 1 and info["bgsave"]["arity"] == -1
    assert info["shutdown"]["arity"] == -1
    for name in ("save", "bgsave", "shutdown"):
        assert {"admin", "noscript"} <= set(info[name]["flags"])
        # redis-py drops the ACL categories: the raw reply has them.
        assert b"*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n" in cmd(
            srv, "COMMAND", "INFO", name)
    assert {"loading", "stale", "allow_busy"} <= set(
        info["shutdown"]["flags"])


# -------------------------------------------------------------- save rules

def test_save_rule_triggers_a_background_save(store_server, tmp_path):
    r = client(store_server(save="1 1"))
    time.sleep(0.2)
    assert persistence(r)["rdb_saves"] == 0      # no change yet: no save
    r.set("k", "v")
    deadline = time.monotonic() + 5
    while persistence(r)["rdb_saves"] == 0:
        assert time.monotonic() < deadline, "save 1 1 did not save"
        time.sleep(0.05)
    info = wait_bgsave_done(r)
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_changes_since_last_save"] == 0
    assert (data_dir(tmp_path) / "dump.rdb").exists()


def test_config_set_save_takes_effect(store_server):
    r = client(store_server())
    r.set("k", "v")
    time.sleep(1.5)
    assert persistence(r)["rdb_saves"] == 0      # save "": never
    r.config_set("save", "1 1")
    deadline = time.monotonic() + 5
    while persistence(r)["rdb_saves"] == 0:
        assert time.monotonic() < deadline, "CONFIG SET save was ignored"
        time.sleep(0.05)
    wait_bgsave_done(r)
    r.config_set("save", "")
    r.set("k2", "v")
    time.sleep(1.5)
    assert persistence(r)["rdb_saves"] == 1


# ---------------------------------------------------------------- SHUTDOWN

def test_shutdown_save_keeps_data_without_rules(store_server):
    srv = store_server()
    client(srv).set("k", "v")
    shutdown(srv, "SAVE")
    assert client(store_server()).get("k") == b"v"


def test_shutdown_with_rules_saves(store_server):
    srv = store_server(save="3600 1")
    client(srv).set("k", "v")
    shutdown(srv)
    assert client(store_server(save="3600 1")).get("k") == b"v"


def test_shutdown_nosave_drops_changes(store_server, tmp_path):
    srv = store_server(save="3600 1")
    client(srv).set("k", "v")
    shutdown(srv, "NOSAVE")
    assert not (data_dir(tmp_path) / "dump.rdb").exists()
    assert client(store_server(save="3600 1")).get("k") is None


def test_shutdown_without_rules_saves_nothing(store_server, tmp_path):
    srv = store_server()
    client(srv).set("k", "v")
    shutdown(srv)
    assert not (data_dir(tmp_path) / "dump.rdb").exists()


def test_sigterm_with_rules_saves(store_server):
    srv = store_server(save="3600 1")
    client(srv).set("k", "v")
    assert srv.terminate(signal.SIGTERM) == 0
    assert client(store_server(save="3600 1")).get("k") == b"v"


def test_shutdown_syntax(store_server):
    srv = store_server()
    with RespConn(srv.port) as conn:
        assert conn.cmd("SHUTDOWN", "ABORT") == (
            b"-ERR No shutdown in progress.\r\n")
        for args in (("SAVE", "NOSAVE"), ("ABORT", "NOW"), ("NOSAVE",
                     "ABORT"), ("foo",)):
            assert conn.cmd("SHUTDOWN", *args) == b"-ERR syntax error\r\n"
        assert conn.cmd("PING") == b"+PONG\r\n"


# ---------------------------------------------- stop-writes-on-bgsave-error

def test_failed_bgsave_refuses_writes_until_a_save_succeeds(store_server,
                                                            tmp_path):
    srv = store_server(save="3600 1")
    r = client(srv)
    r.set("k", "v")
    blocker = data_dir(tmp_path) / "dump.rdb"
    (blocker / "x").mkdir(parents=True)
    with RespConn(srv.port) as conn:
        assert conn.cmd("SAVE") == b"-ERR\r\n"
        assert conn.cmd("BGSAVE") == b"+Background saving started\r\n"
        info = wait_bgsave_done(r)
        assert info["rdb_last_bgsave_status"] == "err"
        assert info["rdb_saves"] == 2
        misconf = b"-" + MISCONF.encode() + b"\r\n"
        assert conn.cmd("SET", "k", "w") == misconf
        assert conn.cmd("PING") == misconf
        assert conn.cmd("GET", "k") == b"$1\r\nv\r\n"
        # SHUTDOWN cannot save: the server stays up.
        assert conn.cmd("SHUTDOWN") == (
            b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n")
        assert conn.cmd("GET", "k") == b"$1\r\nv\r\n"
        # The option, and the save rules, gate the error.
        assert conn.cmd("CONFIG", "SET", "stop-writes-on-bgsave-error",
                        "no") == b"+OK\r\n"
        assert conn.cmd("SET", "k", "w") == b"+OK\r\n"
        assert conn.cmd("CONFIG", "SET", "stop-writes-on-bgsave-error",
                        "yes") == b"+OK\r\n"
        assert conn.cmd("SET", "k", "w") == misconf
        assert conn.cmd("CONFIG", "SET", "save", "") == b"+OK\r\n"
        assert conn.cmd("SET", "k", "w") == b"+OK\r\n"
        assert conn.cmd("CONFIG", "SET", "save", "3600 1") == b"+OK\r\n"
        assert conn.cmd("SET", "k", "w") == misconf
        # Fixed: a successful BGSAVE clears it.
        (blocker / "x").rmdir()
        blocker.rmdir()
        assert conn.cmd("BGSAVE") == b"+Background saving started\r\n"
        info = wait_bgsave_done(r)
        assert info["rdb_last_bgsave_status"] == "ok"
        assert conn.cmd("SET", "k", "x") == b"+OK\r\n"
        assert conn.cmd("PING") == b"+PONG\r\n"


def test_shutdown_force_exits_although_the_save_fails(store_server,
                                                       tmp_path):
    srv = store_server(save="3600 1")
    client(srv).set("k", "v")
    (data_dir(tmp_path) / "dump.rdb" / "x").mkdir(parents=True)
    shutdown(srv, "FORCE")


def test_successful_save_clears_misconf(store_server, tmp_path):
    srv = store_server(save="3600 1")
    r = client(srv)
    blocker = data_dir(tmp_path) / "dump.rdb"
    (blocker / "x").mkdir(parents=True)
    assert cmd(srv, "BGSAVE") == b"+Background saving started\r\n"
    assert wait_bgsave_done(r)["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.exceptions.ResponseError) as exc:
        r.set("k", "v")
    assert str(exc.value) == MISCONF
    (blocker / "x").rmdir()
    blocker.rmdir()
    assert cmd(srv, "SAVE") == b"+OK\r\n"
    assert persistence(r)["rdb_last_bgsave_status"] == "ok"
    assert r.set("k", "v")


# ------------------------------------------------------- start-up (onebox)

def run_onebox(tmp_path, port, *extra, timeout=20):
    argv = store_argv("onebox", port, data_dir(tmp_path)) + list(extra)
    return subprocess.run(argv, capture_output=True, timeout=timeout)


def saved_dump(store_server, tmp_path):
    srv = store_server()
    r = client(srv)
    populate(r)
    for i in range(200):
        r.set("k%d" % i, "v" * 30)
    assert cmd(srv, "SAVE") == b"+OK\r\n"
    shutdown(srv, "NOSAVE")
    return (data_dir(tmp_path) / "dump.rdb").read_bytes()


@pytest.mark.onebox_only
def test_truncated_dump_stops_the_start(store_server, tmp_path):
    # redis-server 7.0.15 also refuses (checked by hand: "Short read or
    # OOM loading DB. Unrecoverable error, aborting now.", exit 1).
    dump = saved_dump(store_server, tmp_path)
    path = data_dir(tmp_path) / "dump.rdb"
    path.write_bytes(dump[:len(dump) // 2])
    out = run_onebox(tmp_path, free_port())
    assert out.returncode != 0
    err = out.stdout.decode(errors="replace") + out.stderr.decode(
        errors="replace")
    assert str(path) in err, err
    assert path.read_bytes() == dump[:len(dump) // 2]     # left as it was


@pytest.mark.onebox_only
def test_corrupt_dump_stops_the_start(store_server, tmp_path):
    # redis-server refuses both too ("Wrong RDB checksum ... Aborting
    # now." / "Wrong signature trying to load DB from file").
    dump = saved_dump(store_server, tmp_path)
    path = data_dir(tmp_path) / "dump.rdb"
    bad = bytearray(dump)
    bad[len(bad) // 2] ^= 0xFF
    path.write_bytes(bytes(bad))
    out = run_onebox(tmp_path, free_port())
    assert out.returncode != 0
    err = out.stdout.decode(errors="replace") + out.stderr.decode(
        errors="replace")
    assert str(path) in err, err
    path.write_bytes(b"this is not an RDB file at all\n")
    out = run_onebox(tmp_path, free_port())
    assert out.returncode != 0
    assert str(path).encode() in out.stdout + out.stderr


@pytest.mark.onebox_only
def test_missing_data_dir_is_created(store_server, tmp_path):
    nested = tmp_path / "a" / "b" / "c"
    srv = store_server(dir=str(nested))
    r = client(srv)
    assert nested.is_dir()
    r.set("k", "v")
    assert cmd(srv, "SAVE") == b"+OK\r\n"
    assert (nested / "dump.rdb").exists()


def test_shutdown_kills_a_running_bgsave_and_saves(store_server, tmp_path):
    srv = store_server(save="3600 1")
    r = client(srv)
    pipe = r.pipeline(transaction=False)
    for i in range(20000):
        pipe.set("k%d" % i, "v" * 100)
    pipe.execute()
    with RespConn(srv.port, timeout=20) as conn:
        # Children are reaped by the cron (every 100 ms on both): the one
        # BGSAVE forked is still there when SHUTDOWN kills it.
        assert conn.cmd("BGSAVE") == b"+Background saving started\r\n"
        conn.send("SHUTDOWN")
        with pytest.raises(ConnectionError):
            conn.reply()
    assert srv.proc.wait(timeout=20) == 0
    names = os.listdir(data_dir(tmp_path))
    assert "dump.rdb" in names
    assert not [n for n in names if n.startswith("temp-")], names
    r = client(store_server())
    assert r.dbsize() == 20000


def aux(key, value):
    return b"\xfa" + bytes([len(key)]) + key + bytes([len(value)]) + value


def test_master_keeps_a_loaded_history_as_its_previous_id(store_server,
                                                          tmp_path):
    # What a replica or a master with replicas saves: the replication id
    # and offset of the snapshot (handcrafted, checksum 0 = not computed).
    replid = b"c" * 40
    rdb = (b"REDIS0010" + aux(b"repl-stream-db", b"0")
           + aux(b"repl-id", replid) + aux(b"repl-offset", b"50")
           + b"\xfe\x00\xfb\x01\x00" + b"\x00\x01k\x01v" + b"\xff"
           + b"\x00" * 8)
    data_dir(tmp_path).mkdir(exist_ok=True)
    (data_dir(tmp_path) / "dump.rdb").write_bytes(rdb)
    r = client(store_server())
    assert r.get("k") == b"v"
    info = r.info("replication")
    assert info["role"] == "master"
    assert info["master_replid2"] == replid.decode()
    assert info["master_replid"] != replid.decode()
    assert info["master_repl_offset"] == 50
    assert info["second_repl_offset"] == 51


def test_bgsave_schedule_waits_for_an_aof_rewrite(store_server):
    srv = store_server()
    r = client(srv)
    pipe = r.pipeline(transaction=False)
    for i in range(20000):
        pipe.set("k%d" % i, "v" * 100)
    pipe.execute()
    with RespConn(srv.port) as conn:
        # One read: the rewrite's child is there for both BGSAVEs.
        conn.send_raw(b"BGREWRITEAOF\r\nBGSAVE\r\nBGSAVE SCHEDULE\r\n"
                      b"SAVE\r\n")
        assert conn.reply() == (
            b"+Background append only file rewriting started\r\n")
        assert conn.reply() == (
            b"-ERR Another child process is active (AOF?): can't BGSAVE "
            b"right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE "
            b"whenever possible.\r\n")
        assert conn.reply() == b"+Background saving scheduled\r\n"
        # SAVE only minds an RDB child.
        assert conn.reply() == b"+OK\r\n"
    deadline = time.monotonic() + 10
    while persistence(r)["rdb_saves"] < 2:      # SAVE, then the scheduled
        assert time.monotonic() < deadline, "the scheduled BGSAVE never ran"
        time.sleep(0.05)
    assert wait_bgsave_done(r)["rdb_last_bgsave_status"] == "ok"


def test_save_and_shutdown_refused_inside_multi(resp):
    # no_multi commands are refused when queued, and doom the transaction.
    assert resp.cmd("MULTI") == b"+OK\r\n"
    assert resp.cmd("SAVE") == \
        b"-ERR Command not allowed inside a transaction\r\n"
    assert resp.cmd("SHUTDOWN") == \
        b"-ERR Command not allowed inside a transaction\r\n"
    assert resp.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert resp.cmd("EXEC") == (b"-EXECABORT Transaction discarded because "
                                b"of previous errors.\r\n")
    assert resp.cmd("GET", "a") == b"$-1\r\n"


def test_flushall_with_save_rules_saves_the_empty_dataset(store_server):
    # flushAllDataAndResetRDB: with save rules, FLUSHALL writes the empty
    # dataset at once, so a restart does not bring the keys back.
    srv = store_server(save="3600 1")
    r = client(srv)
    r.set("a", "1")
    assert cmd(srv, "SAVE") == b"+OK\r\n"
    r.set("b", "2")
    assert r.flushall() is True
    assert persistence(r)["rdb_changes_since_last_save"] == 0
    shutdown(srv, "NOSAVE")
    r = client(store_server())
    assert r.dbsize() == 0
