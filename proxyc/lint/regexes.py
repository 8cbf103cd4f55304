"""Finding regular expressions that a backtracking engine (PCRE in HAProxy and nginx) can take
exponential time on: the ReDoS shapes.

Two shapes are recognised, both under an unbounded, backtracking repeat (``*``, ``+``,
``{n,}``; possessive repeats and atomic groups do not backtrack and are skipped):

* a nested quantifier: the repeated body contains a variable-length repeat and nothing else
  that must consume input, so a run of input can be split between the iterations in
  exponentially many ways: ``(a+)+``, ``(.*)*``, ``(\\w+\\s?)*``. ``(/[a-z]+)+`` is fine: each
  iteration must start with ``/``, so there is only one way to split.
* overlapping alternatives: two branches of the repeated body can match the same character:
  ``(a|a)*``, ``(\\w|\\d)+``.

The pattern is read with Python's own regex parser, which understands the PCRE subset people
write in proxy configs; a pattern it cannot read is not judged (no finding) rather than guessed.
"""
from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

_BACKTRACKING_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)
# Possessive repeats exist from Python 3.11 on.
_POSSESSIVE_REPEAT = getattr(C, "POSSESSIVE_REPEAT", object())
_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)
# Characters on which single-character classes are compared: ASCII plus a few others, enough
# to see that \w and \d overlap without enumerating Unicode.
_SAMPLE = [chr(i) for i in range(128)] + ["\u00e9", "\u00df", "\u00a0", "\u0660", "\u4e00"]
_CATEGORY_PATTERNS = {
    "DIGIT": r"\d", "NOT_DIGIT": r"\D",
    "SPACE": r"\s", "NOT_SPACE": r"\S",
    "WORD": r"\w", "NOT_WORD": r"\W",
    "LINEBREAK": r"\n", "NOT_LINEBREAK": r"[^\n]",
}


def backtracking_risk(pattern: str, *, ignore_case: bool = False) -> str | None:
    """A short description of the exponential-backtracking shape in ``pattern``, or None."""
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE if ignore_case else 0)
    except (re.error, RecursionError, OverflowError):
        return None
    if _has_nested_quantifier(list(parsed)):
        return "a repeated group whose body is itself repeated (like (a+)+)"
    folded = ignore_case or bool(parsed.state.flags & re.IGNORECASE)
    if any(_alternatives_overlap(group, folded) for group in _repeated_groups(pattern)):
        return "a repeated choice between alternatives that match the same text (like (a|a)*)"
    return None


def _has_nested_quantifier(items: list) -> bool:
    for op, av in items:
        if op in _BACKTRACKING_REPEATS and av[1] == C.MAXREPEAT \
                and _has_lone_variable_repeat(_sequence(av[2])):
            return True
        if any(_has_nested_quantifier(child) for child in _children(op, av)):
            return True
    return False


def _children(op, av) -> list[list]:
    """The sub-sequences below one parsed item, to search them too."""
    if op in _BACKTRACKING_REPEATS or op == _POSSESSIVE_REPEAT:
        return [list(av[2])]
    if op == C.SUBPATTERN:
        return [list(av[-1])]
    if op == C.BRANCH:
        return [list(alt) for alt in av[1]]
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [list(av[1])]
    # Atomic groups are not searched: they never backtrack into themselves.
    return []


def _sequence(sub) -> list:
    """A sequence with plain groups opened up: ``(ab)c`` is the sequence a, b, c."""
    out = []
    for op, av in sub:
        if op == C.SUBPATTERN:
            out.extend(_sequence(av[-1]))
        else:
            out.append((op, av))
    return out


def _has_lone_variable_repeat(body: list) -> bool:
    if len(body) == 1 and body[0][0] == C.BRANCH:
        return any(_has_lone_variable_repeat(_sequence(alt)) for alt in body[0][1][1])
    for i, (op, av) in enumerate(body):
        if op in _BACKTRACKING_REPEATS and av[1] > 1 and av[1] != av[0]:
            rest = body[:i] + body[i + 1:]
            if all(_nullable(item) for item in rest):
                return True
    return False


def _nullable(item) -> bool:
    """Can this item match the empty string? Unknown items count as "no", which can only
    hide a finding, never invent one."""
    op, av = item
    if op in _ZERO_WIDTH:
        return True
    if op in _BACKTRACKING_REPEATS or op == _POSSESSIVE_REPEAT:
        return av[0] == 0 or all(_nullable(x) for x in _sequence(av[2]))
    if op == C.SUBPATTERN:
        return all(_nullable(x) for x in _sequence(av[-1]))
    if op == C.BRANCH:
        return any(all(_nullable(x) for x in _sequence(alt)) for alt in av[1])
    return False


# Python's parser rewrites alternations (``a|a`` becomes one character class, common prefixes
# are factored out), so the alternatives of a repeated group are cut from the pattern text and
# parsed one by one.

def _repeated_groups(pattern: str) -> list[str]:
    """The text inside every plain group that is followed by an unbounded quantifier."""
    groups, stack, i = [], [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(pattern, i)
            continue
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            start = stack.pop()
            if _unbounded_quantifier_at(pattern, i + 1):
                groups.append(pattern[start + 1:i])
        i += 1
    return [_group_body(g) for g in groups if _group_body(g) is not None]


def _class_end(pattern: str, start: int) -> int:
    """The index after the character class opening at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":  # a leading ] is a literal
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


_UNBOUNDED = re.compile(r"(?:\*|\+|\{\d+,\})(?![+])")


def _unbounded_quantifier_at(pattern: str, pos: int) -> bool:
    return _UNBOUNDED.match(pattern, pos) is not None


def _group_body(text: str) -> str | None:
    """A group's content without its ``?:``/``?P<name>`` prefix; None for groups that do not
    backtrack or are not alternatives of text (atomic groups, lookarounds, flags)."""
    if not text.startswith("?"):
        return text
    named = re.match(r"\?P?<[A-Za-z_][A-Za-z0-9_]*>", text)
    if named:
        return text[named.end():]
    if text.startswith("?:"):
        return text[2:]
    return None


def _split_alternatives(body: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(body, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    return parts


def _alternatives_overlap(body: str, folded: bool) -> bool:
    texts = _split_alternatives(body)
    if len(texts) < 2:
        return False
    try:
        alternatives = [_sequence(sre_parse.parse(t, re.IGNORECASE if folded else 0)) for t in texts]
    except (re.error, RecursionError, OverflowError):
        return False
    for i, first in enumerate(alternatives):
        for second in alternatives[i + 1:]:
            if first and first == second:
                return True
            if _single_chars_overlap(first, second, folded):
                return True
    return False


def _single_chars_overlap(first: list, second: list, folded: bool) -> bool:
    if len(first) != 1 or len(second) != 1:
        return False
    match_first, match_second = _char_test(first[0], folded), _char_test(second[0], folded)
    if match_first is None or match_second is None:
        return False
    return any(match_first(ch) and match_second(ch) for ch in _SAMPLE)


def _char_test(item, folded: bool):
    """A predicate for a one-character item, or None when it is not one we understand."""
    op, av = item
    if op == C.LITERAL:
        return _literal_test(av, folded)
    if op == C.NOT_LITERAL:
        test = _literal_test(av, folded)
        return lambda ch: not test(ch)
    if op == C.ANY:
        return lambda ch: ch != "\n"
    if op == C.IN:
        return _class_test(av, folded)
    return None


def _literal_test(code: int, folded: bool):
    wanted = chr(code)
    if folded:
        return lambda ch: ch.lower() == wanted.lower()
    return lambda ch: ch == wanted


def _class_test(members: list, folded: bool):
    negated = bool(members) and members[0][0] == C.NEGATE
    tests = []
    for op, av in members[1:] if negated else members:
        if op == C.LITERAL:
            tests.append(_literal_test(av, folded))
        elif op == C.RANGE:
            lo, hi = av
            tests.append(lambda ch, lo=lo, hi=hi: lo <= ord(ch) <= hi)
        elif op == C.CATEGORY:
            test = _category_test(str(av))
            if test is None:
                return None
            tests.append(test)
        else:
            return None
    if negated:
        return lambda ch: not any(t(ch) for t in tests)
    return lambda ch: any(t(ch) for t in tests)


def _category_test(name: str):
    base = name.removeprefix("CATEGORY_").removeprefix("UNI_").removeprefix("LOC_")
    pattern = _CATEGORY_PATTERNS.get(base)
    if pattern is None:
        return None
    compiled = re.compile(pattern)
    return lambda ch: compiled.fullmatch(ch) is not None
