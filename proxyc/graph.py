"""``proxyc graph``: the routing topology of a config as Mermaid, Graphviz DOT or SVG.

The picture follows the IR's meaning (DESIGN §2): each frontend (with its listeners) leads to
its first rule; a rule that matches ("yes") decides, otherwise ("no") the next rule is tried,
then the default. Rules show their condition (ACL names, and what each named ACL matches);
upstreams show their algorithm, servers their weight and backup/down marks. What nginx or
HAProxy cannot express (the writers' P-codes) is attached as a note to the node it concerns.

Every label is escaped for its format: node ids are generated, never taken from the config, so
a hostile name can only ever be text inside a label.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field

DOT_TIMEOUT = 30  # seconds
WRITER_TARGETS = ("nginx", "haproxy")


@dataclass
class GNode:
    id: str
    kind: str  # frontend | rule | action | default | noroute | upstream | server | note
    lines: list[str]


@dataclass
class GEdge:
    src: str
    dst: str
    label: str | None = None
    dashed: bool = False


@dataclass
class Graph:
    nodes: list[GNode] = field(default_factory=list)
    edges: list[GEdge] = field(default_factory=list)

    def node(self, node_id: str, kind: str, lines: list[str]) -> str:
        self.nodes.append(GNode(node_id, kind, lines))
        return node_id

    def edge(self, src: str, dst: str, label: str | None = None, dashed: bool = False) -> None:
        self.edges.append(GEdge(src, dst, label, dashed))


# ====================================================================== building the graph


def build_graph(cfg, notes: list | None = None) -> Graph:
    """The topology of ``cfg``; ``notes`` are diagnostics (P-codes) to attach by their location."""
    graph = Graph()
    upstream_ids = {up.name: f"up{i}" for i, up in enumerate(cfg.upstreams)}
    owners: dict[tuple, str] = {}  # a node's span → the graph node it is drawn in
    for i, fe in enumerate(cfg.frontends):
        _add_frontend(graph, cfg, fe, f"fe{i}", upstream_ids, owners)
    for i, up in enumerate(cfg.upstreams):
        _add_upstream(graph, up, f"up{i}", owners)
    _add_notes(graph, notes or [], owners)
    return graph


def _claim(owners: dict[tuple, str], node, graph_id: str) -> None:
    """Map every IR node under ``node`` to ``graph_id``; later (finer) claims win."""
    from .ir.walk import iter_nodes

    for sub in iter_nodes(node):
        if sub.span is not None:
            owners[(sub.span.file, sub.span.line, sub.span.col)] = graph_id


def _add_frontend(graph: Graph, cfg, fe, fe_id: str, upstream_ids: dict[str, str], owners: dict) -> None:
    mode = fe.mode or cfg.defaults.mode
    lines = [f"frontend {fe.name}", *_listen_lines(fe), f"mode {mode}"]
    if fe.stats is not None:
        lines.append(f"stats uri {fe.stats.uri}")
    if fe.normalize_uri:
        lines.append("normalize_uri")
    graph.node(fe_id, "frontend", lines)
    _claim(owners, fe, fe_id)

    previous, edge_label = fe_id, None
    acls = {}
    for acl in fe.acls:
        acls.setdefault(acl.name, []).append(acl.condition)
    for j, rule in enumerate(fe.rules):
        rule_id = f"{fe_id}r{j}"
        graph.node(rule_id, "rule" if rule.action.type == "use" else "action", _rule_lines(j, rule, acls))
        _claim(owners, rule, rule_id)
        graph.edge(previous, rule_id, edge_label)
        _link_action(graph, rule_id, rule.action, upstream_ids, "yes" if rule.condition is not None else None)
        # After an unconditional rule nothing else is ever tried: say so on the edge.
        previous = rule_id
        edge_label = "never" if rule.condition is None or edge_label == "never" else "no"
    if fe.default is not None:
        default_id = graph.node(f"{fe_id}d", "default" if fe.default.type == "use" else "action",
                                [f"default: {_action_text(fe.default)}"])
        _claim(owners, fe.default, default_id)
        graph.edge(previous, default_id, edge_label)
        _link_action(graph, default_id, fe.default, upstream_ids, None)
    elif mode == "http" and fe.stats is None and edge_label != "never":
        end_id = graph.node(f"{fe_id}none", "noroute", ["no route", "HAProxy 503, nginx 404"])
        graph.edge(previous, end_id, edge_label)


def _listen_lines(fe) -> list[str]:
    lines = []
    for lst in fe.listens:
        text = f"listen {lst.address or '*'}:{lst.port}"
        if lst.tls is not None:
            text += " tls"
        if lst.default_server:
            text += " default_server"
        lines.append(text)
    return lines


def _rule_lines(index: int, rule, acls: dict[str, list]) -> list[str]:
    from .routing import describe_condition

    lines = [f"{index + 1}. {_action_text(rule.action)}"]
    if rule.condition is not None:
        lines.append(f"if {describe_condition(rule.condition)}")
        for name in _acl_names(rule.condition, acls):
            for condition in acls.get(name, []):
                lines.append(f"acl {name}: {describe_condition(condition)}")
    return lines


def _acl_names(condition, acls: dict[str, list]) -> list[str]:
    """ACLs a condition uses, nested ones included, in order of first use."""
    found: list[str] = []

    def walk(cond) -> None:
        kind = cond.type
        if kind == "acl":
            if cond.name not in found:
                found.append(cond.name)
                for inner in acls.get(cond.name, []):
                    walk(inner)
        elif kind == "not":
            walk(cond.item)
        elif kind in ("all", "any"):
            for item in cond.items:
                walk(item)

    walk(condition)
    return found


def _action_text(action) -> str:
    from .routing import describe_action

    return describe_action(action)


def _link_action(graph: Graph, node_id: str, action, upstream_ids: dict[str, str], label: str | None) -> None:
    if action.type == "use" and action.upstream in upstream_ids:
        graph.edge(node_id, upstream_ids[action.upstream], label)


def _add_upstream(graph: Graph, up, up_id: str, owners: dict) -> None:
    lines = [f"upstream {up.name}", _balance_text(up.balance)]
    if up.health is not None:
        lines.append("health check" + (f" every {_duration(up.health.interval)}" if up.health.interval else ""))
    if up.resolver:
        lines.append(f"resolver {up.resolver}")
    if up.sticky_cookie:
        lines.append(f"sticky cookie {up.sticky_cookie}")
    graph.node(up_id, "upstream", lines)
    _claim(owners, up, up_id)
    for k, srv in enumerate(up.servers):
        server_id = graph.node(f"{up_id}s{k}", "server", _server_lines(srv))
        _claim(owners, srv, server_id)
        graph.edge(up_id, server_id, dashed=srv.backup or srv.down)


def _balance_text(balance) -> str:
    text = f"balance {balance.algorithm}"
    if balance.algorithm == "hash":
        text += f" {balance.key or 'uri'}" + (f" {balance.key_name}" if balance.key_name else "")
        text += " consistent" if balance.consistent else ""
    if balance.choices:
        text += f" choices {balance.choices}"
    return text


def _server_lines(srv) -> list[str]:
    from .dialects.common import format_address

    marks = [f"weight {srv.weight}"]
    marks += [word for word, on in (("BACKUP", srv.backup), ("DOWN", srv.down), ("check", srv.check)) if on]
    if srv.max_conns is not None:
        marks.append(f"max_conns {srv.max_conns}")
    if srv.count is not None:
        marks.append(f"up to {srv.count} (DNS)")
    return [f"{srv.name} {format_address(srv.host, srv.port)}", " ".join(marks)]


def _duration(ms: int) -> str:
    from .ir.walk import format_duration

    return format_duration(ms)


def _add_notes(graph: Graph, notes: list, owners: dict[tuple, str]) -> None:
    """One note per graph node, listing what each target could not express there."""
    by_owner: dict[str, list[str]] = {}
    for diag in notes:
        owner = owners.get((diag.file, diag.line, diag.col), "config")
        line = f"{diag.code}: {diag.message}"
        bucket = by_owner.setdefault(owner, [])
        if line not in bucket:
            bucket.append(line)
    order = [n.id for n in graph.nodes] + ["config"]
    for owner in sorted(by_owner, key=order.index):
        note_id = f"note_{owner}"
        title = "not portable (whole config)" if owner == "config" else "not portable"
        graph.node(note_id, "note", [title, *by_owner[owner]])
        if owner != "config":
            graph.edge(note_id, owner, dashed=True)


def portability_notes(cfg) -> list:
    """Both writers' P-codes, each message prefixed with the target, in a stable order."""
    from .api import write

    notes = []
    for target in WRITER_TARGETS:
        _, diags = write(cfg, target)
        for d in sorted(diags, key=lambda d: d.sort_key()):
            if d.code.startswith("P"):
                notes.append(_retitled(d, target))
    return notes


def _retitled(diag, target: str):
    from dataclasses import replace

    return replace(diag, message=f"{target}: {diag.message}")


# ====================================================================== text escaping


def _printable(text: str) -> str:
    """Control characters shown as escapes: a label is one visual line per entry."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "|": "#124;",
                     "`": "#96;", "\\": "#92;"}


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label: every character Mermaid could read as syntax
    (quotes, pipes, HTML) becomes an entity code."""
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in _printable(text))


def dot_text(text: str) -> str:
    """Text safe inside a double-quoted DOT string. Backslashes are doubled too: in a label
    ``\\N``, ``\\G``, ``\\l`` would otherwise be Graphviz escapes."""
    return _printable(text).replace("\\", "\\\\").replace('"', '\\"')


# ====================================================================== renderers

_MERMAID_SHAPES = {
    "frontend": ('(["', '"])'), "rule": ('["', '"]'), "default": ('["', '"]'), "action": ('[["', '"]]'),
    "noroute": ('[["', '"]]'), "upstream": ('[("', '")]'), "server": ('("', '")'), "note": ('>"', '"]'),
}


def to_mermaid(graph: Graph) -> str:
    out = ["flowchart LR"]
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES[node.kind]
        label = "<br/>".join(mermaid_text(line) for line in node.lines)
        out.append(f"    {node.id}{opening}{label}{closing}")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f"|{mermaid_text(edge.label)}|" if edge.label else ""
        out.append(f"    {edge.src} {arrow}{label} {edge.dst}")
    for kind, style in (("note", "fill:#fff7d6,stroke:#b08800"), ("action", "fill:#fde2e1"),
                        ("noroute", "fill:#fde2e1"), ("frontend", "fill:#dbeafe"), ("upstream", "fill:#dcfce7")):
        ids = [n.id for n in graph.nodes if n.kind == kind]
        if ids:
            out.append(f"    classDef {kind} {style}")
            out.append(f"    class {','.join(ids)} {kind}")
    return "\n".join(out) + "\n"


_DOT_ATTRS = {
    "frontend": 'shape=box, style="rounded,filled", fillcolor="#dbeafe"',
    "rule": "shape=box",
    "default": 'shape=box, style="dashed"',
    "action": 'shape=box, style="filled", fillcolor="#fde2e1"',
    "noroute": 'shape=box, style="filled", fillcolor="#fde2e1"',
    "upstream": 'shape=cylinder, style="filled", fillcolor="#dcfce7"',
    "server": 'shape=box, style="rounded"',
    "note": 'shape=note, style="filled", fillcolor="#fff7d6"',
}


def to_dot(graph: Graph) -> str:
    out = ["digraph proxyc {", '    graph [rankdir=LR, fontname="Helvetica"];',
           '    node [fontname="Helvetica", fontsize=10];', '    edge [fontname="Helvetica", fontsize=9];']
    for node in graph.nodes:
        label = "".join(dot_text(line) + "\\l" for line in node.lines)  # \l: left-aligned lines
        out.append(f'    {node.id} [{_DOT_ATTRS[node.kind]}, label="{label}"];')
    for edge in graph.edges:
        attrs = []
        if edge.label:
            attrs.append(f'label="{dot_text(edge.label)}"')
        if edge.dashed:
            attrs.append('style="dashed"')
        out.append(f"    {edge.src} -> {edge.dst}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"


class GraphvizMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__("Graphviz's dot is not installed: apt-get install graphviz")


def to_svg(dot_source: str) -> str:
    """Render DOT with Graphviz. Raises GraphvizMissing, or RuntimeError when dot fails."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing()
    try:
        done = subprocess.run([dot, "-Tsvg"], check=False, input=dot_source, capture_output=True, text=True,
                              timeout=DOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"dot did not finish within {DOT_TIMEOUT} s") from None
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.strip()}")
    return done.stdout


def render(cfg, out_format: str) -> str:
    """The graph of ``cfg`` as ``mermaid``, ``dot`` or ``svg`` text."""
    graph = build_graph(cfg, portability_notes(cfg))
    if out_format == "mermaid":
        return to_mermaid(graph)
    if out_format == "dot":
        return to_dot(graph)
    if out_format == "svg":
        return to_svg(to_dot(graph))
    raise ValueError(f"unknown graph format {out_format!r}; expected mermaid, dot or svg")


# ====================================================================== the command


def run_graph(file: str, fmt: str | None, out_format: str, output: str | None) -> int:
    """``proxyc graph``: 0 written, 2 input errors or Graphviz missing/failing."""
    from .loading import load_file

    if out_format == "svg" and shutil.which("dot") is None:
        print(f"proxyc: {GraphvizMissing()}", file=sys.stderr)
        return 2
    cfg, diags, text, _fmt = load_file(file, fmt)
    if cfg is None or any(d.severity == "error" for d in diags):
        from .cli import _echo_diagnostics

        _echo_diagnostics(diags, {file: text or ""})
        return 2
    try:
        rendered = render(cfg, out_format)
    except RuntimeError as exc:  # GraphvizMissing included
        print(f"proxyc: {exc}", file=sys.stderr)
        return 2
    if output is None or output == "-":
        sys.stdout.write(rendered)
    else:
        from .outputs import write_atomic

        write_atomic(output, rendered)
    return 0
