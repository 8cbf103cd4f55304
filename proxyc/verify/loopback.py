"""Scratch copies of a config that can run (or be checked) on this machine.

Configs name addresses that do not exist here (the seed's 192.168.56.101, Docker container
names). To check or run one, every upstream server is rewritten to a loopback address; the
original is never contacted. Listeners can be moved to free loopback ports the same way.
"""
from __future__ import annotations

from .. import ir


def servers_to_loopback(cfg: ir.Config, ports: dict[tuple[str, str], int] | None = None,
                        host: str = "127.0.0.1") -> ir.Config:
    """A copy whose servers all point at ``host``. ``ports`` maps (upstream, server) to a port
    (e.g. a stub backend's); servers not in it keep their port. Runtime DNS (resolver, count)
    is dropped from the copy, since there is nothing to resolve on loopback."""
    copy = cfg.model_copy(deep=True)
    for up in copy.upstreams:
        up.resolver = None
        for srv in up.servers:
            srv.host = host
            srv.count = None
            if ports and (up.name, srv.name) in ports:
                srv.port = ports[(up.name, srv.name)]
            elif srv.port is None:
                srv.port = 80
    return copy


def listens_to_loopback(cfg: ir.Config, ports: dict[tuple[str, int], int],
                        host: str = "127.0.0.1") -> ir.Config:
    """A copy whose listeners bind ``host`` on the ports given by ``ports[(frontend, old_port)]``."""
    copy = cfg.model_copy(deep=True)
    for fe in copy.frontends:
        for lst in fe.listens:
            lst.address = host
            lst.port = ports.get((fe.name, lst.port), lst.port)
    return copy


def names_to_loopback(cfg: ir.Config, host: str = "127.0.0.1") -> tuple[ir.Config, set[str]]:
    """A copy where servers addressed by a DNS name point at ``host``; IP addresses are kept.
    Used by ``--check``: nginx and HAProxy refuse to start when a name does not resolve, and
    container names never resolve outside their Docker network. Returns the names replaced."""
    import ipaddress

    copy = cfg.model_copy(deep=True)
    replaced: set[str] = set()
    for up in copy.upstreams:
        for srv in up.servers:
            try:
                ipaddress.ip_address(srv.host)
            except ValueError:
                replaced.add(srv.host)
                srv.host = host
    return copy, replaced
