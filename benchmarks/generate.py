"""Generates realistic configs of N backends in the three formats, for the benchmark.

Each backend has 3-5 weighted servers and one path route (`/svc<i>/` → backend i), like a
platform that generates its proxy config. Addresses are loopback IPs, so `nginx -t` and
`haproxy -c` check them without DNS; nothing is ever contacted.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def _servers(i: int) -> list[tuple[str, str, int]]:
    count = 3 + i % 3
    return [(f"s{j}", f"127.{(i >> 8) & 255}.{i & 255}.{j + 1}", 8000 + j) for j in range(count)]


def _weight(i: int, j: int) -> int:
    return 1 + (i + j * 7) % 50


def pxc(n: int) -> str:
    out = ["defaults {", "    mode http", "    timeout connect 5s", "    timeout client 30s",
           "    timeout server 30s", "}", "", "frontend web {", "    listen :8080"]
    out += [f"    acl r{i} path prefix /svc{i}/" for i in range(n)]
    out += [f"    use b{i} if r{i}" for i in range(n)]
    out += ["    default b0", "}", ""]
    for i in range(n):
        out.append(f"upstream b{i} {{")
        if i % 4 == 1:
            out.append("    balance least_conn")
        out += [f"    server {name} {host}:{port} weight {_weight(i, j)}"
                for j, (name, host, port) in enumerate(_servers(i))]
        out += ["}", ""]
    return "\n".join(out)


def haproxy(n: int) -> str:
    """The reference HAProxy config: one named ACL per backend, as commonly generated."""
    out = ["global", "    maxconn 100000", "", "defaults", "    mode http", "    timeout connect 5s",
           "    timeout client 30s", "    timeout server 30s", "", "frontend web", "    bind 127.0.0.1:8080"]
    out += [f"    acl r{i} path_beg /svc{i}/" for i in range(n)]
    out += [f"    use_backend b{i} if r{i}" for i in range(n)]
    out += ["    default_backend b0", ""]
    for i in range(n):
        out.append(f"backend b{i}")
        if i % 4 == 1:
            out.append("    balance leastconn")
        out += [f"    server {name} {host}:{port} weight {_weight(i, j)}"
                for j, (name, host, port) in enumerate(_servers(i))]
        out.append("")
    return "\n".join(out)


def nginx(n: int) -> str:
    out = ["events { worker_connections 1024; }", "http {"]
    for i in range(n):
        out.append(f"    upstream b{i} {{")
        if i % 4 == 1:
            out.append("        least_conn;")
        out += [f"        server {host}:{port} weight={_weight(i, j)};"
                for j, (_name, host, port) in enumerate(_servers(i))]
        out.append("    }")
    out += ["    server {", "        listen 127.0.0.1:8080;"]
    for i in range(n):
        out += [f"        location /svc{i}/ {{", f"            proxy_pass http://b{i};", "        }"]
    out += ["        location / {", "            proxy_pass http://b0;", "        }", "    }", "}", ""]
    return "\n".join(out)


def write_all(n: int, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"pxc": directory / f"site-{n}.pxc", "haproxy": directory / f"haproxy-{n}.cfg",
             "nginx": directory / f"nginx-{n}.conf"}
    for fmt, path in paths.items():
        if not path.exists():
            path.write_text({"pxc": pxc, "haproxy": haproxy, "nginx": nginx}[fmt](n))
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    for size in args.sizes:
        for fmt, path in write_all(size, args.out).items():
            print(f"{fmt:8} {size:>6} backends  {path}  {sum(1 for _ in path.open())} lines")
