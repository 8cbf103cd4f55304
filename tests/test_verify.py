"""``proxyc verify``: the compiled configs route as described on the real nginx and HAProxy.

Every example is verified live on both servers (loopback only), a writer that swaps two routes
is caught, and the nine-location nginx ordering case of DESIGN §2 routes the same on both.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import proxyc.api
from proxyc.api import load
from proxyc.verify.cli import run_verify
from proxyc.verify.requests import regex_example, request_set
from proxyc.verify.runner import single_worker, verify_config

try:  # tests/ as a plain directory (rootdir-relative) or as a package
    from helpers import require_binary
except ImportError:  # pragma: no cover
    from tests.helpers import require_binary

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.pxc"))
TARGETS = ("nginx", "haproxy")


def _need(target: str) -> None:
    require_binary(target)


def _load(path: Path):
    return load(path.read_text(), "pxc", str(path))


# ------------------------------------------------------------------ every example, both servers


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_routes_as_described(example, target):
    _need(target)
    report = verify_config(_load(example), target, file=str(example))
    assert report.ok, report.to_text()
    result = report.targets[0]
    assert result.requests > 0 and result.matched == result.requests


SEEDS = sorted((Path(__file__).resolve().parent.parent / "examples" / "seed").glob("*.*"))
# Real nginx/HAProxy configs among the examples (the README's convert walk-through) count too.
SEEDS += sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.conf"))


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_every_seed_config_routes_as_described_on_both(seed):
    """The seed notes' own nginx.conf / haproxy.cfg, imported and compiled to both servers."""
    from proxyc.loading import load_file

    _need("nginx")
    _need("haproxy")
    cfg, diags, _, _ = load_file(seed)
    assert cfg is not None, [str(d) for d in diags]
    report = verify_config(cfg, "both", file=str(seed))
    assert report.ok, report.to_text()
    assert all(c.status == "pass" for t in report.targets for c in t.checks if c.name == "round robin")


# ------------------------------------------------------------------ a wrong writer is caught

LAB3 = Path(__file__).resolve().parent.parent / "examples" / "haproxy-lab3-grouped.pxc"


def _swap_words(line: str, a: str, b: str) -> str:
    return re.sub(rf"\b({re.escape(a)}|{re.escape(b)})\b", lambda m: b if m.group(1) == a else a, line)


def _swapping_writer(real_write, a: str, b: str, routing_line: re.Pattern):
    """The real writer, but the lines that route to ``a`` and ``b`` swapped: the upstreams
    themselves stay intact, so the output is valid and only routes wrongly."""

    def write(cfg, target):
        text, diags = real_write(cfg, target)
        lines = [_swap_words(line, a, b) if routing_line.search(line) else line for line in text.splitlines(True)]
        return "".join(lines), diags

    return write


@pytest.mark.parametrize("target,routing_line", [
    ("haproxy", re.compile(r"^\s*use_backend\b")),
    ("nginx", re.compile(r"proxy_pass\b|^\s*~|\$pxc")),
])
def test_a_writer_that_swaps_two_routes_is_caught(monkeypatch, target, routing_line):
    _need(target)
    monkeypatch.setattr(proxyc.api, "write", _swapping_writer(proxyc.api.write, "item_pool", "basket_pool",
                                                              routing_line))
    report = verify_config(_load(LAB3), target, file=str(LAB3))
    result = report.targets[0]
    assert result.error is None, result.error
    assert not report.ok and report.exit_status() == 1
    wrong = [m for m in result.mismatches if "/item" in m.request]
    assert wrong, report.to_text()
    assert "item_pool/" in wrong[0].expected and "basket_pool/" in wrong[0].got
    assert re.search(r"haproxy-lab3-grouped\.pxc:\d+", wrong[0].where)


def _rewriting_writer(real_write, old: str, new: str):
    def write(cfg, target):
        text, diags = real_write(cfg, target)
        assert old in text, text
        return text.replace(old, new), diags

    return write


@pytest.mark.parametrize("example,target,old,new,check", [
    ("nginx-lab3-weighted", "nginx", "weight=60", "weight=20", "weights"),
    ("nginx-lab3-weighted", "haproxy", "weight 60", "weight 20", "weights"),
    ("tls-site", "haproxy", "balance leastconn", "balance roundrobin", "least connections"),
    ("tcp-database", "nginx", "least_conn;", "", "least connections"),
    ("host-routing", "haproxy", "balance source", "balance roundrobin", "stickiness"),
])
def test_a_writer_with_the_wrong_balancing_is_caught(monkeypatch, example, target, old, new, check):
    _need(target)
    monkeypatch.setattr(proxyc.api, "write", _rewriting_writer(proxyc.api.write, old, new))
    path = next(p for p in EXAMPLES if p.stem == example)
    report = verify_config(_load(path), target, file=str(path))
    failed = [c for c in report.targets[0].failed_checks if c.name == check]
    assert failed, report.to_text()
    assert report.exit_status() == 1


# ------------------------------------------------------------------ nine nginx locations, DESIGN §2 order

# nginx:  location = /login {}            location ^~ /static/ {}      location /static/img/ {}
#         location ~ \.php$ {}            location ~* \.(png|jpg)$ {}  location /api/ {}
#         location /api/v2/ {}            location / {}                location ~ ^/api/v2/special {}
# as a first-match list: exact; ^~ prefixes guarded by the longer plain prefixes extending them;
# regexes in file order; plain prefixes longest first; "/" as the default.
NINE_LOCATIONS = """
defaults {
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
}

frontend web {
    listen :8080
    use login if path exact /login
    use static if path prefix /static/ and not path prefix /static/img/
    use php if path regex '\\.php$'
    use images if path regex nocase '\\.(png|jpg)$'
    use special if path regex '^/api/v2/special'
    use img if path prefix /static/img/
    use api_v2 if path prefix /api/v2/
    use api if path prefix /api/
    default root
}
""" + "".join(f"""
upstream {name} {{
    server {name}1 192.0.2.{i}:80
}}
""" for i, name in enumerate(("login", "static", "php", "images", "special", "img", "api_v2", "api", "root"), 1))


@pytest.mark.parametrize("target", TARGETS)
def test_nine_nginx_locations_route_the_same_live(target):
    _need(target)
    cfg = load(NINE_LOCATIONS, "pxc", "nine.pxc")
    report = verify_config(cfg, target, file="nine.pxc")
    assert report.ok, report.to_text()
    paths = {p.path for p in request_set(cfg).probes}
    # The request set reaches every location and the near misses that tell them apart.
    for path in ("/login", "/login/", "/static/", "/static/img/", "/x.php", "/X.PNG", "/api/v2/special",
                 "/api/v2/", "/api/", "/"):
        assert path in paths


# ------------------------------------------------------------------ corpus configs that convert cleanly


def _cleanly_convertible_corpus() -> list[Path]:
    """Corpus nginx configs that load without errors and that the HAProxy writer converts
    without a portability problem (but the reserved escapes below, which the corpus test
    accounts for): those must route the same on both servers."""
    from conftest import corpus_dir

    from proxyc.loading import load_file

    clean = []
    for path in sorted((corpus_dir() / "nginx").glob("*.conf")):
        cfg, diags, _, _ = load_file(path, "nginx")
        if cfg is None or any(d.severity == "error" for d in diags):
            continue
        _, written = proxyc.api.write(cfg, "haproxy")
        if not any(d.code.startswith("P") and d.severity != "info" and not _about_reserved_escapes(d)
                   for d in written):
            clean.append(path)
    return clean


# HAProxy 2.6's normalize-uri percent-decodes unreserved characters only; nginx decodes every
# escape before it matches. The HAProxy writer says so (a P001 warning at the frontend), so a
# request whose path escapes a reserved character (%23 is '#') may route differently: verify
# finding exactly such requests, and nothing else, is the divergence the writer reported.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _escapes_a_reserved_character(request: str) -> bool:
    path = request.split(" ", 1)[1].split("?", 1)[0]
    return any(chr(int(code, 16)) not in _UNRESERVED for code in _ESCAPE.findall(path))


def _about_reserved_escapes(diag) -> bool:
    return diag.code == "P001" and diag.severity == "warning" and "escaped reserved character" in diag.message


def _haproxy_writer_reports_reserved_escapes(cfg) -> bool:
    return any(_about_reserved_escapes(d) for d in proxyc.api.write(cfg, "haproxy")[1])


def assert_routes_the_same_or_as_reported(cfg, report) -> None:
    """Every target as predicted, or HAProxy off only where its writer said it would be."""
    wrong = [t for t in report.targets if not t.ok]
    if not wrong:
        return
    assert [t.target for t in wrong] == ["haproxy"] and not wrong[0].error and not wrong[0].failed_checks, \
        report.to_text()
    assert all(_escapes_a_reserved_character(m.request) for m in wrong[0].mismatches), report.to_text()
    assert _haproxy_writer_reports_reserved_escapes(cfg), report.to_text()


CLEAN_CORPUS = _cleanly_convertible_corpus()


def test_the_corpus_has_cleanly_convertible_configs():
    assert len(CLEAN_CORPUS) >= 5, [p.name for p in CLEAN_CORPUS]


@pytest.mark.parametrize("path", CLEAN_CORPUS, ids=[p.stem for p in CLEAN_CORPUS])
def test_corpus_nginx_config_that_converts_cleanly_routes_the_same_on_both(path):
    _need("nginx")
    _need("haproxy")
    from proxyc.loading import load_file

    cfg, _, _, _ = load_file(path, "nginx")
    report = verify_config(cfg, "both", file=str(path))
    assert_routes_the_same_or_as_reported(cfg, report)


def test_dot_segments_route_as_nginx_on_haproxy():
    """'/.' is resolved before matching (normalize-uri path-strip-dot), as nginx does; without it
    h5bp's hidden-file rule denied '/.' on HAProxy only."""
    _need("haproxy")
    from conftest import corpus_dir

    from proxyc.loading import load_file

    cfg, _, _, _ = load_file(corpus_dir() / "nginx" / "h5bp-location-security-file-access.conf", "nginx")
    assert "/." in {probe.path for probe in request_set(cfg).probes}
    report = verify_config(cfg, "haproxy", file="h5bp")
    assert report.targets[0].matched >= 8 and not [m for m in report.targets[0].mismatches if "%" not in m.request]


# ------------------------------------------------------------------ the CLI entry point


def test_run_verify_json_and_exit_status(capsys):
    _need("haproxy")
    example = next(p for p in EXAMPLES if p.stem == "nginx-lab3-weighted")
    assert run_verify(str(example), "haproxy", None, "json", True) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["ok"] is True and doc["targets"][0]["target"] == "haproxy"
    weights = next(c for c in doc["targets"][0]["checks"] if c["check"] == "weights")
    assert weights["status"] == "pass" and "±5 points" in weights["detail"]
    assert "proxyc verify:" not in err  # quiet: no progress display


def test_run_verify_reports_input_errors_with_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.pxc"
    bad.write_text("frontend web {\n    listen :80\n    default nowhere\n}\n")
    assert run_verify(str(bad), "haproxy", None, "text", True) == 2
    assert "bad.pxc:3" in capsys.readouterr().err


def test_progress_display_and_text_report(capsys):
    _need("haproxy")
    example = next(p for p in EXAMPLES if p.stem == "nginx-lab1-round-robin")
    assert run_verify(str(example), "haproxy", None, "text", False) == 0
    out, err = capsys.readouterr()
    assert "proxyc verify: haproxy: sending" in err and "requests as predicted" in err
    assert "round robin: 9 requests, 3 per server expected" in out
    assert out.rstrip().endswith("all targets route as described")


# ------------------------------------------------------------------ cleanup, also on Ctrl-C


def _our_proxies() -> list[int]:
    """Running nginx/haproxy processes that this test process started in a verify scratch
    directory (its children: other test runs on the same machine have their own)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[:2]
        except (OSError, ValueError):
            continue
        if b"proxyc-verify-" in cmdline and (b"nginx" in cmdline or b"haproxy" in cmdline) \
                and int(ppid) == os.getpid() and state != "Z":
            pids.append(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("target", TARGETS)
def test_ctrl_c_stops_the_proxy_and_propagates(target):
    _need(target)
    cfg = _load(next(p for p in EXAMPLES if p.stem == "nginx-lab1-round-robin"))
    seen: list[list[int]] = []

    def interrupt(line: str) -> None:
        if "sending" in line:
            seen.append(_our_proxies())
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        verify_config(cfg, target, progress=interrupt)
    assert seen and seen[0], "the proxy was not running when interrupted"
    assert not [pid for pid in seen[0] if _alive(pid)]


# ------------------------------------------------------------------ pieces


def test_single_worker_for_exact_round_robin():
    assert single_worker("events {}\n").startswith("worker_processes 1;\n")
    assert single_worker("worker_processes auto;\nevents {}\n") == "worker_processes 1;\nevents {}\n"


@pytest.mark.parametrize("pattern,sample", [
    (r"\.php$", ".php"), (r"\.(png|jpg)$", ".png"), (r"^/api/v2/special", "/api/v2/special"),
    (r"^/u/[0-9]+/x", "/u/0/x"), (r"[^/]+\.js$", "a.js"),
])
def test_regex_examples_match_their_pattern(pattern, sample):
    assert regex_example(pattern) == sample
    assert re.search(pattern, sample)


def test_request_set_hits_and_just_misses_every_dimension():
    cfg = _load(next(p for p in EXAMPLES if p.stem == "host-routing"))
    probes = request_set(cfg).probes
    hosts = {p.host for p in probes}
    assert {"api.example.com", "api.example.com:80", "API.EXAMPLE.COM", "xapi.example.com"} <= hosts
    assert {"a.tenants.example.com", "tenants.example.com"} <= hosts
    assert {p.source for p in probes} == {"127.0.0.1", "127.0.0.2"}
    paths = {p.path for p in probes}
    assert {"/admin", "/admin/", "/ADMIN", "/admi", "/%61dmin", "//admin", "/x/../admin", "/v2/"} <= paths
    assert len(probes) == len(set(probes))
    assert probes == request_set(cfg).probes  # deterministic


def test_no_traffic_leaves_loopback():
    """The request set only ever names loopback client addresses."""
    for example in EXAMPLES:
        for probe in request_set(_load(example)).probes:
            assert probe.source.startswith("127."), (example, probe)
