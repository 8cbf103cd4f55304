"""DNS upstreams of TCP frontends through the nginx writer and back through the nginx reader.

nginx 1.22 re-resolves a name only through a variable ``proxy_pass``, so the writer turns an
upstream with a resolver into ``set $pxc_dns_<name> host:port`` (one server) or a
``split_clients $connection $pxc_dns_<name>`` (several) and ``proxy_pass $pxc_dns_<name>`` in
the stream server. The reader must give back the same IR, as it does in http {}, and believe
only what the writer, given the claimed upstream, writes exactly; anything else is read as
plain nginx and reported.
"""
from __future__ import annotations

import pytest

from proxyc import ir
from proxyc.checkers import check_nginx
from proxyc.dialects.nginx.reader import read, read_with_report
from proxyc.dialects.nginx.writer import write
from proxyc.dialects.pxc.reader import load

try:
    from helpers import require_binary
except ImportError:  # run from the repository root
    from tests.helpers import require_binary

RESOLVER = """\
resolvers docker {
    nameserver dns 127.0.0.11:53
    hold_valid 10s
    timeout 2s
}
"""

TCP_DEFAULTS = """\
defaults {
    mode tcp
    timeout connect 3s
    timeout client 1h
    timeout server 1h
}
"""

ONE_SERVER = RESOLVER + TCP_DEFAULTS + """\
frontend pg {
    listen :5432
    timeout client 10m
    default db
}

upstream db {
    resolver docker
    timeout connect 2s
    timeout server 10m
    server primary db-host:5432 count 3
}
"""

SEVERAL_SERVERS = RESOLVER + TCP_DEFAULTS + """\
frontend cache {
    listen :6379
    default redis
}

frontend queue {
    listen 127.0.0.1:5672
    default rabbit
}

upstream redis {
    resolver docker
    timeout connect 1s
    server east redis-east:6379 weight 1
    server west redis-west:6379 weight 3
}

upstream rabbit {
    resolver docker
    server north mq-north:5672 weight 2 count 2
    server south mq-south:5672 weight 3
    server central mq-central:5672 weight 5
}
"""

# Both contexts, two resolvers: the stream one is a resolver of its own.
MIXED = RESOLVER + """\
resolvers internal {
    nameserver primary 10.0.0.2:53
    nameserver secondary 10.0.0.3:5353
}

defaults {
    mode http
}

frontend web {
    listen :80
    default site
}

frontend api {
    listen :8080
    default backend
}

frontend db {
    mode tcp
    listen :5432
    default pg
}

frontend cache {
    mode tcp
    listen :6379
    default redis
}

upstream site {
    resolver docker
    server blue site-blue:8080
    server green site-green:8080
}

upstream pg {
    mode tcp
    resolver internal
    server pg1 pg-1.internal:5432 weight 1
    server pg2 pg-2.internal:5432 weight 4
}

upstream backend {
    resolver docker
    server app app:9000 count 4
}

upstream redis {
    mode tcp
    resolver internal
    server main redis.internal:6379
}
"""


def round_trip(source: str) -> tuple[ir.Config, str, ir.Config, list]:
    cfg = load(source, "input.pxc")
    text, wdiags = write(cfg)
    assert not [d for d in wdiags if d.severity == "error"], [str(d) for d in wdiags]
    back, rdiags, stats = read_with_report(text, "nginx.conf")
    assert back is not None, [str(d) for d in rdiags]
    assert not [s.unaccounted for s in stats.values() if s.unaccounted]  # nothing dropped silently
    return cfg, text, back, rdiags


def summary(cfg: ir.Config) -> list[tuple]:
    return [(up.name, up.mode, up.resolver, [(s.name, s.host, s.port, s.weight, s.count) for s in up.servers])
            for up in cfg.upstreams]


def assert_nginx_accepts(text: str) -> None:
    require_binary("nginx")
    result = check_nginx(text)
    assert result.ok, f"{result.output}\n{text}"


# ============================================================================ exact round trips


def test_one_dns_server_of_a_tcp_frontend_comes_back():
    cfg, text, back, diags = round_trip(ONE_SERVER)
    assert ("        # proxyc: upstream db\n        # proxyc: server primary\n        # proxyc: count 3\n"
            "        set $pxc_dns_db db-host:5432;\n        proxy_pass $pxc_dns_db;\n") in text
    assert back == cfg
    assert summary(back) == [("db", None, "docker", [("primary", "db-host", 5432, 1, 3)])]
    resolver, = back.resolvers
    assert (resolver.name, [ns.name for ns in resolver.nameservers], resolver.hold_valid, resolver.timeout) == (
        "docker", ["dns"], 10_000, 2000)
    # The server block's proxy_connect_timeout and proxy_timeout are the upstream's.
    up, = back.upstreams
    assert (up.timeouts.connect, up.timeouts.server) == (2000, 600_000)
    assert back.frontends[0].timeouts.client == 600_000
    assert not [d for d in diags if d.severity != "info"], [str(d) for d in diags]
    assert_nginx_accepts(text)


def test_several_dns_servers_of_tcp_frontends_come_back_with_their_weights():
    cfg, text, back, diags = round_trip(SEVERAL_SERVERS)
    assert "    split_clients $connection $pxc_dns_redis {\n" in text  # stream has no $request_id
    assert "        proxy_pass $pxc_dns_rabbit;\n" in text
    assert back == cfg
    assert summary(back) == [
        ("redis", None, "docker", [("east", "redis-east", 6379, 1, None), ("west", "redis-west", 6379, 3, None)]),
        ("rabbit", None, "docker", [("north", "mq-north", 5672, 2, 2), ("south", "mq-south", 5672, 3, None),
                                    ("central", "mq-central", 5672, 5, None)])]
    assert back.upstreams[0].timeouts.connect == 1000
    assert not back.raw and not any(fe.raw for fe in back.frontends)
    assert not [d for d in diags if d.severity != "info"], [str(d) for d in diags]
    assert_nginx_accepts(text)


def test_dns_upstreams_of_http_and_tcp_frontends_come_back_from_their_contexts():
    """http {} first, then stream {}; in each the split_clients, then the one-server upstreams
    in the order the server blocks use them (the reader's order)."""
    cfg, text, back, diags = round_trip(MIXED)
    assert "split_clients $request_id $pxc_dns_site" in text and "split_clients $connection $pxc_dns_pg" in text
    assert back == cfg
    assert summary(back) == [
        ("site", None, "docker", [("blue", "site-blue", 8080, 1, None), ("green", "site-green", 8080, 1, None)]),
        ("pg", "tcp", "internal", [("pg1", "pg-1.internal", 5432, 1, None), ("pg2", "pg-2.internal", 5432, 4, None)]),
        ("backend", None, "docker", [("app", "app", 9000, 1, 4)]),
        ("redis", "tcp", "internal", [("main", "redis.internal", 6379, 1, None)])]
    assert [(r.name, [(ns.name, ns.address, ns.port) for ns in r.nameservers]) for r in back.resolvers] == [
        ("docker", [("dns", "127.0.0.11", 53)]),
        ("internal", [("primary", "10.0.0.2", 53), ("secondary", "10.0.0.3", 5353)])]
    assert not [d for d in diags if d.severity != "info"], [str(d) for d in diags]
    assert_nginx_accepts(text)


def test_a_dns_upstream_two_tcp_frontends_use_is_one_upstream():
    """The writer writes the set in each server block; the first one names the upstream."""
    source = ONE_SERVER + """
frontend pg_replica {
    listen :5433
    timeout client 10m
    default db
}
"""
    cfg, text, back, _ = round_trip(source)
    assert text.count("set $pxc_dns_db db-host:5432;") == 2
    assert back == cfg
    assert [fe.default.upstream for fe in back.frontends] == ["db", "db"]


# ============================================================================ what is not believed


def _stream_text(source: str) -> str:
    return write(load(source, "input.pxc"))[0]


def _read_edited(text: str, edit: tuple[str, str]) -> tuple[ir.Config, list]:
    assert edit[0] in text
    cfg, diags, stats = read_with_report(text.replace(*edit), "edited.conf")
    assert cfg is not None and not [s.unaccounted for s in stats.values() if s.unaccounted]
    return cfg, diags


@pytest.mark.parametrize("edit", [
    ("        * redis-west:6379;", "        * redis-west;"),  # no port: the writer would leave it out
    ("$connection $pxc_dns_redis", "$remote_addr $pxc_dns_redis"),  # a client sticks to one server
    ("$connection $pxc_dns_redis", "$request_id $pxc_dns_redis"),  # http's key
    ("25% redis-east", "125% redis-east"),  # shares no weights give
    ("$connection $pxc_dns_redis", "$connection $pxc_dns_other"),  # not the variable named after the upstream
])
def test_a_split_clients_the_writer_would_not_write_is_raw_text_and_reported(edit):
    cfg, diags = _read_edited(_stream_text(SEVERAL_SERVERS), edit)
    assert [up.name for up in cfg.upstreams] == ["rabbit"]
    raw, = cfg.raw
    assert raw.context == "stream" and raw.text.startswith("split_clients ")
    assert any(d.code == "I001" and "split_clients is not modelled" in d.message for d in diags)
    cache = cfg.frontends[0]
    assert isinstance(cache.default, ir.Return) and cache.default.status == 502
    assert any(d.code == "I001" and "proxy_pass $pxc_dns_redis uses variables" in d.message for d in diags)


def test_a_set_without_a_port_is_raw_text_and_reported():
    cfg, diags = _read_edited(_stream_text(ONE_SERVER), ("db-host:5432;", "db-host;"))
    assert cfg.upstreams == []
    fe, = cfg.frontends
    assert [r.text for r in fe.raw] == ["set $pxc_dns_db db-host;"]
    assert isinstance(fe.default, ir.Return) and fe.default.status == 502
    assert [d.code for d in diags if d.severity != "info"] == ["I001", "I001"]
    assert any('no port in upstream "db-host"' in d.message for d in diags)
    assert any("set in a stream server is not modelled" in d.message for d in diags)


def test_a_set_of_another_variable_keeps_its_address_and_loses_the_writers_names():
    """Read as plain nginx: the upstream is named after its host, its server s1."""
    cfg, _ = _read_edited(_stream_text(ONE_SERVER), ("$pxc_dns_db", "$pxc_dns_other"))
    assert summary(cfg) == [("db-host", None, "docker", [("s1", "db-host", 5432, 1, None)])]


@pytest.mark.parametrize("source,edit,upstream", [
    (SEVERAL_SERVERS, ("* redis-west:6379", "* redis-north:6380"),
     ("redis", None, "docker", [("east", "redis-east", 6379, 1, None), ("west", "redis-north", 6380, 3, None)])),
    (ONE_SERVER, ("db-host:5432", "db-replica:5433"), ("db", None, "docker", [("primary", "db-replica", 5433, 1, 3)])),
])
def test_an_address_edited_to_one_the_writer_could_write_reads_as_nginx_uses_it(source, edit, upstream):
    """As in http {}: the address is the file's (it is where nginx connects), the names are the
    writer's, because it writes exactly this for that upstream."""
    cfg, diags = _read_edited(_stream_text(source), edit)
    assert summary(cfg)[0] == upstream
    assert not [d for d in diags if d.severity != "info"], [str(d) for d in diags]


# ============================================================================ plain nginx


def test_a_stream_proxy_pass_through_a_set_is_resolved_at_run_time():
    """Not the writer's: the upstream is named after the host; the set may follow the proxy_pass
    (nginx sets variables before it connects, whatever the order in the file)."""
    text = ("events {}\nstream {\n server {\n  listen 5432;\n  resolver 127.0.0.11 valid=10s;\n"
            "  proxy_pass $backend;\n  set $backend db:5432;\n }\n}\n")
    cfg, diags = read(text, "nginx.conf")
    assert summary(cfg) == [("db", None, "resolver", [("s1", "db", 5432, 1, None)])]
    assert cfg.frontends[0].default == ir.UseUpstream(upstream="db")
    assert not [d for d in diags if d.severity != "info"], [str(d) for d in diags]


def test_a_stream_proxy_pass_through_a_set_without_a_resolver_is_reported():
    text = "events {}\nstream {\n server {\n  listen 5432;\n  set $b db:5432;\n  proxy_pass $b;\n }\n}\n"
    cfg, diags = read(text, "nginx.conf")
    assert summary(cfg) == [("db", None, None, [("s1", "db", 5432, 1, None)])]
    assert any("needs a resolver; none is in scope" in d.message for d in diags)


def test_a_set_the_proxy_pass_does_not_use_stays_raw_text():
    text = ("events {}\nstream {\n server {\n  listen 5432;\n  set $unused x;\n  proxy_pass 10.0.0.1:5432;\n"
            " }\n}\n")
    cfg, diags = read(text, "nginx.conf")
    assert [r.text for r in cfg.frontends[0].raw] == ["set $unused x;"]
    assert any("set in a stream server is not modelled" in d.message for d in diags)
