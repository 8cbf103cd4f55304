"""The README's DSL reference is real: it parses and validates."""
from pathlib import Path

from proxyc.dialects.pxc.reader import read
from proxyc.validate import validate

README = Path(__file__).resolve().parent.parent / "README.md"


def dsl_blocks():
    text = README.read_text(encoding="utf-8")
    section = text.split("## The DSL", 1)[1]
    return [section.split("```")[1]]


def test_readme_dsl_reference_is_valid():
    for block in dsl_blocks():
        cfg, diags = read(block, "README.md")
        assert cfg is not None and diags == []
        assert validate(cfg) == []
