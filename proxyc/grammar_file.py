"""Finds the DSL grammar: grammar/proxyc.lark in a source checkout, proxyc.grammar when installed."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def grammar_text() -> str:
    checkout = Path(__file__).resolve().parent.parent / "grammar" / "proxyc.lark"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    from importlib.resources import files

    return files("proxyc.grammar").joinpath("proxyc.lark").read_text(encoding="utf-8")
