"""The soundness of condition implication (what shadowed-rule and duplicate-acl-condition rely
on) and the ReDoS shape detector."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proxyc import ir
from proxyc.lint.conditions import equivalent, implies, to_term
from proxyc.lint.regexes import backtracking_risk


def path(op, *values, nocase=False):
    return ir.PathMatch(op=op, values=list(values), ignore_case=nocase)


def term(condition, acls=None):
    return to_term(condition, acls or {})


@pytest.mark.parametrize(("a", "b", "expected"), [
    (path("prefix", "/api/v2/"), path("prefix", "/api/"), True),
    (path("prefix", "/api/"), path("prefix", "/api/v2/"), False),
    (path("exact", "/api"), path("prefix", "/api"), True),
    (path("prefix", "/api"), path("exact", "/api"), False),
    (path("exact", "/a.php"), path("suffix", ".php"), True),
    (path("prefix", "/Static/"), path("prefix", "/static/", nocase=True), True),
    (path("prefix", "/static/", nocase=True), path("prefix", "/static/"), False),
    (path("prefix", "/1/", nocase=True), path("prefix", "/1"), True),  # no letters: one spelling
    (path("regex", "^/a"), path("regex", "^/a"), True),
    (path("regex", "^/ab"), path("regex", "^/a"), False),  # regexes: identity only
    (path("regex", "^/a", nocase=True), path("regex", "^/a"), False),
    (path("prefix", "/a", "/b"), path("prefix", "/"), True),
    (path("prefix", "/a", "/c"), path("prefix", "/a", "/b"), False),
    (ir.All(items=[path("prefix", "/a"), ir.MethodMatch(values=["GET"])]), path("prefix", "/a"), True),
    (path("prefix", "/a"), ir.All(items=[path("prefix", "/a"), ir.MethodMatch(values=["GET"])]), False),
    (ir.MethodMatch(values=["GET"]), ir.MethodMatch(values=["GET", "HEAD"]), True),
    (ir.MethodMatch(values=["GET", "POST"]), ir.MethodMatch(values=["GET", "HEAD"]), False),
    (ir.SourceMatch(values=["10.1.0.0/16"]), ir.SourceMatch(values=["10.0.0.0/8"]), True),
    (ir.SourceMatch(values=["10.0.0.0/8"]), ir.SourceMatch(values=["10.1.0.0/16"]), False),
    (ir.SourceMatch(values=["::1"]), ir.SourceMatch(values=["0.0.0.0/0"]), False),
    (ir.HeaderMatch(name="X-A", op="exact", values=["v"]), ir.HeaderMatch(name="x-a", op="present"), True),
    (ir.HeaderMatch(name="X-A", op="present"), ir.HeaderMatch(name="X-A", op="exact", values=["v"]), False),
    (ir.HeaderMatch(name="X-A", op="prefix", values=["abc"]),
     ir.HeaderMatch(name="X-A", op="contains", values=["bc"]), True),
    (ir.HostMatch(op="exact", values=["www.example.com"]), ir.HostMatch(op="suffix", values=[".example.com"]), True),
    (ir.Not(item=path("prefix", "/")), ir.Not(item=path("prefix", "/a")), True),
    (ir.Not(item=path("prefix", "/a")), ir.Not(item=path("prefix", "/")), False),
    (ir.TlsMatch(), ir.TlsMatch(), True),
    (path("prefix", "/a"), None, True),
    (None, path("prefix", "/"), False),
])
def test_implication(a, b, expected):
    assert implies(term(a), term(b)) is expected


def test_acl_references_are_followed_and_cycles_stay_opaque():
    acls = {"api": ir.Acl(name="api", condition=path("prefix", "/api/")),
            "loop": ir.Acl(name="loop", condition=ir.AclRef(name="loop"))}
    assert implies(term(path("prefix", "/api/v1/"), acls), term(ir.AclRef(name="api"), acls))
    assert implies(term(ir.AclRef(name="loop"), acls), term(ir.AclRef(name="loop"), acls))
    assert not implies(term(ir.AclRef(name="unknown"), acls), term(ir.AclRef(name="api"), acls))
    assert equivalent(term(path("prefix", "/a", "/b")), term(path("prefix", "/b", "/a")))


# Property: whenever implication is claimed for two path matchers, every path matching the
# first matches the second (checked on paths built from the same small alphabet).
_SEGMENT = st.text(alphabet="/aAb.", min_size=0, max_size=4)
_MATCHER = st.builds(lambda op, value, nocase: path(op, "/" + value, nocase=nocase),
                     st.sampled_from(["exact", "prefix", "suffix"]), _SEGMENT, st.booleans())


def _matches(matcher: ir.PathMatch, request_path: str) -> bool:
    value, subject = matcher.values[0], request_path
    if matcher.ignore_case:
        value, subject = value.lower(), subject.lower()
    return {"exact": subject == value, "prefix": subject.startswith(value),
            "suffix": subject.endswith(value)}[matcher.op]


@settings(max_examples=300, deadline=None)
@given(_MATCHER, _MATCHER, st.lists(_SEGMENT.map(lambda s: "/" + s), min_size=1, max_size=20))
def test_claimed_implications_hold(a, b, paths):
    if implies(term(a), term(b)):
        for request_path in paths + [a.values[0]]:
            if _matches(a, request_path):
                assert _matches(b, request_path), (a, b, request_path)


@pytest.mark.parametrize(("pattern", "risky"), [
    ("(a+)+", True), ("(.*)*", True), (r"(\w+\s?)*$", True), ("((a+)b?)+", True), ("(a{1,2})+", True),
    ("(a|a)*", True), (r"(\w|\d)+", True), ("(?:ab|ab)*", True), ("(?i)(A|a)+", True),
    ("(/[a-z]+)+", False), ("(ab+)+", False), ("^/api/(v1|v2)/.*$", False), (r"\.php$", False),
    ("(a|b)*", False), ("(a++)+", False), ("(?>a+)+", False), ("(a{2})+", False), ("(A|a)+", False),
    ("(a|b)*+", False), ("(unclosed", False),
])
def test_backtracking_shapes(pattern, risky):
    assert (backtracking_risk(pattern) is not None) is risky


# ------------------------------------------------------------------------------ the index

_ATOMS = st.one_of(
    _MATCHER,
    st.builds(lambda m: ir.MethodMatch(values=[m]), st.sampled_from(["GET", "POST"])),
)
_CONDITION = st.one_of(
    _ATOMS,
    st.builds(lambda items: ir.All(items=items), st.lists(_ATOMS, min_size=2, max_size=3)),
    st.builds(lambda items: ir.AnyOf(items=items), st.lists(_ATOMS, min_size=2, max_size=3)),
    st.builds(lambda item: ir.Not(item=item), _ATOMS),
    # nginx's server_name a b with a location: (a or b) and a path, anchored on the alternative
    st.builds(lambda alts, atom: ir.All(items=[ir.AnyOf(items=alts), atom]),
              st.lists(_ATOMS, min_size=2, max_size=3), _ATOMS),
    st.none(),
)


def _holds(condition, request) -> bool:
    """Evaluates a generated condition on a (path, method) request."""
    if condition is None:
        return True
    if isinstance(condition, ir.PathMatch):
        return _matches(condition, request[0])
    if isinstance(condition, ir.MethodMatch):
        return request[1] in condition.values
    if isinstance(condition, ir.All):
        return all(_holds(item, request) for item in condition.items)
    if isinstance(condition, ir.AnyOf):
        return any(_holds(item, request) for item in condition.items)
    return not _holds(condition.item, request)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@example(conditions=[ir.MethodMatch(values=["GET"]),
                     ir.All(items=[ir.AnyOf(items=[ir.MethodMatch(values=["GET"]),
                                                   ir.PathMatch(op="exact", values=["/"])]),
                                   ir.MethodMatch(values=["POST"])])],
         requests=[("/", "POST")])  # an alternative's first branch is a candidate key, not a proof
@given(st.lists(_CONDITION, min_size=2, max_size=8),
       st.lists(st.tuples(_SEGMENT.map(lambda s: "/" + s), st.sampled_from(["GET", "POST"])), max_size=20))
def test_index_finds_what_pairwise_implication_finds_and_nothing_false(conditions, requests):
    from proxyc.lint.condition_index import ConditionIndex, alternatives

    index = ConditionIndex()
    for position, condition in enumerate(conditions):
        term = to_term(condition, {})
        earlier_terms = [to_term(c, {}) for c in conditions[:position]]
        if term is None:
            pairwise = None in earlier_terms
        else:
            pairwise = all(any(implies(alt, t) for t in earlier_terms) for alt in alternatives(term))
        decider = index.decider(term)
        if pairwise:
            assert decider is not None
        if decider is not None:  # sound: every request the rule matches, an earlier rule matches
            for request in requests + [(c.values[0], "GET") for c in [condition] if isinstance(c, ir.PathMatch)]:
                if _holds(condition, request):
                    assert any(_holds(c, request) for c in conditions[:position]), (condition, request)
        index.add(position, term)
