"""The library face of proxyc: load, compile, convert (sqlglot's ``transpile``).

Every function returns diagnostics instead of raising for problems in the input; only a failure
to produce any result raises ``ProxycError``.
"""
from __future__ import annotations

from pathlib import Path

from .diagnostics import Diagnostic, ProxycError
from .loading import FORMATS, load_file, read_config

TARGETS = ("nginx", "haproxy", "pxc")


def load(text: str, read: str = "pxc", filename: str | None = None):
    """Text → validated IR. Raises ProxycError when there are errors."""
    from .validate import validate

    cfg, diags = read_config(text, read, filename)
    diags = list(diags)
    if cfg is not None:
        diags += validate(cfg)
    errors = [d for d in diags if d.severity == "error"]
    if cfg is None or errors:
        raise ProxycError(errors or diags)
    return cfg


def write(cfg, target: str) -> tuple[str, list[Diagnostic]]:
    """IR → text for ``target`` with the writer's portability diagnostics."""
    from .perf import paused_gc

    with paused_gc():
        return _write(cfg, target)


def _write(cfg, target: str) -> tuple[str, list[Diagnostic]]:
    if target == "nginx":
        from .dialects.nginx.writer import write as write_nginx

        return write_nginx(cfg)
    if target == "haproxy":
        from .dialects.haproxy.writer import write as write_haproxy

        return write_haproxy(cfg)
    if target == "pxc":
        from .dialects.pxc.writer import write_with_diagnostics

        text, diags = write_with_diagnostics(cfg)
        return text or "", diags
    raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")


def convert(text: str, read: str, write_to: str, filename: str | None = None) -> tuple[str, list[Diagnostic]]:
    """``convert(nginx_text, read="nginx", write_to="haproxy")``."""
    cfg = load(text, read, filename)
    return write(cfg, write_to)


def compile_file(path: str | Path, target: str, fmt: str | None = None):
    """A file of any format → (output text or None, every diagnostic). None when it has errors."""
    cfg, diags, _text, _fmt = load_file(path, fmt)
    if cfg is None or any(d.severity == "error" for d in diags):
        return None, diags
    out, wdiags = write(cfg, target)
    return out, diags + list(wdiags)


__all__ = ["FORMATS", "TARGETS", "load", "write", "convert", "compile_file", "load_file"]
