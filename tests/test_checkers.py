"""proxyc.checkers against the real nginx -t / haproxy -c."""

from pathlib import Path

import pytest

from proxyc.checkers import (BinaryMissing, check_haproxy, check_nginx, find_binary, make_test_certificate,
                             parse_haproxy_output, prepare_nginx, test_certificate_files)

try:  # tests/ as a plain directory (rootdir-relative) or as a package
    from helpers import require_binary
except ImportError:  # pragma: no cover
    from tests.helpers import require_binary


@pytest.fixture
def nginx():
    return require_binary("nginx")


@pytest.fixture
def haproxy():
    return require_binary("haproxy")


NGINX_OK = """\
events {}
http {
    server {
        listen 127.0.0.1:8080;
        location / { return 200 "ok"; }
    }
}
"""

HAPROXY_OK = """\
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    server s1 127.0.0.1:8081
"""


# ------------------------------------------------------------------------- nginx


def test_nginx_accepts_minimal_http(nginx):
    r = check_nginx(NGINX_OK)
    assert r.ok, r.output
    assert (r.tool, r.returncode, r.messages) == ("nginx", 0, [])


def test_nginx_rejects_broken_config_with_line_of_given_text(nginx):
    text = NGINX_OK.replace('location / { return 200 "ok"; }', "bogus_directive on;")
    r = check_nginx(text)
    assert not r.ok and r.returncode != 0
    (err,) = r.errors
    # line 5 of *our* text, although pid/error_log were prepended to the scratch copy
    assert (err.severity, err.line, err.file) == ("error", 5, "nginx.conf")
    assert 'unknown directive "bogus_directive"' in err.message
    assert "/tmp/" not in err.message  # scratch dir is gone; message must not point there


def test_nginx_line_numbers_with_stream_prelude_and_own_pid(nginx):
    # 3 prelude lines are possible (pid, error_log, load_module); the text's own
    # pid suppresses one of them. Either way the line must be the given text's.
    text = "pid /tmp/never-written.pid;\nevents {}\nstream {\n  server {\n    listen 127.0.0.1:9000;\n    nope;\n  }\n}\n"
    r = check_nginx(text)
    assert not r.ok
    assert [m.line for m in r.errors] == [6]


def test_nginx_stream_block_passes(nginx):
    text = """\
events {}
stream {
    upstream l4 { server 127.0.0.1:9001; server 127.0.0.1:9002; }
    server { listen 127.0.0.1:9000; proxy_pass l4; }
}
"""
    r = check_nginx(text)
    assert r.ok, r.output


def test_nginx_scratch_paths_stay_in_dir_and_never_duplicate(nginx, tmp_path):
    scratch, offset = prepare_nginx(NGINX_OK, tmp_path)
    assert offset == 2
    # Debian's compiled-in temp paths and access log are absolute (/var/lib/nginx,
    # /var/log/nginx): -p does not move them, so they are pinned to the dir.
    for d in ("client_body_temp_path", "proxy_temp_path", "access_log"):
        assert f'{d} "{tmp_path}/' in scratch
    assert scratch.count("\n") == NGINX_OK.count("\n") + offset  # injected on the http { line
    own = NGINX_OK.replace("http {", "http {\n    proxy_temp_path /tmp/x;\n    access_log off;", 1)
    scratch2, _ = prepare_nginx(own, tmp_path)
    http_line = next(line for line in scratch2.splitlines() if line.startswith("http {"))
    assert "client_body_temp_path" in http_line
    assert "proxy_temp_path" not in http_line and "access_log" not in http_line
    r = check_nginx(own)
    assert r.ok, r.output  # no "directive is duplicate"


def test_nginx_extra_files_and_unsafe_names(nginx):
    inc = "events {}\nhttp {\n    include extra.conf;\n}\n"
    ok = check_nginx(inc, files={"extra.conf": b"server { listen 127.0.0.1:8080; }\n"})
    assert ok.ok, ok.output
    bad = check_nginx(inc, files={"extra.conf": b"server {\n  listen 127.0.0.1:8080;\n  oops;\n}\n"})
    assert [(m.file, m.line) for m in bad.errors] == [("extra.conf", 3)]
    with pytest.raises(ValueError):
        check_nginx(inc, files={"../escape.conf": b""})


# ----------------------------------------------------------------------- haproxy


def test_haproxy_accepts_minimal_config_with_timeouts(haproxy):
    r = check_haproxy(HAPROXY_OK)
    assert r.ok, r.output
    assert r.tool == "haproxy" and not r.errors and not r.warnings


def test_haproxy_missing_timeouts_fail_in_strict_mode(haproxy):
    text = "defaults\n    mode http\n" + HAPROXY_OK.split("timeout server 30s\n", 1)[1]
    strict = check_haproxy(text)
    assert not strict.ok
    # HAProxy prints no file:line for this warning, only the proxy name; it is
    # mapped to the section header (frontend fe is line 3, backend be line 6).
    assert {(m.line, m.severity) for m in strict.warnings if "missing timeouts" in m.message} == {
        (3, "warning"), (6, "warning")}
    assert any("zero-warning" in m.message for m in strict.errors)
    lax = check_haproxy(text, strict=False)
    assert lax.ok and lax.warnings


def test_haproxy_error_has_line(haproxy):
    text = HAPROXY_OK.replace("    default_backend be\n", "    default_backend be\n    frobnicate yes\n")
    r = check_haproxy(text)
    assert not r.ok
    assert (r.errors[0].line, r.errors[0].file) == (9, "haproxy.cfg")
    assert "frobnicate" in r.errors[0].message and not r.errors[0].message.startswith("parsing")


def test_parse_haproxy_output_without_binary():
    out = ("[NOTICE]   (1) : haproxy version is 2.6.12\n"
           "[WARNING]  (1) : config : parsing [/x/haproxy.cfg:4] : a 'http-request' rule placed after ...\n"
           "[WARNING]  (1) : config : missing timeouts for backend 'be'.\n"
           "   | While not properly invalid, ...\n"
           "[ALERT]    (1) : config : Proxy 'fe': unable to find required use_backend: 'nope'.\n")
    msgs = parse_haproxy_output(out, "frontend fe\n  bind 127.0.0.1:1\nbackend be\n", Path("/x"))
    assert [(m.severity, m.line) for m in msgs] == [("warning", 4), ("warning", 3), ("alert", 1)]
    assert msgs[1].message.endswith("While not properly invalid, ...")


# --------------------------------------------------------------------------- TLS


def test_tls_config_with_generated_certificate_passes_both(nginx, haproxy):
    files = test_certificate_files()
    ngx = NGINX_OK.replace("listen 127.0.0.1:8080;",
                           "listen 127.0.0.1:8443 ssl;\n        ssl_certificate site.crt;\n"
                           "        ssl_certificate_key site.key;")
    r = check_nginx(ngx, files=files)
    assert r.ok, r.output
    assert not check_nginx(ngx).ok  # and the certificate really is what made it pass
    hap = HAPROXY_OK.replace("bind 127.0.0.1:8080", "bind 127.0.0.1:8443 ssl crt site.pem")
    r = check_haproxy(hap, files=files)
    assert r.ok, r.output


def test_make_test_certificate_is_cached(tmp_path):
    require_binary("openssl", hint="apt-get install -y openssl")
    crt, key, pem = make_test_certificate(tmp_path)
    assert [p.name for p in (crt, key, pem)] == ["site.crt", "site.key", "site.pem"]
    assert pem.read_bytes() == crt.read_bytes() + key.read_bytes()
    assert b"BEGIN CERTIFICATE" in crt.read_bytes() and b"PRIVATE KEY" in key.read_bytes()
    crt2, _, _ = make_test_certificate(tmp_path / "other", name="api")
    assert crt2.name == "api.crt" and crt2.read_bytes() == crt.read_bytes()


# ------------------------------------------------------------------------ binaries


def test_find_binary_and_install_hint():
    assert find_binary("proxyc-no-such-binary") is None
    msg = str(BinaryMissing("haproxy"))
    assert "apt-get install -y nginx libnginx-mod-stream haproxy" in msg and "\n" not in msg
