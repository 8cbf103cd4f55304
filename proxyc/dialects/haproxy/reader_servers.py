"""``server``, ``default-server`` and ``server-template`` lines, and ``balance``.

Server options are read into a small map (option → value and word) so that a server's own
options can override its ``default-server`` ones, as HAProxy does; the upstream-wide parts
(health-check timing, passive checks, resolvers) are gathered from the servers afterwards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ... import ir
from ..common import parse_address
from .lexer import Line, Word
from .reader_base import Malformed, Unconvertible

# Options the IR models, with their number of arguments.
MODELLED = {"weight": 1, "maxconn": 1, "backup": 0, "no-backup": 0, "disabled": 0, "enabled": 0, "check": 0,
            "no-check": 0, "slowstart": 1, "cookie": 1, "inter": 1, "rise": 1, "fall": 1, "resolvers": 1,
            "init-addr": 1, "observe": 1, "error-limit": 1, "on-error": 1}
# Options HAProxy 2.6 knows that the IR does not model: reported when dropped.
KNOWN_FLAGS = frozenset({
    "agent-check", "allow-0rtt", "check-send-proxy", "check-ssl", "check-via-socks4", "force-sslv3",
    "force-tlsv10", "force-tlsv11", "force-tlsv12", "force-tlsv13", "no-agent-check", "no-check-ssl",
    "no-send-proxy", "no-send-proxy-v2", "no-send-proxy-v2-ssl", "no-send-proxy-v2-ssl-cn", "no-ssl",
    "no-ssl-reuse", "no-sslv3", "no-tfo", "no-tls-tickets", "no-tlsv10", "no-tlsv11", "no-tlsv12",
    "no-tlsv13", "no-verifyhost", "non-stick", "send-proxy", "send-proxy-v2", "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn", "ssl", "ssl-reuse", "stick", "tfo", "tls-tickets",
})
KNOWN_WITH_VALUE = frozenset({
    "addr", "agent-addr", "agent-inter", "agent-port", "agent-send", "alpn", "ca-file", "check-alpn",
    "check-proto", "check-sni", "ciphers", "ciphersuites", "client-sigalgs", "crl-file", "crt", "curves",
    "downinter", "fastinter", "hash-key", "id", "interface", "log-proto", "max-reuse", "maxqueue", "minconn",
    "namespace", "npn", "on-marked-down", "on-marked-up", "pool-low-conn", "pool-max-conn", "pool-purge-delay",
    "port", "proto", "proxy-v2-options", "redir", "resolve-net", "resolve-opts", "resolve-prefer",
    "set-proxy-v2-tlv-fmt", "shard", "sigalgs", "sni", "socks4", "source", "ssl-max-ver", "ssl-min-ver",
    "tcp-ut", "track", "usesrc", "verify", "verifyhost", "ws",
})
# Address prefixes that only force an address family; any other "proto@" is not host:port.
# Options that undo each other: the one written last (the server's over its default-server's) wins.
OPPOSITES = {"backup": "no-backup", "no-backup": "backup", "check": "no-check", "no-check": "check",
             "disabled": "enabled", "enabled": "disabled"}
SERVER_PREFIXES = ("ipv4@", "ipv6@")
_PROTOCOL_PREFIX = re.compile(r"^[A-Za-z0-9_-]+@")


@dataclass
class Option:
    value: str | None
    word: Word


@dataclass
class ServerOptions:
    values: dict[str, Option] = field(default_factory=dict)
    dropped: list[Word] = field(default_factory=list)  # the first word of each dropped option

    def set(self, name: str, option: Option) -> None:
        self.values.pop(OPPOSITES.get(name, ""), None)
        self.values[name] = option

    def over(self, defaults: ServerOptions) -> ServerOptions:
        """These options on top of ``defaults`` (``default-server``)."""
        merged = ServerOptions(dict(defaults.values), list(self.dropped))
        for name, option in self.values.items():
            merged.set(name, option)
        return merged

    def get(self, name: str) -> str | None:
        option = self.values.get(name)
        return option.value if option else None


def read_options(words: list[Word]) -> ServerOptions:
    """The options after a server's address (or of ``default-server``)."""
    options = ServerOptions()
    i = 0
    while i < len(words):
        word = words[i]
        name = word.text
        if name in MODELLED:
            count = MODELLED[name]
        elif name in KNOWN_FLAGS:
            count = 0
        elif name in KNOWN_WITH_VALUE:
            count = 1
        else:
            raise Unconvertible(f"unknown server option {name!r}", word)
        if count and i + 1 >= len(words):
            raise Malformed("E208", f"server option {name} needs a value", word)
        value = words[i + 1].text if count else None
        if name in MODELLED:
            options.set(name, Option(value, word))
        else:
            options.dropped.append(word)
        i += 1 + count
    return options


def dropped_text(options: ServerOptions, words: list[Word]) -> str:
    """The dropped options as written (keyword and value)."""
    parts = []
    for word in options.dropped:
        index = next(i for i, w in enumerate(words) if w is word)
        has_value = word.text in KNOWN_WITH_VALUE and index + 1 < len(words)
        parts.append(word.text + (" " + words[index + 1].text if has_value else ""))
    return ", ".join(parts)


def parse_server_address(word: Word) -> tuple[str, int | None]:
    text = word.text
    if "$" in text:
        raise Unconvertible(f"the address {text!r} uses an environment variable; the IR needs a fixed one", word)
    for prefix in SERVER_PREFIXES:
        text = text.removeprefix(prefix)
    if _PROTOCOL_PREFIX.match(text) or text.startswith("/"):
        raise Unconvertible(f"the server address {word.text!r} is not a host and port", word)
    if text.count(":") > 1 and not text.startswith("["):
        # HAProxy reads an unbracketed IPv6 address up to its last colon: "::1:80".
        host, _, port_text = text.rpartition(":")
        text = f"[{host}]:{port_text}"
    text = text.removesuffix(":")  # "host:" is host without a port
    if ":+" in text or ":-" in text:
        raise Unconvertible("a port relative to the client's (+N/-N) has no IR equivalent", word)
    host, port, problem = parse_address(text)
    if problem:
        raise Malformed("E208", problem, word)
    return host, port


def build_server(ctx, name_word: Word, addr_word: Word, options: ServerOptions, count: int | None = None) -> ir.Server:
    host, port = parse_server_address(addr_word)
    server = ir.Server(name=name_word.text, host=host, port=port, count=count, span=ctx.span(name_word))
    weight = options.values.get("weight")
    if weight is not None:
        server.weight = _integer(weight, 0, 256)
    maxconn = options.values.get("maxconn")
    if maxconn is not None:
        server.max_conns = _integer(maxconn, 0, 1_000_000) or None  # 0 means no limit
    server.backup = "backup" in options.values
    server.down = "disabled" in options.values
    server.check = "check" in options.values
    slowstart = options.values.get("slowstart")
    if slowstart is not None:
        server.slow_start = _duration(slowstart)
    server.cookie = options.get("cookie")
    return server


def _integer(option: Option, lo: int, hi: int) -> int:
    text = option.value or ""
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise Malformed("E208", f"{option.word.text} must be a number from {lo} to {hi}, got {text!r}", option.word)
    return int(text)


def _duration(option: Option) -> int:
    ms = ir.parse_duration(option.value or "")
    if ms is None:
        raise Malformed("E208", f"{option.word.text} must be a duration, got {option.value!r}", option.word)
    return ms


def timing_of(options: ServerOptions) -> tuple[int | None, int | None, int | None]:
    """(inter, rise, fall) of a checked server."""
    inter = options.values.get("inter")
    rise = options.values.get("rise")
    fall = options.values.get("fall")
    return (_duration(inter) if inter else None, _integer(rise, 1, 1000) if rise else None,
            _integer(fall, 1, 1000) if fall else None)


def template_count(word: Word) -> int:
    """``server-template``'s number of servers: ``N`` or the range ``1-N``."""
    low, sep, high = word.text.partition("-")
    if sep and low != "1":
        raise Unconvertible("a server-template range that does not start at 1 has no IR equivalent", word)
    text = high if sep else low
    if not text.isdigit() or int(text) < 1:
        raise Malformed("E208", f"server-template needs a number of servers, got {word.text!r}", word)
    return int(text)


# ------------------------------------------------------------------ balance

SIMPLE_ALGORITHMS = {"roundrobin": "round_robin", "static-rr": "round_robin", "leastconn": "least_conn",
                     "first": "first", "source": "source"}


def read_balance(ctx, line: Line, note) -> ir.Balance:
    """``balance ALGORITHM [args]`` → ``ir.Balance`` (``note(word, text)`` records approximations)."""
    words = line.words[1:]
    if not words:
        raise Malformed("E209", "balance needs an algorithm", line.words[0])
    algo, rest = words[0], words[1:]
    balance = ir.Balance(span=ctx.span(algo))
    name = algo.text
    if name in SIMPLE_ALGORITHMS:
        _no_more(rest)
        balance.algorithm = SIMPLE_ALGORITHMS[name]
        if name == "static-rr":
            note(algo, "static-rr (weights fixed at start-up) is imported as round robin")
    elif name == "random" or name.startswith("random("):
        _no_more(rest)
        balance.algorithm = "random"
        balance.choices = _random_draws(algo)
    elif name == "uri":
        balance.algorithm, balance.key = "hash", "uri"
        _uri_options(rest, note, algo)
    elif name == "url_param":
        if not rest:
            raise Malformed("E209", "balance url_param needs a parameter name", algo)
        balance.algorithm, balance.key, balance.key_name = "hash", "param", rest[0].text
        if rest[1:]:
            note(rest[1], "url_param options not imported: " + " ".join(w.text for w in rest[1:]))
    elif name.startswith("hdr(") and name.endswith(")"):
        balance.algorithm, balance.key, balance.key_name = "hash", "header", name[4:-1]
        if rest:
            note(rest[0], "hdr() balancing options not imported: " + " ".join(w.text for w in rest))
    elif name == "hash":
        _hash_expression(balance, rest, algo, note)
    else:
        raise Unconvertible(f"the balance algorithm {name!r} has no IR equivalent", algo)
    return balance


def _no_more(rest: list[Word]) -> None:
    if rest:
        raise Malformed("E209", f"unexpected {rest[0].text!r} after the balance algorithm", rest[0])


def _random_draws(word: Word) -> int | None:
    """HAProxy draws 2 servers by default and keeps the less loaded; ``random(1)`` is plain
    random, which the IR spells without choices."""
    if word.text == "random":
        return 2
    inner = word.text[len("random("):-1] if word.text.endswith(")") else ""
    if not inner.isdigit() or int(inner) < 1:
        raise Malformed("E209", f"random() needs a number of draws, got {word.text!r}", word)
    return None if int(inner) == 1 else int(inner)


def _uri_options(rest: list[Word], note, algo: Word) -> None:
    texts = [w.text for w in rest]
    if "whole" not in texts:
        note(algo, "balance uri hashes the path without the query string; the IR's uri hash includes it")
    others = [w for w in rest if w.text != "whole"]
    if others:
        note(others[0], "balance uri options not imported: " + " ".join(w.text for w in others))


def _hash_expression(balance: ir.Balance, rest: list[Word], algo: Word, note) -> None:
    if len(rest) != 1:
        raise Malformed("E209", "balance hash needs one sample expression", algo)
    expr = rest[0]
    text = expr.text
    balance.algorithm = "hash"
    if text.startswith("req.cook(") and text.endswith(")"):
        balance.key, balance.key_name = "cookie", text[len("req.cook("):-1]
    elif text.startswith(("req.hdr(", "hdr(")) and text.endswith(")"):
        balance.key, balance.key_name = "header", text[text.index("(") + 1:-1]
    elif text.startswith("url_param(") and text.endswith(")"):
        balance.key, balance.key_name = "param", text[len("url_param("):-1]
    elif text in ("url", "uri"):
        balance.key = "uri"
    elif text == "path":
        balance.key = "uri"
        note(expr, "balance hash path hashes the path without the query string; the IR's uri hash includes it")
    else:
        raise Unconvertible(f"hashing on {text!r} has no IR equivalent", expr)
    if balance.key_name is not None and ("," in balance.key_name or not balance.key_name):
        raise Unconvertible(f"hashing on {text!r} has no IR equivalent", expr)
