"""A frontend's routing as it was written (named ACLs, rule order, ``default``), carried above
an nginx server block as ``# proxyc:`` comments (see ``proxyc/dialects/provenance.py``).

nginx keeps none of it: the writer turns a first-match list of path rules into exact and
prefix locations, and the reader turns those back into nginx's own order (exact first, then
the longest prefix) with every ACL inlined. Both lists mean the same, but they are not the same
IR. The reader takes the comment's routing only after checking that it routes *every* path
exactly as the locations it read do; for lists of case-sensitive exact and prefix matches that
check is complete (``same_first_match``), so an edited config is read from its locations, and a
config without the comments imports as any hand-written one.
"""
from __future__ import annotations

from ... import ir
from .. import provenance
from .quoting import comment_safe
from .writer_out import COMMENT_BYTES

PathOp = tuple[str, str]  # ("exact" | "prefix", path)


def routing_comments(fe: ir.Frontend, *, with_stats: bool = False) -> list[str]:
    """The frontend's ACLs, rules and default as provenance comment texts (all or nothing);
    ``with_stats``: its stats page's address first (a route map routes it like a rule). Of a
    stats page with a login only that it had one: nginx answers 403 there (it cannot hold the
    password file), and the passwords stay out of the file."""
    from ..pxc.writer import _Writer

    writer = _Writer()
    lines = []
    if with_stats and fe.stats is not None:
        # nginx has neither refresh nor realm, and serves the page for the path part (P001)
        lines.append(writer.stats(ir.Stats(uri=fe.stats.uri.split("?", 1)[0])))
        if fe.stats.users:
            lines.append(f"{STATS_CLOSED} {len(fe.stats.users)}")
    lines += [writer.acl(acl, 0) for acl in fe.acls] + [writer.rule(rule) for rule in fe.rules]
    if fe.default is not None:
        lines.append(writer.default(fe.default))
    too_long = COMMENT_BYTES - 2  # "# " and the text: Out.comment splits a longer line
    if writer.diags or any(comment_safe(line) != line or len(provenance.comment(line).encode()) > too_long
                           or line.endswith("\\") for line in lines):
        # A line break, an invisible character or a split line would change what it says, and
        # nginx's lexer takes a backslash at the end of a comment with the line break after it.
        return []
    return [provenance.comment(line) for line in lines]


ROUTING_KEYWORDS = ("acl", "use", "redirect", "return", "deny", "default")
# ``proxyc: stats_closed N``: the stats page had a login of N users, so nginx answers 403 there.
STATS_CLOSED = "stats_closed"


def stats_closed(comments: list[str]) -> int | None:
    """The number of users of a stats page the writer closed (``STATS_CLOSED``), or None."""
    for c in comments:
        said = (provenance.payload(c) or "").split(" ")
        if len(said) == 2 and said[0] == STATS_CLOSED and said[1].isdigit() and int(said[1]) > 0:
            return int(said[1])
    return None


def closed_stats_rule(stats: ir.Stats) -> ir.Rule:
    """What nginx does at a stats page the writer closed (``STATS_CLOSED``): a deny (403) on the
    page's path, first, where the page was (a prefix, as frontend_entries routes it)."""
    path = ir.PathMatch(op="prefix", values=[stats.uri.split("?", 1)[0]], span=stats.span)
    return ir.Rule(condition=path, action=ir.Deny(status=403, span=stats.span), span=stats.span)


def routing_from_comments(comments: list[str], keywords: tuple[str, ...] = ROUTING_KEYWORDS) -> ir.Frontend | None:
    """The routing the comments carry (a frontend holding only acls, rules and default, and
    the stats page when ``keywords`` has "stats")."""
    lines = [text for c in comments if (text := provenance.payload(c)) is not None
             and text.split(" ", 1)[0] in keywords]
    return provenance.parse_frontend_lines(lines) if lines else None


def same_first_match(a: ir.Frontend, b: ir.Frontend) -> bool:
    """Whether two frontends whose rules match only case-sensitive exact and prefix paths send
    every path to the same action. False when either has any other condition.

    Complete: a path's fate depends only on which literals equal it and which are its prefixes.
    A path that is no literal has the same prefixes as L+c, where L is its longest literal
    prefix and c a character making L+c no literal (or as "/" when it has none but ""), so the
    literals, each literal followed by such a character, and "/" are every case there is, of
    those that start with "/" as a request's path does."""
    first, second = _path_rules(a), _path_rules(b)
    if first is None or second is None:
        return False
    literals = {value for rules, _ in (first, second) for alternatives, _ in rules for _, value in alternatives}
    candidates = set(literals) | {"/"}
    for literal in literals:
        candidates.add(next(literal + c for c in "\x01\x02\x03\x04" if literal + c not in literals))
    # A request's path starts with "/": "/" stands for the paths no literal but "" prefixes.
    candidates = {path for path in candidates if path.startswith("/")}
    first_index, second_index = _Index(first), _Index(second)
    return all(as_written(first_index.route(path)) == as_written(second_index.route(path)) for path in candidates)


def as_written(action):
    """An action as nginx holds it: a deny is ``return <status>`` and no default is ``return
    503``, which read back as a return without text, so those compare equal; a redirect
    prefix of "" is one of "/" (none)."""
    if action is None:
        return ("status", 503)
    if isinstance(action, ir.Deny) or (isinstance(action, ir.Return) and not action.body):
        return ("status", action.status)
    if isinstance(action, ir.Redirect) and action.prefix == "":
        return action.model_copy(update={"prefix": "/"})  # both mean none: the writer writes one form
    return action


class _Index:
    """First match in time linear in the path's length, not in the number of rules: the
    first rule holding each exact path and each prefix (a 10,000-location server is checked
    in well under a second)."""

    def __init__(self, compiled) -> None:
        rules, self.default = compiled
        self.actions = [action for _, action in rules]
        self.exact: dict[str, int] = {}
        self.prefix: dict[str, int] = {}
        for index, (alternatives, _) in enumerate(rules):
            for op, value in alternatives:
                (self.exact if op == "exact" else self.prefix).setdefault(value, index)

    def route(self, path: str):
        hits = [self.prefix[path[:n]] for n in range(len(path) + 1) if path[:n] in self.prefix]
        if path in self.exact:
            hits.append(self.exact[path])
        return self.actions[min(hits)] if hits else self.default


def _path_rules(fe: ir.Frontend):
    acls = {acl.name: acl for acl in fe.acls}
    rules = []
    given = fe.rules
    # A last rule that does what the default does changes no route, whatever it matches.
    while given and as_written(given[-1].action) == as_written(fe.default):
        given = given[:-1]
    for rule in given:
        alternatives = _alternatives(rule.condition, acls, frozenset())
        if alternatives is None:
            return None
        rules.append((alternatives, rule.action))
    return rules, fe.default


def _alternatives(cond, acls: dict[str, ir.Acl], visiting: frozenset[str]) -> list[PathOp] | None:
    if cond is None:
        return [("prefix", "")]
    if isinstance(cond, ir.PathMatch):
        if cond.op not in ("exact", "prefix") or cond.ignore_case:
            return None
        return [(cond.op, value) for value in cond.values]
    if isinstance(cond, ir.AnyOf):
        out: list[PathOp] = []
        for item in cond.items:
            part = _alternatives(item, acls, visiting)
            if part is None:
                return None
            out += part
        return out
    if isinstance(cond, ir.AclRef) and cond.name in acls and cond.name not in visiting:
        return _alternatives(acls[cond.name].condition, acls, visiting | {cond.name})
    return None
