"""memcached's meta commands (mg ms md ma me mn), byte for byte as
memcached 1.6.18 answers them: the verified exchanges of
shared/reference/memcached-protocol.md section 5, every error string, q per
command, base64 keys, opaque tokens, and the vivify / recache / stale flows.

Every test passes against the real memcached (--target real) too.  CAS
values differ between servers, so they are read back and compared, never
written literally; TTLs and ages may tick by one second mid-test, so those
are matched with a one-second margin.
"""
import re
import time

import pytest

BIG = 2000000           # more than the 1 MB item limit


def ms(mc, key, data, flags=""):
    """Sends `ms <key> <len> <flags>` with its data block; returns the reply
    line."""
    if isinstance(data, str):
        data = data.encode()
    line = "ms %s %d%s\r\n" % (key, len(data), " " + flags if flags else "")
    return mc.cmd(line.encode() + data + b"\r\n")


def cas_of(mc, key):
    reply = mc.cmd("mg %s c\r\n" % key)
    m = re.fullmatch(rb"HD c(\d+)(?: [ZXW])*", reply)
    assert m, reply
    return int(m.group(1))


def value_of(mc, key, flags="v"):
    """mg <key> <flags>: (header line, data) of a hit."""
    head = mc.cmd("mg %s %s\r\n" % (key, flags))
    m = re.match(rb"VA (\d+)", head)
    assert m, head
    data = mc.read_exact(int(m.group(1)) + 2)
    assert data.endswith(b"\r\n")
    return head, data[:-2]


def match(pattern, reply):
    """Asserts a reply against a regex (for CAS values and times) and
    returns the match."""
    m = re.fullmatch(pattern.encode() if isinstance(pattern, str)
                     else pattern, reply)
    assert m, (pattern, reply)
    return m


def synced(mc):
    """Sends mn and checks that MN is the only thing pending: every reply
    before it has been read (or was never sent)."""
    assert mc.cmd("mn\r\n") == b"MN"
    assert mc.nothing_pending(0.05)


# ---- the verified exchanges ------------------------------------------------


def test_ms_then_mg_every_flag(mc):
    m = match(r"HD c(\d+) kfoo O123", ms(mc, "foo", "bar", "T100 F5 c k O123"))
    cas = m.group(1).decode()
    head, data = value_of(mc, "foo", "v f t s c k O99 h l")
    match(r"VA 3 f5 t(99|100) s3 c%s kfoo O99 h0 l[01]" % cas, head)
    assert data == b"bar"


def test_mg_hit_miss_and_quiet_miss(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert mc.cmd("mg foo\r\n") == b"HD"
    assert mc.cmd("mg miss v\r\n") == b"EN"
    mc.send("mg miss v q\r\n")
    synced(mc)


def test_mg_h_and_l_show_the_state_before_the_fetch(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert mc.cmd("mg foo h\r\n") == b"HD h0"
    head, data = value_of(mc, "foo", "h l v")
    match(r"VA 3 h1 l[01]", head)
    assert data == b"bar"


def test_mg_u_does_not_mark_fetched(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert mc.cmd("mg foo u\r\n") == b"HD"
    assert mc.cmd("mg foo h\r\n") == b"HD h0"
    assert mc.cmd("mg foo u h\r\n") == b"HD h1"


def test_ms_modes(mc):
    assert ms(mc, "foo", "hi") == b"HD"
    assert ms(mc, "foo", "hi", "ME") == b"NS"
    assert ms(mc, "new", "hi", "ME") == b"HD"
    assert ms(mc, "miss", "hi", "MR") == b"NS"
    assert ms(mc, "miss", "x", "MA") == b"NS"
    assert ms(mc, "miss", "x", "MP") == b"NS"
    assert ms(mc, "foo", "!!", "MA") == b"HD"
    assert ms(mc, "foo", "<<", "MP") == b"HD"
    assert value_of(mc, "foo") == (b"VA 6", b"<<hi!!")
    assert ms(mc, "foo", "yo", "MR") == b"HD"
    assert ms(mc, "foo", "set", "MS") == b"HD"
    assert value_of(mc, "foo") == (b"VA 3", b"set")
    assert mc.cmd("mg miss\r\n") == b"EN"


def test_ms_append_keeps_flags_and_ttl(mc):
    assert ms(mc, "foo", "a", "F7 T100") == b"HD"
    assert ms(mc, "foo", "b", "MA F9 T0") == b"HD"
    head, data = value_of(mc, "foo", "v f t")
    match(r"VA 2 f7 t(99|100)", head)
    assert data == b"ab"


def test_ms_bad_mode_swallows_the_data(mc):
    assert ms(mc, "foo", "x", "Mx") == \
        b"CLIENT_ERROR invalid mode for ms M token"
    assert ms(mc, "foo", "x", "Ms") == \
        b"CLIENT_ERROR invalid mode for ms M token"
    assert ms(mc, "foo", "x", "MEE") == \
        b"CLIENT_ERROR incorrect length for M token"
    synced(mc)
    assert mc.cmd("mg foo\r\n") == b"EN"


def test_ms_compare_cas(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    cas = cas_of(mc, "foo")
    assert ms(mc, "foo", "x", "C%d" % (cas + 1)) == b"EX"
    assert ms(mc, "miss", "x", "C5") == b"NF"
    m = match(r"HD c(\d+)", ms(mc, "foo", "new", "C%d c" % cas))
    assert int(m.group(1)) > cas
    assert int(m.group(1)) == cas_of(mc, "foo")
    # a CAS with replace is a cas too; with add it is ignored
    assert ms(mc, "foo", "x", "MR C%d" % cas) == b"EX"
    assert ms(mc, "add", "x", "ME C12345") == b"HD"
    assert ms(mc, "add", "x", "ME C%d" % cas_of(mc, "add")) == b"NS"
    # append and prepend compare too; a miss stays NS
    assert ms(mc, "foo", "x", "MA C%d" % (cas_of(mc, "foo") + 7)) == b"EX"
    assert ms(mc, "miss", "x", "MA C99") == b"NS"
    assert ms(mc, "foo", "!", "MA C%d" % cas_of(mc, "foo")) == b"HD"
    assert value_of(mc, "foo") == (b"VA 4", b"new!")


def test_ms_c0_is_a_cas_of_zero(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert ms(mc, "foo", "bar", "C0") == b"EX"
    assert ms(mc, "nokey", "bar", "C0") == b"NF"


def test_ms_c_flag_is_0_when_not_stored(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert ms(mc, "miss", "bar", "c MR") == b"NS c0"
    assert ms(mc, "miss", "bar", "c k O1 MR") == b"NS c0 kmiss O1"
    assert ms(mc, "foo", "bar", "C%d c k" % (cas_of(mc, "foo") + 1)) == \
        b"EX c0 kfoo"


def test_ms_ttl(mc):
    assert ms(mc, "foo", "abc", "T-1") == b"HD"
    assert mc.cmd("mg foo v\r\n") == b"EN"
    assert ms(mc, "foo", "abc", "T0") == b"HD"
    assert mc.cmd("mg foo t\r\n") == b"HD t-1"
    assert ms(mc, "foo", "abc", "T2592000") == b"HD"
    match(r"HD t259(1999|2000)", mc.cmd("mg foo t\r\n"))
    assert ms(mc, "foo", "abc", "T2592001") == b"HD"
    assert mc.cmd("mg foo t\r\n") == b"EN"


def test_ms_client_flags_are_32_bits(mc):
    assert ms(mc, "foo", "bar", "F4294967295") == b"HD"
    assert mc.cmd("mg foo f\r\n") == b"HD f4294967295"
    assert ms(mc, "foo", "bar", "F4294967301") == b"HD"
    assert mc.cmd("mg foo f\r\n") == b"HD f5"
    assert ms(mc, "foo", "bar") == b"HD"
    assert mc.cmd("mg foo f\r\n") == b"HD f0"
    assert ms(mc, "foo", "bar", "F-1") == \
        b"CLIENT_ERROR bad command line format"
    assert ms(mc, "foo", "bar", "Fabc") == \
        b"CLIENT_ERROR bad command line format"
    synced(mc)


def test_ms_empty_value(mc):
    assert ms(mc, "foo", "") == b"HD"
    assert value_of(mc, "foo", "v s") == (b"VA 0 s0", b"")


def test_ms_too_large_swallows_and_drops_the_old_value(mc):
    assert ms(mc, "big", "hi") == b"HD"
    assert ms(mc, "big", b"x" * BIG, "T0") == \
        b"SERVER_ERROR object too large for cache"
    synced(mc)
    assert mc.cmd("mg big\r\n") == b"EN"
    # errors are sent even with q, and the data is still swallowed
    assert ms(mc, "big2", b"x" * BIG, "q") == \
        b"SERVER_ERROR object too large for cache"
    synced(mc)


def test_ms_too_large_with_add_still_drops_the_old_value(mc):
    assert ms(mc, "big", "hi") == b"HD"
    assert ms(mc, "big", b"x" * BIG, "ME") == \
        b"SERVER_ERROR object too large for cache"
    assert mc.cmd("mg big\r\n") == b"EN"


def test_ms_append_beyond_the_item_limit_is_not_stored(mc):
    assert ms(mc, "big", b"x" * 1000000) == b"HD"
    assert ms(mc, "big", b"y" * 100000, "MA c k") == b"NS c0 kbig"
    assert mc.cmd("mg big s\r\n") == b"HD s1000000"


def test_ms_bad_data_chunk(mc):
    assert ms(mc, "foo", "old") == b"HD"
    mc.send("ms foo 3\r\nbarx\r\n")
    # exactly 3 + 2 bytes are used up: the "\n" left is an empty line
    assert mc.read_line() == b"CLIENT_ERROR bad data chunk"
    assert mc.read_line() == b"ERROR"
    mc.send("ms foo 3 q\r\nbarxx\r\n")
    assert mc.read_line() == b"CLIENT_ERROR bad data chunk"
    assert mc.read_line() == b"ERROR"
    assert value_of(mc, "foo") == (b"VA 3", b"old")


def test_ms_block_in_pieces(mc):
    mc.send("ms foo 10 T0")
    time.sleep(0.05)
    mc.send(" c\r\n0123")
    time.sleep(0.05)
    mc.send("456789\r")
    assert mc.nothing_pending(0.1)
    mc.send("\n")
    match(r"HD c\d+", mc.read_line())
    assert value_of(mc, "foo") == (b"VA 10", b"0123456789")


def test_ms_line_errors_leave_the_data_line_to_be_read_as_a_command(mc):
    mc.send("ms foo\r\nbar\r\n")
    assert mc.read_line() == b"CLIENT_ERROR bad command line format"
    assert mc.read_line() == b"ERROR"
    mc.send("ms foo S3\r\nbar\r\n")
    assert mc.read_line() == b"CLIENT_ERROR bad command line format"
    assert mc.read_line() == b"ERROR"
    mc.send("ms foo abc\r\nbar\r\n")
    assert mc.read_line() == b"CLIENT_ERROR bad command line format"
    assert mc.read_line() == b"ERROR"
    mc.send("ms foo -1\r\nbar\r\n")
    assert mc.read_line() == b"CLIENT_ERROR bad command line format"
    assert mc.read_line() == b"ERROR"
    mc.send("ms %s 3\r\nbar\r\n" % ("k" * 251))
    assert mc.read_line() == b"CLIENT_ERROR bad command line format"
    assert mc.read_line() == b"ERROR"
    synced(mc)


def test_ms_flag_errors_swallow_the_data(mc):
    for flags, err in [
            ("S3", b"CLIENT_ERROR invalid flag"),
            ("E5", b"CLIENT_ERROR invalid flag"),
            ("v v", b"CLIENT_ERROR duplicate flag"),
            ("Fabc v v", b"CLIENT_ERROR duplicate flag"),
            ("b", b"CLIENT_ERROR error decoding key"),
            ("Tabc", b"CLIENT_ERROR bad token in command line format"),
            ("Cabc", b"CLIENT_ERROR bad token in command line format"),
            ("Tabc Fabc", b"CLIENT_ERROR bad token in command line format"),
            ("Fabc Tabc", b"CLIENT_ERROR bad token in command line format"),
            ("O" + "1" * 32, b"CLIENT_ERROR opaque token too long"),
            ("O" + "1" * 32 + " Mx",
             b"CLIENT_ERROR invalid mode for ms M token"),
            ("Mx F", b"CLIENT_ERROR bad command line format"),
            ("q Mx", b"CLIENT_ERROR invalid mode for ms M token")]:
        assert ms(mc, "foo", "bar", flags) == err, flags
    synced(mc)
    assert mc.cmd("mg foo\r\n") == b"EN"


def test_ms_quiet(mc):
    mc.send("ms foo 3 q\r\nbar\r\n")
    synced(mc)
    assert ms(mc, "foo", "bar", "q C%d" % (cas_of(mc, "foo") + 1)) == b"EX"
    assert ms(mc, "nokey", "bar", "q C1") == b"NF"
    assert ms(mc, "foo", "bar", "q ME") == b"NS"
    mc.send("ms foo 3 q k O1 c\r\nbaz\r\n")
    synced(mc)
    assert value_of(mc, "foo") == (b"VA 3", b"baz")


def test_ms_only_echoes_o_k_c(mc):
    assert ms(mc, "foo", "bar", "f s t v h l u") == b"HD"
    assert ms(mc, "foo", "bar", "k O1 I P L") == b"HD kfoo O1"


# ---- base64 keys -----------------------------------------------------------


def test_base64_key(mc):
    # "AAFiaW4=" is the binary key "\0\1bin"
    assert ms(mc, "AAFiaW4=", "hi", "b k") == b"HD kAAFiaW4= b"
    assert mc.cmd("mg AAFiaW4= k v\r\n") == b"EN kAAFiaW4="
    m = match(r"VA 2 kAAFiaW4= b c(\d+)",
              mc.cmd("mg AAFiaW4= b k v c\r\n"))
    assert mc.read_exact(4) == b"hi\r\n"
    assert mc.cmd("me AAFiaW4= b\r\n") == (
        b"ME AAFiaW4= exp=-1 la=0 cas=%s fetch=yes cls=1 size=66"
        % m.group(1))
    assert mc.cmd("md AAFiaW4= b k O7\r\n") == b"HD kAAFiaW4= b O7"
    assert mc.cmd("md AAFiaW4= b k\r\n") == b"NF kAAFiaW4= b"
    mc.send("mg AAFiaW4= b k O5 q\r\n")
    synced(mc)
    assert mc.cmd("mg AAFiaW4= b k O5\r\n") == b"EN kAAFiaW4= b O5"


def test_base64_key_is_remembered_by_the_item(mc):
    # the key "foo" stored through b prints base64 even when fetched raw
    match(r"HD kZm9v b c\d+", ms(mc, "Zm9v", "baz", "b k c"))
    assert value_of(mc, "foo", "k v") == (b"VA 3 kZm9v b", b"baz")
    assert mc.cmd("me foo\r\n").startswith(b"ME Zm9v exp=-1 ")
    # a raw store forgets it; a raw key asked for with b prints raw
    assert ms(mc, "foo", "bar", "k") == b"HD kfoo"
    assert mc.cmd("mg foo k\r\n") == b"HD kfoo"
    assert mc.cmd("mg Zm9v b k\r\n") == b"HD kfoo"
    assert mc.cmd("me Zm9v b\r\n").startswith(b"ME foo exp=-1 ")


def test_base64_key_of_an_incr_or_append(mc):
    assert ms(mc, "Zm9v", "1", "b") == b"HD"
    # in place: still the item stored through b
    assert value_of(mc, "foo", "k v") == (b"VA 1 kZm9v b", b"1")
    head, data = (mc.cmd("ma foo k v\r\n"), mc.read_exact(3))
    assert (head, data) == (b"VA 1 kfoo", b"2\r\n")
    assert value_of(mc, "foo", "k v") == (b"VA 1 kZm9v b", b"2")
    # an append makes a new item, which does not remember it
    assert ms(mc, "Zm9v", "0", "b MA k") == b"HD kZm9v b"
    assert value_of(mc, "foo", "k v") == (b"VA 2 kfoo", b"20")


def test_base64_vivified_item_prints_its_raw_key(mc):
    assert mc.cmd("mg AAFiaW4= b N30 k v\r\n") == b"VA 0 k\x00\x01bin W"
    assert mc.read_exact(2) == b"\r\n"


def test_base64_errors(mc):
    assert mc.cmd("mg foo b\r\n") == b"CLIENT_ERROR error decoding key"
    assert mc.cmd("mg foo b1\r\n") == b"CLIENT_ERROR error decoding key"
    assert mc.cmd("mg Zm9 b\r\n") == b"CLIENT_ERROR error decoding key"
    assert mc.cmd("mg foo Tabc b\r\n") == b"CLIENT_ERROR error decoding key"
    assert mc.cmd("mg foo b Tabc\r\n") == \
        b"CLIENT_ERROR bad token in command line format"
    assert mc.cmd("md foo b\r\n") == b"CLIENT_ERROR invalid or duplicate flag"
    assert mc.cmd("ma foo b\r\n") == b"CLIENT_ERROR invalid or duplicate flag"
    assert mc.cmd("me foo b\r\n") == b"CLIENT_ERROR bad command line format"


# ---- opaque, k -------------------------------------------------------------


def test_opaque_length(mc):
    ok = "O" + "1" * 31
    bad = "O" + "1" * 32
    assert mc.cmd("mg foo %s\r\n" % ok) == b"EN " + ok.encode()
    assert mc.cmd("mg foo %s\r\n" % bad) == \
        b"CLIENT_ERROR opaque token too long"
    assert mc.cmd("mg foo %s q\r\n" % bad) == \
        b"CLIENT_ERROR opaque token too long"
    assert ms(mc, "foo", "bar") == b"HD"
    assert mc.cmd("mg foo %s\r\n" % ok) == b"HD " + ok.encode()
    assert mc.cmd("mg foo %s q\r\n" % bad) == \
        b"CLIENT_ERROR opaque token too long"
    assert mc.cmd("md foo k %s\r\n" % bad) == \
        b"CLIENT_ERROR opaque token too long"
    assert mc.cmd("md foo k %s q\r\n" % bad) == \
        b"CLIENT_ERROR opaque token too long"
    assert mc.cmd("mg foo O\r\n") == b"HD O"
    # md checked the opaque before doing anything
    assert mc.cmd("mg foo\r\n") == b"HD"


def test_opaque_error_comes_after_mg_ttl_and_ma_update(mc):
    assert ms(mc, "foo", "bar", "T100") == b"HD"
    assert mc.cmd("mg foo T50 O%s\r\n" % ("1" * 32)) == \
        b"CLIENT_ERROR opaque token too long"
    match(r"HD t(49|50)", mc.cmd("mg foo t\r\n"))
    assert ms(mc, "cnt", "5") == b"HD"
    assert mc.cmd("ma cnt O%s\r\n" % ("1" * 32)) == \
        b"CLIENT_ERROR opaque token too long"
    assert value_of(mc, "cnt") == (b"VA 1", b"6")


def test_miss_echoes_only_o_and_k(mc):
    assert mc.cmd("mg miss k O1 v c f s t h l\r\n") == b"EN kmiss O1"
    mc.send("mg miss k O1 q\r\n")
    synced(mc)


def test_flags_come_back_in_request_order(mc):
    assert ms(mc, "foo", "bar", "F3") == b"HD"
    cas = cas_of(mc, "foo")
    assert mc.cmd("mg foo O1 k f c s\r\n") == \
        b"HD O1 kfoo f3 c%d s3" % cas
    assert mc.cmd("mg foo s c f k O1\r\n") == \
        b"HD s3 c%d f3 kfoo O1" % cas
    assert mc.cmd("mg  foo  k    s  \r\n") == b"HD kfoo s3"


# ---- md --------------------------------------------------------------------


def test_md(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    mc.send("md foo q\r\n")
    synced(mc)
    assert mc.cmd("md foo\r\n") == b"NF"
    assert mc.cmd("md foo q\r\n") == b"NF"
    assert ms(mc, "foo", "bar") == b"HD"
    cas = cas_of(mc, "foo")
    assert mc.cmd("md foo k O5 C%d\r\n" % (cas + 999)) == b"EX kfoo O5"
    assert mc.cmd("md foo k O5 C%d q\r\n" % (cas + 999)) == b"EX kfoo O5"
    assert mc.cmd("md foo C0\r\n") == b"EX"
    assert mc.cmd("md foo k O5 C%d\r\n" % cas) == b"HD kfoo O5"
    assert mc.cmd("md foo k O5\r\n") == b"NF kfoo O5"
    assert mc.cmd("mg foo\r\n") == b"EN"


def test_md_ttl_only_with_invalidate(mc):
    assert ms(mc, "foo", "bar", "T100") == b"HD"
    assert mc.cmd("md foo T30\r\n") == b"HD"
    assert mc.cmd("mg foo\r\n") == b"EN"


def test_md_errors(mc):
    for flags in ("x", "k k", "Cabc", "E", "S", "T", "Mxx", "b"):
        assert mc.cmd("md foo %s\r\n" % flags) == \
            b"CLIENT_ERROR invalid or duplicate flag", flags
    assert mc.cmd("md\r\n") == b"ERROR"
    assert mc.cmd("md %s\r\n" % ("k" * 251)) == \
        b"CLIENT_ERROR bad command line format"


# ---- stale-while-revalidate ------------------------------------------------


def test_md_invalidate_then_win_once(mc):
    assert ms(mc, "foo", "bar", "T100") == b"HD"
    old = cas_of(mc, "foo")
    assert mc.cmd("md foo I T30\r\n") == b"HD"
    head, data = value_of(mc, "foo", "v c t")
    m = match(r"VA 3 c(\d+) t(29|30) X W", head)
    assert data == b"bar"
    cas = int(m.group(1))
    assert cas > old
    head, data = value_of(mc, "foo", "v c t")
    match(r"VA 3 c%d t(29|30) Z X" % cas, head)
    assert mc.cmd("mg foo c k O1 q\r\n") == b"HD c%d kfoo O1 Z X" % cas
    # a normal store ends the stale state
    assert match(r"HD c(\d+)", ms(mc, "foo", "new", "c"))
    head, data = value_of(mc, "foo", "v t")
    assert (head, data) == (b"VA 3 t-1", b"new")


def test_md_invalidate_quiet_and_miss(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    mc.send("md foo q I\r\n")
    synced(mc)
    assert mc.cmd("mg foo\r\n") == b"HD X W"
    assert mc.cmd("md nokey q I\r\n") == b"NF"


def test_ms_invalidate_with_an_older_cas_stores_stale(mc):
    assert ms(mc, "inv", "old") == b"HD"
    cas = cas_of(mc, "inv")
    assert ms(mc, "inv", "bar") == b"HD"
    assert ms(mc, "inv", "new", "I C%d" % (cas_of(mc, "inv") + 5)) == b"EX"
    m = match(r"HD c(\d+)", ms(mc, "inv", "new", "I C%d c" % cas))
    head, data = value_of(mc, "inv", "v c")
    assert (head, data) == (b"VA 3 c%s X W" % m.group(1), b"new")
    assert mc.cmd("mg inv\r\n") == b"HD Z X"


def test_ms_invalidate_keeps_ttl_and_win_marker(mc):
    assert ms(mc, "foo", "bar", "T100") == b"HD"
    assert mc.cmd("md foo I\r\n") == b"HD"
    assert mc.cmd("mg foo\r\n") == b"HD X W"
    stale = cas_of(mc, "foo")
    assert ms(mc, "foo", "old", "I T0 C%d" % (stale - 1)) == b"HD"
    head, data = value_of(mc, "foo", "v t")
    match(r"VA 3 t(99|100) Z X", head)
    assert data == b"old"


def test_ms_invalidate_without_or_with_equal_cas_is_a_plain_store(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert ms(mc, "foo", "xyz", "I") == b"HD"
    assert mc.cmd("mg foo\r\n") == b"HD"
    assert ms(mc, "foo", "abc", "I C%d" % cas_of(mc, "foo")) == b"HD"
    assert mc.cmd("mg foo\r\n") == b"HD"
    # with append a lower CAS is only a mismatch
    assert ms(mc, "foo", "!", "I MA C%d" % (cas_of(mc, "foo") - 1)) == b"EX"


def test_mg_vivify(mc):
    head = mc.cmd("mg viv v N30 t c\r\n")
    m = match(r"VA 0 t(29|30) c(\d+) W", head)
    assert mc.read_exact(2) == b"\r\n"
    cas = int(m.group(2))
    match(r"VA 0 t(29|30) c%d Z" % cas, mc.cmd("mg viv v N30 t c\r\n"))
    assert mc.read_exact(2) == b"\r\n"
    match(r"VA 0 t(29|30) c%d Z" % cas, mc.cmd("mg viv v t c\r\n"))
    assert mc.read_exact(2) == b"\r\n"
    # the winner stores the real value with the CAS it was given
    assert ms(mc, "viv", "data", "C%d T60" % cas) == b"HD"
    assert value_of(mc, "viv", "v") == (b"VA 4", b"data")
    assert mc.cmd("mg viv N30\r\n") == b"HD"


def test_mg_vivify_quiet_and_flags(mc):
    assert mc.cmd("mg viv2 N30 q\r\n") == b"HD W"
    assert mc.cmd("mg viv2 N30 q\r\n") == b"HD Z"
    assert mc.cmd("mg viv3 N30 s v f h l k O1 q\r\n") == \
        b"VA 0 s0 f0 h0 l0 kviv3 O1 W"
    assert mc.read_exact(2) == b"\r\n"
    assert mc.cmd("mg viv3 h\r\n") == b"HD h1 Z"
    assert mc.cmd("mg viv4 N0 t v\r\n") == b"VA 0 t-1 W"
    assert mc.read_exact(2) == b"\r\n"


def test_mg_recache(mc):
    assert ms(mc, "r", "x", "T20") == b"HD"
    head, data = value_of(mc, "r", "R30 v t")
    match(r"VA 1 t(19|20) W", head)
    assert data == b"x"
    head, data = value_of(mc, "r", "R30 v t")
    match(r"VA 1 t(19|20) Z", head)
    # a TTL above the token, or none, wins nothing
    assert ms(mc, "r2", "x", "T100") == b"HD"
    match(r"HD t(99|100)", mc.cmd("mg r2 R30 t\r\n"))
    assert ms(mc, "r3", "x") == b"HD"
    assert mc.cmd("mg r3 R30 t\r\n") == b"HD t-1"
    # flags act in order: a T before R is what R sees
    match(r"HD t(9|10) W", mc.cmd("mg r3 T10 R30 t\r\n"))


def test_mg_ttl_acts_in_order(mc):
    assert ms(mc, "foo", "bar", "T100") == b"HD"
    match(r"HD t(99|100)", mc.cmd("mg foo t T30\r\n"))
    match(r"HD t(29|30)", mc.cmd("mg foo t\r\n"))
    match(r"HD t(39|40)", mc.cmd("mg foo T40 t\r\n"))
    assert mc.cmd("mg foo T0 t\r\n") == b"HD t-1"
    assert mc.cmd("mg foo T-1\r\n") == b"HD"
    assert mc.cmd("mg foo\r\n") == b"EN"


# ---- ma --------------------------------------------------------------------


def test_ma(mc):
    assert mc.cmd("ma cnt\r\n") == b"NF"
    assert mc.cmd("ma cnt q\r\n") == b"NF"
    assert mc.cmd("ma cnt N0 J10 v\r\n") == b"VA 2"
    assert mc.read_exact(4) == b"10\r\n"
    m = match(r"VA 2 t-1 c(\d+)", mc.cmd("ma cnt D5 v t c\r\n"))
    assert mc.read_exact(4) == b"15\r\n"
    assert int(m.group(1)) == cas_of(mc, "cnt")
    assert mc.cmd("ma cnt MD D100 v\r\n") == b"VA 1"
    assert mc.read_exact(3) == b"0\r\n"
    assert mc.cmd("ma cnt M+ D3 v\r\n") == b"VA 1"
    assert mc.read_exact(3) == b"3\r\n"
    assert mc.cmd("ma cnt C%d v\r\n" % (cas_of(mc, "cnt") + 1)) == b"EX"
    assert mc.cmd("ma cnt C%d v q\r\n" % (cas_of(mc, "cnt") + 1)) == b"EX"
    assert mc.cmd("ma cnt Mx\r\n") == b"CLIENT_ERROR invalid mode for ma M token"


def test_ma_modes(mc):
    assert ms(mc, "cnt", "10") == b"HD"
    for mode, value in (("M-", b"9"), ("MI", b"10"), ("MD", b"9"),
                        ("M+", b"10")):
        assert mc.cmd("ma cnt %s v\r\n" % mode) == b"VA %d" % len(value)
        assert mc.read_exact(len(value) + 2) == value + b"\r\n"
    for mode in ("Mi", "Md", "Mx", "M5"):
        assert mc.cmd("ma cnt %s v\r\n" % mode) == \
            b"CLIENT_ERROR invalid mode for ma M token"
    assert mc.cmd("ma cnt Mxx v\r\n") == \
        b"CLIENT_ERROR invalid or duplicate flag"


def test_ma_wraps_floors_and_pads(mc):
    assert ms(mc, "cnt", "6") == b"HD"
    assert mc.cmd("ma cnt D18446744073709551615 v\r\n") == b"VA 1"
    assert mc.read_exact(3) == b"5\r\n"
    assert ms(mc, "cnt", "100") == b"HD"
    assert mc.cmd("ma cnt MD v\r\n") == b"VA 2"
    assert mc.read_exact(4) == b"99\r\n"
    assert value_of(mc, "cnt") == (b"VA 3", b"99 ")
    assert mc.cmd("ma cnt D10\r\n") == b"HD"
    assert value_of(mc, "cnt") == (b"VA 3", b"109")
    assert mc.cmd("ma cnt D1000 v\r\n") == b"VA 4"
    assert mc.read_exact(6) == b"1109\r\n"


def test_ma_non_numeric(mc):
    assert ms(mc, "s", "ab") == b"HD"
    assert mc.cmd("ma s\r\n") == \
        b"CLIENT_ERROR cannot increment or decrement non-numeric value"
    assert mc.cmd("ma s q\r\n") == \
        b"CLIENT_ERROR cannot increment or decrement non-numeric value"
    # the CAS is compared before the value is read
    assert mc.cmd("ma s C%d\r\n" % (cas_of(mc, "s") + 1)) == b"EX"
    assert ms(mc, "e", "") == b"HD"
    assert mc.cmd("ma e\r\n") == \
        b"CLIENT_ERROR cannot increment or decrement non-numeric value"


def test_ma_quiet(mc):
    assert ms(mc, "cnt", "1") == b"HD"
    mc.send("ma cnt q v\r\nma cnt q\r\n")
    synced(mc)
    assert value_of(mc, "cnt") == (b"VA 1", b"3")
    assert mc.cmd("ma nf k O1 v c t q\r\n") == b"NF knf O1"
    assert mc.cmd("ma cnt q C%d\r\n" % (cas_of(mc, "cnt") + 1)) == b"EX"
    # q does not hide the reply when N created the item
    assert mc.cmd("ma new N0 q\r\n") == b"HD"
    mc.send("ma new N0 q v\r\n")
    synced(mc)
    assert value_of(mc, "new") == (b"VA 1", b"1")


def test_ma_flags(mc):
    assert ms(mc, "cnt", "4") == b"HD"
    m = match(r"VA 1 kcnt O1 c(\d+) t-1", mc.cmd("ma cnt v k O1 c t\r\n"))
    assert mc.read_exact(3) == b"5\r\n"
    assert int(m.group(1)) == cas_of(mc, "cnt")
    assert mc.cmd("ma nf k O1 v c t\r\n") == b"NF knf O1"
    assert mc.cmd("ma bmY= b k O2\r\n") == b"NF kbmY= b O2"
    # "Y250" is "cnt"; C0 is no CAS for ma
    assert mc.cmd("ma Y250 b k MD C0 v\r\n") == b"VA 1 kY250 b"
    assert mc.read_exact(3) == b"4\r\n"


def test_ma_vivify_and_ttl(mc):
    m = match(r"VA 1 t(99|100) c(\d+) kviv",
              mc.cmd("ma viv N100 J5 v t c k\r\n"))
    assert mc.read_exact(3) == b"5\r\n"
    assert int(m.group(2)) == cas_of(mc, "viv")
    # N only applies to a creation; T to any success, in order
    match(r"VA 1 t(98|99|100)", mc.cmd("ma viv N100 J5 v t T50\r\n"))
    assert mc.read_exact(3) == b"6\r\n"
    match(r"VA 1 t(49|50)", mc.cmd("ma viv v t T50\r\n"))
    assert mc.read_exact(3) == b"7\r\n"
    match(r"HD t(49|50)", mc.cmd("ma viv t T-1\r\n"))
    assert mc.cmd("ma viv T-1 t\r\n") == b"NF"
    # t before N shows the item before its TTL is set
    assert mc.cmd("ma viv2 t N100 J18446744073709551615 v\r\n") == \
        b"VA 20 t-1"
    assert mc.read_exact(22) == b"18446744073709551615\r\n"
    assert mc.cmd("ma viv2 v\r\n") == b"VA 1"
    assert mc.read_exact(3) == b"0\r\n"


def test_ma_errors(mc):
    assert ms(mc, "cnt", "1") == b"HD"
    for flags in ("Dabc", "D-1", "D18446744073709551616", "Jabc N0",
                  "N0 J", "x", "v v", "E", "S", "Tabc", "O1 O2"):
        assert mc.cmd("ma cnt %s\r\n" % flags) == \
            b"CLIENT_ERROR invalid or duplicate flag", flags
    assert mc.cmd("ma\r\n") == b"ERROR"
    assert mc.cmd("ma %s\r\n" % ("k" * 251)) == \
        b"CLIENT_ERROR bad command line format"
    assert value_of(mc, "cnt") == (b"VA 1", b"1")


# ---- me, mn ----------------------------------------------------------------


def test_me(mc):
    cas = int(match(r"HD c(\d+)", ms(mc, "foo", "bar", "c")).group(1))
    match(r"ME foo exp=-1 la=[01] cas=%d fetch=no cls=1 size=65" % cas,
          mc.cmd("me foo\r\n"))
    assert mc.cmd("mg foo\r\n") == b"HD"
    match(r"ME foo exp=-1 la=[01] cas=%d fetch=yes cls=1 size=65" % cas,
          mc.cmd("me foo\r\n"))
    assert mc.cmd("me nokey\r\n") == b"EN"
    assert mc.cmd("mn\r\n") == b"MN"
    assert ms(mc, "a", "x") == b"HD"
    match(r"ME a exp=-1 la=[01] cas=\d+ fetch=no cls=1 size=61",
          mc.cmd("me a\r\n"))
    assert ms(mc, "flagged", "x", "F1") == b"HD"
    match(r"ME flagged exp=-1 la=[01] cas=\d+ fetch=no cls=1 size=71",
          mc.cmd("me flagged\r\n"))


def test_me_exp_is_negative(mc):
    assert ms(mc, "foo", "bar", "T100") == b"HD"
    match(r"ME foo exp=-(99|100) la=[01] cas=\d+ fetch=no cls=1 size=65",
          mc.cmd("me foo\r\n"))


def test_me_arguments(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert mc.cmd("me Zm9v b\r\n").startswith(b"ME foo exp=-1 ")
    assert mc.cmd("me Zm9v x\r\n") == b"EN"
    assert mc.cmd("me Zm9v b x\r\n").startswith(b"ME foo exp=-1 ")
    assert mc.cmd("me foo x b\r\n").startswith(b"ME foo exp=-1 ")
    assert mc.cmd("me\r\n") == b"CLIENT_ERROR bad command line format"
    assert mc.cmd("me %s\r\n" % ("k" * 251)) == \
        b"CLIENT_ERROR bad command line format"
    assert mc.cmd("me foo b\r\n") == b"CLIENT_ERROR bad command line format"


def test_mn(mc):
    assert mc.cmd("mn\r\n") == b"MN"
    assert mc.cmd("mn extra tokens\r\n") == b"MN"


def test_pipeline_of_quiet_commands(mc):
    mc.send("ms a 1 q\r\n1\r\nms b 1 q\r\n2\r\nmg a v q k\r\nmg nokey v q\r\n"
            "md b q\r\nmd nokey q\r\nma a q\r\nmg a v q\r\nmn\r\n")
    assert mc.read_line() == b"VA 1 ka"
    assert mc.read_exact(3) == b"1\r\n"
    assert mc.read_line() == b"NF"
    assert mc.read_line() == b"VA 1"
    assert mc.read_exact(3) == b"2\r\n"
    assert mc.read_line() == b"MN"
    assert mc.nothing_pending(0.05)


# ---- errors common to mg, ms, md, ma ---------------------------------------


def test_unknown_and_duplicate_flags(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    for flag in "ESWXZaegjmnoprwxyz0!" + "\x7f":
        assert mc.cmd("mg foo %s\r\n" % flag) == \
            (b"CLIENT_ERROR duplicate flag" if flag == "\x7f"
             else b"CLIENT_ERROR invalid flag"), flag
    assert mc.cmd(b"mg foo \xc3\xa9\r\n") == b"CLIENT_ERROR duplicate flag"
    assert mc.cmd("mg foo v v\r\n") == b"CLIENT_ERROR duplicate flag"
    assert mc.cmd("mg foo T1 T2\r\n") == b"CLIENT_ERROR duplicate flag"
    assert mc.cmd("mg foo Tabc v v\r\n") == b"CLIENT_ERROR duplicate flag"
    assert mc.cmd("mg foo Tabc E\r\n") == b"CLIENT_ERROR invalid flag"


def test_mg_bad_values(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    for flags, err in [
            ("Tabc", b"CLIENT_ERROR bad token in command line format"),
            ("T", b"CLIENT_ERROR bad token in command line format"),
            ("Nx", b"CLIENT_ERROR bad token in command line format"),
            ("R1.5", b"CLIENT_ERROR bad token in command line format"),
            ("Cabc", b"CLIENT_ERROR bad token in command line format"),
            ("F", b"CLIENT_ERROR bad command line format"),
            ("D", b"CLIENT_ERROR invalid numeric delta value"),
            ("J-1", b"CLIENT_ERROR invalid numeric initial value"),
            ("M", b"CLIENT_ERROR incorrect length for M token"),
            ("Mxx", b"CLIENT_ERROR incorrect length for M token"),
            ("Tabc D", b"CLIENT_ERROR invalid numeric delta value"),
            ("D Tabc", b"CLIENT_ERROR bad token in command line format"),
            ("O%s Tabc" % ("1" * 32),
             b"CLIENT_ERROR bad token in command line format")]:
        assert mc.cmd("mg foo %s\r\n" % flags) == err, flags


def test_mg_accepts_flags_of_other_commands(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    assert mc.cmd("mg foo F1 C1 D1 J1 M1 I P L\r\n") == b"HD"
    assert mc.cmd("md nokey F1 J1 v s\r\n") == b"NF"


def test_missing_or_long_key(mc):
    for cmd in ("mg", "ms", "md", "ma"):
        assert mc.cmd("%s\r\n" % cmd) == b"ERROR", cmd
    assert mc.cmd("mz foo\r\n") == b"ERROR"
    assert mc.cmd("MG foo\r\n") == b"ERROR"
    assert mc.cmd("mg %s v\r\n" % ("k" * 251)) == \
        b"CLIENT_ERROR bad command line format"
    assert mc.cmd("mg %s v\r\n" % ("k" * 250)) == b"EN"
    # keys skip the control-character check
    assert ms(mc, "a\tb\x01", "x") == b"HD"
    assert mc.cmd("mg a\tb\x01 k\r\n") == b"HD ka\tb\x01"


def test_too_many_tokens(mc):
    assert ms(mc, "foo", "bar") == b"HD"
    flags17 = "k O1 c f s t h l u q N1 R1 T0 P L I F1"
    flags18 = flags17 + " C1"
    match(r"HD kfoo O1 c\d+ f0 s3 t-1 h0 l[01]",
          mc.cmd("mg foo %s\r\n" % flags17))
    assert mc.cmd("mg foo %s\r\n" % flags18) == \
        b"CLIENT_ERROR options flags are too long"
    assert mc.cmd("mg foo %s E\r\n" % flags18) == \
        b"CLIENT_ERROR options flags are too long"
    assert mc.cmd("md foo %s\r\n" % flags18) == \
        b"CLIENT_ERROR options flags too long"
    assert mc.cmd("ma foo %s\r\n" % flags18) == \
        b"CLIENT_ERROR options flags too long"
    mc.send("ms foo 3 %s\r\nbar\r\n" % flags17.replace(" F1", ""))
    synced(mc)
    # ms: 3 tokens before the flags; the error comes before <datalen> is
    # read, so the data line is a command
    mc.send("ms foo 3 %s\r\nbar\r\n" % flags17)
    assert mc.read_line() == b"CLIENT_ERROR options flags too long"
    assert mc.read_line() == b"ERROR"


# ---- statistics -------------------------------------------------------------

COUNTERS = ("cmd_get cmd_set cmd_touch cmd_meta get_hits get_misses "
            "get_expired delete_hits delete_misses incr_hits incr_misses "
            "decr_hits decr_misses cas_hits cas_misses cas_badval touch_hits "
            "touch_misses store_too_large curr_items total_items").split()


def counted(mc, request, reply_lines=1):
    """The counters that `request` changed, as {name: delta}."""
    before = mc.stats()
    mc.send(request)
    for _ in range(reply_lines):
        mc.read_line()
    after = mc.stats()
    return {k: int(after[k]) - int(before[k]) for k in COUNTERS
            if after[k] != before[k]}


def test_stats(mc):
    assert counted(mc, "mn\r\n") == {}
    assert counted(mc, "mg miss\r\n") == {"cmd_get": 1, "get_misses": 1}
    assert counted(mc, "ms foo 3\r\nbar\r\n") == \
        {"cmd_set": 1, "total_items": 1, "curr_items": 1}
    assert counted(mc, "mg foo v\r\n", 2) == {"cmd_get": 1, "get_hits": 1}
    assert counted(mc, "mg foo T30\r\n") == {"cmd_touch": 1, "touch_hits": 1}
    assert counted(mc, "mg miss T30\r\n") == {"cmd_get": 1, "get_misses": 1}
    assert counted(mc, "mg foo Tabc\r\n") == {}
    assert counted(mc, "mg viv N30\r\n") == \
        {"cmd_get": 1, "get_hits": 1, "total_items": 1, "curr_items": 1}
    assert counted(mc, "ms nokey 3 C1\r\nbar\r\n") == \
        {"cmd_set": 1, "cas_misses": 1}
    assert counted(mc, "ms foo 3 C%d\r\nbar\r\n" % cas_of(mc, "foo")) == \
        {"cmd_set": 1, "cas_hits": 1, "total_items": 1}
    assert counted(mc, "ms foo 3 ME\r\nbar\r\n") == {"cmd_set": 1}
    assert counted(mc, b"ms foo %d\r\n" % BIG + b"x" * BIG + b"\r\n") == \
        {"store_too_large": 1, "curr_items": -1}
    assert counted(mc, "md foo\r\n") == {"delete_misses": 1}
    assert counted(mc, "ms foo 3\r\nbar\r\n")["cmd_set"] == 1
    assert counted(mc, "md foo I\r\n") == {}
    assert counted(mc, "md foo C%d\r\n" % (cas_of(mc, "foo") + 1)) == \
        {"delete_misses": 1}
    assert counted(mc, "md foo\r\n") == {"delete_hits": 1, "curr_items": -1}
    assert counted(mc, "ma cnt\r\n") == {"incr_misses": 1}
    assert counted(mc, "ma cnt MD\r\n") == {"decr_misses": 1}
    assert counted(mc, "ma cnt N0\r\n") == {"total_items": 1, "curr_items": 1}
    assert counted(mc, "ma cnt\r\n") == {"incr_hits": 1}
    assert counted(mc, "ma cnt MD\r\n") == {"decr_hits": 1}
    assert counted(mc, "ma cnt C%d\r\n" % (cas_of(mc, "cnt") + 1)) == {}
    # of the meta commands only me counts in cmd_meta (memcached 1.6.18)
    assert counted(mc, "me cnt\r\n") == {"cmd_meta": 1}
    assert counted(mc, "me nokey\r\n") == {"cmd_meta": 1}
    assert counted(mc, "ms foo 3 c\r\nbar\r\nmn\r\n", 2)["cmd_set"] == 1


def test_stats_bad_data_chunk_counts_a_set(mc):
    assert counted(mc, "ms foo 3\r\nbarxx\r\n", 2) == {"cmd_set": 1}


def test_ma_growing_number_leaves_ttl_alone(mc):
    # memcached's do_add_delta links a new item when the number grows and
    # hands back the old one: T and t act on that dead item
    assert ms(mc, "k", "99", "T100") == b"HD"
    head = mc.cmd("ma k T30 t v\r\n")
    assert (head, mc.read_exact(5)) == (b"VA 3 t30", b"100\r\n")
    match(r"HD t(99|100)", mc.cmd("mg k t\r\n"))
    # in place, T sticks
    match(r"HD t(29|30)", mc.cmd("ma k T30 t\r\n"))
    match(r"HD t(29|30)", mc.cmd("mg k t\r\n"))


def test_ma_empty_value_is_non_numeric_before_the_cas(mc):
    assert ms(mc, "e", "") == b"HD"
    assert mc.cmd("ma e C%d\r\n" % (cas_of(mc, "e") + 1)) == \
        b"CLIENT_ERROR cannot increment or decrement non-numeric value"
    assert mc.cmd("ma e N0 C1\r\n") == \
        b"CLIENT_ERROR cannot increment or decrement non-numeric value"
    assert ms(mc, "n", "1") == b"HD"
    assert mc.cmd("ma n C%d\r\n" % (cas_of(mc, "n") + 1)) == b"EX"
