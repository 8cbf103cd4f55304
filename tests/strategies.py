"""Hypothesis strategies for the IR, for every test that wants generated configs.

``configs()`` draws a whole ``ir.Config`` that uses every node type, in bounded sizes, and that
passes ``proxyc.validate.validate``: names are unique and well formed, every ``use`` names an
upstream of the frontend's mode, every ACL reference a defined ACL (an ACL only ones above it),
every resolver reference a resolvers section, tcp frontends only match source/tls. Free text
(paths, bodies, header values, realms, raw blocks, comments) is hostile but valid: quotes,
backslashes, braces, ``;``, ``#``, keywords, line breaks where a value may hold them, non-ASCII.

``configs(hostile=True)`` draws names, header names, CIDRs and regexes from hostile text too
(``allow_nul=True`` adds NUL characters to quoted values; raw blocks and comments never hold
NUL: the .pxc reader refuses it outside quoted words). Such configs fail validation, but a writer must still
write them exactly or report them, and never be broken by them: use it for round-trip and
injection tests.

Every value drawn is one the .pxc reader can produce, so ``read(write(cfg)) == cfg`` is a fair
test: host matcher values are lower case and methods upper case (the reader normalises them),
numbers stay within the reader's ranges, a balance carries only its algorithm's settings, an
``All``/``AnyOf`` has two or more items, frontends and upstreams only the timeouts the DSL takes
there, and so on.

Strategies are built once per option set (``functools.cache``): building hypothesis strategies inside
a composite on every draw made generation ten times slower. Conditions and actions therefore
refer to ACLs and upstreams by position (placeholder names); ``bind_condition`` and
``bind_action`` turn them into real names once those are drawn.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache

from hypothesis import strategies as st

from proxyc import ir
from proxyc.dialects.common import format_address

# Which timeouts the DSL takes where (frontends: the client side; upstreams: the server side).
from proxyc.dialects.pxc.reader import (
    FRONTEND_TIMEOUTS,
    TIMEOUT_KEYS,
    UPSTREAM_TIMEOUTS,
)

MAX_ITEMS = 3  # list sizes: frontends, upstreams, servers, ACLs, rules, values, ...

# ------------------------------------------------------------------------------ strings

# Strings that have broken config writers somewhere: each would end a directive, open a block,
# start a comment, be read as a keyword or change meaning if spliced in unquoted.
NASTY = (
    "", " ", '"', "'", "''", '""', '"""', "\\", "\\\\", '\\"', "{", "}", "(", ")", ";", "#", "# x",
    "a b", "a;b", "a}b", "x\ny", "\n", "\t", "\r", "\r\n", "}\nfrontend evil {", "\";\ndeny 403;#",
    "$host", "${x}", "%[src]", "\\n", "\\0", "'single'", '"double"', "and", "or", "not", "if", "unless",
    "nocase", "prefix", "exact", "regex", "present", "path", "host", "tls", "http", "use", "default",
    "consistent", "two", "200", "5s", "0", "-1", "1e5", "é", "日本", "\u2028", "\u200b", "\x85",
    "\x0b", "line1\nline2\n", "raw", "frontend", "upstream",
)

# What generated strings are made of: every character that means something to the DSL, nginx or
# HAProxy, a few letters and digits, and some non-ASCII and invisible characters.
_ALPHABET = "abcdefXYZ019" + " \t\n\r\"'\\{}();#$%:/.*^?[]|,=!-_~" + "é日\u2028\u200b"


@cache
def hostile_text(*, max_size: int = 16, allow_nul: bool = False) -> st.SearchStrategy[str]:
    """Any string, biased towards the ones that break writers."""
    alphabet = _ALPHABET + ("\0" if allow_nul else "")
    drawn = st.text(alphabet=alphabet, max_size=max_size)
    glued = st.tuples(st.sampled_from(NASTY), drawn).map("".join)
    specimens = NASTY + (("a\0b", "\0") if allow_nul else ())
    return st.one_of(st.sampled_from(specimens), drawn, glued)


def lower_stable(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Strings the reader's ``.lower()`` leaves alone (host matcher values)."""
    return text.map(str.lower).filter(lambda s: s.lower() == s)


def upper_stable(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Strings the reader's ``.upper()`` leaves alone (methods)."""
    return text.map(str.upper).filter(lambda s: s.upper() == s)


# validate.NAME: letters, digits and _ . : ~ -, not starting with . : ~ -.
_NAME_FIRST = string.ascii_letters + string.digits + "_"
_NAME_REST = _NAME_FIRST + ".:~-"
# Valid names that are also DSL keywords or look like numbers or durations.
_NAME_SPECIMENS = ("and", "or", "not", "if", "use", "http", "tls", "path", "host", "default", "stats",
                   "server", "backup", "200", "5s", "a:b", "x.y-z~1")


@cache
def names() -> st.SearchStrategy[str]:
    """Names validate accepts (frontends, upstreams, ACLs, servers, resolvers)."""
    drawn = st.builds(str.__add__, st.sampled_from(_NAME_FIRST), st.text(alphabet=_NAME_REST, max_size=10))
    return st.sampled_from(_NAME_SPECIMENS) | drawn


@cache
def header_names() -> st.SearchStrategy[str]:
    """RFC 9110 tokens, as validate requires."""
    token = string.ascii_letters + string.digits + "!#$%&'*+.^_`|~-"
    return st.sampled_from(("Host", "X-Tenant", "and", "present", "nocase")) | st.text(token, min_size=1, max_size=12)


@cache
def header_values() -> st.SearchStrategy[str]:
    """No CR, LF or NUL: validate refuses them (header injection)."""
    return hostile_text().filter(lambda s: not any(ch in s for ch in "\r\n\0"))


# ------------------------------------------------------------------------------ numbers, hosts

@cache
def durations() -> st.SearchStrategy[int]:
    """Milliseconds: round values in every unit, and odd ones."""
    units = (1, 1000, 60_000, 3_600_000, 86_400_000)
    return st.one_of(st.builds(int.__mul__, st.integers(1, 120), st.sampled_from(units)), st.integers(1, 10**9))


@cache
def ports() -> st.SearchStrategy[int]:
    return st.sampled_from((1, 53, 80, 443, 8080, 65535)) | st.integers(1, 65535)


@cache
def hostnames() -> st.SearchStrategy[str]:
    """Host names the reader's parse_address accepts, keyword-like ones included."""
    label = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=8).filter(
        lambda s: s[0] != "-" and s[-1] != "-")
    dotted = st.lists(label, min_size=1, max_size=3).map(".".join)
    return st.sampled_from(("localhost", "echo-web1", "path", "and", "tg-net", "Echo_Web")) | dotted


@cache
def hosts() -> st.SearchStrategy[str]:
    """Host names, IPv4 and IPv6 addresses (IPv6 without brackets, as the IR holds them)."""
    return hostnames() | st.ip_addresses().map(str)


@cache
def cidrs() -> st.SearchStrategy[str]:
    v4 = st.builds("{}/{}".format, st.ip_addresses(v=4), st.integers(0, 32))
    v6 = st.builds("{}/{}".format, st.ip_addresses(v=6), st.integers(0, 128))
    return st.one_of(st.ip_addresses().map(str), v4, v6)


@cache
def regexes() -> st.SearchStrategy[str]:
    """Regexes that compile: realistic ones and escaped hostile text."""
    realistic = st.sampled_from((r"\.php$", r"^/api/v[0-9]+/", r"(?i)^/static/.*\.(css|js)$", r"^/a b$",
                                 r'^/"quoted"', r"^/\{x\}$", "^/x;y#z$"))
    return realistic | hostile_text().map(re.escape)


def _values(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(strategy, min_size=1, max_size=MAX_ITEMS)


@dataclass(frozen=True)
class Vocabulary:
    """Where a generated config's strings come from: valid values, or hostile text for all."""

    text: st.SearchStrategy[str]
    names: st.SearchStrategy[str]
    header_names: st.SearchStrategy[str]
    header_values: st.SearchStrategy[str]
    cidrs: st.SearchStrategy[str]
    regexes: st.SearchStrategy[str]
    host_values: st.SearchStrategy[str]  # host matcher values (lower case: the reader lowers them)
    host_regexes: st.SearchStrategy[str]


@cache
def vocabulary(hostile: bool = False, allow_nul: bool = False) -> Vocabulary:
    text = hostile_text(allow_nul=allow_nul)
    if hostile:
        return Vocabulary(text=text, names=text, header_names=text, header_values=text, cidrs=text,
                          regexes=text, host_values=lower_stable(text), host_regexes=lower_stable(text))
    return Vocabulary(
        text=text, names=names(), header_names=header_names(), header_values=header_values(), cidrs=cidrs(),
        regexes=regexes(), host_values=(hostnames() | hostnames().map(".".__add__)).map(str.lower),
        host_regexes=lower_stable(regexes()),
    )


# ------------------------------------------------------------------------------ references

# Placeholders for names not drawn yet; the NUL makes validate refuse any left unbound.
_REF = "\0ref"


def _placeholder(index: int) -> str:
    return f"{_REF}{index}"


def _bound(name: str, choices: list[str]) -> str | None:
    if not name.startswith(_REF):
        return name
    return choices[int(name[len(_REF):]) % len(choices)] if choices else None


def bind_condition(cond, acl_names: list[str]):
    """``cond`` with placeholder ACL references turned into ``acl_names`` (a TLS matcher when
    there are none, so the tree keeps its shape)."""
    if isinstance(cond, ir.AclRef):
        name = _bound(cond.name, acl_names)
        return ir.AclRef(name=name) if name is not None else ir.TlsMatch()
    if isinstance(cond, ir.Not):
        return ir.Not(item=bind_condition(cond.item, acl_names))
    if isinstance(cond, (ir.All, ir.AnyOf)):
        return type(cond)(items=[bind_condition(item, acl_names) for item in cond.items])
    return cond


def bind_action(action, upstream_names: list[str]):
    """``action`` with a placeholder upstream turned into one of ``upstream_names`` (a deny when
    there are none)."""
    if isinstance(action, ir.UseUpstream):
        name = _bound(action.upstream, upstream_names)
        return ir.UseUpstream(upstream=name) if name is not None else ir.Deny()
    return action


# ------------------------------------------------------------------------------ conditions

@cache
def matchers(hostile: bool = False, allow_nul: bool = False, *, http: bool = True) -> st.SearchStrategy:
    """One matcher of any kind; ``http=False`` keeps to those valid in tcp mode."""
    vocab = vocabulary(hostile, allow_nul)
    tcp = [st.builds(ir.SourceMatch, values=_values(vocab.cidrs)), st.just(ir.TlsMatch())]
    if not http:
        return st.one_of(tcp)
    ops = ("exact", "prefix", "suffix", "regex")

    def path(op):
        return st.builds(ir.PathMatch, op=st.just(op), values=_values(vocab.regexes if op == "regex" else vocab.text),
                         ignore_case=st.booleans())

    def host(op):
        return st.builds(ir.HostMatch, op=st.just(op),
                         values=_values(vocab.host_regexes if op == "regex" else vocab.host_values))

    def header(op):
        values = vocab.regexes if op == "regex" else vocab.header_values
        return st.builds(ir.HeaderMatch, name=vocab.header_names, op=st.just(op), values=_values(values),
                         ignore_case=st.booleans())

    methods = st.sampled_from(("GET", "POST", "PUT", "DELETE", "AND", "OR", "PURGE")) | upper_stable(vocab.text)
    return st.one_of(
        st.one_of([path(op) for op in ops]),
        st.one_of([host(op) for op in ops]),
        st.builds(ir.MethodMatch, values=_values(methods)),
        st.builds(ir.HeaderMatch, name=vocab.header_names, op=st.just("present")),
        st.one_of([header(op) for op in (*ops, "contains")]),
        *tcp,
    )


@cache
def conditions(hostile: bool = False, allow_nul: bool = False, *, http: bool = True,
               max_leaves: int = 5) -> st.SearchStrategy:
    """A condition tree over matchers and placeholder ACL references (see ``bind_condition``).
    All/AnyOf have two or more items: a one-item All is written, and read back, as its item."""
    refs = st.integers(0, MAX_ITEMS - 1).map(lambda i: ir.AclRef(name=_placeholder(i)))
    leaves = matchers(hostile, allow_nul, http=http) | refs

    def extend(children):
        items = st.lists(children, min_size=2, max_size=MAX_ITEMS)
        return st.one_of(st.builds(ir.Not, item=children), st.builds(ir.All, items=items),
                         st.builds(ir.AnyOf, items=items))

    return st.recursive(leaves, extend, max_leaves=max_leaves)


# ------------------------------------------------------------------------------ actions

@cache
def actions(hostile: bool = False, allow_nul: bool = False, *, http: bool = True) -> st.SearchStrategy:
    """Use a placeholder upstream (see ``bind_action``), deny, or in http mode redirect/return."""
    text = vocabulary(hostile, allow_nul).text
    choices = [
        st.integers(0, MAX_ITEMS - 1).map(lambda i: ir.UseUpstream(upstream=_placeholder(i))),
        st.builds(ir.Deny, status=st.sampled_from((403, 404, 429)) | st.integers(100, 599)),
    ]
    if http:
        code = st.sampled_from((301, 302, 303, 307, 308))
        choices += [
            st.builds(ir.Redirect, code=code, scheme=st.sampled_from(("http", "https"))),
            st.builds(ir.Redirect, code=code, location=text),
            st.builds(ir.Redirect, code=code, prefix=text),
            st.builds(ir.Return, status=st.integers(100, 599), body=text,
                      content_type=st.sampled_from(("text/plain", "application/json")) | text),
        ]
    return st.one_of(choices)


# ------------------------------------------------------------------------------ frontends

@cache
def listens(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.Listen]:
    text = vocabulary(hostile, allow_nul).text
    tls = st.none() | st.builds(ir.Tls, cert=text, key=st.none() | text)
    return st.builds(ir.Listen, address=st.none() | hosts(), port=ports(), tls=tls, default_server=st.booleans())


@cache
def timeouts(keys: tuple[str, ...]) -> st.SearchStrategy[ir.Timeouts]:
    return st.fixed_dictionaries({}, optional={key: durations() for key in keys}).map(lambda d: ir.Timeouts(**d))


@cache
def stats(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.Stats]:
    text = vocabulary(hostile, allow_nul).text
    # The DSL writes a user as one "user:password" word, so a user name holds no ':'.
    user = st.builds(ir.StatsUser, user=text.filter(lambda s: ":" not in s), password=text)
    return st.builds(ir.Stats, uri=st.just("/") | text, refresh=st.none() | durations(),
                     users=st.lists(user, max_size=2), realm=st.none() | text)


@cache
def header_ops(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.HeaderOp]:
    vocab = vocabulary(hostile, allow_nul)
    return st.one_of(
        st.builds(ir.HeaderOp, action=st.sampled_from(("set", "add")), name=vocab.header_names,
                  value=vocab.header_values),
        st.builds(ir.HeaderOp, action=st.just("delete"), name=vocab.header_names),
    )


@cache
def raw_texts() -> st.SearchStrategy[str]:
    """Raw text the DSL can hold: no NUL, no \"\"\", not ending in a quote, a space or a tab."""
    text = hostile_text(max_size=40)
    return text.filter(lambda s: '"""' not in s and not s.endswith(('"', " ", "\t")))


CONFIG_RAW_CONTEXTS = {"nginx": ("main", "http", "stream", None), "haproxy": ("global", "defaults", "sections", None)}


@cache
def raws(*, top_level: bool = False) -> st.SearchStrategy[ir.Raw]:
    """Raw blocks; on the config (``top_level``) with a context that fits their target."""
    def for_target(target):
        contexts = CONFIG_RAW_CONTEXTS[target] if top_level else (None,)
        return st.builds(ir.Raw, target=st.just(target), text=raw_texts(), context=st.sampled_from(contexts))

    return st.one_of(for_target("nginx"), for_target("haproxy"))


@st.composite
def frontends(draw, name: str, upstream_modes: dict[str, str], default_mode: str,
              hostile: bool = False, allow_nul: bool = False) -> ir.Frontend:
    """A frontend named ``name`` whose actions use only upstreams of its own mode
    (``upstream_modes``: upstream name → the mode of the frontends that use it)."""
    vocab = vocabulary(hostile, allow_nul)
    explicit_mode = draw(st.sampled_from((None, "http", "tcp")))
    mode = explicit_mode or default_mode
    http = mode == "http"
    usable = [n for n, m in upstream_modes.items() if m == mode]

    acl_names = draw(st.lists(vocab.names, max_size=MAX_ITEMS, unique=True))
    acl_conditions = conditions(hostile, allow_nul, http=http, max_leaves=3)
    # An ACL refers only to the ones above it: no cycles.
    acls = [ir.Acl(name=acl_name, condition=bind_condition(draw(acl_conditions), acl_names[:index]))
            for index, acl_name in enumerate(acl_names)]
    any_action = actions(hostile, allow_nul, http=http)
    rules = [ir.Rule(condition=bind_condition(cond, acl_names) if cond is not None else None,
                     action=bind_action(action, usable))
             for cond, action in draw(st.lists(st.tuples(st.none() | conditions(hostile, allow_nul, http=http),
                                                         any_action), max_size=MAX_ITEMS))]
    default = draw(st.none() | any_action)
    http_only = {
        "request_headers": draw(st.lists(header_ops(hostile, allow_nul), max_size=2)),
        "response_headers": draw(st.lists(header_ops(hostile, allow_nul), max_size=2)),
        "forwardfor": draw(st.booleans()),
        "normalize_uri": draw(st.booleans()),
        "stats": draw(st.none() | stats(hostile, allow_nul)),
    } if http else {}
    return ir.Frontend(
        name=name,
        mode=explicit_mode,
        listens=draw(st.lists(listens(hostile, allow_nul), min_size=1, max_size=2)),
        acls=acls,
        rules=rules,
        default=bind_action(default, usable) if default is not None else None,
        timeouts=draw(timeouts(FRONTEND_TIMEOUTS)),
        raw=draw(st.lists(raws(), max_size=1)),
        **http_only,
    )


# ------------------------------------------------------------------------------ upstreams

@cache
def balances(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.Balance]:
    """Every algorithm, each with only the settings it takes."""
    # The reader tells the flag "consistent" from a key name by its unquoted text, so a key
    # named "consistent" does not read back yet (see the xfail in tests/test_pxc_writer.py).
    key_name = vocabulary(hostile, allow_nul).text.filter(lambda s: s != "consistent")
    return st.one_of(
        st.builds(ir.Balance, algorithm=st.sampled_from(("round_robin", "least_conn", "source", "first"))),
        st.builds(ir.Balance, algorithm=st.just("random"), choices=st.none() | st.integers(2, 100)),
        st.builds(ir.Balance, algorithm=st.just("hash"), key=st.just("uri"), consistent=st.booleans()),
        st.builds(ir.Balance, algorithm=st.just("hash"), key=st.sampled_from(("header", "cookie", "param")),
                  key_name=key_name, consistent=st.booleans()),
    )


@cache
def servers(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.Server]:
    vocab = vocabulary(hostile, allow_nul)
    return st.builds(
        ir.Server, name=vocab.names, host=hosts(), port=st.none() | ports(),
        weight=st.sampled_from((1, 0, 60, 256)) | st.integers(0, 256),
        backup=st.booleans(), down=st.booleans(), check=st.booleans(),
        max_conns=st.none() | st.integers(1, 1_000_000), slow_start=st.none() | durations(),
        cookie=st.none() | vocab.text, count=st.none() | st.integers(1, 10_000),
    )


@cache
def health_checks(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.HealthCheck]:
    text = vocabulary(hostile, allow_nul).text
    http = st.builds(ir.HttpCheck, method=st.sampled_from(("GET", "HEAD", "OPTIONS")) | upper_stable(text),
                     path=text, expect_status=st.none() | st.integers(100, 599), host=st.none() | text)
    count = st.none() | st.integers(1, 1000)
    return st.builds(ir.HealthCheck, interval=st.none() | durations(), rise=count, fall=count,
                     timeout=st.none() | durations(), http=st.none() | http)


@cache
def passives() -> st.SearchStrategy[ir.Passive]:
    """At least one setting: a passive line with none says nothing."""
    return st.one_of(
        st.builds(ir.Passive, max_fails=st.integers(0, 1000), fail_timeout=st.none() | durations()),
        st.builds(ir.Passive, fail_timeout=durations()),
    )


@st.composite
def upstreams(draw, name: str, mode: str | None, resolver_names: list[str],
              hostile: bool = False, allow_nul: bool = False) -> ir.Upstream:
    text = vocabulary(hostile, allow_nul).text
    return ir.Upstream(
        name=name,
        mode=mode,
        balance=draw(balances(hostile, allow_nul)),
        servers=draw(st.lists(servers(hostile, allow_nul), max_size=MAX_ITEMS, unique_by=lambda s: s.name)),
        health=draw(st.none() | health_checks(hostile, allow_nul)),
        passive=draw(st.none() | passives()),
        resolver=draw(st.none() | st.sampled_from(resolver_names)) if resolver_names else None,
        sticky_cookie=draw(st.none() | text),
        timeouts=draw(timeouts(UPSTREAM_TIMEOUTS)),
        raw=draw(st.lists(raws(), max_size=1)),
    )


# ------------------------------------------------------------------------------ the config

@cache
def nameservers(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.Nameserver]:
    return st.builds(ir.Nameserver, name=vocabulary(hostile, allow_nul).names, address=hosts(), port=ports())


@cache
def logs(hostile: bool = False, allow_nul: bool = False) -> st.SearchStrategy[ir.Log]:
    """Facility and level are positional: a level comes with a facility."""
    word = st.sampled_from(("local0", "info", "and", "daemon", "debug"))
    if hostile:
        word = word | vocabulary(hostile, allow_nul).text
    address = st.one_of(hosts(), st.builds(format_address, hosts(), st.just(514)))
    levels = st.one_of(st.tuples(st.none(), st.none()), st.tuples(word, st.none()), st.tuples(word, word))
    return st.one_of(
        st.builds(lambda a, lv: ir.Log(target="syslog", address=a, facility=lv[0], level=lv[1]), address, levels),
        st.builds(lambda t, lv: ir.Log(target=t, facility=lv[0], level=lv[1]),
                  st.sampled_from(("stdout", "stderr")), levels),
    )


@cache
def defaults() -> st.SearchStrategy[ir.Defaults]:
    plain = st.just(ir.Defaults())
    return plain | st.builds(ir.Defaults, mode=st.sampled_from(("http", "tcp")), timeouts=timeouts(TIMEOUT_KEYS),
                             forwardfor=st.booleans(), log=st.booleans())


@st.composite
def configs(draw, *, hostile: bool = False, allow_nul: bool = False, comments: bool = True) -> ir.Config:
    """A whole config; see the module docstring for what holds for it."""
    unique_names = st.lists(vocabulary(hostile, allow_nul).names, max_size=MAX_ITEMS, unique=True)
    resolver_names = draw(unique_names)
    upstream_names = draw(unique_names)
    frontend_names = draw(unique_names)
    dflt = draw(defaults())
    # Each upstream serves frontends of one mode; it states that mode or leaves it implicit.
    upstream_modes = {n: draw(st.sampled_from(("http", "tcp"))) for n in upstream_names}
    cfg = ir.Config(
        defaults=dflt,
        logs=draw(st.lists(logs(hostile, allow_nul), max_size=2)),
        resolvers=[ir.Resolver(name=n, nameservers=draw(st.lists(nameservers(hostile, allow_nul), min_size=1, max_size=2)),
                               hold_valid=draw(st.none() | durations()), timeout=draw(st.none() | durations()),
                               retries=draw(st.none() | st.integers(1, 100)))
                   for n in resolver_names],
        frontends=[draw(frontends(n, upstream_modes, dflt.mode, hostile, allow_nul)) for n in frontend_names],
        upstreams=[draw(upstreams(n, draw(st.sampled_from((None, m))), resolver_names, hostile, allow_nul))
                   for n, m in upstream_modes.items()],
        raw=draw(st.lists(raws(top_level=True), max_size=2)),
    )
    if comments:
        add_comments(draw, cfg)
    return cfg


def add_comments(draw, cfg: ir.Config) -> None:
    """Comments on a few nodes anywhere in the tree, hostile ones included: a line break in a
    comment must not let the rest of it be read as configuration. (One draw per comment, not
    one per node: drawing per node made generation a third slower.)"""
    nodes = list(ir.iter_nodes(cfg))
    comments = draw(st.lists(st.lists(hostile_text(max_size=12), min_size=1, max_size=2), max_size=6))
    placement = draw(st.randoms(use_true_random=False))
    for node in nodes:
        node.comments = []
    for texts in comments:
        node = placement.choice(nodes)
        node.comments = [*node.comments, *texts]
