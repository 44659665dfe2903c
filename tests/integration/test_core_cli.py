"""onebox's command line and configuration: --help, --print-config, the
config file, memcached's flags, and every kind of bad value (exit status 2,
the key named, nothing started)."""
import json
import subprocess

import pytest

from obtest import free_port, module_port_args, onebox_bin, wait_port

pytestmark = pytest.mark.onebox_only


def run(*args, timeout=10):
    return subprocess.run([onebox_bin(), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def effective(*args):
    res = run(*args, "--print-config")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_help_lists_flags_and_keys():
    res = run("--help")
    assert res.returncode == 0
    for text in ("--config", "--print-config", "-m", "-c", "-p", "-l", "-d",
                 "-P", "-u", "-t", "-I", "-U", "-v", "--core.memory_mb",
                 "--core.max_connections", "--core.http_port"):
        assert text in res.stdout, text


def test_version():
    res = run("--version")
    assert res.returncode == 0
    assert res.stdout.startswith("onebox ")


def test_print_config_defaults():
    core = effective()["core"]
    assert core["listen"] == "127.0.0.1"
    assert core["http_port"] == 8080
    assert core["memory_mb"] == 64
    assert core["max_connections"] == 1024
    assert core["data_dir"] == "./data"
    assert core["pidfile"] is None
    assert core["daemonize"] is False
    assert core["log_level"] == "notice"


def test_memcached_flags_set_their_keys(tmp_path):
    core = effective("-m", "128", "-c", "50", "-l", "127.0.0.1,::1",
                     "-P", tmp_path / "x.pid", "-t", "2", "-vv", "-U", "0",
                     "-f", "1.5")["core"]
    assert core["memory_mb"] == 128
    assert core["max_connections"] == 50
    assert core["listen"] == "127.0.0.1,::1"
    assert core["pidfile"] == str(tmp_path / "x.pid")
    assert core["threads"] == 2
    assert core["log_level"] == "debug"
    assert core["slab_growth_factor"] == 1.5
    # Attached values, as getopt allows: -m64.
    assert effective("-m32")["core"]["memory_mb"] == 32


def test_file_then_flags(tmp_path):
    cfg = tmp_path / "onebox.json"
    cfg.write_text(json.dumps({"core": {"memory_mb": 128,
                                        "max_connections": 10}}))
    core = effective("--config", cfg)["core"]
    assert core["memory_mb"] == 128 and core["max_connections"] == 10
    # Flags win over the file, wherever they stand on the line.
    core = effective("-m", "256", "--config", cfg,
                     "--core.max_connections", "20")["core"]
    assert core["memory_mb"] == 256 and core["max_connections"] == 20
    core = effective("--config=%s" % cfg, "--core.memory_mb=512")["core"]
    assert core["memory_mb"] == 512


@pytest.mark.parametrize("content,key", [
    ({"core": {"bogus": 1}}, "core.bogus"),
    ({"nosuchmodule": {}}, "nosuchmodule"),
    ({"core": {"memory_mb": "lots"}}, "core.memory_mb"),
    ({"core": {"memory_mb": 0}}, "core.memory_mb"),
    ({"core": {"max_connections": -1}}, "core.max_connections"),
    ({"core": {"daemonize": "yes"}}, "core.daemonize"),
    ({"core": {"log_level": "loud"}}, "core.log_level"),
    ({"core": {"listen": None}}, "core.listen"),
    ({"core": {"slab_page_size": 5000}}, "core.slab_page_size"),
    ({"core": 5}, "core"),
])
def test_bad_file_exits_2_naming_the_key(tmp_path, content, key):
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps(content))
    res = run("--config", cfg)
    assert res.returncode == 2, res
    assert key in res.stderr


@pytest.mark.parametrize("args,key", [
    (["--core.bogus", "1"], "core.bogus"),
    (["--core.memory_mb", "12abc"], "core.memory_mb"),
    (["-m", "0"], "core.memory_mb"),
    (["-c", "abc"], "core.max_connections"),
    (["-t", "0"], "core.threads"),
    (["-U", "11211"], "-U"),
    (["-I", "2x"], "-I"),
    (["-Z"], "-Z"),
    (["-m"], "-m"),
    (["stray"], "stray"),
    (["-u", "no-such-user-here"], "no-such-user-here"),
    (["--core.http_port", "70000"], "core.http_port"),
])
def test_bad_flags_exit_2_naming_the_key(args, key):
    res = run(*args)
    assert res.returncode == 2, res
    assert key in res.stderr


def test_bad_json_names_file_and_line(tmp_path):
    cfg = tmp_path / "broken.json"
    cfg.write_text('{"core": {\n  "memory_mb": 64,\n}\n')
    res = run("--config", cfg)
    assert res.returncode == 2
    assert str(cfg) in res.stderr and ":3:" in res.stderr


def test_missing_file(tmp_path):
    res = run("--config", tmp_path / "none.json")
    assert res.returncode == 2
    assert "none.json" in res.stderr


def test_nothing_starts_half_configured(tmp_path):
    port = free_port()
    res = run("--core.http_port", port, "--core.bogus", "1")
    assert res.returncode == 2
    with pytest.raises(OSError):
        wait_port(port, timeout=0.2)


def test_port_in_use_exits_1(onebox):
    first = onebox()
    res = run("--core.http_port", first.http_port,
              *module_port_args(free=False))
    assert res.returncode == 1
    assert "core.http_port" in res.stderr
