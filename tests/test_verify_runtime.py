"""Live tests: real nginx / HAProxy on 127.0.0.1 in front of in-process stubs."""

import json
import os
import socket
import time

import pytest

from proxyc.verify.procs import ProxyStartError, http_get, run_haproxy, run_nginx
from proxyc.verify.stubs import StubBackends, free_port

try:  # tests/ as a plain directory (rootdir-relative) or as a package
    from helpers import require_binary
except ImportError:  # pragma: no cover
    from tests.helpers import require_binary


@pytest.fixture
def nginx():
    return require_binary("nginx")


@pytest.fixture
def haproxy():
    return require_binary("haproxy")


@pytest.fixture
def stubs():
    with StubBackends() as b:
        yield b


def haproxy_rr(port, servers, check=""):
    lines = "\n".join(f"    server {name} 127.0.0.1:{p}{check}" for name, p in servers)
    return f"""\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance roundrobin
{lines}
"""


def nginx_rr(port, servers):
    lines = "\n".join(f"        server 127.0.0.1:{p};" for _, p in servers)
    # One worker: each nginx worker keeps its own round-robin position, so with
    # several workers the split is only approximately even.
    return f"""\
worker_processes 1;
events {{}}
http {{
    upstream be {{
{lines}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://be; }}
    }}
}}
"""


def served_by(port, n, path="/"):
    seen = []
    for _ in range(n):
        status, headers, _ = http_get(port, path)
        assert status == 200
        seen.append(headers["x-stub"])
    return seen


def stub_or_status(port):
    status, headers, _ = http_get(port, "/")
    return headers["x-stub"] if status == 200 else status


def wait_until(predicate, message, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        return False
    try:  # nginx workers share the group; none may survive the master
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


# --------------------------------------------------------------------- stubs only


def test_stub_echoes_raw_path_host_and_source(stubs):
    port = stubs.add("a")
    status, headers, body = http_get(port, "/static/../api/x?q=%2e%2e", host_header="example.test",
                                     source_ip="127.0.0.7", headers={"X-Test": "1"}, method="PATCH")
    doc = json.loads(body)
    assert status == 200 and headers["x-stub"] == "a"
    assert (doc["method"], doc["path"], doc["host"]) == ("PATCH", "/static/../api/x?q=%2e%2e", "example.test")
    assert doc["headers"]["X-Test"] == "1"
    assert stubs.requests("a")[0]["client"] == "127.0.0.7"
    assert stubs.counts() == {"a": 1}


def test_stub_stop_start_same_port_and_hold(stubs):
    port = stubs.add("a")
    stubs.stop("a")
    with pytest.raises(ConnectionRefusedError):
        http_get(port, "/")
    stubs.start("a")
    assert stubs.port("a") == port and http_get(port, "/")[0] == 200
    stubs.hold("a", 0.3)
    t = time.monotonic()
    http_get(port, "/")
    assert time.monotonic() - t >= 0.3


def test_tcp_stub_says_its_name(stubs):
    port = stubs.add_tcp("l4a")
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        assert s.makefile("rb").read() == b"l4a\n"


def test_http_get_refuses_non_loopback():
    with pytest.raises(ValueError):
        http_get(80, "/", host="192.0.2.1")
    with pytest.raises(ValueError):
        http_get(80, "/", source_ip="192.0.2.1")


# ------------------------------------------------------------------------ haproxy


def test_haproxy_round_robin_over_three_stubs(haproxy, stubs, tmp_path):
    servers = [(name, stubs.add(name)) for name in ("a", "b", "c")]
    port = free_port()
    with run_haproxy(haproxy_rr(port, servers), tmp_path, [("127.0.0.1", port)]):
        served_by(port, 30)
    assert stubs.counts() == {"a": 10, "b": 10, "c": 10}


def test_haproxy_health_check_detects_stopped_stub(haproxy, stubs, tmp_path):
    servers = [(name, stubs.add(name)) for name in ("a", "b", "c")]
    port = free_port()
    cfg = haproxy_rr(port, servers, check=" check inter 100ms fall 1 rise 1").replace(
        "balance roundrobin", "balance roundrobin\n    retries 0")
    with run_haproxy(cfg, tmp_path, [port]):
        stubs.stop("b")
        # Until the check marks b DOWN, requests sent to b fail with 503 (HAProxy
        # retries the *same* server, waiting min(timeout connect, 1 s) between
        # tries: that is why this config says `retries 0`).
        wait_until(lambda: {stub_or_status(port) for _ in range(6)} <= {"a", "c"}, "b never marked down")
        assert set(served_by(port, 12)) == {"a", "c"}
        stubs.start("b")
        wait_until(lambda: "b" in {stub_or_status(port) for _ in range(6)}, "b never came back")


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_haproxy_process_gone_after_exit_even_on_exception(haproxy, stubs, tmp_path, exc):
    port = free_port()
    cfg = haproxy_rr(port, [("a", stubs.add("a"))])
    with pytest.raises(exc):
        with run_haproxy(cfg, tmp_path, [port]) as proxy:
            pid = proxy.pid
            assert not gone(pid)
            raise exc()
    assert gone(pid)


def test_haproxy_start_failure_reports_output(haproxy, tmp_path):
    with pytest.raises(ProxyStartError, match="unknown keyword"):
        with run_haproxy("global\n    nonsense_keyword\n", tmp_path, [free_port()]):
            pass


def test_refuses_configs_that_leave_loopback(tmp_path):
    with pytest.raises(ValueError):
        run_haproxy("frontend fe\n    bind :80\n", tmp_path, [80])
    with pytest.raises(ValueError):
        run_haproxy("backend be\n    server s1 192.0.2.10:80\n", tmp_path, [])
    with pytest.raises(ValueError):
        run_nginx("events {}\nhttp { server { listen 8080; } }\n", tmp_path, [8080])
    with pytest.raises(ValueError):  # no listen at all means *:80
        run_nginx("events {}\nhttp { server { location / { return 200; } } }\n", tmp_path, [80])
    with pytest.raises(ValueError):
        run_nginx("events {}\nhttp { server { listen 127.0.0.1:1; location / { proxy_pass http://192.0.2.1; } } }\n",
                  tmp_path, [1])


# -------------------------------------------------------------------------- nginx


def test_nginx_round_robin_over_three_stubs(nginx, stubs, tmp_path):
    servers = [(name, stubs.add(name)) for name in ("a", "b", "c")]
    port = free_port()
    with run_nginx(nginx_rr(port, servers), tmp_path, [("127.0.0.1", port)]) as proxy:
        served_by(port, 30)
        pid = proxy.pid
    assert stubs.counts() == {"a": 10, "b": 10, "c": 10}
    assert gone(pid)  # master and workers


def test_nginx_stopped_stub_is_skipped_and_raw_uri_forwarded(nginx, stubs, tmp_path):
    servers = [(name, stubs.add(name)) for name in ("a", "b", "c")]
    port = free_port()
    with run_nginx(nginx_rr(port, servers), tmp_path, [port]):
        stubs.stop("b")
        # Passive detection: a refused connection is retried on the next server.
        assert set(served_by(port, 12)) == {"a", "c"}
        # proxy_pass without a URI part forwards the client's request line as
        # sent, even though the location was matched on the normalised $uri.
        _, _, body = http_get(port, "/static/../api/x")
        assert json.loads(body)["path"] == "/static/../api/x"
        # A body above client_body_buffer_size goes through client_body_temp in
        # the workdir: that must be writable by the workers.
        status, _, _ = http_get(port, "/upload", method="POST", body=b"x" * 100_000)
        assert status == 200


def test_nginx_stream_round_robin_is_not_skewed_by_readiness_probe(nginx, stubs, tmp_path):
    a, b = stubs.add_tcp("a"), stubs.add_tcp("b")
    port = free_port()
    cfg = f"""\
worker_processes 1;
events {{}}
stream {{
    upstream l4 {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
    server {{ listen 127.0.0.1:{port}; proxy_pass l4; }}
}}
"""
    with run_nginx(cfg, tmp_path, [port]):
        got = []
        for _ in range(4):
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                got.append(s.makefile("rb").read())
    assert sorted(got) == [b"a\n", b"a\n", b"b\n", b"b\n"]
    assert stubs.counts() == {"a": 2, "b": 2}


def test_nginx_start_failures_are_reported(nginx, tmp_path):
    with pytest.raises(ProxyStartError, match='unknown directive "bogus"'):
        with run_nginx("events {}\nhttp { bogus; }\n", tmp_path, [free_port()]):
            pass
    with socket.socket() as busy:  # someone else already listens there
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = f"events {{}}\nhttp {{ server {{ listen 127.0.0.1:{port}; }} }}\n"
        with pytest.raises(ProxyStartError, match="already in use"):
            with run_nginx(cfg, tmp_path, [port]):
                pass
