"""IR conditions → HAProxy ACLs and rule guards.

A HAProxy condition is a disjunction of conjunctions: terms joined by ``or``, each term a list
of ACLs that must all hold, ``!`` only in front of a single ACL. An IR condition (and/or/not to
any depth) is therefore put into disjunctive normal form, negations pushed to the leaves by
De Morgan. Each leaf becomes either the name of a declared ACL or an anonymous ACL
``{ fetch -flags patterns }``.

Named IR ACLs whose condition is one matcher, or an ``or`` of matchers, are declared as ``acl``
lines (HAProxy ORs the lines of one name). Any other named ACL cannot be one HAProxy ACL; it is
expanded where it is used instead. Rule conditions are written inline as anonymous ACLs, so the
number of named ACLs stays the IR's: HAProxy's ACL loading is quadratic in named ACLs.
"""
from __future__ import annotations

from dataclasses import dataclass

from ... import ir
from .quoting import NameTable, fetchable_header_name
from .writer_context import ACL_RESERVED, Context, Unwritable

# Beyond this many terms a condition is too large to expand into HAProxy's flat form.
MAX_TERMS = 256

MATCHERS = (ir.PathMatch, ir.HostMatch, ir.MethodMatch, ir.HeaderMatch, ir.SourceMatch, ir.TlsMatch)
HTTP_MATCHERS = (ir.PathMatch, ir.HostMatch, ir.MethodMatch, ir.HeaderMatch)

PATH_FETCHES = {"exact": "path", "prefix": "path_beg", "suffix": "path_end", "regex": "path_reg"}
MATCH_METHODS = {"exact": "str", "prefix": "beg", "suffix": "end", "contains": "sub", "regex": "reg",
                 "present": "found"}
# The Host header without its port (``host:8080`` must match ``host``); host_only also
# understands IPv6 literals in brackets. Host names compare case-insensitively, hence ``-i``.
HOST_FETCH = "req.hdr(host),host_only"


@dataclass(frozen=True)
class Literal:
    atom: str  # an ACL name or an anonymous ACL "{ ... }"
    negated: bool = False

    def render(self) -> str:
        return f"!{self.atom}" if self.negated else self.atom

    def opposite(self) -> "Literal":
        return Literal(self.atom, not self.negated)


Term = tuple[Literal, ...]
ALWAYS: list[Term] = [()]
NEVER: list[Term] = []


def render_guard(terms: list[Term]) -> str:
    """``a b or !c``; only meaningful for a condition that is neither ALWAYS nor NEVER."""
    return " or ".join(" ".join(lit.render() for lit in term) for term in terms)


def simplify(terms: list[Term]) -> list[Term]:
    """Drop repeated literals, contradictory terms (``a !a``) and terms implied by others
    (``a b`` next to ``a``), keeping first-seen order so output is deterministic."""
    kept: list[tuple[frozenset[Literal], Term]] = []
    for term in terms:
        unique = tuple(dict.fromkeys(term))
        lits = frozenset(unique)
        if any(lit.opposite() in lits for lit in unique):
            continue
        if any(prev <= lits for prev, _ in kept):
            continue
        kept = [(prev, t) for prev, t in kept if not lits < prev]
        kept.append((lits, unique))
    return [t for _, t in kept]


# HAProxy resolves named ACLs with a linear search per use: loading N of them takes O(N²)
# (1 s at 10,000, 15 s at 50,000). Past this many, an ACL used once is written inline where
# it is used — the same condition, loaded in linear time. Smaller frontends keep their names.
INLINE_ACLS_ABOVE = 1000


class ConditionWriter:
    """The conditions of one frontend: its ``acl`` declarations and every rule's guard."""

    def __init__(self, ctx: Context, fe: ir.Frontend):
        self.ctx, self.fe = ctx, fe
        self.mode = ctx.frontend_mode(fe)
        self.acls: dict[str, ir.Acl] = {}
        for acl in fe.acls:
            self.acls.setdefault(acl.name, acl)  # duplicates are a validation error
        self.names = NameTable(reserved_words=ACL_RESERVED)
        self.names.reserve(self.acls)
        self.declarations: list[str] = []
        self._helpers: dict[str, str] = {}  # expression → generated ACL name
        self._flat: dict[str, list[ir.Node] | None] = {}
        self._expressions: dict[int, str | None] = {}  # id(matcher) → expression, None: failed
        self._declare_named_acls()

    # ------------------------------------------------------------------ declarations
    def _declare_named_acls(self) -> None:
        inline = self._used_once() if len(self.acls) > INLINE_ACLS_ABOVE else set()
        for name, acl in self.acls.items():
            matchers = self._declarable(name)
            if matchers is None or (name in inline and len(matchers) == 1):
                continue  # expanded where it is used
            try:
                expressions = [self._expression(m) for m in matchers]
            except Unwritable:
                self._flat[name] = None  # its users fail (and are left out) when they expand it
                continue
            acl_name = self.ctx.name_for(self.names, name, name, acl, "ACL")
            self.declarations += [f"acl {acl_name} {expr}" for expr in expressions]

    def _used_once(self) -> set[str]:
        """ACLs referred to exactly once in the frontend (by a rule or another ACL)."""
        uses: dict[str, int] = {}
        roots = [r.condition for r in self.fe.rules if r.condition is not None] + [a.condition for a in self.fe.acls]
        for root in roots:
            for node in ir.iter_nodes(root):
                if isinstance(node, ir.AclRef):
                    uses[node.name] = uses.get(node.name, 0) + 1
        return {name for name, count in uses.items() if count == 1}

    def _declarable(self, name: str, visiting: frozenset[str] = frozenset()) -> list[ir.Node] | None:
        """The matchers a named ACL ORs together, or None when it is not such an OR."""
        if name in self._flat:
            return self._flat[name]
        acl = self.acls.get(name)
        if acl is None or name in visiting:
            return None
        result = self._or_of_matchers(acl.condition, visiting | {name})
        self._flat[name] = result or None  # an empty OR never matches: expand it instead
        return self._flat[name]

    def _or_of_matchers(self, cond: ir.Node, visiting: frozenset[str]) -> list[ir.Node] | None:
        if isinstance(cond, MATCHERS):
            return [cond] if _has_patterns(cond) else None
        if isinstance(cond, ir.AclRef):
            return self._declarable(cond.name, visiting)
        if isinstance(cond, ir.AnyOf):
            out: list[ir.Node] = []
            for item in cond.items:
                part = self._or_of_matchers(item, visiting)
                if part is None:
                    return None
                out += part
            return out
        return None

    # ------------------------------------------------------------------ guards
    def guard(self, cond: ir.Condition | None) -> list[Term]:
        """The condition in DNF; ALWAYS for None. Raises Unwritable (diagnostic recorded)."""
        if cond is None:
            return ALWAYS
        return self._dnf(cond, False, frozenset())

    def _dnf(self, cond: ir.Node, negated: bool, visiting: frozenset[str]) -> list[Term]:
        if isinstance(cond, ir.Not):
            return self._dnf(cond.item, not negated, visiting)
        if isinstance(cond, (ir.All, ir.AnyOf)):
            conjunction = isinstance(cond, ir.All) != negated  # De Morgan
            parts = [self._dnf(item, negated, visiting) for item in cond.items]
            return self._and(parts, cond) if conjunction else simplify([t for p in parts for t in p])
        if isinstance(cond, ir.AclRef):
            return self._acl_ref(cond, negated, visiting)
        return self._matcher(cond, negated)

    def _and(self, parts: list[list[Term]], node: ir.Node) -> list[Term]:
        result = ALWAYS
        for part in parts:
            result = simplify([a + b for a in result for b in part])
            if len(result) > MAX_TERMS:
                self.ctx.diags.error(node.span, "P001",
                                     f"condition expands to more than {MAX_TERMS} alternatives in HAProxy's "
                                     "or-of-ands form; the rule is left out",
                                     hint="split the rule, or name the repeated parts as ACLs")
                raise Unwritable("condition too large")
        return result

    def _acl_ref(self, ref: ir.AclRef, negated: bool, visiting: frozenset[str]) -> list[Term]:
        acl = self.acls.get(ref.name)
        if acl is None or ref.name in visiting:
            problem = "unknown ACL" if acl is None else "ACL that refers to itself"
            self.ctx.diags.error(ref.span, "P001", f"{problem} {ref.name!r}; the rule is left out")
            raise Unwritable(problem)
        declared = self.names.lookup(ref.name)
        if declared is not None:
            return [(Literal(declared, negated),)]
        return self._dnf(acl.condition, negated, visiting | {ref.name})

    def _matcher(self, matcher: ir.Node, negated: bool) -> list[Term]:
        if not _has_patterns(matcher):  # no value to match: never true
            return ALWAYS if negated else NEVER
        return [(Literal(self._anonymous(matcher), negated),)]

    def atom(self, matcher: ir.Node) -> str:
        """One matcher as a condition word: an anonymous ACL, or a named one where it must be."""
        return self._anonymous(matcher)

    def _anonymous(self, matcher: ir.Node) -> str:
        expr = self._expression(matcher)
        if "}" not in _pattern_values(matcher):
            return "{ " + expr + " }"
        # HAProxy ends an anonymous ACL at the first "}" word, quoted or not: a pattern that
        # is exactly "}" needs a named ACL.
        if expr not in self._helpers:
            name = self.names.fresh(("helper", expr), f"pxc:acl{len(self._helpers) + 1}")
            self._helpers[expr] = name
            self.declarations.append(f"acl {name} {expr}")
        return self._helpers[expr]

    # ------------------------------------------------------------------ matchers
    def _expression(self, m: ir.Node) -> str:
        """``fetch -flags patterns`` for one matcher; each failure is reported once."""
        key = id(m)
        if key not in self._expressions:
            try:
                self._expressions[key] = self._build_expression(m)
            except Unwritable:
                self._expressions[key] = None
                raise
        expr = self._expressions[key]
        if expr is None:
            raise Unwritable("reported before")
        return expr

    def _build_expression(self, m: ir.Node) -> str:
        if self.mode == "tcp" and isinstance(m, HTTP_MATCHERS):
            self.ctx.diags.error(m.span, "P001", f"{m.type} matcher in frontend {self.fe.name!r}, which is in "
                                 "tcp mode: HAProxy cannot read HTTP there; the rule is left out")
            raise Unwritable("http matcher in tcp mode")
        head = self._fetch_and_flags(m)
        values = _pattern_values(m)
        patterns = [self.ctx.word(v, m, "match value") for v in values]
        # "--" ends the flags: a value starting with "-" would be read as one, and one starting
        # with "(" draws HAProxy's "likely a mistake" warning (fatal under -dW).
        if any(v.startswith(("-", "(")) for v in values):
            patterns.insert(0, "--")
        return " ".join(head + patterns)

    def _fetch_and_flags(self, m: ir.Node) -> list[str]:
        if isinstance(m, ir.PathMatch):
            return [PATH_FETCHES[m.op]] + (["-i"] if m.ignore_case else [])
        if isinstance(m, ir.HostMatch):
            return [HOST_FETCH, "-m", MATCH_METHODS[m.op], "-i"]
        if isinstance(m, ir.MethodMatch):
            return ["method"]
        if isinstance(m, ir.HeaderMatch):
            if not fetchable_header_name(m.name):
                self.ctx.diags.error(m.span, "P003", f"header name {m.name!r} cannot be written in a HAProxy "
                                     "fetch; the rule is left out")
                raise Unwritable("header name")
            # fhdr: the whole header value; hdr would split it at commas (User-Agent, Accept).
            flags = ["-i"] if m.ignore_case and m.op != "present" else []
            return [f"req.fhdr({m.name})", "-m", MATCH_METHODS[m.op]] + flags
        if isinstance(m, ir.SourceMatch):
            return ["src"]
        return ["ssl_fc"]

    # ------------------------------------------------------------------ reads
    def headers_read(self, cond: ir.Condition | None) -> set[str]:
        """Lower-case names of the request headers ``cond`` looks at (Host for host matchers)."""
        names: set[str] = set()
        self._collect_headers(cond, names, frozenset())
        return names

    def _collect_headers(self, cond, names: set[str], visiting: frozenset[str]) -> None:
        if cond is None:
            return
        if isinstance(cond, ir.HeaderMatch):
            names.add(cond.name.lower())
        elif isinstance(cond, ir.HostMatch):
            names.add("host")
        elif isinstance(cond, ir.Not):
            self._collect_headers(cond.item, names, visiting)
        elif isinstance(cond, (ir.All, ir.AnyOf)):
            for item in cond.items:
                self._collect_headers(item, names, visiting)
        elif isinstance(cond, ir.AclRef) and cond.name in self.acls and cond.name not in visiting:
            self._collect_headers(self.acls[cond.name].condition, names, visiting | {cond.name})


def _has_patterns(m: ir.Node) -> bool:
    if isinstance(m, ir.TlsMatch) or (isinstance(m, ir.HeaderMatch) and m.op == "present"):
        return True
    return bool(m.values)


def _pattern_values(m: ir.Node) -> list[str]:
    if isinstance(m, ir.TlsMatch) or (isinstance(m, ir.HeaderMatch) and m.op == "present"):
        return []
    return list(m.values)
