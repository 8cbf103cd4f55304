"""Small parsers shared by every dialect: addresses and the neutral algorithm names."""
from __future__ import annotations

import re
from functools import lru_cache

ALGORITHMS = ("round_robin", "least_conn", "source", "hash", "random", "first")

_HOSTNAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\Z")  # \Z: "$" allows a final newline
_IPV4 = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}\Z")  # [0-9]: \d also takes other scripts' digits
# The common case decided by one match: ASCII dotted quads no part of which exceeds 255 (a
# subset of what _IPV4 and the octet check accept; everything else takes the full checks).
_OCTET = r"(?:1[0-9][0-9]|[0-9][0-9]?|2[0-4][0-9]|25[0-5]|0[0-9][0-9])"  # commonest first
PLAIN_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_VALID_IPV4_PORT = re.compile(rf"({PLAIN_IPV4.pattern}):([1-9][0-9]{{0,4}})")


def _port(text: str) -> tuple[int | None, str | None]:
    if not (text.isascii() and text.isdigit()):
        return None, f"port {text!r} is not a number"
    port = int(text)
    if not 1 <= port <= 65535:
        return None, f"port {port} is out of range (1..65535)"
    return port, None


def _host_problem(host: str) -> str | None:
    if host.startswith("[") or PLAIN_IPV4.fullmatch(host):
        return None
    if _IPV4.match(host):
        if any(int(p) > 255 for p in host.split(".")):
            return f"{host!r} is not a valid IPv4 address"
        return None
    if not _HOSTNAME.match(host) or len(host) > 253:
        return f"{host!r} is not a valid host name or address"
    return None


# Writers re-check every server address and configs repeat hosts a lot; a larger cache held
# 12 MB at 50,000 backends for addresses seen once.
@lru_cache(maxsize=1024)
def parse_address(text: str) -> tuple[str | None, int | None, str | None]:
    """``host[:port]`` or ``[v6][:port]`` → (host, port or None, problem or None).
    IPv6 hosts are returned without brackets."""
    plain = _VALID_IPV4_PORT.fullmatch(text)  # the common case; the checks below give the same
    if plain and int(plain[2]) <= 65535:
        return plain[1], int(plain[2]), None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None, None, f"unclosed '[' in {text!r}"
        host, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            return None, None, f"unexpected {rest!r} after the IPv6 address"
        if not re.fullmatch(r"[0-9A-Fa-f:.]+", host or "x"):
            return None, None, f"{host!r} is not an IPv6 address"
        port, problem = _port(rest[1:]) if rest else (None, None)
        return host, port, problem
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = text, ""
    if ":" in host:
        return None, None, f"an IPv6 address must be written in brackets, e.g. [{text}] or [{text}]:80"
    problem = _host_problem(host)
    if problem:
        return None, None, problem
    port, problem = _port(port_text) if sep else (None, None)
    return host, port, problem


def parse_listen_address(text: str) -> tuple[str | None, int | None, str | None]:
    """``:80``, ``80``, ``*:80``, ``127.0.0.1:80``, ``[::]:80`` → (address or None, port, problem).
    A listener always needs a port."""
    if text.isdigit():
        port, problem = _port(text)
        return None, port, problem
    if text.startswith(":") or text.startswith("*:"):
        port, problem = _port(text.split(":", 1)[1])
        return None, port, problem
    host, port, problem = parse_address(text)
    if problem:
        return None, None, problem
    if port is None:
        return None, None, f"listen address {text!r} needs a port"
    return host, port, None


def format_address(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"
