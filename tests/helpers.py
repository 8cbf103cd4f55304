"""Small, generic helpers shared by tests."""

import os
import shutil

import pytest


def require_binary(name: str, hint: str = "apt-get install -y nginx libnginx-mod-stream haproxy") -> str:
    """Path of an external program; skip the test if it is missing, but FAIL
    under CI (env CI set) so a broken CI image cannot pass by skipping."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}") if os.access(p, os.X_OK)), None)
    if path:
        return path
    reason = f"{name} is not installed (install with: {hint})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


_DIGEST_SCRIPT = """
import hashlib, importlib, sys
from pathlib import Path
from proxyc.dialects.pxc.reader import load
write = importlib.import_module(sys.argv[1]).write
digest = hashlib.sha256()
for name in sys.argv[2:]:
    text, diags = write(load(Path(name).read_text(), name))
    digest.update(text.encode() + repr([str(d) for d in diags]).encode())
print(digest.hexdigest())
"""


def writer_digests_across_hash_seeds(writer_module: str, paths: list[str], seeds=("1", "2")) -> set[str]:
    """One digest of a writer's output (text and diagnostics) over ``paths`` per PYTHONHASHSEED,
    each in a fresh interpreter: a deterministic writer gives a single digest."""
    import subprocess
    import sys

    digests = set()
    for seed in seeds:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT, writer_module, *paths], env=env,
                             capture_output=True, text=True, check=True, timeout=60)
        digests.add(out.stdout.strip())
    return digests


# A small config every lint rule passes: the clean input of CLI and pre-commit tests.
CLEAN_PXC = """\
defaults {
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
}

frontend web {
    listen :80
    default app
}

upstream app {
    server a1 10.0.0.1:8080
}
"""


# ------------------------------------------------------------------ IR round trips


def without_raw(cfg):
    """``cfg`` without raw text: writers copy it verbatim, and generated text is rarely nginx
    or HAProxy (the table tests and examples cover raw blocks)."""
    cfg = cfg.model_copy(deep=True, update={"raw": []})
    for node in [*cfg.frontends, *cfg.upstreams]:
        node.raw = []
    return cfg


def sample_requests(cfg) -> list:
    """Requests to every frontend built from the config's own match values (paths and the
    paths below them, hosts, headers, methods, sources)."""
    from proxyc import ir
    from proxyc.routing import Request

    paths, hosts, headers, methods, sources = {"/"}, {"example.com"}, set(), {"GET"}, {"127.0.0.1"}
    for node in ir.iter_nodes(cfg):
        if isinstance(node, ir.PathMatch) and node.op != "regex":
            paths |= {v for v in node.values if v.startswith("/")} | {"/x" + v for v in node.values}
        elif isinstance(node, ir.HostMatch) and node.op != "regex":
            hosts |= {v.strip(".") or "example.com" for v in node.values}
        elif isinstance(node, ir.HeaderMatch):
            headers |= {(node.name, v) for v in node.values or ["1"]}
        elif isinstance(node, ir.MethodMatch):
            methods |= set(node.values)
        elif isinstance(node, ir.SourceMatch):
            sources |= {v.split("/")[0] for v in node.values}
    requests = []
    for fe in cfg.frontends:
        if not fe.listens:
            continue
        port = fe.listens[0].port
        for path in sorted(paths):
            for host in sorted(hosts):
                requests.append(Request(url=path, port=port, headers={"Host": host}))
        for name, value in sorted(headers):
            requests.append(Request(url="/", port=port, headers={"Host": "example.com", name: value}))
        requests += [Request(method=m, url="/", port=port) for m in sorted(methods)]
        requests += [Request(src=s, url="/", port=port) for s in sorted(sources)]
    return requests


def client_view(cfg, request, *, normalize: bool = False) -> tuple:
    """What a client sees: proxied to which servers, redirected where, or answered with which
    status (none for a closed TCP connection). ``normalize``: match the normalised path, as
    nginx always does."""
    from proxyc.routing import RoutingError, route

    try:
        d = route(cfg, request, normalize=normalize)
    except RoutingError:
        return ("cannot route",)
    # A server without a port: the IR leaves it to the target, and the writer says nginx's 80.
    servers = [(s.host, s.port or 80) for s in d.upstream.servers] if d.upstream is not None else None
    kind = type(d.action).__name__ if d.action is not None else d.kind
    return ("answered" if kind in ("Deny", "Return") else kind), d.status, d.location, servers
