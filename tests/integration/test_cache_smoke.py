"""A first check of the harness: both targets answer version and a set/get
round trip over a raw socket."""


def test_version_and_roundtrip(mc):
    assert mc.cmd("version\r\n").startswith(b"VERSION ")
    assert mc.cmd("set foo 5 0 3\r\nbar\r\n") == b"STORED"
    mc.send("get foo\r\n")
    assert mc.read_until() == b"VALUE foo 5 3\r\nbar\r\nEND\r\n"
