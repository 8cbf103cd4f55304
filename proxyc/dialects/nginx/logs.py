"""Log targets in nginx, both ways: an IR ``log`` as an ``access_log`` destination, and back.

http logs in nginx's default format; stream has none, so the writer declares one
(``log_format pxc_tcp ...``) and names it on each stream ``access_log``. The reader takes that
pair back as the same log targets, and only that pair: another format stays raw text.
"""
from __future__ import annotations

from ... import ir
from ...diagnostics import Diagnostics
from ..common import parse_address

SEVERITY = {"emerg": "emerg", "alert": "alert", "crit": "crit", "err": "error", "error": "error",
            "warning": "warn", "warn": "warn", "notice": "notice", "info": "info", "debug": "debug"}
SYSLOG_FACILITIES = ("kern", "user", "mail", "daemon", "auth", "intern", "lpr", "news", "uucp", "clock",
                     "authpriv", "ftp", "ntp", "audit", "alert", "cron", *(f"local{i}" for i in range(8)))
STREAM_FORMAT_NAME = "pxc_tcp"
# The format's text as the lexer gives it (the writer quotes it).
STREAM_FORMAT = ('$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received '
                 '$session_time "$upstream_addr"')


def destination(log: ir.Log, diags: Diagnostics) -> str | None:
    """The ``access_log`` destination for ``log``, reporting what nginx cannot say; None when
    the address cannot be written."""
    if log.target in ("stdout", "stderr"):
        dropped = [f"{key} {value!r}" for key, value in (("facility", log.facility), ("level", log.level)) if value]
        if dropped:
            diags.warning(log.span, "P001", f"nginx writes plain lines to /dev/{log.target}: "
                          f"the log's {' and '.join(dropped)} cannot be expressed and are ignored")
        return f"/dev/{log.target}"
    address = log.address or ""
    if parse_address(address)[2] is not None:
        diags.error(log.span, "P003", f"syslog address {address!r} cannot be written safely; "
                    "this log target is left out")
        return None
    parts = [f"syslog:server={address}"]
    if log.facility:
        if log.facility in SYSLOG_FACILITIES:
            parts.append(f"facility={log.facility}")
        else:
            diags.warning(log.span, "P001", f"nginx has no syslog facility {log.facility!r}; "
                          "the default (local7) is used")
    if log.level:
        if log.level in SEVERITY:
            parts.append(f"severity={SEVERITY[log.level]}")
        else:
            diags.warning(log.span, "P001", f"unknown log level {log.level!r}; nginx's default is used")
    return ",".join(parts)


def log_of(destination: str, span: ir.Span) -> ir.Log | None:
    """The IR log target an ``access_log`` destination is, or None for a file (the IR has none)."""
    if destination in ("/dev/stdout", "/dev/stderr"):
        return ir.Log(target=destination[5:], span=span)
    if not destination.startswith("syslog:"):
        return None
    params = dict(p.partition("=")[::2] for p in destination[len("syslog:"):].split(","))
    if "server" not in params:
        return None
    return ir.Log(target="syslog", address=params["server"], facility=params.get("facility"),
                  level=params.get("severity"), span=span)
