"""redis-cli 7.0 against the store: one-shot commands of every group,
RESP3 (-3), databases (-n), AUTH (-a), --pipe, --scan and --bigkeys, as a
user types them.  redis-cli prints raw replies when its output is not a
terminal, so the expected text is the same on both targets.
"""
import subprocess

import pytest


def cli(port, *args, stdin=None, check=True):
    out = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)],
                         input=stdin, capture_output=True, timeout=30)
    if check:
        assert out.returncode == 0, out.stderr
    return out.stdout.decode()


@pytest.fixture
def port(store_server):
    return store_server().port


def test_strings_and_keys(port):
    assert cli(port, "set", "greeting", "hello") == "OK\n"
    assert cli(port, "get", "greeting") == "hello\n"
    assert cli(port, "append", "greeting", " world") == "11\n"
    assert cli(port, "incrby", "n", 5) == "5\n"
    assert cli(port, "incrbyfloat", "f", "10.5") == "10.5\n"
    assert cli(port, "mget", "greeting", "nokey", "n") == "hello world\n\n5\n"
    assert cli(port, "expire", "n", 100) == "1\n"
    assert cli(port, "ttl", "n") in ("100\n", "99\n")
    assert cli(port, "type", "greeting") == "string\n"
    assert cli(port, "exists", "greeting", "nokey") == "1\n"
    assert cli(port, "del", "greeting") == "1\n"
    assert cli(port, "get", "greeting") == "\n"


def test_errors_are_printed(port):
    # (redis-cli ends an error with an empty line)
    assert cli(port, "get") == ("ERR wrong number of arguments for 'get' "
                                "command\n\n")
    assert cli(port, "nosuchcommand", "a") == (
        "ERR unknown command 'nosuchcommand', with args beginning with: "
        "'a' \n\n")
    cli(port, "set", "s", "x")
    assert cli(port, "lpush", "s", "a") == (
        "WRONGTYPE Operation against a key holding the wrong kind of "
        "value\n\n")


def test_aggregates(port):
    assert cli(port, "rpush", "l", "a", "b", "c") == "3\n"
    assert cli(port, "lrange", "l", 0, -1) == "a\nb\nc\n"
    assert cli(port, "hset", "h", "f1", "v1", "f2", "v2") == "2\n"
    assert cli(port, "hgetall", "h") == "f1\nv1\nf2\nv2\n"
    assert cli(port, "sadd", "s", 3, 1, 2) == "3\n"
    assert cli(port, "smembers", "s") == "1\n2\n3\n"
    assert cli(port, "zadd", "z", 1.5, "a", 2, "b") == "2\n"
    assert cli(port, "zrange", "z", 0, -1, "withscores") == "a\n1.5\nb\n2\n"
    assert cli(port, "xadd", "st", "1-1", "f", "v") == "1-1\n"
    assert cli(port, "xlen", "st") == "1\n"
    assert cli(port, "xrange", "st", "-", "+") == "1-1\nf\nv\n"
    assert cli(port, "sort", "l", "alpha", "desc") == "c\nb\na\n"


def test_resp3_and_databases(port):
    cli(port, "hset", "h", "f", "v")
    assert cli(port, "-3", "hgetall", "h") == "f v\n"     # a RESP3 map
    assert cli(port, "-3", "zadd", "z", "incr", 1, "m") == "1\n"
    assert cli(port, "-n", 3, "set", "k", "in3") == "OK\n"
    assert cli(port, "-n", 3, "get", "k") == "in3\n"
    assert cli(port, "get", "k") == "\n"
    assert cli(port, "-n", 3, "dbsize") == "1\n"


def test_auth(store_server):
    port = store_server(requirepass="s3cret").port
    assert cli(port, "get", "k") == "NOAUTH Authentication required.\n\n"
    out = subprocess.run(["redis-cli", "-p", str(port), "-a", "s3cret",
                          "set", "k", "v"], capture_output=True, timeout=30)
    assert out.stdout == b"OK\n"
    assert b"Using a password" in out.stderr


def test_pipe_mode(port):
    lines = "".join("SET key:%d %d\r\n" % (i, i) for i in range(1000))
    out = subprocess.run(["redis-cli", "-p", str(port), "--pipe"],
                         input=lines.encode(), capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert b"errors: 0, replies: 1000" in out.stdout
    assert cli(port, "dbsize") == "1000\n"
    assert cli(port, "get", "key:999") == "999\n"


def test_scan_and_bigkeys(port):
    for i in range(50):
        cli(port, "set", "user:%d" % i, "x" * i)
    cli(port, "rpush", "biglist", *range(30))
    keys = sorted(cli(port, "--scan", "--pattern", "user:4*").split())
    assert keys == sorted(["user:4"] + ["user:4%d" % i for i in range(10)])
    out = cli(port, "--bigkeys")
    assert "Biggest string found '\"user:49\"' has 49 bytes" in out
    assert "Biggest   list found '\"biglist\"' has 30 items" in out
    assert "50 strings with 1225 bytes" in out
    assert "1 lists with 30 items" in out


def test_info_and_command_docs(port):
    assert "redis_version:7.0.15" in cli(port, "info", "server")
    # redis-cli asks COMMAND DOCS for its hints; the reply must parse
    cli(port, "command", "docs", "get")
    assert int(cli(port, "command", "count")) > 150
