"""What a rule sees: the IR, where it came from, and the questions many rules ask of it."""
from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from .. import ir
from .conditions import walk_condition

# Names as nginx and HAProxy write them (upstreams, backends, ACLs).
_NAME_WORD = re.compile(r"[A-Za-z0-9_.:~-]+")


@dataclass
class LintContext:
    config: ir.Config
    fmt: str  # the source format: "pxc" | "nginx" | "haproxy"
    source: str = ""
    filename: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    # -- modes --------------------------------------------------------------------------------
    def frontend_mode(self, fe: ir.Frontend) -> str:
        return fe.mode or self.config.defaults.mode

    def upstream_mode(self, up: ir.Upstream) -> str:
        return up.mode or self.config.defaults.mode

    # -- actions and references ---------------------------------------------------------------
    def actions(self, fe: ir.Frontend) -> Iterator[ir.Node]:
        """Every action of a frontend: each rule's, then the default's."""
        for rule in fe.rules:
            yield rule.action
        if fe.default is not None:
            yield fe.default

    def upstream_uses(self) -> Iterator[tuple[ir.Frontend, ir.UseUpstream]]:
        """(frontend, action) for every action that sends traffic to an upstream."""
        for fe in self.config.frontends:
            for action in self.actions(fe):
                if isinstance(action, ir.UseUpstream):
                    yield fe, action

    def upstreams_by_name(self) -> dict[str, ir.Upstream]:
        """Upstreams by name; with duplicates, the first (as ``Config.upstream`` finds it)."""
        table: dict[str, ir.Upstream] = {}
        for up in self.config.upstreams:
            table.setdefault(up.name, up)
        return table

    def used_upstream_names(self) -> set[str]:
        return {action.upstream for _, action in self.upstream_uses()}

    def acls_by_name(self, fe: ir.Frontend) -> dict[str, ir.Acl]:
        """The ACLs of a frontend by name; with duplicates, the first one (as HAProxy would
        complain and nginx has no ACLs, the first is the one a reader of the file sees)."""
        table: dict[str, ir.Acl] = {}
        for acl in fe.acls:
            table.setdefault(acl.name, acl)
        return table

    def conditions(self, fe: ir.Frontend) -> Iterator[ir.Node]:
        """Every condition written in a frontend: the ACLs' and the rules'."""
        for acl in fe.acls:
            yield acl.condition
        for rule in fe.rules:
            if rule.condition is not None:
                yield rule.condition

    def matchers(self, fe: ir.Frontend) -> list[ir.Node]:
        """Every node inside the frontend's conditions (matchers, ACL references, operators).
        Several rules ask for it: it is computed once per frontend."""
        key = ("matchers", id(fe))
        if key not in self._cache:
            self._cache[key] = [node for condition in self.conditions(fe) for node in walk_condition(condition)]
        return self._cache[key]

    # -- the source text ----------------------------------------------------------------------
    def mentions_beyond_definitions(self, name: str, definitions: int) -> bool:
        """True when ``name`` occurs in the nginx or HAProxy source more often than it is
        defined there. Readers keep only what the IR can express (a HAProxy ``http-request
        set-var(...) if acl`` is reported as an import loss and dropped), so a name that only
        such a line uses would otherwise look unused. Not used for .pxc, where the IR is
        complete."""
        if self.fmt == "pxc" or not self.source:
            return False
        return self._word_counts().get(name, 0) > definitions

    def _word_counts(self) -> Counter:
        if "words" not in self._cache:
            self._cache["words"] = Counter(_NAME_WORD.findall(self.source))
        return self._cache["words"]

    # -- listeners ----------------------------------------------------------------------------
    @staticmethod
    def is_tls(fe: ir.Frontend) -> bool:
        return any(listen.tls is not None for listen in fe.listens)

    @staticmethod
    def has_plain_listen(fe: ir.Frontend) -> bool:
        return any(listen.tls is None for listen in fe.listens)


def is_loopback(address: str | None) -> bool:
    """True for an address only local clients can reach; None (every address) is not."""
    if address is None:
        return False
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def listen_key(listen: ir.Listen) -> tuple[str, int]:
    """The socket a listener binds, with every spelling of "all addresses" made one."""
    address = (listen.address or "*").strip("[]").lower()
    if address in ("*", "0.0.0.0"):
        address = "*"
    elif address == "::":
        address = "[::]"
    return address, listen.port


def describe_listen(listen: ir.Listen) -> str:
    address, port = listen_key(listen)
    return f"{address}:{port}" if address != "[::]" else f"[::]:{port}"
