"""Run the real validators (``nginx -t``, ``haproxy -c``) on a config text.

Stdlib only and cheap to import: the CLI and the test-suite call this on every
generated config, so it must not drag in pydantic/lark.

Every check runs in a fresh scratch directory. The config is made
self-contained there (pid, logs, temp paths inside the directory) so that a
check never touches /run, /var/log or /var/lib and works without root.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

TIMEOUT = 30  # seconds, for every subprocess
INSTALL_HINT = "apt-get install -y nginx libnginx-mod-stream haproxy"
NGINX_MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/local/nginx/modules", "/usr/lib64/nginx/modules")

# Debian compiles absolute http temp paths (/var/lib/nginx/body, ...) and an
# absolute access log into nginx, so `-p DIR` does NOT relocate them: `nginx -t`
# would mkdir() under /var/lib/nginx and open /var/log/nginx/access.log, which
# fails without root. They are therefore set explicitly inside `http {}`.
_HTTP_SCRATCH = (
    ("access_log", "access.log"),
    ("client_body_temp_path", "client_body_temp"),
    ("proxy_temp_path", "proxy_temp"),
    ("fastcgi_temp_path", "fastcgi_temp"),
    ("uwsgi_temp_path", "uwsgi_temp"),
    ("scgi_temp_path", "scgi_temp"),
)


class BinaryMissing(RuntimeError):
    """nginx/haproxy is not installed; the message says how to install it."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"{name} not found on PATH, /usr/sbin or /usr/local/sbin; install with: {INSTALL_HINT}")


def find_binary(name: str) -> str | None:
    """PATH first, then the sbin directories that a non-root PATH often lacks."""
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin"):
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def require_binary(name: str) -> str:
    path = find_binary(name)
    if path is None:
        raise BinaryMissing(name)
    return path


@dataclass
class CheckMessage:
    severity: str  # "error" | "warning" | "alert" | "notice"
    line: int | None  # line in the checked text (or in `file` when that is an extra file)
    message: str
    file: str | None = None  # path relative to the scratch dir, e.g. "nginx.conf"


@dataclass
class CheckResult:
    ok: bool
    tool: str
    returncode: int
    output: str  # stderr + stdout, verbatim
    messages: list[CheckMessage] = field(default_factory=list)

    @property
    def errors(self) -> list[CheckMessage]:
        return [m for m in self.messages if m.severity in ("error", "alert")]

    @property
    def warnings(self) -> list[CheckMessage]:
        return [m for m in self.messages if m.severity == "warning"]


# --------------------------------------------------------------------------- nginx


def nginx_statements(text: str):
    """Yield ``(parents, words, brace_index)`` for every nginx directive.

    ``parents`` is a tuple of ``(block_name, brace_index)`` (unique per block),
    ``brace_index`` the offset of ``{`` for block directives, else None.
    A deliberately tiny tokenizer (comments, quotes, ``${var}``, braces, ``;``):
    enough to tell the main context from nested ones without crossplane.
    """
    stack: list[tuple[str, int]] = []
    words: list[str] = []
    word: list[str] = []
    i, n = 0, len(text)

    def end_word():
        if word:
            words.append("".join(word))
            word.clear()

    while i < n:
        c = text[i]
        if c in "\"'" and not word:  # like nginx: a quote only opens a token
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            word.append(text[i + 1 : j])
            i = j + 1
            continue
        if c == "#" and not word:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "{" and word and word[-1].endswith("$"):  # ${var} is part of a word
            j = text.find("}", i)
            j = n - 1 if j < 0 else j
            word.append(text[i : j + 1])
            i = j + 1
            continue
        if c.isspace() or c in ";{}":
            end_word()
            if c == ";":
                if words:
                    yield tuple(stack), words, None
                words = []
            elif c == "{":
                yield tuple(stack), words, i
                stack.append((words[0] if words else "", i))
                words = []
            elif c == "}":
                words = []
                if stack:
                    stack.pop()
        else:
            word.append(c)
        i += 1


def _stream_module() -> str | None:
    for d in NGINX_MODULE_DIRS:
        hits = sorted(glob.glob(os.path.join(d, "ngx_stream_module.so")))
        if hits:
            return hits[0]
    return None


def _q(path: str | Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def prepare_nginx(text: str, dirpath: str | Path) -> tuple[str, int]:
    """Return ``(scratch_text, prepended_line_count)`` for running nginx in ``dirpath``.

    Prepends ``pid``/``error_log`` (when the main context lacks them) and the
    stream ``load_module`` (when there is a ``stream {}`` and no such
    load_module). Inside the first ``http {`` it adds the scratch access log and
    temp paths *on the same line*, so no line number moves. Nothing else changes.
    """
    d = Path(dirpath)
    stmts = list(nginx_statements(text))
    main = {w[0] for parents, w, _ in stmts if not parents}
    loaded = " ".join(" ".join(w[1:]) for parents, w, _ in stmts if not parents and w[0] == "load_module")
    prelude = []
    if "pid" not in main:
        prelude.append(f"pid {_q(d / 'nginx.pid')};")
    if "error_log" not in main:
        prelude.append(f"error_log {_q(d / 'error.log')};")
    if "stream" in main and "ngx_stream_module" not in loaded:
        module = _stream_module()
        if module:  # no .so: stream is built in (or missing, and nginx will say so)
            prelude.append(f"load_module {_q(module)};")

    http = next((b for parents, w, b in stmts if not parents and w[0] == "http" and b is not None), None)
    if http is not None:
        # Directives already set directly in http{} would become "duplicate" errors.
        present = {w[0] for parents, w, _ in stmts if [p[0] for p in parents] == ["http"]}
        extra = [f"{k} {_q(d / v)};" for k, v in _HTTP_SCRATCH if k not in present]
        if extra:
            text = text[: http + 1] + " " + " ".join(extra) + text[http + 1 :]
    if not prelude:
        return text, 0
    return "\n".join(prelude) + "\n" + text, len(prelude)


_NGINX_SEVERITY = {"emerg": "error", "crit": "error", "error": "error", "alert": "alert",
                   "warn": "warning", "notice": "notice", "info": "notice"}
_NGINX_LINE = re.compile(r"^(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d |nginx: )\[(\w+)\] (?:\d+#\d+: )?(.*)$")
_NGINX_WHERE = re.compile(r"^(.*) in (\S+):(\d+)$")


def _relative(path: str, dirpath: Path) -> str:
    try:
        return str(Path(path).relative_to(dirpath))
    except ValueError:
        return path


def _locate(file: str, line: int, cfg_name: str, offset: int) -> tuple[str, int | None]:
    """Map a line of the scratch copy back to the given text (None: in our prelude)."""
    if file == cfg_name:
        line -= offset
        return file, line if line > 0 else None
    return file, line


def parse_nginx_output(output: str, dirpath: Path, offset: int = 0) -> list[CheckMessage]:
    msgs = []
    for raw in output.splitlines():
        m = _NGINX_LINE.match(raw.strip())
        if not m:
            continue
        sev, text = _NGINX_SEVERITY.get(m.group(1), "error"), m.group(2)
        file = line = None
        w = _NGINX_WHERE.match(text)
        if w:
            text = w.group(1)
            file, line = _locate(_relative(w.group(2), dirpath), int(w.group(3)), "nginx.conf", offset)
        msgs.append(CheckMessage(sev, line, text.replace(f"{dirpath}/", ""), file))
    return msgs


# ------------------------------------------------------------------------- haproxy

_HAP_SEVERITY = {"ALERT": "alert", "WARNING": "warning", "NOTICE": "notice"}
_HAP_LINE = re.compile(r"^\[(ALERT|WARNING|NOTICE)\]\s+\(\d+\)\s*:\s*(.*)$")
_HAP_WHERE = re.compile(r"\[([^\]\s]+):(\d+)\]")
_HAP_PROXY = re.compile(r"\b(?:proxy|frontend|backend|listen) '([^']+)'", re.I)
_HAP_BANNER = ("haproxy version is", "path to executable is")


def _section_lines(text: str) -> dict[str, int]:
    """Proxy name -> line of its section header. Several HAProxy messages
    (e.g. "missing timeouts for frontend 'fe'") carry no file:line at all, only
    the proxy name; pointing at the section header is the useful location."""
    out: dict[str, int] = {}
    for no, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*(?:frontend|backend|listen|defaults)\s+(\S+)", line)
        if m:
            out.setdefault(m.group(1), no)
    return out


def parse_haproxy_output(output: str, text: str, dirpath: Path) -> list[CheckMessage]:
    sections = _section_lines(text)
    msgs: list[CheckMessage] = []
    for raw in output.splitlines():
        if raw.startswith("   |") and msgs:  # continuation of a multi-line message
            msgs[-1].message += " " + raw.split("|", 1)[1].strip()
            continue
        m = _HAP_LINE.match(raw.strip())
        if not m:
            continue
        sev, body = _HAP_SEVERITY[m.group(1)], m.group(2)
        if body.startswith("config : "):
            body = body[len("config : "):]
        if sev == "notice" and body.startswith(_HAP_BANNER):
            continue
        file = line = None
        w = _HAP_WHERE.search(body)
        if w:
            file, line = _relative(w.group(1), dirpath), int(w.group(2))
            body = re.sub(r"^parsing \[[^\]]+\]\s*:\s*", "", body)
        else:
            p = _HAP_PROXY.search(body)
            if p and p.group(1) in sections:
                file, line = "haproxy.cfg", sections[p.group(1)]
        # The scratch dir is gone once we return: name files relative to it.
        msgs.append(CheckMessage(sev, line, body.replace(f"{dirpath}/", ""), file))
    return msgs


# -------------------------------------------------------------------------- common


def write_files(dirpath: Path, files: dict[str, bytes] | None) -> None:
    """Place extra files (certificates, includes) under dirpath; relative names only."""
    for name, data in (files or {}).items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"extra file name must be relative and stay inside the scratch dir: {name!r}")
        target = dirpath / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else str(data).encode())


def _run(tool: str, argv: list[str], cwd: Path) -> tuple[int, str]:
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:  # run() has already killed the child
        return -1, f"{tool}: check timed out after {TIMEOUT} s"
    return p.returncode, p.stderr + p.stdout


def check_nginx(text: str, *, files: dict[str, bytes] | None = None) -> CheckResult:
    nginx = require_binary("nginx")
    with tempfile.TemporaryDirectory(prefix="proxyc-nginx-") as tmp:
        d = Path(tmp)
        write_files(d, files)
        scratch, offset = prepare_nginx(text, d)
        (d / "nginx.conf").write_text(scratch)
        rc, out = _run("nginx", [nginx, "-t", "-q", "-p", f"{d}/", "-c", str(d / "nginx.conf")], d)
        # Anything logged after nginx switched to the configured error_log lands there.
        log = d / "error.log"
        if log.exists() and log.stat().st_size:
            out += log.read_text(errors="replace")
        msgs = parse_nginx_output(out, d, offset)
    if rc == -1:
        msgs.append(CheckMessage("error", None, out))
    return CheckResult(rc == 0, "nginx", rc, out, msgs)


def check_haproxy(text: str, *, strict: bool = True, files: dict[str, bytes] | None = None) -> CheckResult:
    haproxy = require_binary("haproxy")
    with tempfile.TemporaryDirectory(prefix="proxyc-haproxy-") as tmp:
        d = Path(tmp)
        write_files(d, files)
        (d / "haproxy.cfg").write_text(text)
        argv = [haproxy, "-c", "-f", str(d / "haproxy.cfg")] + (["-dW"] if strict else [])
        rc, out = _run("haproxy", argv, d)  # cwd=d: relative crt/errorfile paths resolve
        msgs = parse_haproxy_output(out, text, d)
    if rc == -1:
        msgs.append(CheckMessage("error", None, out))
    return CheckResult(rc == 0, "haproxy", rc, out, msgs)


# ---------------------------------------------------------------------- certificates


@lru_cache(maxsize=None)
def _certificate_pair() -> tuple[bytes, bytes]:
    """One self-signed localhost cert per process: RSA keygen is the slow part."""
    openssl = shutil.which("openssl") or "openssl"
    with tempfile.TemporaryDirectory(prefix="proxyc-cert-") as tmp:
        crt, key = Path(tmp) / "c.crt", Path(tmp) / "c.key"
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(crt)],
            check=True, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
        )
        return crt.read_bytes(), key.read_bytes()


def make_test_certificate(dirpath: str | Path, name: str = "site") -> tuple[Path, Path, Path]:
    """Write name.crt, name.key and name.pem (cert+key, as HAProxy wants) into dirpath."""
    crt_bytes, key_bytes = _certificate_pair()
    d = Path(dirpath)
    d.mkdir(parents=True, exist_ok=True)
    crt, key, pem = d / f"{name}.crt", d / f"{name}.key", d / f"{name}.pem"
    crt.write_bytes(crt_bytes)
    key.write_bytes(key_bytes)
    key.chmod(0o600)
    pem.write_bytes(crt_bytes + key_bytes)
    return crt, key, pem


def test_certificate_files(name: str = "site") -> dict[str, bytes]:
    """The same certificate as a ``files=`` mapping for check_nginx/check_haproxy."""
    crt, key = _certificate_pair()
    return {f"{name}.crt": crt, f"{name}.key": key, f"{name}.pem": crt + key}


test_certificate_files.__test__ = False  # not a pytest test despite the name
