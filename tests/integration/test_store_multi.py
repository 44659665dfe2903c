"""MULTI/EXEC/DISCARD and WATCH on the store's port: queueing errors
(EXECABORT), runtime errors inside the EXEC array, and WATCH's rules
(reference §5), raw and through redis-py's pipeline and transaction."""
import time

import pytest
import redis

from obtest import RespConn


@pytest.fixture
def srv(store_server):
    return store_server()


@pytest.fixture
def conn(srv):
    c = RespConn(srv.port)
    yield c
    c.close()


@pytest.fixture
def r(srv):
    c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
    yield c
    c.close()


EXECABORT = (b"-EXECABORT Transaction discarded because of previous "
             b"errors.\r\n")


def test_multi_exec(conn):
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.cmd("INCR", "a") == b"+QUEUED\r\n"
    assert conn.cmd("GET", "a") == b"+QUEUED\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == (b"*4\r\n+OK\r\n:2\r\n$1\r\n2\r\n"
                                b"+PONG\r\n")
    assert conn.cmd("GET", "a") == b"$1\r\n2\r\n"


def test_empty_multi_exec(conn):
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("EXEC") == b"*0\r\n"


def test_multi_errors(conn):
    assert conn.cmd("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert conn.cmd("DISCARD") == b"-ERR DISCARD without MULTI\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"-ERR MULTI calls can not be nested\r\n"
    assert conn.cmd("WATCH", "x") == (
        b"-ERR WATCH inside MULTI is not allowed\r\n")
    # Neither error dooms the transaction.
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == b"*1\r\n+PONG\r\n"


def test_discard(conn):
    assert conn.cmd("SET", "a", "old") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "new") == b"+QUEUED\r\n"
    assert conn.cmd("DISCARD") == b"+OK\r\n"
    assert conn.cmd("GET", "a") == b"$3\r\nold\r\n"
    assert conn.cmd("EXEC") == b"-ERR EXEC without MULTI\r\n"


def test_execabort_unknown_command(conn):
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.cmd("NOSUCH", "x") == (
        b"-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n")
    assert conn.cmd("SET", "b", "1") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == EXECABORT
    assert conn.cmd("EXISTS", "a", "b") == b":0\r\n"
    # The client is out of MULTI.
    assert conn.cmd("PING") == b"+PONG\r\n"


def test_execabort_wrong_arity(conn):
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.cmd("GET") == (
        b"-ERR wrong number of arguments for 'get' command\r\n")
    assert conn.cmd("EXEC") == EXECABORT
    assert conn.cmd("GET", "a") == b"$-1\r\n"


def test_execabort_unknown_subcommand(conn):
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("CONFIG", "NOSUCH") == (
        b"-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.\r\n")
    assert conn.cmd("EXEC") == EXECABORT


def test_runtime_error_inside_exec(conn):
    assert conn.cmd("SET", "s", "x") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.cmd("INCR", "s") == b"+QUEUED\r\n"
    assert conn.cmd("LPUSH", "s", "y") == b"+QUEUED\r\n"
    assert conn.cmd("GET", "s") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == (
        b"*4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n"
        b"-WRONGTYPE Operation against a key holding the wrong kind of "
        b"value\r\n$1\r\nx\r\n")
    assert conn.cmd("GET", "a") == b"$1\r\n1\r\n"


def test_exec_resp3_null_on_abort(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("HELLO", "3").startswith(b"%7")
    assert conn.cmd("WATCH", "k") == b"+OK\r\n"
    assert other.cmd("SET", "k", "1") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("GET", "k") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == b"_\r\n"


# ------------------------------------------------------------- WATCH

def watch_then_exec(conn, key, between):
    """WATCH key, run `between`, then MULTI/GET/EXEC: returns EXEC's
    raw reply."""
    assert conn.cmd("WATCH", key) == b"+OK\r\n"
    between()
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    return conn.cmd("EXEC")


ABORTED = b"*-1\r\n"
RAN = b"*1\r\n+PONG\r\n"


def test_watch_modified_by_other_client(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "v")
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("SET", "k", "v")) == ABORTED
    # EXEC cleared the watch: the next transaction runs.
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == RAN


def test_watch_unmodified_runs(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "v")
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("SET", "other", "v")) == RAN
    assert watch_then_exec(conn, "k", lambda: other.cmd("GET", "k")) == RAN


def test_watch_modified_by_same_client_before_multi(conn):
    assert watch_then_exec(conn, "k",
                           lambda: conn.cmd("SET", "k", "1")) == ABORTED


def test_watch_del_of_missing_key_does_not_abort(srv, conn):
    other = RespConn(srv.port)
    assert watch_then_exec(conn, "gone",
                           lambda: other.cmd("DEL", "gone")) == RAN


def test_watch_del_of_present_key_aborts(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "v")
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("DEL", "k")) == ABORTED


def test_watch_flushall_absent_key_no_abort(srv, conn):
    other = RespConn(srv.port)
    other.cmd("SET", "unrelated", "1")
    assert watch_then_exec(conn, "absent",
                           lambda: other.cmd("FLUSHALL")) == RAN


def test_watch_flushall_present_key_aborts(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "1")
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("FLUSHALL")) == ABORTED


def test_watch_expire_command_aborts(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "1")
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("EXPIRE", "k", "100")) \
        == ABORTED


def test_watch_key_that_expires_aborts(srv, conn):
    conn.cmd("SET", "k", "1", "PX", "100")
    assert watch_then_exec(conn, "k", lambda: time.sleep(0.3)) == ABORTED


def test_watch_key_already_expired_does_not_abort(conn):
    conn.cmd("SET", "k", "1", "PX", "50")
    time.sleep(0.2)
    assert watch_then_exec(conn, "k", lambda: time.sleep(0.05)) == RAN


def test_unwatch(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("WATCH", "k", "j") == b"+OK\r\n"
    assert conn.cmd("UNWATCH") == b"+OK\r\n"
    other.cmd("SET", "k", "1")
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == RAN


def test_discard_clears_watch(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("WATCH", "k") == b"+OK\r\n"
    other.cmd("SET", "k", "1")
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("DISCARD") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == RAN


def test_watch_aborted_transaction_runs_nothing(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("WATCH", "k") == b"+OK\r\n"
    other.cmd("SET", "k", "1")
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "side", "effect") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == ABORTED
    assert conn.cmd("EXISTS", "side") == b":0\r\n"


def test_watch_several_keys_one_changed(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("WATCH", "a", "b") == b"+OK\r\n"
    assert conn.cmd("WATCH", "c") == b"+OK\r\n"
    other.cmd("SET", "c", "1")
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == ABORTED


def test_commands_queued_in_multi_run_in_order(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("MULTI") == b"+OK\r\n"
    for i in range(100):
        assert conn.cmd("RPUSH", "l", str(i)) == b"+QUEUED\r\n"
    # Another client's commands run at once, before the EXEC.
    assert other.cmd("RPUSH", "l", "first") == b":1\r\n"
    reply = conn.cmd("EXEC")
    assert reply.startswith(b"*100\r\n:2\r\n:3\r\n")
    assert other.cmd("LINDEX", "l", "0") == b"$5\r\nfirst\r\n"


# ------------------------------------------------------------ redis-py

def test_redis_py_pipeline_transaction(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1).incr("a").get("a").echo("x")
    assert pipe.execute() == [True, 2, b"2", b"x"]


def test_redis_py_pipeline_runtime_error(r):
    r.set("s", "x")
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1).incr("s").get("a")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True and results[2] == b"1"
    assert isinstance(results[1], redis.ResponseError)
    assert str(results[1]) == "value is not an integer or out of range"
    with pytest.raises(redis.ResponseError):
        r.pipeline(transaction=True).incr("s").execute()


def test_redis_py_pipeline_execabort(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1)
    pipe.execute_command("NOSUCH")
    with pytest.raises(redis.ResponseError) as e:
        pipe.execute()
    assert "unknown command" in str(e.value)
    assert r.exists("a") == 0


def test_redis_py_transaction_func(srv, r):
    r.set("counter", 10)
    other = redis.Redis(host="127.0.0.1", port=srv.port)
    attempts = []

    def incr_by_two(pipe):
        value = int(pipe.get("counter"))
        if not attempts:
            other.set("counter", 100)       # the first attempt must retry
        attempts.append(value)
        pipe.multi()
        pipe.set("counter", value + 2)

    result = r.transaction(incr_by_two, "counter")
    assert result == [True]
    assert attempts == [10, 100]
    assert r.get("counter") == b"102"


def test_redis_py_watch_error(srv, r):
    other = redis.Redis(host="127.0.0.1", port=srv.port)
    with r.pipeline() as pipe:
        pipe.watch("w")
        other.set("w", 1)
        pipe.multi()
        pipe.set("w", 2)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("w") == b"1"


# ------------------------------------------------- MULTI and the rest

def test_blocking_and_subscribe_inside_multi(conn):
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.cmd("BLPOP", "nolist", "0") == b"+QUEUED\r\n"
    assert conn.cmd("SUBSCRIBE", "ch") == b"+QUEUED\r\n"
    # BLPOP never blocks inside EXEC; SUBSCRIBE runs and its
    # confirmation is an element of the array.
    assert conn.cmd("EXEC") == (
        b"*3\r\n+OK\r\n*-1\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
    assert conn.cmd("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"


def test_client_list_shows_multi(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    listing = other.cmd("CLIENT", "LIST").decode()
    mine = [l for l in listing.split("\n")
            if "laddr=" in l and " flags=x " in l]
    assert len(mine) == 1
    assert " multi=2 " in mine[0] and " cmd=ping " in mine[0]
    assert conn.cmd("DISCARD") == b"+OK\r\n"


def test_watch_is_per_database(srv, conn):
    other = RespConn(srv.port)
    assert conn.cmd("SELECT", "2") == b"+OK\r\n"
    assert conn.cmd("WATCH", "k") == b"+OK\r\n"
    assert other.cmd("SET", "k", "x") == b"+OK\r\n"     # in db 0
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == RAN
    assert conn.cmd("WATCH", "k") == b"+OK\r\n"
    assert other.cmd("SELECT", "2") == b"+OK\r\n"
    assert other.cmd("SET", "k", "x") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == ABORTED


def test_monitor_shows_transactions_at_exec(srv, conn):
    mon = RespConn(srv.port)
    assert mon.cmd("MONITOR") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.cmd("DISCARD") == b"+OK\r\n"
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("SET", "b", "2") == b"+QUEUED\r\n"
    assert conn.cmd("PING") == b"+QUEUED\r\n"
    assert conn.cmd("EXEC") == b"*2\r\n+OK\r\n+PONG\r\n"
    lines = []
    for _ in range(6):
        line = mon.reply()
        lines.append(line.split(b"] ", 1)[1])
    assert lines == [b'"MULTI"\r\n', b'"DISCARD"\r\n', b'"MULTI"\r\n',
                     b'"SET" "b" "2"\r\n', b'"PING"\r\n', b'"EXEC"\r\n']
    assert mon.nothing_pending(0.2)


def test_watch_flushdb_of_another_db_does_not_abort(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "1")
    assert other.cmd("SELECT", "3") == b"+OK\r\n"
    assert other.cmd("SET", "k", "x") == b"+OK\r\n"
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("FLUSHDB")) == RAN
    assert watch_then_exec(conn, "k",
                           lambda: conn.cmd("FLUSHDB")) == ABORTED


def test_watch_swapdb_aborts(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "1")
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("SWAPDB", "0", "1")) == ABORTED


def test_watch_rename_and_expire_touch_both_keys(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "src", "1")
    assert watch_then_exec(conn, "dst",
                           lambda: other.cmd("RENAME", "src", "dst")) \
        == ABORTED
    assert watch_then_exec(conn, "dst",
                           lambda: other.cmd("PERSIST", "dst")) == RAN
    assert watch_then_exec(conn, "dst",
                           lambda: other.cmd("PEXPIRE", "dst", "100000")) \
        == ABORTED


def test_watch_survives_a_failed_command_and_a_read(srv, conn):
    other = RespConn(srv.port)
    conn.cmd("SET", "k", "1")
    # A write that fails (wrong type) or changes nothing does not touch it.
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("LPUSH", "k", "x")) == RAN
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("SETNX", "k", "2")) == RAN
    assert watch_then_exec(conn, "k",
                           lambda: other.cmd("APPEND", "k", "")) == ABORTED


def test_watch_then_disconnect_leaves_no_trace(srv, conn):
    for i in range(50):
        c = RespConn(srv.port)
        assert c.cmd("WATCH", "k", "k%d" % i) == b"+OK\r\n"
        c.close()
    conn.cmd("SET", "k", "v")
    assert watch_then_exec(conn, "k", lambda: None) == RAN


def test_exec_with_many_queued_commands(conn):
    assert conn.cmd("MULTI") == b"+OK\r\n"
    conn.send_raw(b"".join(b"*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$%d\r\n%d\r\n"
                       % (len(str(i)), i) for i in range(10000)))
    for _ in range(10000):
        assert conn.reply() == b"+QUEUED\r\n"
    reply = conn.cmd("EXEC")
    assert reply.startswith(b"*10000\r\n:1\r\n:2\r\n")
    assert reply.endswith(b":10000\r\n")
    assert conn.cmd("LLEN", "l") == b":10000\r\n"


def test_command_info_of_transaction_commands(conn):
    assert conn.cmd("COMMAND", "INFO", "exec", "multi") == (
        b"*2\r\n"
        b"*10\r\n$4\r\nexec\r\n:1\r\n*4\r\n+noscript\r\n+loading\r\n+stale\r\n"
        b"+skip_slowlog\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@transaction\r\n"
        b"*0\r\n*0\r\n*0\r\n"
        b"*10\r\n$5\r\nmulti\r\n:1\r\n*5\r\n+noscript\r\n+loading\r\n+stale\r\n"
        b"+fast\r\n+allow_busy\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n"
        b"+@transaction\r\n*0\r\n*0\r\n*0\r\n")
