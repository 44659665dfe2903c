"""Helpers for the AMQP 0-9-1 integration tests (tests/integration/
test_mq_*.py): starting onebox's broker or a real rabbitmq-server, client
connections (pika, the rabbitmq-c command-line tools) and a tiny raw-socket
AMQP client for byte-level protocol tests.  No test logic lives here.

How the real target is run (and why)
------------------------------------
rabbitmq-server takes about 8 s to start (with the management plugin), so
starting one per test would make `make test-real` take far too long.  The
`mq_server` fixture therefore keeps a pool of servers for the whole pytest
session, one per distinct configuration (`start()` and `start(heartbeat=1)`
are two servers; every test asking for the same configuration shares one).
Each is started lazily the first time a test asks for its configuration.
Tests use the default vhost "/", and a test is isolated from the ones
before it by a clean-up after it, through the management HTTP API (a few
milliseconds, where rabbitmqctl takes a second per call): every client
connection is closed, and every queue, every exchange not predeclared
(not "" nor amq.*), every vhost other than "/" and every user the
configuration did not ask for is deleted.

A test that restarts or crashes the server (restart(), kill9()) or that
must see a server nobody used before asks for its own with
`start(fresh=True, ...)`; it is started for that test alone and shut down
after it, and such tests carry the `mq_fresh_server` marker so that they
can be counted (each costs ~8 s with --target real).  restart() and kill9()
on a pooled server work too, but leave the pooled server running again
afterwards.

The management plugin is enabled on the real servers (enabled_plugins
file: [rabbitmq_management].) on a free loopback port, `.api_port`, so that
the /api/... tests run against the real management API too.  Its statistics
interval is lowered to 500 ms (collect_statistics_interval) so that counts
in /api/queues settle quickly; that changes only how soon the figures are
refreshed.  Each real server has its own node name, distribution port,
mnesia and log directories under the test session's temporary directory;
epmd is shared and left alone.  restart() stops a server with `rabbitmqctl
shutdown` (by the PID of its Erlang VM if that fails); after its test (or
at the end of the session, for pooled ones) a server is killed by the PID
of its Erlang VM: its data is thrown away and a graceful shutdown takes
seconds.

On onebox (the default target) every start() is a fresh process: the binary
starts in milliseconds, so each test gets its own server on free ports,
stopped by PID (SIGTERM, so that the graceful shutdown and the sanitizer's
leak check run) after the test.
"""
import base64
import itertools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from obtest import (ServerProcess, free_port, module_port_args, onebox_bin,
                    pid_alive, wait_pid_gone)

RABBITMQ_SBIN = "/usr/lib/rabbitmq/bin"
PYTHON = "/usr/bin/python3"

# The onebox mq-section keys and how rabbitmq.conf spells them.  Keys that
# are not here (and not handled specially below) cannot be given to the real
# server, and a test asking for one is skipped there.  Note that onebox's
# vm_memory_high_watermark is a fraction of core.memory_mb, RabbitMQ's a
# fraction of the machine's RAM: the same number is not the same limit.
RABBIT_KEYS = {
    "heartbeat": "heartbeat",
    "frame_max": "frame_max",
    "channel_max": "channel_max",
    "max_message_size": "max_message_size",
    "vm_memory_high_watermark": "vm_memory_high_watermark.relative",
}


class NotOnReal(Exception):
    """A configuration key the real server has no equivalent for; the
    fixture turns it into pytest.skip."""


_names = itertools.count(1)


def unique(name="t"):
    """A name no other test (nor an earlier run on a pooled server) uses."""
    return "%s-%d-%s" % (name, next(_names), uuid.uuid4().hex[:8])


def _free_dist_port():
    """A port for Erlang distribution, free now (rabbitmq binds it on all
    addresses, so check the wildcard address too)."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket() as s:
                s.bind(("0.0.0.0", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


class Api:
    """The /api/... HTTP interface of a server, with basic authentication
    (guest/guest unless told otherwise)."""

    def __init__(self, port, user="guest", password="guest"):
        self.port = port
        self.auth = "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()

    def request(self, method, path, body=None, timeout=10):
        """Returns (status, parsed JSON body or the raw bytes, or None)."""
        data = None
        headers = {"Authorization": self.auth}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request("http://127.0.0.1:%d%s"
                                     % (self.port, path), data=data,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if not raw:
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw

    def get(self, path):
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body


def q(name):
    """A name quoted for a management API path (vhost "/" is %2F)."""
    return urllib.parse.quote(name, safe="")


class MqServer:
    """What the tests see of a broker: `.host`, `.port` (AMQP), `.api_port`
    (/api/...), `.url`, `.target`, `.pid`, `.data_dir`, `.conf`, and
    restart(), kill9(), start_again()."""

    host = "127.0.0.1"

    @property
    def url(self):
        return "amqp://guest:guest@%s:%d/%%2F" % (self.host, self.port)

    def api(self, user="guest", password="guest"):
        return Api(self.api_port, user, password)

    def restart(self):
        """Stops the server gracefully and starts it again on the same data
        and ports."""
        self.stop_gracefully()
        self.start_again()

    def kill9(self):
        """Kills the server with SIGKILL (a crash: nothing is flushed)."""
        raise NotImplementedError

    def start_again(self):
        raise NotImplementedError


class OneboxMq(MqServer):
    """onebox with its mq module on free ports.  `conf` maps mq-section keys
    to values (dicts are passed as JSON)."""

    target = "onebox"

    def __init__(self, tmp_path, conf):
        self.tmp_path = tmp_path
        self.conf = dict(conf)
        self.port = free_port()
        self.api_port = free_port()
        self.data_dir = str(tmp_path / ("mq-data-%d" % next(_names)))
        os.makedirs(self.data_dir, exist_ok=True)
        self.proc = None
        self.complaints = []
        self.started_once = False
        self._make_argv()

    def _make_argv(self):
        self.argv = [onebox_bin(), "--core.http_port", str(self.api_port),
                     "--core.data_dir", self.data_dir,
                     *module_port_args()]
        # module_port_args moved mq too; our own --mq.port comes last and
        # wins.
        self.argv += ["--mq.port", str(self.port)]
        for key, value in self.conf.items():
            if isinstance(value, (dict, list)):
                value = json.dumps(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            self.argv += ["--mq.%s" % key, str(value)]

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start_again(self):
        """Starts onebox.  The first start retries on fresh ports when one
        of the free ports it was given was taken meanwhile (tests of other
        sessions run alongside); a restart keeps its ports."""
        for attempt in range(3):
            self.proc = ServerProcess(self.argv, self.tmp_path)
            try:
                self.proc.start((self.api_port, self.port))
            except RuntimeError:
                out = self.proc.output()
                self.proc.stop()
                self.proc = None
                if (self.started_once or attempt == 2
                        or "cannot bind" not in out):
                    raise RuntimeError("onebox did not start:\n" + out)
                self.port, self.api_port = free_port(), free_port()
                self._make_argv()
                continue
            self.started_once = True
            return self

    def output(self):
        return self.proc.output() if self.proc else ""

    def stop_gracefully(self):
        if self.proc is None:
            return
        complaint = self.proc.stop()
        if complaint:
            self.complaints.append(complaint)
        self.proc = None

    def kill9(self):
        if self.proc is None:
            return
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.proc.wait(timeout=10)
        self.proc.log.close()
        self.proc = None

    def close(self):
        """Stops the server; returns the complaints of every run (a bad
        exit status or a sanitizer report)."""
        self.stop_gracefully()
        return self.complaints


class RealMq(MqServer):
    """A rabbitmq-server node of its own: node name, ports, mnesia and log
    directories.  `conf` as for onebox (keys in RABBIT_KEYS, `users`,
    `loopback_users`, `vhosts`)."""

    target = "real"

    def __init__(self, base_dir, conf):
        self.conf = dict(conf)
        self.node_id = next(_names)
        self.data_dir = str(base_dir / ("rmq-%d" % self.node_id))
        self.port = free_port()
        self.api_port = free_port()
        self.dist_port = _free_dist_port()
        self.nodename = "rabbit-obtest-%d-%d@localhost" % (os.getpid(),
                                                            self.node_id)
        self.admin = ("obtest-admin", uuid.uuid4().hex)
        self.script = None          # the rabbitmq-server shell process
        self._write_config()

    def _write_config(self):
        d = self.data_dir
        for sub in ("mnesia", "log", "home"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(os.path.join(d, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_management].\n")
        lines = ["management.tcp.port = %d" % self.api_port,
                 "management.tcp.ip = 127.0.0.1",
                 "collect_statistics_interval = 500",
                 # The fixture's own administrator (for the clean-up) is
                 # the default user; guest is created like any other user.
                 "default_user = %s" % self.admin[0],
                 "default_pass = %s" % self.admin[1],
                 "default_user_tags.administrator = true",
                 "default_permissions.configure = .*",
                 "default_permissions.read = .*",
                 "default_permissions.write = .*"]
        loopback = self.conf.get("loopback_users", "guest")
        names = [n.strip() for n in loopback.split(",") if n.strip()]
        if names:
            for name in names:
                lines.append("loopback_users.%s = true" % name)
        else:
            lines.append("loopback_users = none")
        for key, value in self.conf.items():
            if key in ("users", "loopback_users", "vhosts"):
                continue
            if key not in RABBIT_KEYS:
                raise NotOnReal("rabbitmq has no equivalent of mq.%s" % key)
            lines.append("%s = %s" % (RABBIT_KEYS[key], value))
        with open(os.path.join(d, "rabbitmq.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def env(self):
        d = self.data_dir
        env = dict(os.environ)
        env.update({
            "HOME": os.path.join(d, "home"),
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_MNESIA_BASE": os.path.join(d, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(d, "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(d,
                                                          "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": os.path.join(d, "rabbitmq.conf"),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        })
        return env

    @property
    def pid(self):
        """The PID of the Erlang VM (beam.smp), the server proper."""
        return self._beam_pid()

    def _beam_pid(self):
        if self.script is None:
            return None
        try:
            with open("/proc/%d/task/%d/children"
                      % (self.script.pid, self.script.pid)) as f:
                kids = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return None
        for kid in kids:
            try:
                with open("/proc/%d/comm" % kid) as f:
                    if f.read().startswith("beam"):
                        return kid
            except FileNotFoundError:
                pass
        return None

    def start_again(self):
        self.log = open(os.path.join(self.data_dir, "server.out"), "ab")
        self.script = subprocess.Popen(
            [os.path.join(RABBITMQ_SBIN, "rabbitmq-server")],
            env=self.env(), stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        api = Api(self.api_port, *self.admin)
        while True:
            if self.script.poll() is not None:
                raise RuntimeError("rabbitmq-server exited with %s:\n%s"
                                   % (self.script.returncode, self.output()))
            try:
                with socket.create_connection((self.host, self.port), 0.5):
                    pass
                if api.request("GET", "/api/overview", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "rabbitmq did not start"
            time.sleep(0.1)
        self._apply_users()
        return self

    def _apply_users(self):
        """Creates the configured users (guest/guest by default) with every
        permission on "/" and on each configured vhost."""
        api = Api(self.api_port, *self.admin)
        vhosts = ["/"] + [v.strip() for v in
                          self.conf.get("vhosts", "/").split(",")
                          if v.strip() and v.strip() != "/"]
        for vhost in vhosts:
            api.request("PUT", "/api/vhosts/%s" % q(vhost))
        users = self.conf.get("users", {"guest": "guest"})
        for name, password in users.items():
            status, body = api.request("PUT", "/api/users/%s" % q(name),
                                       {"password": password,
                                        "tags": "administrator"})
            assert status in (201, 204), (status, body)
            for vhost in vhosts:
                api.request("PUT", "/api/permissions/%s/%s"
                            % (q(vhost), q(name)),
                            {"configure": ".*", "write": ".*", "read": ".*"})
        self.users = users

    def output(self):
        with open(os.path.join(self.data_dir, "server.out"), "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.script is not None and self.script.poll() is None

    def stop_gracefully(self):
        if self.script is None:
            return
        beam = self._beam_pid()
        subprocess.run([os.path.join(RABBITMQ_SBIN, "rabbitmqctl"),
                        "shutdown"], env=self.env(), capture_output=True,
                       timeout=60)
        try:
            self.script.wait(timeout=30)
        except subprocess.TimeoutExpired:
            if beam is not None and pid_alive(beam):
                os.kill(beam, signal.SIGKILL)
            self.script.wait(timeout=10)
        if beam is not None:
            wait_pid_gone(beam, 10)
        self.log.close()
        self.script = None

    def kill9(self):
        beam = self._beam_pid()
        assert beam is not None, "no Erlang VM under rabbitmq-server"
        os.kill(beam, signal.SIGKILL)
        self.script.wait(timeout=20)
        wait_pid_gone(beam, 10)
        self.log.close()
        self.script = None

    def close(self):
        """Ends the server after its test.  Its data is thrown away, so it is
        killed: a graceful shutdown takes seconds (more with several nodes
        stopping at once), and RabbitMQ's shutdown is not under test."""
        if self.script is not None:
            beam = self._beam_pid()
            if beam is not None and pid_alive(beam):
                os.kill(beam, signal.SIGKILL)
            try:
                self.script.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.script.kill()
                self.script.wait(timeout=10)
            if beam is not None:
                wait_pid_gone(beam, 10)
            self.log.close()
            self.script = None
        return []

    def clean(self):
        """Deletes what a test left behind (see the module's docstring)."""
        api = Api(self.api_port, *self.admin)
        for conn in api.get("/api/connections?columns=name"):
            api.request("DELETE", "/api/connections/%s" % q(conn["name"]))
        for queue in api.get("/api/queues?columns=name,vhost"):
            api.request("DELETE", "/api/queues/%s/%s"
                        % (q(queue["vhost"]), q(queue["name"])))
        for ex in api.get("/api/exchanges?columns=name,vhost"):
            if ex["name"] and not ex["name"].startswith("amq."):
                api.request("DELETE", "/api/exchanges/%s/%s"
                            % (q(ex["vhost"]), q(ex["name"])))
        wanted = ["/"] + [v.strip() for v in
                          self.conf.get("vhosts", "/").split(",")]
        for vhost in api.get("/api/vhosts?columns=name"):
            if vhost["name"] not in wanted:
                api.request("DELETE", "/api/vhosts/%s" % q(vhost["name"]))
        keep = set(self.users) | {self.admin[0]}
        for user in api.get("/api/users?columns=name"):
            if user["name"] not in keep:
                api.request("DELETE", "/api/users/%s" % q(user["name"]))
        # Connections closed above may still be going away.
        deadline = time.monotonic() + 10
        while api.get("/api/connections?columns=name") \
                and time.monotonic() < deadline:
            time.sleep(0.05)


def conf_key(conf):
    return json.dumps(conf, sort_keys=True)


class RealPool:
    """The session's pooled real servers, one per configuration."""

    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.servers = {}

    def get(self, conf):
        key = conf_key(conf)
        srv = self.servers.get(key)
        if srv is not None and not srv.alive():
            srv.start_again()
        if srv is None:
            srv = RealMq(self.base_dir, conf)
            srv.start_again()
            self.servers[key] = srv
        return srv

    def close(self):
        """Ends every pooled server (killed, see RealMq.close)."""
        for srv in self.servers.values():
            try:
                srv.close()
            except Exception:
                pass
        self.servers.clear()


# --- clients -------------------------------------------------------------

def pika_params(server, **params):
    import pika
    params.setdefault("credentials", pika.PlainCredentials("guest", "guest"))
    params.setdefault("blocked_connection_timeout", 30)
    params.setdefault("socket_timeout", 10)
    return pika.ConnectionParameters(host=server.host, port=server.port,
                                     virtual_host=params.pop("virtual_host",
                                                             "/"),
                                     **params)


def pika_conn(server, **params):
    """A pika BlockingConnection to the server; keyword arguments are
    pika.ConnectionParameters' (credentials defaults to guest/guest)."""
    import pika
    return pika.BlockingConnection(pika_params(server, **params))


def broker_error(fn):
    """Runs fn, which must make the broker close the channel; returns
    (reply_code, reply_text)."""
    import pika
    import pytest
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        fn()
    return ei.value.reply_code, ei.value.reply_text


def get_all(ch, q, limit=100):
    """Bodies of every ready message of q, by basic.get with no-ack."""
    out = []
    for _ in range(limit):
        m, _, body = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        out.append(body)
    return out


def amqp_tool(server, tool, *args, input=None, timeout=20, user="guest",
              password="guest"):
    """Runs one of rabbitmq-c's tools (amqp-publish, amqp-get ...; `tool`
    with or without the amqp- prefix) against the server; returns the
    CompletedProcess (stdout and stderr as bytes)."""
    if not tool.startswith("amqp-"):
        tool = "amqp-" + tool
    argv = [tool, "-s", server.host, "--port", str(server.port),
            "--username", user, "--password", password,
            *[str(a) for a in args]]
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run(argv, input=input, capture_output=True,
                          timeout=timeout)


def have_tools():
    return shutil.which("amqp-publish") is not None


# --- the raw client -------------------------------------------------------

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = b"\xce"
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"


def shortstr(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack(">B", len(s)) + s


def longstr(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack(">I", len(s)) + s


def table(d):
    """A field table of strings (S), bools (t), ints (I or l) and nested
    dicts (F)."""
    out = b""
    for k, v in (d or {}).items():
        out += shortstr(k)
        if isinstance(v, bool):
            out += b"t" + struct.pack(">B", v)
        elif isinstance(v, int):
            if -2**31 <= v < 2**31:
                out += b"I" + struct.pack(">i", v)
            else:
                out += b"l" + struct.pack(">q", v)
        elif isinstance(v, dict):
            out += b"F" + table(v)
        elif isinstance(v, (str, bytes)):
            out += b"S" + longstr(v)
        else:
            raise TypeError(v)
    return longstr(out)


def frame(ftype, channel, payload, end=FRAME_END):
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + end


def method_frame(channel, class_id, method_id, args=b""):
    return frame(FRAME_METHOD, channel,
                 struct.pack(">HH", class_id, method_id) + args)


def header_frame(channel, body_size, flags=0, props=b"", class_id=60):
    return frame(FRAME_HEADER, channel,
                 struct.pack(">HHQH", class_id, 0, body_size, flags) + props)


def body_frame(channel, data):
    return frame(FRAME_BODY, channel, data)


class Reader:
    """Reads AMQP argument types from a method payload."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        out = self.data[self.pos:self.pos + n]
        assert len(out) == n, "payload too short"
        self.pos += n
        return out

    def octet(self):
        return self.take(1)[0]

    def short(self):
        return struct.unpack(">H", self.take(2))[0]

    def long(self):
        return struct.unpack(">I", self.take(4))[0]

    def longlong(self):
        return struct.unpack(">Q", self.take(8))[0]

    def shortstr(self):
        return self.take(self.octet()).decode(errors="replace")

    def longstr(self):
        return self.take(self.long())

    def table(self):
        """Skips a table and returns its raw bytes."""
        return self.longstr()


class Method:
    """A method frame as read: channel, class_id, method_id, args (bytes,
    after the class and method ids)."""

    def __init__(self, channel, payload):
        self.channel = channel
        self.class_id, self.method_id = struct.unpack(">HH", payload[:4])
        self.args = payload[4:]

    @property
    def ids(self):
        return (self.class_id, self.method_id)

    def reader(self):
        return Reader(self.args)

    def close_args(self):
        """(reply_code, reply_text, class_id, method_id) of a
        connection.close or channel.close."""
        r = self.reader()
        return (r.short(), r.shortstr(), r.short(), r.short())

    def __repr__(self):
        return "Method(ch=%d, %d/%d, %r)" % (self.channel, self.class_id,
                                              self.method_id, self.args[:80])


class RawAmqp:
    """A raw-socket AMQP 0-9-1 client: the handshake (PLAIN), then any bytes
    or frames; reads frames back.  For protocol-error tests, where the
    client libraries would refuse to send what we need."""

    def __init__(self, server, timeout=10.0):
        self.server = server
        self.timeout = timeout
        self.sock = socket.create_connection((server.host, server.port),
                                             timeout=timeout)
        self.buf = b""
        self.tune = None

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_method(self, channel, class_id, method_id, args=b""):
        self.send(method_frame(channel, class_id, method_id, args))

    def _fill(self, timeout=None):
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            chunk = self.sock.recv(65536)
        finally:
            self.sock.settimeout(self.timeout)
        if not chunk:
            raise ConnectionError("closed by the server; buffered %r"
                                  % self.buf[:200])
        self.buf += chunk

    def read_bytes(self, n, timeout=None):
        while len(self.buf) < n:
            self._fill(timeout)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout=None):
        """(type, channel, payload); checks the frame-end octet."""
        ftype, channel, size = struct.unpack(">BHI",
                                             self.read_bytes(7, timeout))
        payload = self.read_bytes(size + 1, timeout)
        assert payload[-1:] == FRAME_END, "bad frame end %r" % payload[-1:]
        return ftype, channel, payload[:-1]

    def read_method(self, timeout=None, skip_heartbeats=True):
        """The next method frame (heartbeats skipped)."""
        while True:
            ftype, channel, payload = self.read_frame(timeout)
            if ftype == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            assert ftype == FRAME_METHOD, (ftype, channel, payload[:80])
            return Method(channel, payload)

    def expect(self, class_id, method_id, channel=None):
        m = self.read_method()
        assert m.ids == (class_id, method_id), m
        if channel is not None:
            assert m.channel == channel, m
        return m

    def handshake(self, user="guest", password="guest", vhost="/",
                  capabilities=None, channel_max=None, frame_max=None,
                  heartbeat=None, open_connection=True):
        """Protocol header, start/start-ok (PLAIN), tune/tune-ok (the
        server's proposals unless told otherwise), connection.open.
        Returns the connection.start method; self.tune holds the server's
        (channel_max, frame_max, heartbeat)."""
        if capabilities is None:
            capabilities = {"authentication_failure_close": True,
                            "consumer_cancel_notify": True,
                            "basic.nack": True,
                            "publisher_confirms": True}
        self.send(PROTOCOL_HEADER)
        start = self.expect(10, 10, channel=0)
        props = table({"product": "obtest raw client",
                       "capabilities": capabilities})
        self.send_method(0, 10, 11, props + shortstr("PLAIN")
                         + longstr(b"\0%s\0%s" % (user.encode(),
                                                  password.encode()))
                         + shortstr("en_US"))
        m = self.read_method()
        if m.ids != (10, 30):
            return m            # a close (bad login) for the caller to check
        r = m.reader()
        self.tune = (r.short(), r.long(), r.short())
        cm = self.tune[0] if channel_max is None else channel_max
        fm = self.tune[1] if frame_max is None else frame_max
        hb = self.tune[2] if heartbeat is None else heartbeat
        self.send_method(0, 10, 31, struct.pack(">HIH", cm, fm, hb))
        if open_connection:
            self.send_method(0, 10, 40, shortstr(vhost) + shortstr("")
                             + b"\x00")
            self.expect(10, 41, channel=0)
        return start

    def open_channel(self, channel=1):
        self.send_method(channel, 20, 10, shortstr(""))
        return self.expect(20, 11, channel=channel)

    def publish(self, channel, exchange, routing_key, body,
                mandatory=False, flags=0, props=b""):
        """basic.publish with a header frame and one body frame (none when
        the body is empty)."""
        data = method_frame(channel, 60, 40, struct.pack(">H", 0)
                            + shortstr(exchange) + shortstr(routing_key)
                            + struct.pack(">B", 1 if mandatory else 0))
        data += header_frame(channel, len(body), flags, props)
        if body:
            data += body_frame(channel, body)
        self.send(data)

    def queue_declare(self, channel, name, durable=False, exclusive=False,
                      auto_delete=False, arguments=None):
        bits = (durable << 1) | (exclusive << 2) | (auto_delete << 3)
        self.send_method(channel, 50, 10, struct.pack(">H", 0)
                         + shortstr(name) + struct.pack(">B", bits)
                         + table(arguments))
        m = self.expect(50, 11, channel=channel)
        r = m.reader()
        return r.shortstr(), r.long(), r.long()

    def expect_connection_close(self, reply_close_ok=True):
        """Reads until connection.close (skipping other frames) and returns
        (reply_code, reply_text, class_id, method_id); answers close-ok."""
        while True:
            ftype, channel, payload = self.read_frame()
            if ftype == FRAME_METHOD and payload[:4] == b"\x00\x0a\x00\x32":
                m = Method(channel, payload)
                assert channel == 0, m
                if reply_close_ok:
                    try:
                        self.send_method(0, 10, 51)
                    except OSError:
                        pass
                return m.close_args()

    def expect_channel_close(self, channel):
        """Reads until channel.close on `channel` and returns its
        (reply_code, reply_text, class_id, method_id); answers close-ok."""
        while True:
            m = self.read_method()
            if m.ids == (20, 40) and m.channel == channel:
                self.send_method(channel, 20, 41)
                return m.close_args()
            assert m.ids != (10, 50), ("connection closed",
                                       m.close_args())

    def is_closed(self, timeout=5.0):
        """True once the server closes the socket (whatever it sends before
        is kept in self.buf)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self._fill(left)
            except ConnectionError:
                return True
            except ConnectionResetError:
                return True
            except socket.timeout:
                return False
