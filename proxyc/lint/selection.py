"""Which rules run: ``select``, ``ignore`` and ``extend_select`` by code or prefix, ruff-style.

A selector is a full code (``R003``), a prefix (``R``, ``R0``) or ``ALL``. When a rule is both
selected and ignored, the more specific selector wins (``--select R --ignore R003`` drops only
R003; ``--select R003 --ignore R`` keeps it); with equal specificity, ignore wins. Without
``select`` the default set is every rule not marked ``default_enabled = False``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .registry import Rule

ALL = "ALL"
_SELECTOR = re.compile(r"^[A-Z][0-9]{0,3}$")
_NOT_MATCHED = -1


class SelectionError(ValueError):
    """A selector that names no code family (a typo must not silently select nothing)."""


def parse_selectors(value: str | Iterable[str] | None) -> list[str] | None:
    """``"R,S002"`` or ``["R", "S002"]`` → ``["R", "S002"]``; None stays None (not given)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    selectors = [item.strip().upper() for item in items if item and item.strip()]
    bad = [s for s in selectors if s != ALL and not _SELECTOR.match(s)]
    if bad:
        raise SelectionError(f"invalid rule selector(s): {', '.join(bad)} "
                             "(expected a code such as R003, a prefix such as R, or ALL)")
    return selectors


def _specificity(code: str, selectors: Sequence[str]) -> int:
    best = _NOT_MATCHED
    for selector in selectors:
        if selector == ALL:
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()

    @classmethod
    def of(cls, select=None, ignore=(), extend_select=()) -> Selection:
        chosen = parse_selectors(select)
        return cls(select=None if chosen is None else tuple(chosen),
                   ignore=tuple(parse_selectors(ignore) or ()),
                   extend_select=tuple(parse_selectors(extend_select) or ()))

    def enables(self, rule: type[Rule]) -> bool:
        if self.select is None:
            selected = 0 if rule.default_enabled else _NOT_MATCHED
        else:
            selected = _specificity(rule.code, self.select)
        selected = max(selected, _specificity(rule.code, self.extend_select))
        return selected != _NOT_MATCHED and selected > _specificity(rule.code, self.ignore)

    def keeps_other(self, code: str) -> bool:
        """Whether a diagnostic that is not a rule finding is reported.

        Syntax and file errors (E) are reported whatever the selection, since the file was
        not (fully) linted, unless ignored by code or prefix (a missing nginx include, say).
        The importers' notes (I: what an nginx or HAProxy file uses that the IR cannot
        represent) describe a conversion, not a problem of the config: off by default
        (``--extend-select I`` shows them). Validation errors (V) are selected like rules."""
        if code.startswith("E"):
            return _specificity(code, self.ignore) <= 0
        if self.select is None:
            selected = _NOT_MATCHED if code.startswith("I") else 0
        else:
            selected = _specificity(code, self.select)
        selected = max(selected, _specificity(code, self.extend_select))
        return selected != _NOT_MATCHED and selected > _specificity(code, self.ignore)

    def rules(self, rules: Iterable[type[Rule]]) -> list[type[Rule]]:
        return [rule for rule in rules if self.enables(rule)]
