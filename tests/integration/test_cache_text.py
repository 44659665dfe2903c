"""The memcached text protocol, byte for byte, over raw sockets.

Every test here passes against the real memcached 1.6.18 (`--target real`)
as well as against onebox: the expected bytes are memcached's, taken from
/work/shared/reference/memcached-protocol.md sections 0-4 and checked on
the real server.  Commands whose reply is nothing (noreply, hidden errors)
are followed by `version`, the sync marker memccapable uses, so that a
stray reply shows up as a mismatch instead of a timeout.

Layout: framing and tokens (section 0), storage (1), retrieval (2), the
other commands (3), stats (4).
"""
import socket
import time

import pytest

VERSION = b"VERSION 1.6.18\r\n"
BAD_FORMAT = b"CLIENT_ERROR bad command line format\r\n"
BAD_CHUNK = b"CLIENT_ERROR bad data chunk\r\n"
TOO_LARGE = b"SERVER_ERROR object too large for cache\r\n"
BAD_EXPTIME = b"CLIENT_ERROR invalid exptime argument\r\n"
BAD_DELTA = b"CLIENT_ERROR invalid numeric delta argument\r\n"
NON_NUMERIC = (b"CLIENT_ERROR cannot increment or decrement non-numeric "
               b"value\r\n")
DELETE_USAGE = (b"CLIENT_ERROR bad command line format.  "
                b"Usage: delete <key> [noreply]\r\n")


def b(data):
    return data.encode() if isinstance(data, str) else data


def expect(mc, data, reply):
    """Sends `data` and checks that exactly `reply` comes back (then the
    VERSION of a trailing sync `version`, so that nothing more is owed)."""
    mc.send(b(data) + b"version\r\n")
    want = b(reply) + VERSION
    got = mc.read_exact(len(want))
    assert got == want
    assert mc.nothing_pending(0.05)


def store(mc, key, value, flags=0, exptime=0, cmd="set"):
    value = b(value)
    line = b"%s %s %d %d %d\r\n" % (b(cmd), b(key), flags, exptime,
                                    len(value))
    return mc.cmd(line + value + b"\r\n")


def value_of(mc, key, cmd="get"):
    """The VALUE block of one key, or b"END\\r\\n" alone on a miss."""
    mc.send(b"%s %s\r\n" % (b(cmd), b(key)))
    return mc.read_until(b"END\r\n")


def gets_cas(mc, key):
    mc.send(b"gets %s\r\n" % b(key))
    head = mc.read_line().split()
    assert head[0] == b"VALUE", head
    mc.read_until(b"END\r\n")
    return int(head[4])


# ---- 0. framing and tokens ---------------------------------------------------


def test_bare_newline_and_crlf(mc):
    expect(mc, "set a 0 0 1\nx\r\n", "STORED\r\n")
    expect(mc, "get a\n", "VALUE a 0 1\r\nx\r\nEND\r\n")
    expect(mc, "get a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n")


def test_spaces_tabs_and_control_bytes(mc):
    # only 0x20 separates; leading, repeated and trailing spaces are ignored
    expect(mc, "   set   k   3   0   2   \r\nhi\r\n", "STORED\r\n")
    expect(mc, "get    k   \r\n", "VALUE k 3 2\r\nhi\r\nEND\r\n")
    # a tab and a control byte are part of the key
    expect(mc, "set a\tb 0 0 1\r\nt\r\n", "STORED\r\n")
    expect(mc, "set a\x01b 0 0 1\r\nc\r\n", "STORED\r\n")
    expect(mc, "get a\tb a\x01b a\r\n",
           "VALUE a\tb 0 1\r\nt\r\nVALUE a\x01b 0 1\r\nc\r\nEND\r\n")


def test_case_sensitive_unknown_and_empty(mc):
    expect(mc, "GET a\r\n", "ERROR\r\n")
    # "Set" is unknown, so its data line is a command of its own
    expect(mc, "Set a 0 0 1\r\nx\r\n", "ERROR\r\nERROR\r\n")
    expect(mc, "\r\n", "ERROR\r\n")
    expect(mc, "\n", "ERROR\r\n")
    expect(mc, "   \r\n", "ERROR\r\n")
    expect(mc, "bogus\r\n", "ERROR\r\n")
    expect(mc, "mz\r\n", "ERROR\r\n")
    expect(mc, "x\r\n", "ERROR\r\n")
    expect(mc, "gett a\r\n", "ERROR\r\n")


def test_long_line_without_newline_closes(mc):
    mc.send(b"x" * 2049)
    assert mc.is_closed()


def test_long_set_line_without_newline_closes(mc):
    mc.send(b"set " + b"k" * 3000)
    assert mc.is_closed()


def test_2048_bytes_without_newline_wait(mc):
    mc.send(b"y" * 2048)
    assert mc.nothing_pending(0.3)
    expect(mc, "\r\n", "ERROR\r\n")


@pytest.mark.parametrize("cmd", ["get", "gets"])
def test_long_multiget_line_is_allowed(mc, cmd):
    assert store(mc, "hit", "v") == b"STORED"
    keys = b" ".join(b"key%06d" % i for i in range(500)) + b" hit"
    line = b"%s %s\r\n" % (b(cmd), keys)
    assert len(line) > 4096
    mc.send(line[:3000])        # more than 2048 bytes and no "\n" yet
    assert mc.nothing_pending(0.3)
    mc.send(line[3000:])
    head = mc.read_line()
    assert head.startswith(b"VALUE hit 0 1")
    assert mc.read_until(b"END\r\n") == b"v\r\nEND\r\n"
    expect(mc, "", "")


def test_byte_by_byte(mc):
    for ch in b"set slow 1 0 5\r\nhello\r\nget slow\r\n":
        mc.send(bytes([ch]))
        time.sleep(0.002)
    assert mc.read_until(b"END\r\n") == (b"STORED\r\n"
                                         b"VALUE slow 1 5\r\nhello\r\nEND\r\n")


def test_pipeline(mc):
    expect(mc,
           "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget a b\r\n"
           "delete a\r\nget a b\r\nincr b 5\r\n",
           "STORED\r\nSTORED\r\nVALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\n"
           "END\r\nDELETED\r\nVALUE b 0 1\r\n2\r\nEND\r\n7\r\n")


def test_http_request_line_closes(mc):
    # memcached drops a connection whose unknown command ends in HTTP/
    mc.send(b"GET / HTTP/1.1\r\n")
    assert mc.is_closed()


# ---- 1. storage commands -------------------------------------------------------


def test_set_add_replace(mc):
    expect(mc, "set a 5 0 3\r\nabc\r\n", "STORED\r\n")
    expect(mc, "get a\r\n", "VALUE a 5 3\r\nabc\r\nEND\r\n")
    expect(mc, "add a 0 0 1\r\nx\r\n", "NOT_STORED\r\n")
    expect(mc, "add n 7 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "replace missing 0 0 1\r\nx\r\n", "NOT_STORED\r\n")
    expect(mc, "replace a 9 0 2\r\nyz\r\n", "STORED\r\n")
    expect(mc, "get a n missing\r\n",
           "VALUE a 9 2\r\nyz\r\nVALUE n 7 1\r\nx\r\nEND\r\n")


def test_append_prepend(mc):
    expect(mc, "append nokey 0 0 1\r\nx\r\n", "NOT_STORED\r\n")
    expect(mc, "prepend nokey 0 0 1\r\nx\r\n", "NOT_STORED\r\n")
    expect(mc, "set e 3 0 2\r\nmm\r\n", "STORED\r\n")
    before = gets_cas(mc, "e")
    # the flags and exptime sent with append/prepend are ignored
    expect(mc, "append e 100 -1 2\r\n>>\r\n", "STORED\r\n")
    expect(mc, "prepend e 200 -1 2\r\n<<\r\n", "STORED\r\n")
    expect(mc, "get e\r\n", "VALUE e 3 6\r\n<<mm>>\r\nEND\r\n")
    assert gets_cas(mc, "e") != before
    expect(mc, "append e 0 0 0\r\n\r\n", "STORED\r\n")
    expect(mc, "get e\r\n", "VALUE e 3 6\r\n<<mm>>\r\nEND\r\n")


def test_cas(mc):
    expect(mc, "cas nokey 0 0 1 1\r\nx\r\n", "NOT_FOUND\r\n")
    expect(mc, "set c 0 0 1\r\n1\r\n", "STORED\r\n")
    cas = gets_cas(mc, "c")
    expect(mc, "cas c 0 0 1 %d\r\n2\r\n" % (cas + 1), "EXISTS\r\n")
    expect(mc, "cas c 4 0 1 %d\r\n3\r\n" % cas, "STORED\r\n")
    expect(mc, "get c\r\n", "VALUE c 4 1\r\n3\r\nEND\r\n")
    # the CAS changed, so the old one no longer matches
    expect(mc, "cas c 0 0 1 %d\r\n4\r\n" % cas, "EXISTS\r\n")
    new = gets_cas(mc, "c")
    assert new != cas
    expect(mc, "cas c 0 0 1 %d noreply\r\n5\r\n" % new, "")
    expect(mc, "get c\r\n", "VALUE c 0 1\r\n5\r\nEND\r\n")
    # an expired item is a missing one
    expect(mc, "set gone 0 -1 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "cas gone 0 0 1 %d\r\ny\r\n" % new, "NOT_FOUND\r\n")


def test_cas_bad_lines(mc):
    # no <cas unique>: token count, and the data line is a command
    expect(mc, "cas k 0 0 1\r\nx\r\n", "ERROR\r\nERROR\r\n")
    expect(mc, "cas k 0 0 1 abc\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
    expect(mc, "cas k 0 0 1 -5\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
    expect(mc, "cas k 0 0 1 1 noreply extra\r\nx\r\n", "ERROR\r\nERROR\r\n")


def test_flags(mc):
    expect(mc, "set f 4294967295 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "get f\r\n", "VALUE f 4294967295 1\r\nx\r\nEND\r\n")
    # parsed as unsigned long, then truncated to 32 bits
    expect(mc, "set f 4294967296 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "get f\r\n", "VALUE f 0 1\r\nx\r\nEND\r\n")
    expect(mc, "set f 4294967301 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "get f\r\n", "VALUE f 5 1\r\nx\r\nEND\r\n")
    expect(mc, "set f +7 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "get f\r\n", "VALUE f 7 1\r\nx\r\nEND\r\n")
    for bad in ("-1", "1.5", "abc", "5x", "18446744073709551616"):
        expect(mc, "set f %s 0 1\r\nx\r\n" % bad, BAD_FORMAT + b"ERROR\r\n")
    expect(mc, "get f\r\n", "VALUE f 7 1\r\nx\r\nEND\r\n")


def test_bad_numbers_are_not_swallowed(mc):
    # bytes -1: the data is read as a command
    expect(mc, "set a 0 0 -1\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
    expect(mc, "set a 0 0 abc\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
    expect(mc, "set a 0 abc 1\r\nx\r\n", BAD_FORMAT + b"ERROR\r\n")
    # a data line that is itself a command runs
    expect(mc, "set a 0 0 -1\r\nversion\r\n", BAD_FORMAT + VERSION)
    expect(mc, "get a\r\n", "END\r\n")
    # exptime and bytes are longs stored in 32 bits: 2^32 + 3 is 3
    expect(mc, "set a 0 4294967296 4294967299\r\nabc\r\n", "STORED\r\n")
    expect(mc, "get a\r\n", "VALUE a 0 3\r\nabc\r\nEND\r\n")


def test_token_count_errors(mc):
    expect(mc, "set a 0 0\r\n", "ERROR\r\n")
    expect(mc, "set\r\n", "ERROR\r\n")
    expect(mc, "add a 0 0 1 noreply extra\r\nx\r\n", "ERROR\r\nERROR\r\n")
    # a sixth token that is not "noreply" is just ignored
    expect(mc, "set a 0 0 1 whatever\r\nx\r\n", "STORED\r\n")


def test_key_length(mc):
    k250, k251 = "k" * 250, "k" * 251
    expect(mc, "set %s 0 0 1\r\nx\r\n" % k250, "STORED\r\n")
    expect(mc, "get %s\r\n" % k250,
           "VALUE %s 0 1\r\nx\r\nEND\r\n" % k250)
    # too long: no swallow, the data line is parsed as a command
    expect(mc, "set %s 0 0 1\r\nx\r\n" % k251, BAD_FORMAT + b"ERROR\r\n")
    expect(mc, "set %s 0 0 1 noreply\r\nx\r\n" % k251, "ERROR\r\n")


def test_python_memcached_trailing_space(mc):
    expect(mc, b"set s 16 0 6 \r\nh\xc3\xa9llo\r\n", "STORED\r\n")
    expect(mc, "get s\r\n", b"VALUE s 16 6\r\nh\xc3\xa9llo\r\nEND\r\n")


def test_binary_and_empty_values(mc):
    expect(mc, b"set b 0 0 6\r\n\r\n\x00\r\n\n\r\n", "STORED\r\n")
    expect(mc, "get b\r\n", b"VALUE b 0 6\r\n\r\n\x00\r\n\n\r\nEND\r\n")
    expect(mc, "set z 0 0 0\r\n\r\n", "STORED\r\n")
    expect(mc, "get z\r\n", "VALUE z 0 0\r\n\r\nEND\r\n")


def test_bad_data_chunk(mc):
    expect(mc, "set a 0 0 3\r\nold\r\n", "STORED\r\n")
    # exactly bytes+2 are used up; the rest is parsed as a command
    expect(mc, "set a 0 0 3\r\nabcde\r\n", BAD_CHUNK + b"ERROR\r\n")
    expect(mc, "get a\r\n", "VALUE a 0 3\r\nold\r\nEND\r\n")
    # "abc\n" is one byte short: the server waits for it
    mc.send(b"set a 0 0 3\r\nabc\n")
    assert mc.nothing_pending(0.3)
    expect(mc, "X", BAD_CHUNK)
    expect(mc, "set a 0 0 3\r\nabc\rversion\r\n", BAD_CHUNK + b"ERROR\r\n")
    expect(mc, "get a\r\n", "VALUE a 0 3\r\nold\r\nEND\r\n")


def test_noreply_hides_replies_and_errors(mc):
    expect(mc, "set a 0 0 1 noreply\r\nx\r\n", "")
    expect(mc, "add a 0 0 1 noreply\r\ny\r\n", "")
    expect(mc, "replace nokey 0 0 1 noreply\r\ny\r\n", "")
    expect(mc, "append a 0 0 1 noreply\r\nz\r\n", "")
    expect(mc, "prepend a 0 0 1 noreply\r\nw\r\n", "")
    expect(mc, "get a\r\n", "VALUE a 0 3\r\nwxz\r\nEND\r\n")
    # the bad chunk error is hidden; "\r\n" left over is an empty line
    expect(mc, "set k 0 0 3 noreply\r\nabcde\r\n", "ERROR\r\n")
    expect(mc, "set k 0 abc 1 noreply\r\nx\r\n", "ERROR\r\n")
    expect(mc, "set k 0 0 noreply\r\n", "")
    expect(mc, "set k 0 0 2000000 noreply\r\n" + "x" * 2000000 + "\r\n", "")
    expect(mc, "get k\r\n", "END\r\n")


def test_too_large_is_swallowed(mc):
    big = 1024 * 1024 + 1
    # the swallowed data looks like commands: none of it must run
    data = (b"delete keep\r\n" * (big // 13 + 1))[:big]
    expect(mc, "set keep 0 0 1\r\nk\r\n", "STORED\r\n")
    expect(mc, b"set big 0 0 %d\r\n%s\r\n" % (big, data), TOO_LARGE)
    expect(mc, "get keep big\r\n", "VALUE keep 0 1\r\nk\r\nEND\r\n")
    st = mc.stats()
    assert st["store_too_large"] == "1"
    assert st["cmd_set"] == "1"


def test_too_large_set_deletes_old_value(mc):
    big = 2 * 1024 * 1024
    expect(mc, "set big 0 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "add big 0 0 %d\r\n%s\r\n" % (big, "y" * big), TOO_LARGE)
    expect(mc, "get big\r\n", "VALUE big 0 1\r\nx\r\nEND\r\n")
    expect(mc, "replace big 0 0 %d\r\n%s\r\n" % (big, "y" * big), TOO_LARGE)
    expect(mc, "get big\r\n", "VALUE big 0 1\r\nx\r\nEND\r\n")
    expect(mc, "set big 0 0 %d\r\n%s\r\n" % (big, "y" * big), TOO_LARGE)
    expect(mc, "get big\r\n", "END\r\n")


def test_too_large_in_pieces(mc):
    # (memcached sends the error once the block is swallowed, onebox at
    # once: only the bytes are checked, not when they come)
    big = 1500000
    mc.send(b"set big 0 0 %d\r\n" % big)
    sent = 0
    while sent < big:
        n = min(100000, big - sent)
        mc.send(b"z" * n)
        sent += n
        time.sleep(0.005)
    expect(mc, "\r\nget big\r\n", TOO_LARGE + b"END\r\n")


def test_append_beyond_item_size(mc):
    # the joined value would be too large: NOT_STORED, the old value stays
    n = 600000
    expect(mc, "set a 0 0 %d\r\n%s\r\n" % (n, "x" * n), "STORED\r\n")
    expect(mc, "append a 0 0 %d\r\n%s\r\n" % (n, "y" * n),
           "NOT_STORED\r\n")
    expect(mc, "prepend a 0 0 %d noreply\r\n%s\r\n" % (n, "y" * n), "")
    mc.send("get a\r\n")
    assert mc.read_until(b"END\r\n") == (b"VALUE a 0 %d\r\n" % n + b"x" * n
                                         + b"\r\nEND\r\n")


def test_item_size_limit_follows_dash_i(cache_server):
    srv = cache_server("-I", "2m")
    mc = _conn(srv)
    n = 1024 * 1024 + 100
    expect(mc, "set big 0 0 %d\r\n%s\r\n" % (n, "v" * n), "STORED\r\n")
    mc.send("get big\r\n")
    assert mc.read_until(b"END\r\n") == (b"VALUE big 0 %d\r\n" % n
                                         + b"v" * n + b"\r\nEND\r\n")
    n = 2 * 1024 * 1024 + 1
    expect(mc, "set big 0 0 %d\r\n%s\r\n" % (n, "v" * n), TOO_LARGE)
    assert mc.stats("settings")["item_size_max"] == "2097152"


def test_exptime_rules(mc):
    now = int(time.time())
    expect(mc, "set never 0 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "set neg 0 -1 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "set max 0 2592000 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "set past 0 2592001 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "set abs 0 %d 1\r\nx\r\n" % (now + 100), "STORED\r\n")
    expect(mc, "set old 0 %d 1\r\nx\r\n" % (now - 100), "STORED\r\n")
    expect(mc, "set soon 0 1 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "set touched 0 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "touch touched 1\r\n", "TOUCHED\r\n")
    expect(mc, "set gatted 0 0 1\r\nx\r\n", "STORED\r\n")
    expect(mc, "gat 1 gatted\r\n", "VALUE gatted 0 1\r\nx\r\nEND\r\n")
    expect(mc, "get neg past old\r\n", "END\r\n")
    expect(mc, "get never max abs\r\n",
           "VALUE never 0 1\r\nx\r\nVALUE max 0 1\r\nx\r\n"
           "VALUE abs 0 1\r\nx\r\nEND\r\n")
    time.sleep(2.2)
    expect(mc, "get soon touched gatted never\r\n",
           "VALUE never 0 1\r\nx\r\nEND\r\n")


# ---- 2. retrieval ----------------------------------------------------------------


def test_get_multi_duplicates_and_order(mc):
    expect(mc, "set a 1 0 1\r\nA\r\nset b 2 0 2\r\nBB\r\n",
           "STORED\r\nSTORED\r\n")
    expect(mc, "get a b nokey a a\r\n",
           "VALUE a 1 1\r\nA\r\nVALUE b 2 2\r\nBB\r\nVALUE a 1 1\r\nA\r\n"
           "VALUE a 1 1\r\nA\r\nEND\r\n")
    expect(mc, "get nokey other\r\n", "END\r\n")
    expect(mc, "get\r\n", "ERROR\r\n")
    expect(mc, "gets\r\n", "ERROR\r\n")
    expect(mc, "bget a\r\n", "VALUE a 1 1\r\nA\r\nEND\r\n")


def test_gets_cas_values(mc):
    expect(mc, "set a 0 0 1\r\nA\r\n", "STORED\r\n")
    mc.send("gets a nokey a\r\n")
    lines = mc.read_until(b"END\r\n").split(b"\r\n")
    assert lines[0].startswith(b"VALUE a 0 1 ")
    assert lines[2] == lines[0]
    assert lines[4] == b"END"
    cas = int(lines[0].split()[4])
    expect(mc, "set a 0 0 1\r\nB\r\n", "STORED\r\n")
    assert gets_cas(mc, "a") > cas


def test_get_more_than_24_keys(mc):
    for i in range(0, 40, 3):
        assert store(mc, "k%d" % i, "v%d" % i) == b"STORED"
    keys = " ".join("k%d" % i for i in range(40))
    want = "".join("VALUE k%d 0 %d\r\nv%d\r\n" % (i, len("v%d" % i), i)
                   for i in range(0, 40, 3))
    expect(mc, "get %s\r\n" % keys, want + "END\r\n")
    st = mc.stats()
    assert st["cmd_get"] == "40"
    assert st["get_hits"] == str(len(range(0, 40, 3)))
    assert st["get_misses"] == str(40 - len(range(0, 40, 3)))


def test_get_long_key_anywhere(mc):
    expect(mc, "set a 0 0 1\r\nA\r\n", "STORED\r\n")
    long_key = "x" * 251
    expect(mc, "get a %s\r\n" % long_key, BAD_FORMAT)
    expect(mc, "get %s a\r\n" % long_key, BAD_FORMAT)
    keys = " ".join(["a"] * 30 + [long_key])
    expect(mc, "gets %s\r\n" % keys, BAD_FORMAT)


def test_gat_gats(mc):
    expect(mc, "set a 3 0 1\r\nA\r\n", "STORED\r\n")
    expect(mc, "gat 100 a nokey a\r\n",
           "VALUE a 3 1\r\nA\r\nVALUE a 3 1\r\nA\r\nEND\r\n")
    cas = gets_cas(mc, "a")
    expect(mc, "gats 100 a\r\n", "VALUE a 3 1 %d\r\nA\r\nEND\r\n" % cas)
    expect(mc, "gat abc a\r\n", BAD_EXPTIME)
    expect(mc, "gat a\r\n", BAD_EXPTIME)
    expect(mc, "gats 1.5 a\r\n", BAD_EXPTIME)
    expect(mc, "gat 10\r\n", "END\r\n")
    expect(mc, "gat\r\n", "ERROR\r\n")
    expect(mc, "gat 10 %s\r\n" % ("y" * 251), BAD_FORMAT)
    # a negative TTL: the value one last time, then gone
    expect(mc, "gat -1 a\r\n", "VALUE a 3 1\r\nA\r\nEND\r\n")
    expect(mc, "get a\r\n", "END\r\n")


def test_gat_counts_as_touch(mc):
    expect(mc, "set a 0 0 1\r\nA\r\n", "STORED\r\n")
    expect(mc, "gat 100 a nokey\r\n", "VALUE a 0 1\r\nA\r\nEND\r\n")
    st = mc.stats()
    assert (st["cmd_touch"], st["touch_hits"], st["touch_misses"]) == \
        ("2", "1", "1")
    assert (st["cmd_get"], st["get_hits"], st["get_misses"]) == \
        ("0", "0", "0")


# ---- 3. other commands --------------------------------------------------------


def test_delete_forms(mc):
    expect(mc, "set a 0 0 1\r\nA\r\nset b 0 0 1\r\nB\r\nset c 0 0 1\r\nC\r\n",
           "STORED\r\nSTORED\r\nSTORED\r\n")
    expect(mc, "delete a\r\n", "DELETED\r\n")
    expect(mc, "delete a\r\n", "NOT_FOUND\r\n")
    expect(mc, "delete b 0\r\n", "DELETED\r\n")
    expect(mc, "delete c 0 noreply\r\n", "")
    expect(mc, "delete c noreply\r\n", "")
    expect(mc, "get a b c\r\n", "END\r\n")
    for bad in ("10", "abc", "-1", "0 0", "1 2"):
        expect(mc, "delete a %s\r\n" % bad, DELETE_USAGE)
    expect(mc, "delete a 10 noreply\r\n", "")
    expect(mc, "delete\r\n", "ERROR\r\n")
    expect(mc, "delete a x y z\r\n", "ERROR\r\n")
    expect(mc, "delete %s\r\n" % ("d" * 251), BAD_FORMAT)
    st = mc.stats()
    assert (st["delete_hits"], st["delete_misses"]) == ("3", "2")


def test_incr_decr(mc):
    expect(mc, "incr nokey 1\r\n", "NOT_FOUND\r\n")
    expect(mc, "decr nokey 1\r\n", "NOT_FOUND\r\n")
    expect(mc, "set n 5 0 2\r\n10\r\n", "STORED\r\n")
    expect(mc, "incr n 5\r\n", "15\r\n")
    expect(mc, "decr n 3\r\n", "12\r\n")
    expect(mc, "decr n 100\r\n", "0\r\n")
    expect(mc, "get n\r\n", "VALUE n 5 2\r\n0 \r\nEND\r\n")
    expect(mc, "incr n 1 noreply\r\n", "")
    expect(mc, "incr n 1 whatever\r\n", "2\r\n")
    expect(mc, "incr n\r\n", "ERROR\r\n")
    expect(mc, "incr n 1 2 3\r\n", "ERROR\r\n")
    expect(mc, "decr\r\n", "ERROR\r\n")
    for bad in ("-1", "abc", "18446744073709551616", "1.5"):
        expect(mc, "incr n %s\r\n" % bad, BAD_DELTA)
    expect(mc, "incr n abc noreply\r\n", "")
    expect(mc, "incr %s 1\r\n" % ("n" * 251), BAD_FORMAT)
    st = mc.stats()
    assert (st["incr_hits"], st["incr_misses"]) == ("3", "1")
    assert (st["decr_hits"], st["decr_misses"]) == ("2", "1")


def test_incr_wrap_and_width(mc):
    expect(mc, "set w 0 0 20\r\n18446744073709551615\r\n", "STORED\r\n")
    expect(mc, "incr w 2\r\n", "1\r\n")
    expect(mc, "set w 0 0 20\r\n18446744073709551615\r\n", "STORED\r\n")
    expect(mc, "incr w 1\r\n", "0\r\n")
    expect(mc, "incr w 18446744073709551615\r\n", "18446744073709551615\r\n")
    # shorter results are padded with spaces in place; longer ones grow
    expect(mc, "set p 0 0 3\r\n100\r\n", "STORED\r\n")
    cas = gets_cas(mc, "p")
    expect(mc, "decr p 1\r\n", "99\r\n")
    expect(mc, "get p\r\n", "VALUE p 0 3\r\n99 \r\nEND\r\n")
    assert gets_cas(mc, "p") != cas
    expect(mc, "set q 0 0 2\r\n99\r\n", "STORED\r\n")
    cas = gets_cas(mc, "q")
    expect(mc, "incr q 1\r\n", "100\r\n")
    expect(mc, "get q\r\n", "VALUE q 0 3\r\n100\r\nEND\r\n")
    assert gets_cas(mc, "q") != cas


def test_incr_value_parsing(mc):
    for value, delta, reply in (("  12 ", 1, "13"), ("012", 1, "13"),
                                ("000000000000000000001", 1, "2"),
                                ("7\t", 1, "8")):
        assert store(mc, "v", value) == b"STORED"
        expect(mc, "incr v %d\r\n" % delta, reply + "\r\n")
    for value in ("", "-5", "99999999999999999999", "abc", "12abc", "1.5"):
        assert store(mc, "v", value) == b"STORED"
        expect(mc, "incr v 1\r\n", NON_NUMERIC)
        expect(mc, "decr v 1\r\n", NON_NUMERIC)


def test_touch(mc):
    expect(mc, "set t 0 0 1\r\nT\r\n", "STORED\r\n")
    expect(mc, "touch t 100\r\n", "TOUCHED\r\n")
    expect(mc, "touch nokey 100\r\n", "NOT_FOUND\r\n")
    expect(mc, "touch t abc\r\n", BAD_EXPTIME)
    expect(mc, "touch t abc noreply\r\n", "")
    expect(mc, "touch t 100 noreply\r\n", "")
    expect(mc, "touch t\r\n", "ERROR\r\n")
    expect(mc, "touch t 1 2 3\r\n", "ERROR\r\n")
    expect(mc, "touch %s 10\r\n" % ("t" * 251), BAD_FORMAT)
    expect(mc, "get t\r\n", "VALUE t 0 1\r\nT\r\nEND\r\n")
    expect(mc, "touch t -1\r\n", "TOUCHED\r\n")
    expect(mc, "get t\r\n", "END\r\n")
    st = mc.stats()
    assert (st["cmd_touch"], st["touch_hits"], st["touch_misses"]) == \
        ("4", "3", "1")


def test_flush_all(mc):
    expect(mc, "set a 0 0 1\r\nA\r\nset b 0 0 1\r\nB\r\n",
           "STORED\r\nSTORED\r\n")
    expect(mc, "flush_all\r\n", "OK\r\n")
    expect(mc, "get a b\r\n", "END\r\n")
    expect(mc, "set a 0 0 1\r\nA\r\n", "STORED\r\n")
    expect(mc, "get a\r\n", "VALUE a 0 1\r\nA\r\nEND\r\n")
    expect(mc, "flush_all 0\r\n", "OK\r\n")
    expect(mc, "flush_all -1\r\n", "OK\r\n")
    expect(mc, "flush_all noreply\r\n", "")
    expect(mc, "flush_all 0 noreply\r\n", "")
    expect(mc, "flush_all abc\r\n", BAD_EXPTIME)
    expect(mc, "flush_all abc noreply\r\n", "")
    expect(mc, "flush_all 1 2 3\r\n", "ERROR\r\n")
    expect(mc, "get a\r\n", "END\r\n")
    assert mc.stats()["cmd_flush"] == "7"


def test_flush_all_delay(mc):
    # memcached's delayed flush takes effect one second before the delay
    # (oldest_live = realtime(delay) - 1), which with the clock's whole
    # seconds can be a little over one second after the command: a delay
    # of 3 keeps the first check clear of that edge.
    expect(mc, "set a 0 0 1\r\nA\r\n", "STORED\r\n")
    expect(mc, "flush_all 3\r\n", "OK\r\n")
    expect(mc, "set b 0 0 1\r\nB\r\n", "STORED\r\n")
    expect(mc, "get a b\r\n",
           "VALUE a 0 1\r\nA\r\nVALUE b 0 1\r\nB\r\nEND\r\n")
    time.sleep(3.5)
    expect(mc, "get a b\r\n", "END\r\n")
    expect(mc, "set c 0 0 1\r\nC\r\n", "STORED\r\n")
    expect(mc, "get c\r\n", "VALUE c 0 1\r\nC\r\nEND\r\n")


def test_flush_all_disabled(cache_server):
    mc = _conn(cache_server("-F"))
    expect(mc, "set a 0 0 1\r\nA\r\n", "STORED\r\n")
    expect(mc, "flush_all\r\n", "CLIENT_ERROR flush_all not allowed\r\n")
    expect(mc, "flush_all noreply\r\n", "")
    expect(mc, "get a\r\n", "VALUE a 0 1\r\nA\r\nEND\r\n")
    assert mc.stats()["cmd_flush"] == "2"
    assert mc.stats("settings")["flush_enabled"] == "no"


def test_version_verbosity_shutdown(mc):
    expect(mc, "version\r\n", VERSION)
    expect(mc, "version foo bar\r\n", VERSION)
    expect(mc, "version noreply\r\n", VERSION)
    expect(mc, "verbosity 1\r\n", "OK\r\n")
    expect(mc, "verbosity\r\n", "ERROR\r\n")
    expect(mc, "verbosity foo bar my\r\n", "ERROR\r\n")
    expect(mc, "verbosity abc\r\n", BAD_FORMAT)
    expect(mc, "verbosity noreply\r\n", "")
    expect(mc, "verbosity 1 noreply\r\n", "")
    expect(mc, "verbosity 1 2\r\n", "OK\r\n")
    expect(mc, "verbosity 5\r\n", "OK\r\n")
    assert mc.stats("settings")["verbosity"] == "2"
    expect(mc, "verbosity 0\r\n", "OK\r\n")
    expect(mc, "shutdown\r\n", "ERROR: shutdown not enabled\r\n")
    expect(mc, "shutdown graceful\r\n", "ERROR: shutdown not enabled\r\n")


@pytest.mark.parametrize("line", ["quit", "quit now please"])
def test_quit(mc, line):
    mc.send("set a 0 0 1\r\nA\r\n%s\r\nversion\r\n" % line)
    assert mc.read_line() == b"STORED"
    assert mc.is_closed()
    assert mc.buf == b""


def test_cache_memlimit(mc):
    # (below -m: onebox does not let a client raise the budget above -m,
    # see test_cache_limits.py)
    expect(mc, "cache_memlimit 32\r\n", "OK\r\n")
    assert mc.stats()["limit_maxbytes"] == str(32 * 1024 * 1024)
    assert mc.stats("settings")["maxbytes"] == str(32 * 1024 * 1024)
    expect(mc, "cache_memlimit 7\r\n",
           "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n")
    expect(mc, "cache_memlimit 1000000001\r\n",
           "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n")
    expect(mc, "cache_memlimit abc\r\n", "ERROR\r\n")
    expect(mc, "cache_memlimit\r\n", "ERROR\r\n")
    expect(mc, "cache_memlimit 1 2 3\r\n", "ERROR\r\n")
    expect(mc, "cache_memlimit 64 noreply\r\n", "")
    expect(mc, "cache_memlimit abc noreply\r\n", "")
    assert mc.stats()["limit_maxbytes"] == str(64 * 1024 * 1024)
    expect(mc, "cache_memlimit 8 9\r\n", "OK\r\n")
    assert mc.stats()["limit_maxbytes"] == str(8 * 1024 * 1024)


# ---- 4. stats ----------------------------------------------------------------------


GENERAL = ("pid uptime time version libevent pointer_size rusage_user "
           "rusage_system max_connections curr_connections total_connections "
           "rejected_connections connection_structures cmd_get cmd_set "
           "cmd_flush cmd_touch cmd_meta get_hits get_misses get_expired "
           "get_flushed delete_misses delete_hits incr_misses incr_hits "
           "decr_misses decr_hits cas_misses cas_hits cas_badval touch_hits "
           "touch_misses store_too_large store_no_memory auth_cmds "
           "auth_errors bytes_read bytes_written limit_maxbytes "
           "accepting_conns listen_disabled_num threads conn_yields "
           "hash_power_level hash_bytes hash_is_expanding bytes curr_items "
           "total_items expired_unfetched evicted_unfetched evicted_active "
           "evictions reclaimed crawler_reclaimed crawler_items_checked"
           ).split()


def test_stats_general(mc):
    mc.send("stats\r\n")
    raw = mc.read_until(b"END\r\n")
    lines = raw.split(b"\r\n")
    assert lines[-2:] == [b"END", b""]
    names = []
    for line in lines[:-2]:
        parts = line.split(b" ")
        assert parts[0] == b"STAT" and len(parts) == 3, line
        names.append(parts[1].decode())
    # the fields are there, in memcached's order
    assert [n for n in names if n in GENERAL] == GENERAL
    st = mc.stats()
    assert st["pid"] == str(mc.server.pid)
    assert st["version"] == "1.6.18"
    assert st["pointer_size"] == "64"
    assert abs(int(st["time"]) - time.time()) < 5
    assert 0 <= int(st["uptime"]) < 60
    assert st["limit_maxbytes"] == str(64 * 1024 * 1024)
    assert st["max_connections"] == "1024"
    assert st["threads"] == "4"
    assert int(st["curr_connections"]) >= 1
    assert st["accepting_conns"] == "1"
    sec, _, usec = st["rusage_user"].partition(".")
    assert sec.isdigit() and len(usec) == 6 and usec.isdigit()
    assert int(st["bytes_read"]) > 0 and int(st["bytes_written"]) > 0


def test_stats_counters(mc):
    expect(mc, "set a 0 0 1\r\nA\r\nset b 0 0 2\r\nBB\r\n",
           "STORED\r\nSTORED\r\n")
    expect(mc, "get a b c\r\n",
           "VALUE a 0 1\r\nA\r\nVALUE b 0 2\r\nBB\r\nEND\r\n")
    expect(mc, "set big 0 0 2000000\r\n" + "x" * 2000000 + "\r\n", TOO_LARGE)
    cas = gets_cas(mc, "a")
    expect(mc, "cas a 0 0 1 %d\r\nX\r\n" % cas, "STORED\r\n")
    expect(mc, "cas a 0 0 1 %d\r\nY\r\n" % cas, "EXISTS\r\n")
    expect(mc, "cas zz 0 0 1 1\r\nY\r\n", "NOT_FOUND\r\n")
    expect(mc, "set a 0 0 3\r\nabcde\r\n", BAD_CHUNK + b"ERROR\r\n")
    st = mc.stats()
    assert st["cmd_get"] == "4"
    assert (st["get_hits"], st["get_misses"]) == ("3", "1")
    # a bad data chunk still counts as a set; a refused one does not
    assert st["cmd_set"] == "6"
    assert (st["cas_hits"], st["cas_badval"], st["cas_misses"]) == \
        ("1", "1", "1")
    assert st["store_too_large"] == "1"
    assert st["curr_items"] == "2"
    assert st["total_items"] == "3"
    assert int(st["bytes"]) > 0


def test_stats_reset(mc):
    expect(mc, "set a 0 0 1\r\nA\r\n", "STORED\r\n")
    expect(mc, "get a nokey\r\n", "VALUE a 0 1\r\nA\r\nEND\r\n")
    expect(mc, "delete nokey\r\n", "NOT_FOUND\r\n")
    before = mc.stats()
    expect(mc, "stats reset\r\n", "RESET\r\n")
    expect(mc, "stats reset extra\r\n", "RESET\r\n")
    st = mc.stats()
    for name in ("cmd_get", "cmd_set", "get_hits", "get_misses",
                 "delete_misses", "total_items", "total_connections",
                 "evictions"):
        assert st[name] == "0", name
    assert st["curr_items"] == "1"
    assert st["bytes"] == before["bytes"]
    assert st["curr_connections"] == before["curr_connections"]
    items = mc.stats("items")
    assert [v for k, v in items.items() if k.endswith(":number")] == ["1"]


def test_stats_settings(cache_server):
    srv = cache_server("-m", "64", "-c", "500")
    mc = _conn(srv)
    st = mc.stats("settings")
    assert st["maxbytes"] == str(64 * 1024 * 1024)
    assert st["maxconns"] == "500"
    assert st["tcpport"] == str(srv.port)
    assert st["udpport"] == "0"
    assert st["verbosity"] == "0"
    assert st["evictions"] == "on"
    assert st["growth_factor"] == "1.25"
    assert st["item_size_max"] == "1048576"
    assert st["slab_chunk_max"] == "524288"
    assert st["cas_enabled"] == "yes"
    assert st["flush_enabled"] == "yes"
    assert int(st["chunk_size"]) > 0
    assert mc.stats()["max_connections"] == "500"


def test_stats_settings_cas_disabled(cache_server):
    mc = _conn(cache_server("-C"))
    assert mc.stats("settings")["cas_enabled"] == "no"


def test_stats_items_and_slabs(mc):
    expect(mc, "set a 0 0 1\r\nA\r\nset b 0 0 1000\r\n%s\r\n" % ("b" * 1000),
           "STORED\r\nSTORED\r\n")
    expect(mc, "get a b a\r\n",
           "VALUE a 0 1\r\nA\r\nVALUE b 0 1000\r\n%s\r\nVALUE a 0 1\r\nA\r\n"
           "END\r\n" % ("b" * 1000))
    expect(mc, "delete b\r\n", "DELETED\r\n")
    expect(mc, "set b 0 0 1000\r\n%s\r\n" % ("b" * 1000), "STORED\r\n")
    st = mc.stats()

    items = mc.stats("items")
    classes = sorted({k.split(":")[1] for k in items})
    assert len(classes) == 2
    for cls in classes:
        for field in ("number", "age", "mem_requested", "evicted",
                      "evicted_nonzero", "evicted_time", "outofmemory",
                      "reclaimed", "expired_unfetched", "evicted_unfetched",
                      "crawler_reclaimed"):
            assert "items:%s:%s" % (cls, field) in items, field
        assert items["items:%s:number" % cls] == "1"
    assert sum(int(items["items:%s:mem_requested" % c]) for c in classes) \
        == int(st["bytes"])

    slabs = mc.stats("slabs")
    assert int(slabs["active_slabs"]) == 2
    assert int(slabs["total_malloced"]) > 0
    ids = sorted({k.split(":")[0] for k in slabs if ":" in k})
    assert ids == classes
    for cls in ids:
        for field in ("chunk_size", "chunks_per_page", "total_pages",
                      "total_chunks", "used_chunks", "free_chunks",
                      "free_chunks_end", "get_hits", "cmd_set",
                      "delete_hits", "incr_hits", "decr_hits", "cas_hits",
                      "cas_badval", "touch_hits"):
            assert "%s:%s" % (cls, field) in slabs, field
        assert slabs["%s:used_chunks" % cls] == "1"
    total = lambda f: sum(int(slabs["%s:%s" % (c, f)]) for c in ids)  # noqa
    assert total("get_hits") == 3 == int(st["get_hits"])
    assert total("cmd_set") == 3 == int(st["cmd_set"])
    assert total("delete_hits") == 1
    small = min(ids, key=lambda c: int(slabs["%s:chunk_size" % c]))
    assert slabs["%s:get_hits" % small] == "2"


def test_stats_errors_and_sizes(mc):
    expect(mc, "stats noreply\r\n", "ERROR\r\n")
    expect(mc, "stats bogus\r\n", "ERROR\r\n")
    expect(mc, "stats sizes\r\n", "STAT sizes_status disabled\r\nEND\r\n")
    expect(mc, "stats items\r\n", "END\r\n")


def test_evictions_in_small_memory(cache_server):
    mc = _conn(cache_server("-m", "8"))
    value = b"e" * 1000
    n = 20000
    batch = []
    for i in range(n):
        batch.append(b"set ev%05d 0 0 1000 noreply\r\n%s\r\n" % (i, value))
        if len(batch) == 1000:
            mc.send(b"".join(batch))
            batch = []
    expect(mc, b"".join(batch), "")
    st = mc.stats()
    assert int(st["evictions"]) > 0
    assert int(st["curr_items"]) + int(st["evictions"]) == n
    assert int(st["evicted_unfetched"]) == int(st["evictions"])
    assert int(st["total_items"]) == n
    assert int(st["bytes"]) <= 8 * 1024 * 1024
    expect(mc, "get ev00000\r\n", "END\r\n")
    expect(mc, "get ev%05d\r\n" % (n - 1),
           b"VALUE ev%05d 0 1000\r\n%s\r\nEND\r\n" % (n - 1, value))
    items = mc.stats("items")
    assert sum(int(v) for k, v in items.items() if k.endswith(":evicted")) \
        == int(st["evictions"])


def test_no_evictions_with_dash_M(cache_server):
    # -M: when memory is full a store fails (and its data is swallowed)
    # instead of evicting; what is stored stays readable.
    mc = _conn(cache_server("-m", "8", "-M"))
    value = b"m" * 1000
    stored = 0
    reply = b""
    for i in range(20000):
        reply = mc.cmd(b"set m%05d 0 0 1000\r\n%s\r\n" % (i, value))
        if reply != b"STORED":
            break
        stored += 1
    assert reply == b"SERVER_ERROR out of memory storing object"
    assert stored > 1000
    # The data block was swallowed: the connection is in step.
    assert mc.cmd("version\r\n").startswith(b"VERSION ")
    st = mc.stats()
    assert st["evictions"] == "0"
    assert int(st["curr_items"]) == stored
    expect(mc, "get m00000\r\n",
           b"VALUE m00000 0 1000\r\n%s\r\nEND\r\n" % value)
    assert mc.stats("settings")["evictions"] == "off"


def _conn(srv):
    from obtest import McConn
    conn = McConn(srv.port)
    conn.server = srv
    return conn


def test_connection_stays_usable_after_errors(mc):
    # a long run of mixed errors must leave the connection in sync.  (Not
    # a get with a long key: memcached then also drops the replies of the
    # commands before it that it has not sent yet, a timing-dependent quirk)
    data = ("set a 0 0 -1\r\nx\r\n" "incr a x\r\n" "delete a 5\r\n"
            "gat z a\r\n" "set a 0 0 1\r\nxyz\r\n" "touch a b\r\n"
            "set %s 0 0 1\r\nx\r\n" % ("k" * 300))
    expect(mc, data * 3,
           (BAD_FORMAT + b"ERROR\r\n" + BAD_DELTA + DELETE_USAGE
            + BAD_EXPTIME + BAD_CHUNK + b"ERROR\r\n" + BAD_EXPTIME
            + BAD_FORMAT + b"ERROR\r\n") * 3)
    assert not mc.is_closed(0.1)


def test_closed_by_peer_mid_block(mc):
    # a client that goes away in the middle of a data block: the server
    # must carry on serving others
    mc.send(b"set a 0 0 100\r\nonly part")
    mc.sock.shutdown(socket.SHUT_WR)
    other = _conn(mc.server)
    expect(other, "get a\r\n", "END\r\n")

