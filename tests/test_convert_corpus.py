"""Every real-world config of the shared corpus converts to the other server's format, and the
real checker accepts the result (issue: import and convert).

Whatever the importer or the writer cannot carry over is a diagnostic (checked by the reader's
own corpus tests); here the promise is that what *is* written is a config the other server runs.
Hosts are mapped to loopback in a scratch copy (they name containers and private networks).
"""
from __future__ import annotations

import pytest
from conftest import corpus_dir
from helpers import require_binary

from proxyc.api import write
from proxyc.checkers import check_haproxy, check_nginx, test_certificate_files
from proxyc.loading import load_file
from proxyc.verify.loopback import names_to_loopback

CORPUS = corpus_dir()
NGINX = sorted((CORPUS / "nginx").glob("*.conf"))
HAPROXY = sorted((CORPUS / "haproxy").glob("*.cfg"))


# Files the importer refuses, each for a reason the real server shares (so there is nothing to
# convert); any other reader error fails the test. Every refusal must still be located.
UNREADABLE = {
    "ingress-nginx-test-cleanconf-src.conf": "cut off mid-block: nginx reports the same unexpected end of file",
    "dataplaneapi-e2e-cache.cfg": "'defaults mydefaults mode http' on one line: HAProxy 2.6 rejects the header too",
}


def converted(path, target):
    cfg, diags, _text, _fmt = load_file(path)
    errors = [d for d in diags if d.severity == "error"]
    if path.name in UNREADABLE:  # nothing to convert; the refusal itself is what is checked
        assert errors and all(d.file and d.line for d in errors), [str(d) for d in diags]
        return None, []
    assert cfg is not None and not errors, [str(d) for d in errors]
    scratch, _names = names_to_loopback(cfg)
    _use_test_certificates(scratch)
    text, wdiags = write(scratch, target)
    return text, wdiags


def _use_test_certificates(cfg) -> None:
    """The corpus names certificate files that do not exist here: point every TLS listener at
    the test certificate, so the checkers judge the config, not the disk."""
    for fe in cfg.frontends:
        for listen in fe.listens:
            if listen.tls is not None:
                listen.tls.cert, listen.tls.key = "site.pem", None


CERTS = test_certificate_files("site")


@pytest.mark.parametrize("path", NGINX, ids=lambda p: p.name)
def test_corpus_nginx_converts_to_haproxy_that_haproxy_accepts(path):
    require_binary("haproxy")
    text, diags = converted(path, "haproxy")
    if text is None:
        return
    assert not [d for d in diags if d.severity == "error"], [str(d) for d in diags if d.severity == "error"]
    result = check_haproxy(text, strict=False, files=CERTS)
    if "frontend " not in text:
        # A file of http-level settings only (its server blocks live in includes that are not
        # here): nothing to listen on is all HAProxy may object to.
        assert "no listener" in result.output and result.returncode == 2, result.output
        return
    assert result.ok, result.output


@pytest.mark.parametrize("path", HAPROXY, ids=lambda p: p.name)
def test_corpus_haproxy_converts_to_nginx_that_nginx_accepts(path):
    require_binary("nginx")
    text, diags = converted(path, "nginx")
    if text is None:
        return
    assert not [d for d in diags if d.severity == "error"], [str(d) for d in diags if d.severity == "error"]
    result = check_nginx(text, files=CERTS)
    assert result.ok, result.output
