"""The rule registry: one ``Rule`` subclass per module under ``proxyc/lint/rules/``.

A rule is a small class with a ``code`` (family letter + digits), a ``name`` that names the
pattern it finds (kebab-case, ruff-style: ``shadowed-rule``), a default ``severity`` and a
docstring in four Markdown sections (What it does / Why is this bad? / Example / Use instead).
The docstring is the rule's documentation: ``proxyc rule CODE``, ``docs/rules.md`` and the SARIF
``help`` text are all made from it, so there is one place to keep up to date.

Rules are discovered by importing every module of ``proxyc.lint.rules`` in sorted order, so the
registry (and everything built from it) is the same on every run.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from ..diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from ..ir.base import Node, Span
    from .context import LintContext

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")
FAMILIES = {
    "S": "structure",
    "U": "upstreams and balancing",
    "R": "routing and ACLs",
    "X": "security",
    "P": "portability",
}
SOURCE_FORMATS = ("pxc", "nginx", "haproxy")

_CODE = re.compile(r"^[A-Z][0-9]{3}$")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SECTION = re.compile(r"^## (.+?)\s*$", re.MULTILINE)


class Rule:
    """Base class of every lint rule. Subclasses set the class attributes and ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    default_enabled: ClassVar[bool] = True
    # The source formats whose configs the rule applies to; a rule about a target's own
    # behaviour can leave out the format where that behaviour cannot occur.
    formats: ClassVar[tuple[str, ...]] = SOURCE_FORMATS

    def check(self, ctx: LintContext) -> Iterable[Diagnostic]:
        raise NotImplementedError

    # -- building findings -------------------------------------------------------------------
    def finding(self, where: Node | Span | None, message: str, *, hint: str | None = None,
                fallback: Node | None = None) -> Diagnostic:
        """A diagnostic of this rule at ``where`` (a node or a span). ``fallback`` is used when
        ``where`` has no span (importers may leave small nodes unlocated)."""
        span = _span_of(where) or _span_of(fallback)
        return Diagnostic.at(span, self.code, message, severity=self.severity, hint=hint)

    # -- documentation -----------------------------------------------------------------------
    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The docstring's sections by heading, in order."""
        return _split_sections(cls.doc())

    @classmethod
    def summary(cls) -> str:
        """The first sentence of "What it does": a one-line description."""
        what = cls.sections().get("What it does", "").strip()
        first = re.split(r"(?<=[.!?])\s", " ".join(what.split()), maxsplit=1)[0]
        return first

    @classmethod
    def family(cls) -> str:
        return FAMILIES.get(cls.code[0], "other")


def _span_of(where) -> Span | None:
    if where is None:
        return None
    span = getattr(where, "span", where)
    return span if span is not None and getattr(span, "line", 0) else None


def _split_sections(doc: str) -> dict[str, str]:
    headings = list(_SECTION.finditer(doc))
    out: dict[str, str] = {}
    for i, match in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(doc)
        out[match.group(1)] = doc[match.end():end].strip("\n")
    return out


def problems_of(rule: type[Rule], *, docs: bool = True) -> list[str]:
    """What is wrong with a rule's definition (empty when it is well-formed). ``docs=False``
    skips the docstring's sections: parsing 39 docstrings costs more than linting a small
    file, and the suite checks them (tests/test_lint_rules.py, docs/rules.md)."""
    found = []
    if not _CODE.match(getattr(rule, "code", "")):
        found.append(f"{rule.__name__}: code must be a letter and three digits")
    elif rule.code[0] not in FAMILIES:
        found.append(f"{rule.code}: unknown family {rule.code[0]!r}")
    if not _NAME.match(getattr(rule, "name", "")):
        found.append(f"{rule.__name__}: name must be kebab-case")
    missing = [s for s in SECTIONS if s not in rule.sections()] if docs else []
    if missing:
        found.append(f"{rule.code}: docstring lacks the sections {missing}")
    if rule.severity not in ("error", "warning", "info"):
        found.append(f"{rule.code}: severity {rule.severity!r}")
    unknown = [f for f in rule.formats if f not in SOURCE_FORMATS]
    if unknown:
        found.append(f"{rule.code}: unknown formats {unknown}")
    return found


def _rule_classes(module) -> Iterator[type[Rule]]:
    for _, value in sorted(vars(module).items()):
        if inspect.isclass(value) and issubclass(value, Rule) and value is not Rule \
                and value.__module__ == module.__name__:
            yield value


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule, sorted by code. Raises if two rules share a code or a name, or one is
    malformed: a broken registry must fail loudly, not lint with a rule missing."""
    from . import rules as package

    found: list[type[Rule]] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(_rule_classes(module))
    _check_registry(found)
    return tuple(sorted(found, key=lambda r: r.code))


def _check_registry(found: list[type[Rule]]) -> None:
    problems = [p for rule in found for p in problems_of(rule, docs=False)]
    for attr in ("code", "name"):
        seen: dict[str, str] = {}
        for rule in found:
            value = getattr(rule, attr, None)
            if value in seen:
                problems.append(f"{attr} {value!r} is used by {seen[value]} and {rule.__name__}")
            seen[value] = rule.__name__
    if problems:
        raise RuntimeError("invalid lint rule registry:\n" + "\n".join(problems))


def rules_by_code() -> dict[str, type[Rule]]:
    return {rule.code: rule for rule in all_rules()}


def get_rule(code_or_name: str) -> type[Rule] | None:
    """A rule by code (``R003``, any case) or by name (``shadowed-rule``)."""
    wanted = code_or_name.strip()
    for rule in all_rules():
        if rule.code == wanted.upper() or rule.name == wanted.lower():
            return rule
    return None


def rule_help(code_or_name: str) -> str | None:
    """The text ``proxyc rule CODE`` prints: heading, facts and the docstring."""
    rule = get_rule(code_or_name)
    if rule is None:
        return None
    default = "enabled" if rule.default_enabled else "disabled (enable with --select)"
    applies = ", ".join(rule.formats)
    return (f"# {rule.name} ({rule.code})\n\n"
            f"Family: {rule.family()}. Default severity: {rule.severity}. By default: {default}. "
            f"Applies to: {applies}.\n\n{rule.doc()}\n")
