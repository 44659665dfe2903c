"""RESP framing on the store's port, byte for byte: inline commands and
their quoting, pipelining, every protocol error (sent, then the
connection is closed), big bulks in pieces, HELLO and RESP3, AUTH and
the limits on unauthenticated clients, QUIT and RESET.

Every test runs against onebox and, with --target real, against
redis-server 7.0; the expected bytes are what redis-server sends."""
import random
import socket

import pytest
import redis

from obtest import RespConn, bulk, encode


@pytest.fixture
def srv(store_server):
    return store_server()


@pytest.fixture
def conn(srv):
    c = RespConn(srv.port)
    yield c
    c.close()


def assert_closed_after(conn, data, error):
    """Sends data, expects exactly the error line, then the close."""
    conn.send_raw(data)
    assert conn.expect(error + b"\r\n") == error + b"\r\n"
    assert conn.is_closed()
    assert conn.buf == b""


# ---------------------------------------------------------------- inline

def test_inline_ping_and_empty_lines(conn):
    conn.send_raw(b"PING\r\n\nPING\n\r\n\r\nPING\r\nping hi\r\n")
    assert conn.expect(b"+PONG\r\n" * 3) == b"+PONG\r\n" * 3
    assert conn.reply() == b"$2\r\nhi\r\n"
    assert conn.nothing_pending()


def test_inline_quoting(conn):
    cases = [
        (b'ECHO "a\\x41\\n\\t b"\r\n', b"aA\n\t b"),
        (b"ECHO 'it\\'s'\r\n", b"it's"),
        (b"ECHO a\"b c\"\r\n", b"ab c"),
        (b'ECHO "\\x4g"\r\n', b"x4g"),
        (b"ECHO '\\n'\r\n", b"\\n"),
        (b'ECHO "q\\"q"\r\n', b'q"q'),
        (b"ECHO \t  spaced   \r\n", b"spaced"),
        (b'ECHO ""\r\n', b""),
    ]
    for line, want in cases:
        conn.send_raw(line)
        assert conn.reply() == bulk(want), line


def test_inline_unknown_command_with_args(conn):
    conn.send_raw(b"FOO bar baz\r\n")
    assert conn.reply() == (b"-ERR unknown command 'FOO', with args "
                            b"beginning with: 'bar' 'baz' \r\n")
    conn.send_raw(b"nOsUcH\r\n")
    assert conn.reply() == (b"-ERR unknown command 'nOsUcH', with args "
                            b"beginning with: \r\n")
    # The connection stays open after a command error.
    assert conn.cmd("PING") == b"+PONG\r\n"


def test_unknown_command_args_are_cut(conn):
    # Each argument is cut to what is left of 128 characters, and no
    # argument starts once 128 are reached.
    reply = conn.cmd("nosuch", "a" * 200, "b")
    assert reply == (b"-ERR unknown command 'nosuch', with args beginning "
                     b"with: '" + b"a" * 128 + b"' \r\n")
    reply = conn.cmd("nosuch", "a" * 20, "b" * 200, "c")
    assert reply == (b"-ERR unknown command 'nosuch', with args beginning "
                     b"with: '" + b"a" * 20 + b"' '" + b"b" * 105
                     + b"' \r\n")
    reply = conn.cmd("x" * 200)
    assert reply == (b"-ERR unknown command '" + b"x" * 128
                     + b"', with args beginning with: \r\n")


def test_wrong_arity(conn):
    assert conn.cmd("ECHO") == (b"-ERR wrong number of arguments for "
                                b"'echo' command\r\n")
    assert conn.cmd("PiNg", "a", "b") == (b"-ERR wrong number of arguments"
                                          b" for 'ping' command\r\n")
    assert conn.cmd("CONFIG", "GET") == (b"-ERR wrong number of arguments "
                                         b"for 'config|get' command\r\n")
    assert conn.cmd("config", "nosuch") == (
        b"-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.\r\n")
    assert conn.cmd("PING") == b"+PONG\r\n"


def test_empty_multibulk_is_ignored(conn):
    conn.send_raw(b"*0\r\n*-1\r\nPING\r\n")
    assert conn.reply() == b"+PONG\r\n"
    assert conn.nothing_pending()


def test_bulk_trailer_is_not_checked(conn):
    conn.send_raw(b"*1\r\n$4\r\nPINGxx")
    assert conn.reply() == b"+PONG\r\n"
    conn.send_raw(b"*2\r\n$4\r\nECHO\r\n$3\r\nabcde\r\nPING\r\n")
    assert conn.reply() == b"$3\r\nabc\r\n"
    assert conn.reply() == b"+PONG\r\n"


# ------------------------------------------------------------ pipelining

def test_pipeline_1000_in_one_write(conn):
    req = b"".join(encode("ECHO", "m%d" % i) for i in range(1000))
    conn.send_raw(req)
    for i in range(1000):
        assert conn.reply() == bulk("m%d" % i)
    assert conn.nothing_pending()


def test_pipeline_mixed_inline_and_multibulk(conn):
    conn.send_raw(b"PING\r\n" + encode("ECHO", "x") + b"ECHO y\r\n"
              + encode("PING", "z"))
    assert conn.reply() == b"+PONG\r\n"
    assert conn.reply() == b"$1\r\nx\r\n"
    assert conn.reply() == b"$1\r\ny\r\n"
    assert conn.reply() == b"$1\r\nz\r\n"


# ------------------------------------------------------- protocol errors

@pytest.mark.parametrize("data,error", [
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length"),
    (b"*+1\r\n", b"-ERR Protocol error: invalid multibulk length"),
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length"),
    (b"*1\r\nx4\r\n", b"-ERR Protocol error: expected '$', got 'x'"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$ 4\r\n", b"-ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length"),
    (b'ECHO "abc\r\n', b"-ERR Protocol error: unbalanced quotes in request"),
    (b'ECHO "b"c\r\n', b"-ERR Protocol error: unbalanced quotes in request"),
    (b"ECHO 'b'c\r\n", b"-ERR Protocol error: unbalanced quotes in request"),
])
def test_protocol_error_closes(conn, data, error):
    assert_closed_after(conn, data, error)


def test_commands_before_the_bad_bytes_are_answered(conn):
    conn.send_raw(b"PING\r\n" + encode("ECHO", "a") + b"*1\r\nx\r\n")
    assert conn.reply() == b"+PONG\r\n"
    assert conn.reply() == b"$1\r\na\r\n"
    assert conn.reply() == b"-ERR Protocol error: expected '$', got 'x'\r\n"
    assert conn.is_closed()


def test_too_big_inline(conn):
    assert_closed_after(conn, b"ECHO " + b"a" * 70000,
                        b"-ERR Protocol error: too big inline request")


def test_too_big_mbulk_count(conn):
    assert_closed_after(conn, b"*" + b"1" * 70000,
                        b"-ERR Protocol error: too big mbulk count string")


def test_too_big_bulk_count(conn):
    assert_closed_after(conn, b"*1\r\n$" + b"1" * 70000,
                        b"-ERR Protocol error: too big bulk count string")


def test_big_multibulk_count_waits(conn):
    conn.send_raw(b"*1048577\r\n")
    assert conn.nothing_pending(0.3)
    assert not conn.is_closed(0.2)


def test_proto_max_bulk_len_config_set(conn):
    assert conn.cmd("CONFIG", "SET", "proto-max-bulk-len", "1048576") \
        == b"+OK\r\n"
    assert conn.cmd("CONFIG", "GET", "proto-max-bulk-len") == (
        b"*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n")
    big = b"v" * 1048576
    assert conn.cmd("ECHO", big) == bulk(big)
    assert_closed_after(conn, b"*2\r\n$4\r\nECHO\r\n$1048577\r\n",
                        b"-ERR Protocol error: invalid bulk length")


def test_proto_max_bulk_len_from_conf(store_server):
    srv = store_server(proto_max_bulk_len=2 * 1048576)
    c = RespConn(srv.port)
    assert c.cmd("CONFIG", "GET", "proto-max-bulk-len") == (
        b"*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n2097152\r\n")
    assert_closed_after(c, b"*2\r\n$4\r\nECHO\r\n$2097153\r\n",
                        b"-ERR Protocol error: invalid bulk length")


# ------------------------------------------------- big bulks in pieces

def test_1mb_bulk_in_pieces(conn):
    rnd = random.Random(7)
    value = bytes(rnd.randrange(256) for _ in range(4096)) * 256
    req = encode("ECHO", value)
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pos = 0
    sizes = [1, 2, 3, 7, 100, 1000, 4096, 16384, 65536]
    # Byte by byte through the header and into the payload, then pieces
    # of every size, so every split point of the parser is crossed.
    while pos < 200:
        conn.send_raw(req[pos:pos + 1])
        pos += 1
    while pos < len(req):
        n = rnd.choice(sizes)
        conn.send_raw(req[pos:pos + n])
        pos += n
    assert conn.reply() == bulk(value)
    # And the same again in one write, followed by a command.
    conn.send_raw(req + encode("PING"))
    assert conn.reply() == bulk(value)
    assert conn.reply() == b"+PONG\r\n"


def test_1mb_bulk_via_redis_py(r):
    value = b"\x00\r\n" * 350000
    assert r.echo(value) == value


# -------------------------------------------------------------- HELLO

def hello_map(proto, cid):
    head = b"%7\r\n" if proto == 3 else b"*14\r\n"
    return (head + b"$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"
            b"$6\r\n7.0.15\r\n$5\r\nproto\r\n:%d\r\n$2\r\nid\r\n:%d\r\n"
            b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n"
            b"$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n" % (proto, cid))


def client_id(conn):
    reply = conn.cmd("CLIENT", "ID")
    assert reply.startswith(b":")
    return int(reply[1:])


def test_hello_shapes(conn):
    cid = client_id(conn)
    assert conn.cmd("HELLO") == hello_map(2, cid)
    assert conn.cmd("HELLO", "3") == hello_map(3, cid)
    # RESP3 shapes: null, map from CONFIG GET, verbatim INFO.
    assert conn.cmd("CLIENT", "GETNAME") == b"_\r\n"
    assert conn.cmd("CONFIG", "GET", "maxmemory") == (
        b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n")
    assert conn.cmd("CONFIG", "GET", "nosuchoption") == b"%0\r\n"
    info = conn.cmd("INFO", "server")
    assert info.startswith(b"=")
    head, body = info.split(b"\r\n", 1)
    assert int(head[1:]) == len(body) - 2
    assert body.startswith(b"txt:# Server\r\n")
    assert conn.cmd("PING") == b"+PONG\r\n"
    assert conn.cmd("HELLO") == hello_map(3, cid)
    assert conn.cmd("HELLO", "2") == hello_map(2, cid)
    assert conn.cmd("CLIENT", "GETNAME") == b"$-1\r\n"


def test_hello_setname(conn):
    cid = client_id(conn)
    assert conn.cmd("HELLO", "3", "SETNAME", "me") == hello_map(3, cid)
    assert conn.cmd("CLIENT", "GETNAME") == b"$2\r\nme\r\n"


@pytest.mark.parametrize("args,error", [
    (("1",), b"-NOPROTO unsupported protocol version"),
    (("4",), b"-NOPROTO unsupported protocol version"),
    (("abc",), b"-ERR Protocol version is not an integer or out of range"),
    (("3", "foo"), b"-ERR Syntax error in HELLO option 'foo'"),
    (("2", "SETNAME", "a b"), b"-ERR Client names cannot contain spaces, "
     b"newlines or special characters."),
])
def test_hello_errors(conn, args, error):
    assert conn.cmd("HELLO", *args) == error + b"\r\n"
    # The protocol did not change.
    assert conn.cmd("CLIENT", "GETNAME") == b"$-1\r\n"


# ------------------------------------------------------------ AUTH

@pytest.fixture
def authsrv(store_server):
    return store_server(requirepass="s3cret")


NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = (b"-WRONGPASS invalid username-password pair or user is "
             b"disabled.\r\n")


def test_auth_without_password_configured(conn):
    assert conn.cmd("AUTH", "x") == (
        b"-ERR AUTH <password> called without any password configured for "
        b"the default user. Are you sure your configuration is correct?\r\n")
    assert conn.cmd("AUTH", "a", "b", "c") == (
        b"-ERR syntax error\r\n")


def test_requirepass(authsrv):
    c = RespConn(authsrv.port)
    assert c.cmd("PING") == NOAUTH
    assert c.cmd("ECHO", "x") == NOAUTH
    # Unknown commands and arity are checked before authentication.
    assert c.cmd("NOSUCH") == (b"-ERR unknown command 'NOSUCH', with args "
                               b"beginning with: \r\n")
    assert c.cmd("ECHO") == (b"-ERR wrong number of arguments for 'echo' "
                             b"command\r\n")
    assert c.cmd("AUTH", "bad") == WRONGPASS
    assert c.cmd("AUTH", "default", "bad") == WRONGPASS
    assert c.cmd("AUTH", "nouser", "s3cret") == WRONGPASS
    assert c.cmd("PING") == NOAUTH
    assert c.cmd("AUTH", "s3cret") == b"+OK\r\n"
    assert c.cmd("PING") == b"+PONG\r\n"
    c2 = RespConn(authsrv.port)
    assert c2.cmd("AUTH", "default", "s3cret") == b"+OK\r\n"
    assert c2.cmd("PING") == b"+PONG\r\n"
    # A wrong AUTH later does not log an authenticated client out.
    assert c2.cmd("AUTH", "bad") == WRONGPASS
    assert c2.cmd("PING") == b"+PONG\r\n"


def test_requirepass_redis_py(authsrv):
    bad = redis.Redis(port=authsrv.port, socket_timeout=10)
    with pytest.raises(redis.AuthenticationError):
        bad.ping()
    # redis-py maps WRONGPASS to a plain ResponseError.
    with pytest.raises(redis.ResponseError, match="^WRONGPASS invalid"):
        redis.Redis(port=authsrv.port, password="nope").ping()
    good = redis.Redis(port=authsrv.port, password="s3cret",
                       socket_timeout=10)
    assert good.ping() is True
    assert good.echo("hi") == b"hi"


def test_hello_auth(authsrv):
    c = RespConn(authsrv.port)
    assert c.cmd("HELLO", "3") == (
        b"-NOAUTH HELLO must be called with the client already "
        b"authenticated, otherwise the HELLO AUTH <user> <pass> option can "
        b"be used to authenticate the client and select the RESP protocol "
        b"version at the same time\r\n")
    assert c.cmd("HELLO", "3", "AUTH", "default", "bad") == WRONGPASS
    assert c.cmd("PING") == NOAUTH
    reply = c.cmd("HELLO", "3", "AUTH", "default", "s3cret")
    assert reply.startswith(b"%7\r\n$6\r\nserver\r\n")
    assert c.cmd("PING") == b"+PONG\r\n"


def test_unauthenticated_multibulk_limit(authsrv):
    c = RespConn(authsrv.port)
    assert_closed_after(c, b"*11\r\n",
                        b"-ERR Protocol error: unauthenticated "
                        b"multibulk length")
    c = RespConn(authsrv.port)
    c.send_raw(encode("CONFIG", "SET", *(["a"] * 8)))
    assert c.reply() == NOAUTH


def test_unauthenticated_bulk_limit(authsrv):
    c = RespConn(authsrv.port)
    assert_closed_after(c, b"*2\r\n$4\r\nECHO\r\n$16385\r\n",
                        b"-ERR Protocol error: unauthenticated bulk length")
    c = RespConn(authsrv.port)
    assert c.cmd("ECHO", "x" * 16384) == NOAUTH


def test_authenticated_client_has_no_small_limits(authsrv):
    c = RespConn(authsrv.port)
    assert c.cmd("AUTH", "s3cret") == b"+OK\r\n"
    assert c.cmd("ECHO", "x" * 20000) == bulk("x" * 20000)
    assert c.cmd(*(["PING"] + ["a"] * 11)) == (
        b"-ERR wrong number of arguments for 'ping' command\r\n")


# ------------------------------------------------------- QUIT, RESET

def test_quit(conn):
    conn.send_raw(encode("QUIT") + encode("PING"))
    assert conn.reply() == b"+OK\r\n"
    assert conn.is_closed()
    assert conn.buf == b""


def test_quit_redis_py(r):
    assert r.ping() is True
    assert r.execute_command("QUIT") in (True, b"OK")


def test_reset(conn):
    assert conn.cmd("HELLO", "3", "SETNAME", "n1").startswith(b"%7")
    assert conn.cmd("MULTI") == b"+OK\r\n"
    assert conn.cmd("RESET") == b"+RESET\r\n"
    assert conn.cmd("CLIENT", "GETNAME") == b"$-1\r\n"
    assert conn.cmd("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert conn.cmd("SUBSCRIBE", "c") == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n")
    assert conn.cmd("RESET") == b"+RESET\r\n"
    assert conn.cmd("ECHO", "ok") == b"$2\r\nok\r\n"


def test_reset_deauthenticates(authsrv):
    c = RespConn(authsrv.port)
    assert c.cmd("AUTH", "s3cret") == b"+OK\r\n"
    assert c.cmd("RESET") == b"+RESET\r\n"
    assert c.cmd("PING") == NOAUTH
