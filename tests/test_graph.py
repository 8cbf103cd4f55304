"""``proxyc graph``: every example renders to Mermaid and DOT deterministically, the real
Graphviz accepts every DOT output (hostile names included), and SVG needs Graphviz."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from proxyc.api import load
from proxyc.graph import (
    build_graph,
    dot_text,
    mermaid_text,
    render,
    run_graph,
    to_dot,
    to_mermaid,
)

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.pxc"))


def _load(path: Path):
    return load(path.read_text(), "pxc", str(path))


def _require_dot() -> str:
    """Graphviz is optional for proxyc but needed by these tests; fail under CI, else skip."""
    import os

    dot = shutil.which("dot")
    if dot:
        return dot
    reason = "Graphviz's dot is not installed (apt-get install graphviz)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


def _dot_accepts(source: str) -> str:
    done = subprocess.run([_require_dot(), "-Tsvg"], check=False, input=source, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # no syntax warnings either
    return done.stdout


def _labels(svg: str) -> list[str]:
    import html

    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


# ------------------------------------------------------------------ every example


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_renders_deterministically(example):
    first = {fmt: render(_load(example), fmt) for fmt in ("mermaid", "dot")}
    again = {fmt: render(_load(example), fmt) for fmt in ("mermaid", "dot")}
    assert first == again
    assert first["mermaid"].startswith("flowchart LR\n")
    assert first["dot"].startswith("digraph proxyc {\n") and first["dot"].endswith("}\n")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_graphviz_accepts_every_example(example):
    cfg = _load(example)
    svg = _dot_accepts(render(cfg, "dot"))
    text = "\n".join(_labels(svg))
    for fe in cfg.frontends:
        assert f"frontend {fe.name}" in text
    for up in cfg.upstreams:
        assert f"upstream {up.name}" in text


SEEDS = sorted((Path(__file__).resolve().parent.parent / "examples" / "seed").glob("*.*"))


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_nginx_and_haproxy_inputs_render_too(seed, tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert run_graph(str(seed), None, "dot", str(out)) == 0
    svg = _dot_accepts(out.read_text())
    assert any(label.startswith("frontend ") for label in _labels(svg))


def test_host_routing_shows_rules_in_order_acls_servers_and_notes():
    cfg = _load(next(p for p in EXAMPLES if p.stem == "host-routing"))
    mermaid = render(cfg, "mermaid")
    rules = re.findall(r'fe0r(\d)\[+"(\d)\. ', mermaid)
    assert [int(i) + 1 for i, _ in rules] == [int(n) for _, n in rules] == [1, 2, 3, 4, 5, 6]
    assert "2. use api_v2<br/>if api and path prefix /v2/<br/>acl api: host exact api.example.com" in mermaid
    assert "fe0r1 -->|yes| up1" in mermaid and "fe0r0 -->|no| fe0r1" in mermaid
    assert "balance hash header X-Tenant" in mermaid
    assert "shop3 10.0.2.12:8080<br/>weight 1 BACKUP" in mermaid
    assert "up2 -.-> up2s2" in mermaid  # backups are dashed
    # The nginx writer cannot keep a backup with balance source: a note on that server.
    note = re.search(r'note_up2s2>"not portable<br/>P001: nginx: [^"]*shop3', mermaid)
    assert note is None  # shop balances by least_conn: nginx keeps its backup, nothing to note
    # Rule 6 is unconditional: no "no route" node after it.
    assert "no route" not in mermaid


def test_weights_listeners_and_no_route():
    lab3 = render(_load(next(p for p in EXAMPLES if p.stem == "nginx-lab3-weighted")), "dot")
    assert "node1 192.168.56.101:5001\\lweight 60\\l" in lab3
    assert "listen *:80 default_server" in lab3
    tls = render(_load(next(p for p in EXAMPLES if p.stem == "tls-site")), "mermaid")
    assert "listen *:443 tls" in tls and "redirect scheme https code 301" in tls


# ------------------------------------------------------------------ hostile names

HOSTILE = r'''
frontend "fe\"];\n} digraph x { a -> b [label=\"" {
    listen :80
    acl "a|b\"<br/>#quot;" header "X-\"Evil\"}" exact "v\"] ; node [shape=star" '\N\G\l'
    use "up\"} -->|x| y" if "a|b\"<br/>#quot;"
    return 200 "body\"];\n}\n%% mermaid comment" if path exact "/x\"{"
    default "up\"} -->|x| y"
}

upstream "up\"} -->|x| y" {
    server "s\"];\\" 192.0.2.1:80 weight 3
}
'''


def _hostile_cfg():
    """Read without validation (which rejects such names): the graph escapes, it does not
    rely on the validator, and values (paths, bodies, header values) are never restricted."""
    from proxyc.dialects.pxc.reader import read

    cfg, diags = read(HOSTILE, "hostile.pxc")
    assert cfg is not None and not diags
    return cfg


def test_hostile_names_cannot_break_dot():
    cfg = _hostile_cfg()
    dot = render(cfg, "dot")
    svg = _dot_accepts(dot)
    labels = _labels(svg)
    joined = "\n".join(labels)
    # Each hostile name arrives intact as label text, and nothing else became a node or edge.
    assert 'frontend fe"];\\x0a} digraph x { a -> b [label="' in joined  # the newline shown escaped
    assert 'upstream up"} -->|x| y' in joined
    assert r'"\\N\\G\\l"' in joined  # Graphviz escapes stay literal (DSL-quoted) text
    statements = [line for line in dot.splitlines()[4:-1]]
    assert all(re.match(r"    (fe|up|note_)\w* (\[|-> \w+[ ;])", line) for line in statements), statements


_MERMAID_NODE = re.compile(r'    (\w+)(\[\[|\[\(|\(\[|\[|\(|>)"(.*)"(\]\]|\)\]|\]\)|\]|\))')
_MERMAID_EDGE = re.compile(r"    \w+ (-->|-\.->)(\|\w+\|)? \w+")
_MERMAID_CLASS = re.compile(r"    (classDef \w+ [\w:#,]+|class [\w,]+ \w+)")


def test_hostile_names_cannot_break_mermaid():
    mermaid = render(_hostile_cfg(), "mermaid")
    for line in mermaid.splitlines()[1:]:
        node = _MERMAID_NODE.fullmatch(line)
        if node:
            label = node.group(3).replace("<br/>", "")
            # Nothing in a label that Mermaid reads as syntax: quotes, pipes, HTML, newlines.
            assert not set(label) & set('"|<>`\n'), line
        else:
            assert _MERMAID_EDGE.fullmatch(line) or _MERMAID_CLASS.fullmatch(line), line
    assert "frontend fe#quot;];#92;x0a} digraph x { a -#gt; b [label=#quot;" in mermaid


def test_escaping_functions():
    assert dot_text('a"b\\N\nc') == 'a\\"b\\\\N\\\\x0ac'
    assert mermaid_text('a"|<b>#`\\') == "a#quot;#124;#lt;b#gt;#35;#96;#92;"


def test_graph_is_built_in_config_order():
    cfg = _load(next(p for p in EXAMPLES if p.stem == "haproxy-lab3-grouped"))
    graph = build_graph(cfg)
    ids = [n.id for n in graph.nodes]
    assert ids[:2] == ["fe0", "fe1"]
    assert ids.index("up0") < ids.index("up0s0") < ids.index("up1")
    assert to_dot(graph) == to_dot(build_graph(cfg)) and to_mermaid(graph) == to_mermaid(build_graph(cfg))


# ------------------------------------------------------------------ the command


def test_run_graph_writes_svg_and_files(tmp_path, capsys):
    _require_dot()
    example = str(next(p for p in EXAMPLES if p.stem == "haproxy-lab2-path-acls"))
    out = tmp_path / "g.svg"
    assert run_graph(example, None, "svg", str(out)) == 0
    svg = out.read_text()
    assert svg.startswith("<?xml") and "upstream echo-web1_backend" in "\n".join(_labels(svg))
    assert run_graph(example, None, "mermaid", None) == 0
    assert capsys.readouterr().out.startswith("flowchart LR\n")


def test_svg_without_graphviz_is_one_clear_line(monkeypatch, capsys):
    import proxyc.graph

    monkeypatch.setattr(proxyc.graph.shutil, "which", lambda name: None)
    example = str(next(p for p in EXAMPLES if p.stem == "nginx-lab1-round-robin"))
    assert run_graph(example, None, "svg", None) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "proxyc: Graphviz's dot is not installed: apt-get install graphviz\n"


def test_input_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.pxc"
    bad.write_text("frontend web {\n    listen :80\n    default nowhere\n}\n")
    assert run_graph(str(bad), None, "dot", None) == 2
    assert "bad.pxc:3" in capsys.readouterr().err
