"""proxyc: a config compiler and linter for nginx and HAProxy.

    >>> import proxyc
    >>> cfg = proxyc.load(open("site.pxc").read())
    >>> text, diagnostics = proxyc.write(cfg, "haproxy")
    >>> text, diagnostics = proxyc.convert(nginx_text, read="nginx", write_to="haproxy")

Attributes are loaded on first use so that importing proxyc (and running its CLI) stays fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

_API = {"load", "write", "convert", "compile_file", "load_file", "FORMATS", "TARGETS"}


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'proxyc' has no attribute {name!r}")
