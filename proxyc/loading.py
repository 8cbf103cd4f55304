"""Reading any supported file into the IR: format detection and the dispatch to a dialect reader.

Imports of the dialect readers are lazy: ``proxyc --help`` must not pay for lark, pydantic or
crossplane.
"""
from __future__ import annotations

import re
from pathlib import Path

from .diagnostics import Diagnostic

FORMATS = ("pxc", "nginx", "haproxy")

_HAPROXY_SECTION = re.compile(r"^\s*(global|defaults|frontend|backend|listen|resolvers|userlist)\b[^{;]*$", re.M)
_NGINX_BLOCK = re.compile(r"^\s*(events|http|stream|server|upstream|location)(\s[^;{]*)?\{", re.M)
_PXC_BLOCK = re.compile(r"^\s*(frontend|upstream|defaults|resolvers)\b[^;]*\{\s*(#.*)?$", re.M)


def detect_format(path: str | Path, text: str | None = None) -> str | None:
    """The format of a file from its name, then from its content; None if unknown."""
    name = Path(path).name.lower()
    if name.endswith(".pxc"):
        return "pxc"
    if name.endswith(".cfg") or "haproxy" in name:
        return "haproxy"
    if name.endswith(".conf") or "nginx" in name:
        return "nginx"
    if text is None:
        return None
    return sniff_format(text)


def sniff_format(text: str) -> str | None:
    head = text[:20000]
    if _PXC_BLOCK.search(head):
        return "pxc"
    if _NGINX_BLOCK.search(head):
        return "nginx"
    if _HAPROXY_SECTION.search(head):
        return "haproxy"
    return None


def read_text(path: str | Path) -> tuple[str | None, Diagnostic | None]:
    """A file's text, or one diagnostic saying why it cannot be read."""
    p = Path(path)
    if p.exists() and not p.is_dir() and not p.is_file():  # a FIFO or device would block or never end
        return None, Diagnostic("E100", "not a regular file", file=str(path))
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return None, Diagnostic("E100", "no such file", file=str(path))
    except IsADirectoryError:
        return None, Diagnostic("E100", "is a directory, not a file", file=str(path))
    except OSError as exc:
        return None, Diagnostic("E100", f"cannot read the file: {exc.strerror or exc}", file=str(path))
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, Diagnostic("E101", "the file is not valid UTF-8", file=str(path), line=line, col=col,
                                hint="save it as UTF-8")


def read_config(text: str, fmt: str, filename: str | None = None, *, path: str | None = None):
    """Text in a known format → (Config | None, diagnostics)."""
    from .perf import paused_gc

    if "\0" in text:  # no format can hold a NUL; refusing it here lets validation skip the scan
        return None, [Diagnostic.at_offset(text, text.index("\0"), filename, "E002", "NUL character in the input",
                                           hint="the file holds binary data")]
    with paused_gc():
        return _read_config(text, fmt, filename, path)


def _read_config(text: str, fmt: str, filename: str | None, path: str | None):
    if fmt == "pxc":
        from .dialects.pxc.reader import read

        return read(text, filename)
    if fmt == "nginx":
        from .dialects.nginx.reader import read

        return read(text, filename, path=path)
    if fmt == "haproxy":
        from .dialects.haproxy.reader import read

        return read(text, filename)
    raise ValueError(f"unknown format {fmt!r}")


def load_file(path: str | Path, fmt: str | None = None):
    """Read and parse a file: (Config | None, diagnostics, text | None, format | None).

    Validation diagnostics are included, so a caller gets everything that is wrong at once."""
    text, problem = read_text(path)
    if problem:
        return None, [problem], None, fmt
    fmt = fmt or detect_format(path, text)
    if fmt is None:
        diag = Diagnostic("E102", "cannot tell whether this is a .pxc, nginx or HAProxy file", file=str(path),
                          hint="pass --from pxc|nginx|haproxy")
        return None, [diag], text, None
    cfg, diags = read_config(text, fmt, str(path), path=str(path))
    diags = list(diags)
    if cfg is not None and not any(d.severity == "error" for d in diags):
        from .validate import validate

        diags += validate(cfg, strings=False)  # read_config refused NUL already
    return cfg, diags, text, fmt
