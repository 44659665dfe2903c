"""The cache in onebox's admin page: /stats shows the cache's figures and
its share of the arena, which grows with what memcached clients store."""
import pytest

from obtest import McConn, http_json

pytestmark = pytest.mark.onebox_only


def test_stats_show_the_cache_and_its_arena_share(onebox):
    srv = onebox("-m", "16")
    cache_port = int(next(a for i, a in enumerate(srv.argv)
                          if srv.argv[i - 1] == "--cache.port"))
    before = http_json(srv.http_port, "/stats")
    assert before["modules"]["cache"]["curr_items"] == 0
    assert before["arena"]["modules"]["cache"]["bytes"] == 0

    mc = McConn(cache_port)
    for i in range(100):
        assert mc.cmd(b"set k%d 0 0 1000\r\n%s\r\n" % (i, b"v" * 1000)) \
            == b"STORED"
    mc.send("get k1 nokey\r\n")
    mc.read_until()

    after = http_json(srv.http_port, "/stats")
    cache = after["modules"]["cache"]
    assert cache["curr_items"] == 100
    assert cache["get_hits"] == 1 and cache["get_misses"] == 1
    assert cache["limit_maxbytes"] == 16 * 1024 * 1024
    assert cache["curr_connections"] == 1
    share = after["arena"]["modules"]["cache"]["bytes"]
    assert 100 * 1000 < share <= after["arena"]["used"]
    assert after["connections"]["current"] >= 1
    assert after["bytes"]["in"] > 100 * 1000
    mc.close()
