"""Fixtures shared by every integration test.

Each test starts its own server on free loopback ports with a temporary
data directory, and stops it by PID.  `--target real` runs the same tests
against the real engine (memcached, redis-server, rabbitmq-server from
Debian's packages) instead of onebox; tests of onebox's own command line
and admin page are marked `onebox_only` and skipped there.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from obtest import (McConn, ServerProcess, cache_argv, free_port,  # noqa: E402
                    module_port_args, onebox_bin, store_argv,
                    RespConn)


def pytest_addoption(parser):
    parser.addoption(
        "--target", choices=("onebox", "real"),
        default=os.environ.get("ONEBOX_TARGET", "onebox"),
        help="run against onebox (default) or the real engines")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "onebox_only: tests onebox's own CLI or admin API, "
        "which the real engines do not have")
    config.addinivalue_line(
        "markers", "mq_fresh_server: the test starts an AMQP broker of its "
        "own (restarts, crashes): ~8 s each with --target real")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--target") != "real":
        return
    skip = pytest.mark.skip(reason="onebox's own interface: no real-engine "
                                   "equivalent")
    for item in items:
        if "onebox_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def target(request):
    return request.config.getoption("--target")


@pytest.fixture
def servers(tmp_path):
    """Starts servers for one test and stops every one of them after it."""
    started = []

    def start(argv, wait_ports=(), **kw):
        proc = ServerProcess(argv, tmp_path, **kw)
        started.append(proc)
        proc.start(wait_ports)
        return proc

    yield start
    complaints = [c for c in (proc.stop() for proc in reversed(started)) if c]
    assert not complaints, "\n".join(complaints)


@pytest.fixture
def onebox(servers, tmp_path):
    """Starts onebox with extra arguments; the HTTP port is free and known
    as `.http_port`."""
    def start(*args, wait=True):
        http_port = free_port()
        argv = [onebox_bin(), "--core.http_port", str(http_port),
                "--core.data_dir", str(tmp_path / "data"),
                *module_port_args(), *args]
        proc = servers(argv, (http_port,) if wait else ())
        proc.http_port = http_port
        return proc
    return start


@pytest.fixture
def cache_server(servers, target, tmp_path):
    """Starts a cache server (onebox, or memcached with --target real) with
    extra memcached flags; returns its ServerProcess with `.port`."""
    def start(*extra):
        port = free_port()
        argv = cache_argv(target, port, *extra)
        if target != "real":
            argv += ["--core.data_dir", str(tmp_path / "data")]
        proc = servers(argv, (port,))
        proc.port = port
        return proc
    return start


@pytest.fixture
def mc(cache_server):
    """A raw connection to a fresh cache server on its defaults."""
    srv = cache_server()
    conn = McConn(srv.port)
    conn.server = srv
    yield conn
    conn.close()


@pytest.fixture
def store_server(servers, target, tmp_path):
    """Starts a Redis-protocol server (onebox's store, or redis-server with
    --target real); `conf` maps Redis option names to values.  Returns its
    ServerProcess with `.port`."""
    def start(**conf):
        port = free_port()
        data = tmp_path / "store-data"
        data.mkdir(exist_ok=True)
        conf = {k.replace("_", "-"): v for k, v in conf.items()}
        proc = servers(store_argv(target, port, data, conf), (port,))
        proc.port = port
        return proc
    return start


@pytest.fixture
def r(store_server):
    """A redis-py client (decode_responses=False) on a fresh server on its
    defaults; `.server` is the ServerProcess."""
    import redis
    srv = store_server()
    client = redis.Redis(host="127.0.0.1", port=srv.port,
                         socket_timeout=10)
    client.server = srv
    yield client
    client.close()


@pytest.fixture
def resp(r):
    """A raw RESP connection (obtest.RespConn) to the server of `r`."""
    conn = RespConn(r.server.port)
    yield conn
    conn.close()


# --- AMQP (mq) ---------------------------------------------------------------

@pytest.fixture(scope="session")
def _mq_real_pool(tmp_path_factory):
    """The session's pooled rabbitmq-servers (see mqtest's docstring)."""
    from mqtest import RealPool
    pool = RealPool(tmp_path_factory.mktemp("rabbitmq"))
    yield pool
    pool.close()


@pytest.fixture
def mq_server(request, target, tmp_path):
    """A factory start(fresh=False, **conf) of AMQP brokers: onebox's mq
    module, or rabbitmq-server with --target real.  `conf` maps mq-section
    keys (heartbeat, frame_max, users ...) to values; a key rabbitmq cannot
    take skips the test there.  Returns an mqtest.MqServer (.port,
    .api_port, .url, .restart(), .kill9(), .start_again() ...)."""
    from mqtest import NotOnReal, OneboxMq, RealMq
    own = []
    pooled = []

    def start(fresh=False, **conf):
        if target != "real":
            srv = OneboxMq(tmp_path, conf)
            own.append(srv)
            return srv.start_again()
        try:
            if fresh:
                srv = RealMq(tmp_path, conf)
                own.append(srv)
                return srv.start_again()
            pool = request.getfixturevalue("_mq_real_pool")
            srv = pool.get(conf)
        except NotOnReal as e:
            pytest.skip(str(e))
        pooled.append(srv)
        return srv

    yield start
    complaints = []
    for srv in reversed(own):
        complaints += srv.close()
    for srv in pooled:
        if srv.alive():
            srv.clean()
    assert not complaints, "\n".join(complaints)


@pytest.fixture
def mq(mq_server):
    """A broker on its defaults."""
    return mq_server()
