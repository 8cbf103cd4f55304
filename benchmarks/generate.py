"""Generates realistic configs of N backends in the three formats, for the benchmark.

Each backend has 3-5 weighted servers and one path route (`/svc<i>/` → backend i), like a
platform that generates its proxy config. Addresses are loopback IPs, so `nginx -t` and
`haproxy -c` check them without DNS; nothing is ever contacted.

`nginx_sites` is the large lint input: many virtual hosts, each with its upstreams, security
headers, several locations proxying with the usual forwarded headers, a health check, an
access-restricted admin path and a redirect, about 46 lines per site. `sites_for_lines` picks
the number of sites for a wanted line count (220,000 lines ≈ 4,800 sites).
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


def _site(i: int) -> list[str]:
    host = f"site{i}.example.test"
    app = [(f"127.{(i >> 8) & 255}.{i & 255}.{j + 1}", 8000 + j) for j in range(3 + i % 2)]
    api = [(f"127.{(i >> 8) & 255}.{i & 255}.{j + 11}", 9000 + j) for j in range(2)]
    forwarded = ["proxy_set_header Host $host;", "proxy_set_header X-Real-IP $remote_addr;",
                 "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                 "proxy_set_header X-Forwarded-Proto $scheme;"]
    out = [f"    upstream app{i} {{"]
    if i % 3 == 1:
        out.append("        least_conn;")
    out += [f"        server {a}:{p} weight={_weight(i, j)} max_fails=3 fail_timeout=10s;"
            for j, (a, p) in enumerate(app)]
    out += ["    }", f"    upstream api{i} {{"]
    out += [f"        server {a}:{p} max_fails=2 fail_timeout=5s;" for a, p in api]
    out += ["    }", "    server {", "        listen 127.0.0.1:8080;", f"        server_name {host} www.{host};",
            '        add_header X-Frame-Options "DENY" always;',
            '        add_header X-Content-Type-Options "nosniff" always;',
            "        proxy_connect_timeout 5s;", "        proxy_read_timeout 30s;",
            "        location / {", f"            proxy_pass http://app{i};"]
    out += ["            " + line for line in forwarded]
    out += ["        }", "        location /api/ {", f"            proxy_pass http://api{i};"]
    out += ["            " + line for line in forwarded]
    out += ["            proxy_read_timeout 60s;", '            add_header Cache-Control "no-store" always;',
            "        }", "        location = /healthz {", '            return 200 "ok\\n";', "        }",
            "        location /admin/ {", "            allow 10.0.0.0/8;", "            deny all;",
            f"            proxy_pass http://app{i};", "            proxy_set_header Host $host;", "        }",
            "        location /old/ {", f"            return 301 https://{host}/new/;", "        }",
            "    }"]
    return out


def sites_for_lines(lines: int) -> int:
    # Sites repeat their shape every 6 (servers vary with i % 2, the balancer with i % 3).
    per_site = sum(len(_site(i)) for i in range(6)) / 6
    return max(1, round((lines - 5) / per_site))


def nginx_sites(sites: int) -> str:
    # Thousands of server names need a larger hash than nginx's default (it warns otherwise).
    out = ["events { worker_connections 1024; }", "http {", "    server_names_hash_max_size 32768;",
           "    server_names_hash_bucket_size 128;"]
    for i in range(sites):
        out += _site(i)
    out += ["}", ""]
    return "\n".join(out)


def _write_if_changed(path: Path, text: str) -> None:
    # Regenerating is cheap; rewriting only on change keeps the files (and their mtimes) stable.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_all(n: int, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"pxc": directory / f"site-{n}.pxc", "haproxy": directory / f"haproxy-{n}.cfg",
             "nginx": directory / f"nginx-{n}.conf"}
    for fmt, path in paths.items():
        _write_if_changed(path, {"pxc": pxc, "haproxy": haproxy, "nginx": nginx}[fmt](n))
    return paths


def write_sites(lines: int, directory: Path) -> Path:
    """The large nginx lint input of about `lines` lines."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"nginx-sites-{lines}.conf"
    _write_if_changed(path, nginx_sites(sites_for_lines(lines)))
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--sites-lines", type=int, default=220_000,
                        help="line count of the many-sites nginx lint input (0: none)")
    args = parser.parse_args()
    for size in args.sizes:
        for fmt, path in write_all(size, args.out).items():
            print(f"{fmt:8} {size:>6} backends  {path}  {sum(1 for _ in path.open())} lines")
    if args.sites_lines:
        path = write_sites(args.sites_lines, args.out)
        print(f"nginx    {sites_for_lines(args.sites_lines):>6} sites     {path}  {sum(1 for _ in path.open())} lines")
