"""The ``global`` section → log targets, plus everything else kept as raw ``global`` text.

Most of ``global`` configures the HAProxy process (user, chroot, runtime API socket, limits,
TLS defaults): HAProxy → IR → HAProxy keeps those lines verbatim, and one info lists them.
Other unmodelled lines get an info each.
"""
from __future__ import annotations

from ... import ir
from .lexer import Line, Section
from .reader_base import Malformed, ReadContext, Unconvertible, line_subject, raw_text
from .writer import LOG_LEVELS, SYSLOG_FACILITIES

PROCESS_SETTINGS = frozenset({
    "stats", "maxconn", "daemon", "master-worker", "user", "group", "uid", "gid", "chroot", "pidfile", "nbthread",
    "nbproc", "cpu-map", "ulimit-n", "node", "description", "default-path", "localpeer", "hard-stop-after",
    "ca-base", "crt-base", "key-base", "quiet", "zero-warning", "spread-checks", "server-state-file",
    "server-state-base", "insecure-fork-wanted", "insecure-setuid-wanted", "log-send-hostname", "log-tag",
    "noepoll", "nopoll", "nosplice", "nogetaddrinfo", "noreuseport", "busy-polling", "thread-groups",
    "numa-cpu-mapping", "expose-experimental-directives", "set-dumpable", "strict-limits", "grace", "maxsslconn",
    "maxconnrate", "maxsessrate", "maxsslrate", "maxpipes", "maxzlibmem", "maxcomprate", "maxcompcpuusage",
    "pp2-never-send-local", "unix-bind", "warn-blocked-traffic-after", "anonkey", "cluster-secret", "debug",
    "issuers-chain-path", "mworker-max-reloads", "nbcores", "max-spread-checks",
})
PROCESS_PREFIXES = ("tune.", "ssl-", "httpclient.", "profiling.", "51degrees-", "deviceatlas-", "wurfl-")
EXPERIMENTAL = "expose-experimental-directives"


def is_process_setting(keyword: str) -> bool:
    return keyword in PROCESS_SETTINGS or keyword.startswith(PROCESS_PREFIXES)


class GlobalReader:
    def __init__(self, ctx: ReadContext, normalize_uri_used: bool):
        self.ctx = ctx
        self.normalize_uri_used = normalize_uri_used

    def read(self, section: Section) -> tuple[list[ir.Log], list[ir.Raw]]:
        self.ctx.converted(section.header)
        if section.args:
            self.ctx.report(section.header, "global takes no name", severity="error", code="E204",
                            word=section.args[0])
        logs: list[ir.Log] = []
        raw: list[Line] = []
        process: list[Line] = []
        for line in section.lines:
            keyword = line.words[0].text
            if keyword == "log":
                try:
                    logs.append(read_log(self.ctx, line))
                    self.ctx.converted(line)
                except Unconvertible as exc:
                    raw.append(line)
                    self.ctx.report_unconvertible(line, exc, "; kept as raw HAProxy text")
            elif keyword == EXPERIMENTAL and self.normalize_uri_used:
                self.ctx.converted(line)  # what the IR's normalize_uri needs; the writer adds it
            elif is_process_setting(keyword):
                raw.append(line)
                process.append(line)
            else:
                raw.append(line)
                self.ctx.report(line, f"global {keyword!r} is not modelled; kept as raw HAProxy text",
                                severity="info")
        if process:
            names = sorted({line_subject(line) for line in process})
            self.ctx.report_lines(process, "process and runtime settings kept as raw HAProxy text: "
                                  + ", ".join(names))
        if not raw:
            return logs, []
        text = raw_text([self.ctx.text_of(line) for line in raw])
        return logs, [ir.Raw(target="haproxy", text=text, context="global", span=self.ctx.span(raw[0]))]


def read_log(ctx: ReadContext, line: Line) -> ir.Log:
    """``log TARGET [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]``."""
    words = line.words[1:]
    if not words:
        raise Malformed("E206", "log needs a target", line.words[0])
    target_word, rest = words[0], words[1:]
    target = target_word.text
    if target == "global" or target.startswith(("ring@", "fd@")):
        raise Unconvertible(f"the log target {target!r} is not modelled", target_word, "info")
    log = ir.Log(target="syslog", span=ctx.span(line))
    if target in ("stdout", "stderr"):
        log.target = target
    else:
        log.address = target
    while rest and rest[0].text in ("len", "format", "sample"):
        option = rest[0]
        value = rest[1].text if len(rest) > 1 else None
        if option.text != "format" or value != "raw" or log.target == "syslog":
            raise Unconvertible(f"log option {option.text} {value or ''} is not modelled".rstrip(), option, "info")
        rest = rest[2:]
    if not rest:
        raise Malformed("E206", "log needs a facility", target_word)
    if rest[0].text not in SYSLOG_FACILITIES:
        raise Malformed("E206", f"unknown syslog facility {rest[0].text!r}", rest[0])
    log.facility = rest[0].text
    if len(rest) > 1:
        if rest[1].text not in LOG_LEVELS:
            raise Malformed("E206", f"unknown log level {rest[1].text!r}", rest[1])
        log.level = rest[1].text
    if len(rest) > 2:
        raise Unconvertible("a minimum log level is not modelled", rest[2], "info")
    return log
