"""The store's memory: maxmemory with its policies (both targets), and the
budget it shares with the cache in one onebox process (onebox only).

Redis counts used_memory with its allocator's overhead and onebox counts
arena bytes, so the tests check behaviour (errors, evictions, what
survives), not exact byte figures.
"""
import pytest
import redis

from obtest import free_port

OOM = "OOM command not allowed when used memory > 'maxmemory'."


def fill(client, n, size, prefix="k"):
    """Writes n keys of `size` bytes in pipelines; returns the errors."""
    errors = []
    value = b"x" * size
    for start in range(0, n, 500):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(n, start + 500)):
            pipe.set("%s:%d" % (prefix, i), value)
        for res in pipe.execute(raise_on_error=False):
            if isinstance(res, Exception):
                errors.append(str(res))
    return errors


def test_noeviction_refuses_writes_with_the_oom_error(store_server):
    srv = store_server(maxmemory="4mb", maxmemory_policy="noeviction")
    r = redis.Redis(port=srv.port)
    errors = fill(r, 20000, 1000)
    assert errors, "20 MB of writes under a 4 MB maxmemory all succeeded"
    assert all(e == OOM for e in errors), errors[:3]
    with pytest.raises(redis.exceptions.ResponseError) as exc:
        r.execute_command("SET", "another", "x" * 100000)
    assert str(exc.value) == OOM
    # reads and deletes still work at the limit
    assert r.get("k:0") == b"x" * 1000
    assert r.delete("k:0") == 1
    info = r.info("memory")
    assert info["maxmemory"] == 4 * 1024 * 1024
    assert info["maxmemory_policy"] == "noeviction"


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-random",
                                    "allkeys-lfu"])
def test_allkeys_policies_evict_and_accept_every_write(store_server, policy):
    srv = store_server(maxmemory="4mb", maxmemory_policy=policy)
    r = redis.Redis(port=srv.port)
    assert fill(r, 20000, 1000) == []
    assert r.info("stats")["evicted_keys"] > 0
    assert 0 < r.dbsize() < 20000
    # (not even the newest key is sure to stay: the LRU clock counts
    # seconds, so keys written in one second look alike to the sampler;
    # redis-server evicted k:19999 once in CI)


def test_volatile_policies_evict_only_keys_with_a_ttl(store_server):
    srv = store_server(maxmemory="4mb", maxmemory_policy="volatile-lru")
    r = redis.Redis(port=srv.port)
    value = b"p" * 1000
    for i in range(500):
        r.set("keep:%d" % i, value)
    errors = []
    for start in range(0, 20000, 500):
        pipe = r.pipeline(transaction=False)
        for i in range(start, start + 500):
            pipe.set("tmp:%d" % i, value, ex=3600)
        errors += [e for e in pipe.execute(raise_on_error=False)
                   if isinstance(e, Exception)]
    assert errors == []
    assert r.info("stats")["evicted_keys"] > 0
    assert all(r.exists("keep:%d" % i) for i in range(500))


def test_config_set_maxmemory_takes_effect(store_server):
    srv = store_server()
    r = redis.Redis(port=srv.port)
    assert fill(r, 2000, 1000) == []
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory", "1mb")
    assert r.config_get("maxmemory") == {"maxmemory": str(1024 * 1024)}
    r.set("trigger", "x")
    assert r.info("stats")["evicted_keys"] > 0


# ---- onebox: the store and the cache in one budget ---------------------------

def _cache_set_until_full(mc_port, size, count):
    """Stores `count` items of `size` bytes through the memcached port."""
    import socket
    value = b"c" * size
    s = socket.create_connection(("127.0.0.1", mc_port))
    batch = b""
    for i in range(count):
        batch += b"set c:%d 0 0 %d noreply\r\n%s\r\n" % (i, size, value)
        if len(batch) > 256 * 1024:
            s.sendall(batch)
            batch = b""
    s.sendall(batch + b"mn\r\n")
    buf = b""
    while not buf.endswith(b"MN\r\n"):
        buf += s.recv(65536)
    s.close()


def _cache_stats(mc_port):
    import socket
    s = socket.create_connection(("127.0.0.1", mc_port))
    s.sendall(b"stats\r\n")
    buf = b""
    while not buf.endswith(b"END\r\n"):
        buf += s.recv(65536)
    s.close()
    out = {}
    for line in buf.decode().split("\r\n"):
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == "STAT":
            out[parts[1]] = parts[2]
    return out


@pytest.mark.onebox_only
def test_cache_yields_to_the_store_about_what_the_store_takes(servers,
                                                              tmp_path):
    from obtest import onebox_bin
    mc_port, rs_port = free_port(), free_port()
    servers([onebox_bin(), "-m", "64", "-p", str(mc_port),
             "--store.port", str(rs_port), "--core.http_port", "0",
             "--core.data_dir", str(tmp_path / "d")], (mc_port, rs_port))
    # fill the whole budget with 1 KB cache items (more than fits)
    _cache_set_until_full(mc_port, 1000, 80000)
    before = _cache_stats(mc_port)
    assert int(before["evictions"]) > 0          # the budget is full
    items_before = int(before["curr_items"])

    r = redis.Redis(port=rs_port)
    assert fill(r, 8000, 1000, prefix="s") == []    # ~8 MB of store data
    used = r.info("memory")["used_memory"]
    after = _cache_stats(mc_port)
    lost = items_before - int(after["curr_items"])
    lost_bytes = lost * (int(before["bytes"]) / items_before)
    # the cache gave up about what the store took, not its whole LRU
    assert lost > 0
    assert lost_bytes < 3 * used, (lost_bytes, used)
    assert int(after["curr_items"]) > items_before / 2
    assert r.dbsize() == 8000


@pytest.mark.onebox_only
def test_store_maxmemory_below_budget_leaves_the_cache_alone(servers,
                                                             tmp_path):
    from obtest import onebox_bin
    mc_port, rs_port = free_port(), free_port()
    servers([onebox_bin(), "-m", "64", "-p", str(mc_port),
             "--store.port", str(rs_port), "--store.maxmemory", "4mb",
             "--store.maxmemory_policy", "allkeys-lru",
             "--core.http_port", "0", "--core.data_dir",
             str(tmp_path / "d")], (mc_port, rs_port))
    _cache_set_until_full(mc_port, 1000, 20000)     # ~20 MB: fits
    items = int(_cache_stats(mc_port)["curr_items"])
    r = redis.Redis(port=rs_port)
    assert fill(r, 20000, 1000, prefix="s") == []  # 20 MB over a 4 MB limit
    assert r.info("stats")["evicted_keys"] > 0
    assert r.info("memory")["used_memory"] <= 5 * 1024 * 1024
    stats = _cache_stats(mc_port)
    assert int(stats["curr_items"]) == items
    assert int(stats["evictions"]) == 0


def test_lfu_counts_accesses_and_keeps_hot_keys(store_server):
    srv = store_server(maxmemory="4mb", maxmemory_policy="allkeys-lfu")
    r = redis.Redis(port=srv.port)
    r.set("fresh", "v")
    assert r.object("freq", "fresh") == 5          # LFU_INIT_VAL
    value = b"h" * 1000
    for i in range(200):
        r.set("hot:%d" % i, value)
    for _ in range(30):
        pipe = r.pipeline(transaction=False)
        for i in range(200):
            pipe.get("hot:%d" % i)
        pipe.execute()
    assert 5 < r.object("freq", "hot:0") <= 255
    assert fill(r, 20000, 1000, prefix="cold") == []
    assert r.info("stats")["evicted_keys"] > 0
    hot = sum(r.exists("hot:%d" % i) for i in range(200))
    assert hot >= 160, hot
    with pytest.raises(redis.exceptions.ResponseError) as exc:
        r.object("idletime", "hot:0")
    assert "An LFU maxmemory policy is selected" in str(exc.value)
