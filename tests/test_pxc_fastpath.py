"""The fast path for plain .pxc files must give exactly what lark gives, or decline."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxyc.dialects.pxc import reader
from proxyc.dialects.pxc.fastpath import read_fast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import pxc as generated_pxc  # noqa: E402


def both(text: str):
    fast = reader.read(text, "t.pxc")
    slow = reader.read(text, "t.pxc", fast=False)
    return fast, slow


def assert_same(text: str) -> None:
    (fcfg, fdiags), (scfg, sdiags) = both(text)
    assert [d.to_dict() for d in fdiags] == [d.to_dict() for d in sdiags]
    if scfg is None:
        assert fcfg is None
        return
    # Spans and comments too, not only IR equality (which ignores them).
    assert fcfg.model_dump() == scfg.model_dump()


def used_fast_path(text: str) -> bool:
    reader._builder.reset("t.pxc")
    return read_fast(text, reader._builder) is not None


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.pxc")), ids=lambda p: p.stem)
def test_examples_read_the_same(path):
    assert_same(path.read_text())


def test_generated_configs_take_the_fast_path_and_read_the_same():
    text = generated_pxc(60)
    assert used_fast_path(text)
    assert_same(text)


def test_semantic_errors_are_the_same_on_the_fast_path():
    text = "upstream u {\n    balance least_con\n    server a 10.0.0.1:99999 weight 300\n}\n"
    assert used_fast_path(text)
    assert_same(text)


KEYWORDS = ["and", "or", "not", "path", "host", "use", "deny", "nocase", "if", "server", "check", "weight",
            "default", "uri", "prefix", "exact", "tls", "{", "}", "default_server", "backup"]
WORDS = st.sampled_from(KEYWORDS + ["a", "b1", "/x", ":80", "10.0.0.1:80", "5s", "3", "web", "#c", "x{"])
LINES = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)


@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["frontend f {\n", "upstream u {\n", "defaults {\n"]), st.lists(LINES, max_size=4))
def test_random_statements_read_the_same(header, lines):
    assert_same(header + "\n".join("    " + line for line in lines) + "\n}\n")
