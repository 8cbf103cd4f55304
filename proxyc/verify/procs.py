"""Run the real nginx / HAProxy on loopback, and talk HTTP to them.

Safety rules, enforced here rather than trusted to callers: the proxies may
only listen on and forward to loopback addresses (configs are screened before
start), every client request goes to 127.x.y.z, and the process group is
always killed on exit, exceptions and Ctrl-C.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from proxyc.checkers import nginx_statements, prepare_nginx, require_binary, write_files

READY_TIMEOUT = 10.0
POLL = 0.05
TERM_GRACE = 3.0

Port = tuple[str, int] | int


class ProxyStartError(RuntimeError):
    pass


# ------------------------------------------------------------------ loopback guard


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "", "*", or a DNS name we will not resolve


def _host_port(addr: str) -> tuple[str, str]:
    if addr.startswith("["):
        host, _, rest = addr[1:].partition("]")
        return host, rest.lstrip(":")
    if addr.isdigit():  # nginx "listen 8080;" means every interface
        return "", addr
    host, sep, port = addr.rpartition(":")
    return (host, port) if sep else (addr, "")


def _refuse(tool: str, what: str) -> None:
    raise ValueError(f"{tool} config would {what}; only loopback addresses are allowed in live tests")


def check_nginx_loopback(text: str) -> None:
    stmts = list(nginx_statements(text))
    upstreams = {w[1] for _, w, b in stmts if w[0] == "upstream" and b is not None and len(w) > 1}
    blocks_with_listen = {parents[-1] for parents, w, _ in stmts if parents and w[0] == "listen"}
    for parents, w, brace in stmts:
        names = [p[0] for p in parents]
        arg = w[1] if len(w) > 1 else ""
        if w[0] == "server" and brace is not None and names in (["http"], ["stream"]):
            if ("server", brace) not in blocks_with_listen:
                _refuse("nginx", "listen on *:80 (a server block without 'listen')")
        elif w[0] == "listen" and not arg.startswith("unix:") and not is_loopback(_host_port(arg)[0]):
            _refuse("nginx", f"listen on {arg!r}")
        elif w[0] == "server" and names and names[-1] == "upstream" and not arg.startswith("unix:"):
            if not is_loopback(_host_port(arg)[0]):
                _refuse("nginx", f"send traffic to upstream server {arg!r}")
        elif w[0].endswith("_pass") and arg and "$" not in arg and not arg.startswith("unix:"):
            hostport = re.sub(r"^\w+://", "", arg).split("/", 1)[0]
            host = _host_port(hostport)[0]
            if host not in upstreams and hostport not in upstreams and not is_loopback(host):
                _refuse("nginx", f"{w[0]} to {arg!r}")


def check_haproxy_loopback(text: str) -> None:
    for raw in text.splitlines():
        w = raw.split("#", 1)[0].split()
        if len(w) < 2 or w[0] not in ("bind", "server"):
            continue
        addrs = w[1].split(",") if w[0] == "bind" else w[2:3]
        for addr in addrs:
            family, at, rest = addr.partition("@")
            if not at:
                rest = addr
            elif family in ("unix", "abns", "fd", "sockpair"):
                continue
            if rest.startswith("/"):
                continue
            if not is_loopback(_host_port(rest)[0]):
                _refuse("haproxy", f"{w[0]} {addr!r}")


# ---------------------------------------------------------------------- processes


def _listening(host: str, port: int) -> bool:
    """Is (host, port) in LISTEN state? Read from /proc instead of probing with
    connect(): a probe connection to a TCP-mode proxy would be forwarded to a
    backend and skew round-robin counts."""
    if not os.path.exists("/proc/net/tcp"):  # not Linux: fall back to a probe
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return True
        except OSError:
            return False
    ip = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host.strip("[]"))
    packed = ip.packed
    # /proc prints each 32-bit word of the address in host (little-endian) order.
    want = "".join(packed[i : i + 4][::-1].hex() for i in range(0, len(packed), 4)).upper()
    wildcard = "0" * len(want)
    table = "/proc/net/tcp" if ip.version == 4 else "/proc/net/tcp6"
    with open(table) as f:
        for row in f.readlines()[1:]:
            cols = row.split()
            addr, _, p = cols[1].partition(":")
            if cols[3] == "0A" and int(p, 16) == port and addr in (want, wildcard):
                return True
    return False


class RunningProxy:
    """A proxy in the foreground of its own session; use as a context manager."""

    def __init__(self, tool: str, argv: list[str], workdir: Path, ports: list[Port], logs: list[Path]):
        self.tool, self.argv, self.workdir = tool, argv, workdir
        self.ports = [("127.0.0.1", p) if isinstance(p, int) else p for p in ports]
        for host, _ in self.ports:
            if not is_loopback(host):
                raise ValueError(f"listen address {host!r} is not loopback")
        self.logs = [workdir / f"{tool}.out"] + logs
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def output(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def __enter__(self) -> "RunningProxy":
        # Readiness is "port in LISTEN"; a port that is already listening would
        # look ready at once and the test would talk to a stranger.
        busy = [hp for hp in self.ports if _listening(*hp)]
        if busy:
            raise ProxyStartError(f"{self.tool}: {busy} already in use by another process")
        with open(self.logs[0], "wb") as out:
            # Own session => own process group: stop() can kill nginx workers too.
            self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:  # including KeyboardInterrupt while waiting
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        pending = list(self.ports)
        deadline = time.monotonic() + READY_TIMEOUT
        while pending:
            if self.proc.poll() is not None:
                raise ProxyStartError(f"{self.tool} exited with {self.proc.returncode}:\n{self.output()}")
            pending = [hp for hp in pending if not _listening(*hp)]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise ProxyStartError(f"{self.tool} not listening on {pending} after {READY_TIMEOUT} s:\n{self.output()}")
            time.sleep(POLL)

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(TERM_GRACE)
        except subprocess.TimeoutExpired:
            pass
        # Whether or not the leader exited, kill whatever is left in the group
        # (e.g. nginx workers orphaned by a master that died).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(TERM_GRACE)
        # An orphaned worker (HAProxy's, nginx's) is reparented and dies a moment after the
        # signal: wait for it, so that no proxy outlives stop() even briefly.
        deadline = time.monotonic() + TERM_GRACE
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(POLL)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (zombies count as gone)."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():  # not Linux: the best the system says
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _workdir(workdir: str | Path, files: dict[str, bytes] | None) -> Path:
    d = Path(workdir).resolve()
    d.mkdir(parents=True, exist_ok=True)
    write_files(d, files)
    return d


def run_nginx(config_text: str, workdir: str | Path, ports: list[Port], *,
              files: dict[str, bytes] | None = None) -> RunningProxy:
    check_nginx_loopback(config_text)
    nginx = require_binary("nginx")
    d = _workdir(workdir, files)
    text, _ = prepare_nginx(config_text, d)
    (d / "nginx.conf").write_text(text)
    main = {w[0] for parents, w, _ in nginx_statements(config_text) if not parents}
    settings = [("daemon", "off"), ("master_process", "on")]
    if os.geteuid() == 0:
        # As root, workers default to `nobody`, which cannot enter a 0700 workdir
        # (pytest's tmp_path): request bodies over 16k then fail with 500
        # because client_body_temp is unreachable.
        settings.append(("user", "root"))
    # -g directives that the config already sets would be "duplicate" errors.
    g = " ".join(f"{k} {v};" for k, v in settings if k not in main)
    argv = [nginx, "-p", f"{d}/", "-c", str(d / "nginx.conf")] + (["-g", g] if g else [])
    # After start-up nginx logs (e.g. "bind() failed") to error_log, not stderr.
    return RunningProxy("nginx", argv, d, ports, [d / "error.log"])


def run_haproxy(config_text: str, workdir: str | Path, ports: list[Port], *,
                files: dict[str, bytes] | None = None) -> RunningProxy:
    check_haproxy_loopback(config_text)
    haproxy = require_binary("haproxy")
    d = _workdir(workdir, files)
    (d / "haproxy.cfg").write_text(config_text)
    return RunningProxy("haproxy", [haproxy, "-f", str(d / "haproxy.cfg"), "-db"], d, ports, [])


# ------------------------------------------------------------------------- client


def http_get(port: int, path: str | bytes, *, host: str = "127.0.0.1", host_header: str | None = None,
             method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None,
             source_ip: str | None = None, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request with the request target sent byte-for-byte as given
    (``/static/../api``, ``//a``, ``%2e%2e`` are not normalised, unlike most
    clients). Returns (status, headers with lower-case names, body)."""
    if not is_loopback(host) or (source_ip is not None and not is_loopback(source_ip)):
        raise ValueError(f"refusing non-loopback target/source: {host!r} / {source_ip!r}")
    target = path.encode() if isinstance(path, str) else path
    if b"\r" in target or b"\n" in target:
        raise ValueError("path must not contain CR or LF")
    lines = [f"{method} ".encode() + target + b" HTTP/1.1",
             f"Host: {host_header or f'127.0.0.1:{port}'}".encode(), b"Connection: close"]
    lines += [f"{k}: {v}".encode() for k, v in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}".encode())
    request = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
    # source_address binds the client to e.g. 127.0.0.7 for source-hash tests.
    sock = socket.create_connection((host, port), timeout=timeout,
                                    source_address=(source_ip, 0) if source_ip else None)
    try:
        sock.sendall(request)
        resp = http.client.HTTPResponse(sock, method=method)  # parses chunked/length framing
        resp.begin()
        data = resp.read()
        hdrs: dict[str, str] = {}
        for k, v in resp.getheaders():
            k = k.lower()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        return resp.status, hdrs, data
    finally:
        sock.close()
