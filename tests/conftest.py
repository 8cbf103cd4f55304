"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path


def corpus_dir() -> Path:
    """The shared corpus of real-world configs (``<workspace>/shared/corpus``).

    Resolved relative to this file, so it works both in the main checkout
    (``/work/main/tests``) and in a CI clone that sits next to ``shared/``.
    """
    return Path(__file__).resolve().parents[2] / "shared" / "corpus"
