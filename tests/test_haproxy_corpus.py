"""Every HAProxy config of the shared corpus (../shared/corpus/haproxy/*.cfg) reads without a
crash, and every line of it is accounted for: converted into the IR (possibly as raw HAProxy
text) or reported by a diagnostic. Nothing is dropped silently.

Each file's counts are recorded as test properties (``converted``, ``reported``: the reported
lines with their keyword), visible in the JUnit XML report and in the assertion messages.
"""
from __future__ import annotations

import re

import pytest

from proxyc.dialects.haproxy.reader import read, read_with_report
from proxyc.dialects.haproxy.reader_base import UNHANDLED
from proxyc.dialects.haproxy.writer import write

try:  # tests/ as a plain directory (rootdir-relative) or as a package
    from conftest import corpus_dir
except ImportError:  # pragma: no cover
    from tests.conftest import corpus_dir

CORPUS_FILES = sorted((corpus_dir() / "haproxy").glob("*.cfg"))
_COMMENT_OR_BLANK = re.compile(r"^\s*(#.*)?$")


def configuration_lines(text: str) -> list[int]:
    """The numbers of the lines that hold configuration, counted without the lexer: lines that
    are neither blank nor a comment. (The corpus has no line that starts with a quoted '#'.)"""
    return [n for n, line in enumerate(text.split("\n"), 1) if not _COMMENT_OR_BLANK.match(line)]


def test_the_corpus_is_there():
    assert len(CORPUS_FILES) >= 30, f"expected the shared corpus in {corpus_dir() / 'haproxy'}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_every_line_is_converted_or_reported(path, record_property):
    text = path.read_text(encoding="utf-8")
    cfg, diags, stats = read_with_report(text, path.name)
    record_property("converted", stats.converted)
    record_property("reported", stats.reported)
    summary = f"{path.name}: {stats.converted} converted, reported {stats.reported}"
    assert cfg is not None, summary
    assert stats.total == len(configuration_lines(text)), summary
    assert stats.converted + len(stats.reported) == stats.total, summary
    assert not [d for d in diags if d.message == UNHANDLED], summary
    lines = set(configuration_lines(text))
    # Every reported line is a configuration line, and every diagnostic points into the file.
    assert {line for line, _ in stats.reported} <= lines, summary
    assert all(d.file == path.name for d in diags), summary
    assert all(d.line in lines for d in diags if d.line is not None), summary


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_haproxy_to_ir_to_haproxy_is_stable(path):
    """What the writer makes of the imported IR reads back to an IR it writes identically:
    raw text, ACLs and rules survive the trip."""
    cfg, _ = read(path.read_text(encoding="utf-8"), path.name)
    text, _ = write(cfg)
    again, diags = read(text, "written.cfg")
    assert again is not None, [str(d) for d in diags]
    assert _without_comments(write(again)[0]) == _without_comments(text)


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
