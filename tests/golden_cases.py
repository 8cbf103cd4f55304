"""Golden cases as data (black-style): every example and every tests/golden/<case>/input.pxc.

Expected outputs live in tests/golden/<case>/<file>. Set PROXYC_REGEN=1 to rewrite them on
purpose; a normal run only compares, so a changed output never passes silently.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"


def cases() -> list[tuple[str, Path]]:
    """(case name, input .pxc path) for every example and every extra golden input."""
    found = [(p.stem, p) for p in sorted(EXAMPLES.glob("*.pxc"))]
    found += [(p.parent.name, p) for p in sorted(GOLDEN.glob("*/input.pxc"))]
    return found


def case_ids() -> list[str]:
    return [name for name, _ in cases()]


def assert_golden(case: str, filename: str, actual: str) -> None:
    path = GOLDEN / case / filename
    if os.environ.get("PROXYC_REGEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"missing golden file {path}; run with PROXYC_REGEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs from the output; PROXYC_REGEN=1 regenerates it"


def load_case(path: Path):
    """The IR of a case's input .pxc."""
    from proxyc.dialects.pxc.reader import load

    return load(path.read_text(encoding="utf-8"), path.name)


def load_named(case: str):
    return load_case(dict(cases())[case])
