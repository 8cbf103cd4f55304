"""Generated IRs through each writer and the real server's own check: whatever the writer
writes (it refuses or reports what it cannot), ``nginx -t`` and ``haproxy -c`` accept.

The IR is moved to loopback first, as any config is before it is run here: listeners on
127.0.0.1, server and nameserver names to 127.0.0.1 (a name that does not resolve fails both
checks), syslog to a local port, test certificates for TLS. Raw text is left out (generated text
is rarely nginx or HAProxy), and so are IRs whose frontends share a socket (no meaning to keep).
The examples are fixed (derandomize); tests/fuzz_long.py runs the round trips longer.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from proxyc import ir
from proxyc.checkers import check_haproxy, check_nginx, make_test_certificate
from proxyc.dialects.haproxy.writer import write as write_haproxy
from proxyc.dialects.nginx.writer import write as write_nginx
from proxyc.verify.loopback import names_to_loopback

try:
    from helpers import require_binary, without_raw
    from strategies import configs
except ImportError:  # run from the repository root
    from tests.helpers import require_binary, without_raw
    from tests.strategies import configs


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict[str, bytes]:
    crt, key, pem = make_test_certificate(tmp_path_factory.mktemp("certs"))
    return {"site.crt": Path(crt).read_bytes(), "site.key": Path(key).read_bytes(), "site.pem": Path(pem).read_bytes()}


def on_loopback(cfg: ir.Config, target: str) -> ir.Config:
    cfg, _ = names_to_loopback(without_raw(cfg))
    for fe in cfg.frontends:
        for listen in fe.listens:
            listen.address = "127.0.0.1"
            if listen.tls is not None:  # HAProxy wants the key in the PEM next to the certificate
                listen.tls = ir.Tls(cert="site.pem") if target == "haproxy" else ir.Tls(cert="site.crt", key="site.key")
    for res in cfg.resolvers:
        for ns in res.nameservers:
            ns.address = "127.0.0.1"
    for log in cfg.logs:
        if log.target == "syslog":
            log.address = "127.0.0.1:514"
    keys = [(listen.address, listen.port) for fe in cfg.frontends for listen in fe.listens]
    assume(len(keys) == len(set(keys)))
    return cfg


@settings(max_examples=40, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(configs(comments=False))
def test_nginx_accepts_what_the_writer_writes(certificates, cfg):
    require_binary("nginx")
    text, _ = write_nginx(on_loopback(cfg, "nginx"))
    result = check_nginx(text, files=certificates)
    assert result.ok, ([str(m) for m in result.messages], text)


# haproxy -c takes about half a second an example
@settings(max_examples=25, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(configs(comments=False))
def test_haproxy_accepts_what_the_writer_writes(certificates, cfg):
    require_binary("haproxy")
    cfg = on_loopback(cfg, "haproxy")
    assume(cfg.frontends)  # HAProxy will not start without a listener, and -c says so
    text, _ = write_haproxy(cfg)
    result = check_haproxy(text, files=certificates)
    assert result.ok, ([str(m) for m in result.messages], text)
