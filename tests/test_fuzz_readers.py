"""Fuzzing the readers (issue 5: no tracebacks).

Every reader — the DSL, nginx and HAProxy — gets generated and mutated input: the examples, the
seed configs and the shared corpus (``../shared/corpus``) with bytes flipped, lines deleted,
duplicated or swapped, the text cut short and hostile tokens inserted; and inputs built to hurt:
thousands of nested ``{``/``(``/``not``, a 1 MB line, a 50,000-line file, include cycles and
missing includes, binary garbage, invalid UTF-8, empty files and files of comments only.

The property, for every input: no exception, and no internal error (``E999``, an exception a
reader caught); every error is a diagnostic with the input's file name and a line (and a column
where the format has them: the DSL and HAProxy). When a reader returns a config, ``validate`` and
both writers run on it without an exception too, since that is what ``proxyc build`` does next.
A few inputs go through ``load_file`` (the bytes path) and the real command line.

``pytest -s`` prints how many inputs each reader was given. ``python tests/fuzz_long.py`` runs
the same properties for much longer.
"""
from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxyc.dialects.haproxy import reader as haproxy_reader
from proxyc.dialects.haproxy import writer as haproxy_writer
from proxyc.dialects.nginx import reader as nginx_reader
from proxyc.dialects.nginx import writer as nginx_writer
from proxyc.dialects.pxc import reader as pxc_reader
from proxyc.loading import load_file
from proxyc.validate import validate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FORMATS = ("pxc", "nginx", "haproxy")
FILE_NAMES = {"pxc": "fuzz.pxc", "nginx": "fuzz.conf", "haproxy": "fuzz.cfg"}
HAS_COLUMNS = {"pxc": True, "nginx": False, "haproxy": True}  # crossplane gives nginx lines only
MUTANTS_PER_FORMAT = 800  # hypothesis examples per reader in the normal suite (fuzz_long.py: more)

# ------------------------------------------------------------------------------ seeds


@cache
def seeds(fmt: str) -> tuple[str, ...]:
    """Texts to mutate: the examples for the DSL; the seed configs and the corpus for the others."""
    if fmt == "pxc":
        paths = sorted(EXAMPLES.glob("*.pxc")) + sorted((ROOT / "tests" / "golden").glob("*/input.pxc"))
    else:
        suffix = ".conf" if fmt == "nginx" else ".cfg"
        paths = sorted((EXAMPLES / "seed").glob(f"*{suffix}")) + sorted((CORPUS / fmt).glob(f"*{suffix}"))
    return tuple(path.read_text(encoding="utf-8", errors="replace") for path in paths)


# Tokens that mean something to one of the three syntaxes, and characters that break lexers.
HOSTILE_TOKENS = (
    "{", "}", "(", ")", ";", "#", '"', "'", '"""', "\\", "\\\n", "\n", "\r", "\r\n", "\t", "\0", "\x1b", "\ufeff",
    "\u2028", "\udcff", "é", "$", "${X}", "$host", "%[src]", "%{", "'\\''", "include loop.conf;", "include *;",
    "if", "unless", "not", "and", "or", "{ tls }", "frontend x", "backend y", "defaults", "server {", "location ~ (",
    "upstream", "listen :80", "bind :80", "use", "default", "acl a path", "raw nginx \"\"\"", "http {", "events {}",
    "map $a $b {", "9" * 30, "-1", "1e999", "0x", "::", "[::1]", "999999s", "1h1h", "weight", "@", "~*", "^~", "=",
)
MUTATION_ALPHABET = "".join(HOSTILE_TOKENS[:20]) + "abcXYZ019 :/.*"


@dataclass(frozen=True)
class Mutation:
    """One edit at a relative position ``at`` (0..1) of the text."""

    kind: str
    at: float
    payload: str = ""

    def apply(self, text: str) -> str:
        if self.kind in ("delete line", "duplicate line", "swap lines"):
            return self._on_lines(text)
        index = int(self.at * len(text))
        if self.kind == "flip":
            return text[:index] + self.payload + text[index + 1:]
        if self.kind == "insert":
            return text[:index] + self.payload + text[index:]
        if self.kind == "truncate":
            return text[:index]
        raise ValueError(self.kind)

    def _on_lines(self, text: str) -> str:
        lines = text.splitlines(keepends=True)
        if not lines:
            return text
        index = min(int(self.at * len(lines)), len(lines) - 1)
        if self.kind == "delete line":
            del lines[index]
        elif self.kind == "duplicate line":
            lines.insert(index, lines[index])
        elif index + 1 < len(lines):
            lines[index], lines[index + 1] = lines[index + 1], lines[index]
        return "".join(lines)


@cache
def mutations() -> st.SearchStrategy[Mutation]:
    position = st.floats(0, 1, allow_nan=False)
    return st.one_of(
        st.builds(Mutation, st.just("flip"), position, st.text(MUTATION_ALPHABET, min_size=1, max_size=1)),
        st.builds(Mutation, st.just("insert"), position, st.sampled_from(HOSTILE_TOKENS)),
        st.builds(Mutation, st.just("insert"), position, st.text(MUTATION_ALPHABET, min_size=1, max_size=8)),
        st.builds(Mutation, st.sampled_from(("delete line", "duplicate line", "swap lines", "truncate")), position),
    )


@cache
def mutants(fmt: str) -> st.SearchStrategy[str]:
    """A seed of the format with one to four mutations applied."""
    def mutate(seed_and_edits: tuple[str, list[Mutation]]) -> str:
        text, edits = seed_and_edits
        for edit in edits:
            text = edit.apply(text)
        return text

    edits = st.lists(mutations(), min_size=1, max_size=4)
    return st.tuples(st.sampled_from(seeds(fmt)), edits).map(mutate)


@cache
def token_soups(fmt: str) -> st.SearchStrategy[str]:
    """Inputs made from scratch: lines of hostile tokens and words of the format."""
    words = st.sampled_from(HOSTILE_TOKENS) | st.text(MUTATION_ALPHABET, max_size=6)
    line = st.lists(words, max_size=8).map(" ".join)
    return st.lists(line, max_size=20).map("\n".join)


# ------------------------------------------------------------------------------ the property

READERS = {"pxc": pxc_reader.read, "nginx": nginx_reader.read, "haproxy": haproxy_reader.read}
TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def print_counts():
    yield
    print("\nfuzzed inputs per reader: " + ", ".join(f"{key} {TRIED[key]}" for key in sorted(TRIED)))


def problems(diags, fmt: str, filename: str) -> list[str]:
    """What is wrong with the diagnostics, as signatures (a code and a kind, no text): every error
    names the input and a line (and a column where the format has them), and no reader hides an
    exception as an internal error (E999)."""
    found = []
    for diag in diags:
        if diag.code == "E999":
            found.append(f"internal error E999: {diag.message.split(':')[0]}")
        elif diag.severity != "error":
            continue
        elif not (diag.file == filename and diag.line and diag.line >= 1):
            found.append(f"{fmt} {diag.code} without a line")
        elif HAS_COLUMNS[fmt] and not (diag.col and diag.col >= 1):
            found.append(f"{fmt} {diag.code} without a column")
    return found


def crash_signature(exc: BaseException) -> str:
    """The exception type and the innermost proxyc function it came from (no line numbers, so
    the signature survives edits)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/proxyc/" in f.filename]
    where = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    module = where.filename.split("/proxyc/")[-1]
    return f"{type(exc).__name__} in {module}:{where.name}"


def compile_problems(fmt: str, text: str, filename: str, **options) -> list[str]:
    """What ``proxyc build`` does with ``text``: read, validate, write both targets. Returns the
    problems found (signatures); an exception is one too."""
    try:
        cfg, diags = READERS[fmt](text, filename, **options)
        found = problems(diags, fmt, filename)
        if cfg is None and not any(d.severity == "error" for d in diags):
            found.append(f"{fmt}: no config and no error")
        if cfg is None or any(d.severity == "error" for d in diags) or \
                any(d.severity == "error" for d in validate(cfg)):
            return found
        nginx_writer.write(cfg)
        haproxy_writer.write(cfg)
        return found
    except RecursionError as exc:  # the traceback is thousands of frames: keep the message short
        return [crash_signature(exc)]
    except Exception as exc:  # noqa: BLE001 - any exception is the finding
        return [crash_signature(exc)]


def read_and_compile(fmt: str, text: str, filename: str | None = None, **options) -> None:
    filename = filename or FILE_NAMES[fmt]
    TRIED[fmt] += 1
    found = compile_problems(fmt, text, filename, **options)
    assert not found, f"{found} for input {text[:2000]!r}"


SETTINGS = settings(max_examples=MUTANTS_PER_FORMAT, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_seeds(fmt: str):
    @SETTINGS
    @given(mutants(fmt))
    def mutant_is_read_or_reported(text: str) -> None:
        read_and_compile(fmt, text)

    mutant_is_read_or_reported()


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_soup(fmt: str):
    @settings(SETTINGS, max_examples=MUTANTS_PER_FORMAT // 3)
    @given(token_soups(fmt))
    def soup_is_read_or_reported(text: str) -> None:
        read_and_compile(fmt, text)

    soup_is_read_or_reported()


# ------------------------------------------------------------------------------ inputs built to hurt

DEPTH = 5000  # far past any recursion limit a reader might have
MEGABYTE = "x" * 1_000_000


def nested(fmt: str) -> dict[str, str]:
    """Deeply nested conditions and blocks, per format."""
    if fmt == "pxc":
        frontend = "frontend f {{\n    listen :80\n    deny 403 if {}\n}}\n"
        return {
            "parentheses": frontend.format("(" * DEPTH + "tls" + ")" * DEPTH),
            "not": frontend.format("not " * DEPTH + "tls"),
            "unclosed parentheses": frontend.format("(" * DEPTH + "tls"),
            "braces": "frontend f {\n" * DEPTH,
            "and chain": frontend.format(" and ".join(["tls"] * DEPTH)),
        }
    if fmt == "nginx":
        return {
            "blocks": "http {" * DEPTH + "}" * DEPTH,
            "locations": "http { server { " + "location / { " * DEPTH + "}" * DEPTH + " } }",
            "unclosed blocks": "http {\n" * DEPTH,
            "closing braces": "}" * DEPTH,
        }
    return {
        "condition braces": "frontend f\n    bind :80\n    http-request deny if " + "{ " * DEPTH + "TRUE" + " }" * DEPTH,
        "negations": "frontend f\n    bind :80\n    http-request deny if " + "! " * DEPTH + "TRUE",
        "unclosed braces": "frontend f\n    bind :80\n    http-request deny if " + "{ " * DEPTH,
        "or chain": "frontend f\n    bind :80\n    http-request deny if " + " || ".join(["TRUE"] * DEPTH),
    }


def long_lines(fmt: str) -> dict[str, str]:
    """A 1 MB line in a comment, a value and a name."""
    if fmt == "pxc":
        return {"comment": "# " + MEGABYTE + "\n", "value": f'frontend f {{\n listen :80\n return 200 "{MEGABYTE}"\n}}\n',
                "name": f"upstream {MEGABYTE} {{\n}}\n", "unquoted": MEGABYTE}
    if fmt == "nginx":
        return {"comment": "# " + MEGABYTE + "\n", "value": f'http {{ server {{ return 200 "{MEGABYTE}"; }} }}',
                "name": f"http {{ upstream {MEGABYTE} {{ server 127.0.0.1; }} }}", "unquoted": MEGABYTE}
    return {"comment": "# " + MEGABYTE + "\n", "value": f"frontend f\n bind :80\n http-request return string '{MEGABYTE}'\n",
            "name": f"backend {MEGABYTE}\n", "unquoted": MEGABYTE}


def huge_file(fmt: str, lines: int = 50_000) -> str:
    """A generated file of about ``lines`` lines: many small upstreams/backends."""
    count = lines // 5
    if fmt == "pxc":
        body = "".join(f"upstream u{i} {{\n    balance least_conn\n    server a 10.0.{i // 250}.{i % 250}:80\n"
                       f"    server b 10.1.{i // 250}.{i % 250}:80 weight 2\n}}\n" for i in range(count))
        return "frontend f {\n    listen :80\n    default u0\n}\n" + body
    if fmt == "nginx":
        body = "".join(f"upstream u{i} {{\n    least_conn;\n    server 10.0.{i // 250}.{i % 250}:80;\n"
                       f"    server 10.1.{i // 250}.{i % 250}:80 weight=2;\n}}\n" for i in range(count))
        return "events {}\nhttp {\n" + body + "server { listen 80; location / { proxy_pass http://u0; } }\n}\n"
    body = "".join(f"backend u{i}\n    balance leastconn\n    server a 10.0.{i // 250}.{i % 250}:80\n"
                   f"    server b 10.1.{i // 250}.{i % 250}:80 weight 2\n\n" for i in range(count))
    return "defaults\n    mode http\nfrontend f\n    bind :80\n    default_backend u0\n" + body


def odd_files(fmt: str) -> dict[str, str]:
    return {  # "#" starts a comment in all three formats
        "empty": "", "blank lines": "\n\n\n", "whitespace": " \t \r\n \t", "only comments": "# a\n# b {\n",
        "byte order mark": "\ufeff" + seeds(fmt)[0], "NUL bytes": "\0" * 100, "CR line ends": seeds(fmt)[0].replace("\n", "\r"),
        "lone surrogate": "\udcff\udcfe", "garbage": bytes(range(256)).decode("latin-1") * 20,
    }


BUILT = [(fmt, f"nested {name}", text) for fmt in FORMATS for name, text in nested(fmt).items()] + \
        [(fmt, f"1 MB line: {name}", text) for fmt in FORMATS for name, text in long_lines(fmt).items()] + \
        [(fmt, name, text) for fmt in FORMATS for name, text in odd_files(fmt).items()]


@pytest.mark.parametrize("fmt,name,text", BUILT, ids=[f"{fmt}-{name}" for fmt, name, _ in BUILT])
def test_inputs_built_to_hurt(fmt: str, name: str, text: str):
    read_and_compile(fmt, text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_50000_line_file(fmt: str):
    text = huge_file(fmt)
    assert text.count("\n") >= 50_000
    read_and_compile(fmt, text)


# ------------------------------------------------------------------------------ known problems, for their owners

def test_nginx_blocks_nested_1000_deep():
    assert compile_problems("nginx", "http {" * 1000 + "}" * 1000, "deep.conf") == []


def test_haproxy_malformed_server_inter():
    assert compile_problems("haproxy", "backend b\n    server s1 127.0.0.1:80 check inter 1000x\n", "inter.cfg") == []


def test_dsl_unexpected_end_of_file_has_a_column():
    assert compile_problems("pxc", "\ndefaults {\n", "eof.pxc") == []


# ------------------------------------------------------------------------------ includes (nginx)

INCLUDE_TREES = {
    "self include": {"nginx.conf": "events {}\nhttp { include nginx.conf; }\n"},
    "include cycle": {"nginx.conf": "events {}\nhttp { include a.conf; }\n", "a.conf": "include b.conf;\n",
                      "b.conf": "include a.conf;\n"},
    "missing include": {"nginx.conf": "events {}\nhttp { include missing.conf; include /nonexistent/*.conf; }\n"},
    "glob matching nothing": {"nginx.conf": "events {}\nhttp { include conf.d/*.conf; }\n"},
    "directory": {"nginx.conf": "events {}\nhttp { include conf.d; }\n", "conf.d/x.conf": "server { listen 80; }\n"},
    "binary include": {"nginx.conf": "events {}\nhttp { include bin.conf; }\n", "bin.conf": b"\x00\xff{;\x80}\xfe"},
    "include in a string": {"nginx.conf": 'events {}\nhttp { include "a b;c.conf"; }\n', "a b;c.conf": "#\n"},
    "include without argument": {"nginx.conf": "events {}\nhttp { include; }\n"},
    "unbalanced include": {"nginx.conf": "events {}\nhttp { include a.conf; }\n", "a.conf": "server { listen 80;\n"},
    "include chain 300 deep": {"nginx.conf": "events {}\nhttp { include i0.conf; }\n",
                               **{f"i{n}.conf": f"include i{n + 1}.conf;\n" for n in range(300)}},
}
INCLUDE_CASES = list(INCLUDE_TREES)


@pytest.mark.parametrize("name", INCLUDE_CASES)
def test_nginx_includes(name: str, tmp_path: Path):
    for relative, content in INCLUDE_TREES[name].items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    main = tmp_path / "nginx.conf"
    TRIED["nginx"] += 1
    try:
        _cfg, diags = nginx_reader.read_file(str(main))
    except Exception as exc:  # noqa: BLE001 - any exception is the finding
        pytest.fail(crash_signature(exc))
    located = [d for d in diags if d.severity == "error" and not (d.file and d.line)]
    assert not located and all(d.code != "E999" for d in diags), [str(d) for d in diags]


# ------------------------------------------------------------------------------ bytes: load_file and the CLI

# Errors about a file as a whole (cannot read it, cannot tell its format) have no line.
WHOLE_FILE_CODES = frozenset({"E100", "E102", "E202"})
SUFFIXES = (".pxc", ".conf", ".cfg", ".txt")


def load_problems(path: Path) -> list[str]:
    """``load_file`` on a file: no exception, every error located (whole-file errors aside)."""
    TRIED["load_file"] += 1
    try:
        cfg, diags, _text, fmt = load_file(path)
    except Exception as exc:  # noqa: BLE001 - any exception is the finding
        return [crash_signature(exc)]
    found = []
    for diag in diags:
        if diag.code == "E999":
            found.append(f"internal error E999: {diag.message}")
        elif diag.severity == "error" and diag.code not in WHOLE_FILE_CODES and not (diag.file and diag.line):
            found.append(f"{fmt} {diag.code} without a line")
    if cfg is None and not any(d.severity == "error" for d in diags):
        found.append("no config and no error")
    return found


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=3000),
                      st.sampled_from(seeds("nginx") + seeds("haproxy") + seeds("pxc")).map(
                          lambda text: text.encode("utf-8")[:-1] + b"\xff\xfe\x80"),  # invalid UTF-8 at the end
                      st.sampled_from(seeds("pxc")).map(lambda text: text.encode("utf-16"))),
       suffix=st.sampled_from(SUFFIXES))
def test_bytes_through_load_file(data: bytes, suffix: str, tmp_path: Path):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    found = load_problems(path)
    assert not found, found


def test_invalid_utf8_is_located(tmp_path: Path):
    path = tmp_path / "site.pxc"
    path.write_bytes(b"frontend f {\n    listen :80\n    return 200 \"caf\xe9\"\n}\n")
    cfg, diags, _text, _fmt = load_file(path)
    assert cfg is None
    assert [(d.code, d.line, d.col) for d in diags] == [("E101", 3, 20)]


@pytest.mark.parametrize("kind", ["directory", "missing"])
def test_unreadable_paths_through_load_file(kind: str, tmp_path: Path):
    path = tmp_path / "input.conf"
    if kind == "directory":
        path.mkdir()
    cfg, diags, _text, _fmt = load_file(path)
    assert cfg is None and [(d.code, d.file) for d in diags] == [("E100", str(path))], [str(d) for d in diags]


CLI_FILES = {
    "binary.cfg": bytes(range(256)) * 4,
    "latin1.conf": b"events {}\nhttp { server { listen 80; return 200 \"caf\xe9\"; } }\n",
    "empty.pxc": b"",
    "comments.pxc": b"# only\n# comments\n",
    "long-line.pxc": b"frontend f {\n listen :80\n return 200 \"" + b"x" * 1_000_000 + b"\"\n}\n",
    "loop.conf": b"events {}\nhttp { include loop.conf; }\n",
    "garbage.txt": b"\x00\x01 hello { world",
    "deep.pxc": b"frontend f {\n listen :80\n deny 403 if " + b"(" * 3000 + b"tls" + b")" * 3000 + b"\n}\n",
}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "proxyc", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env, stdin=subprocess.DEVNULL, check=False)


def assert_clean_exit(result: subprocess.CompletedProcess) -> None:
    assert result.returncode in (0, 1, 2), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr[-2000:]


def test_cli_lint_on_hostile_files(tmp_path: Path):
    for name, data in CLI_FILES.items():
        (tmp_path / name).write_bytes(data)
    TRIED["cli"] += len(CLI_FILES)
    result = run_cli("lint", *sorted(CLI_FILES), "--format", "json", cwd=tmp_path)
    assert_clean_exit(result)


@pytest.mark.parametrize("name", ["binary.cfg", "latin1.conf", "long-line.pxc", "loop.conf", "garbage.txt"])
@pytest.mark.parametrize("command", [("build", "--target", "haproxy"), ("convert", "--to", "pxc")], ids=["build", "convert"])
def test_cli_build_and_convert_on_hostile_files(name: str, command: tuple[str, ...], tmp_path: Path):
    (tmp_path / name).write_bytes(CLI_FILES[name])
    TRIED["cli"] += 1
    result = run_cli(command[0], name, *command[1:], cwd=tmp_path)
    assert_clean_exit(result)
    if result.returncode == 2:
        assert result.stderr.strip(), "exit 2 without a word"
