"""The lint engine: selection, pyproject settings, noqa comments, file discovery, errors."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from proxyc.diagnostics import Diagnostic
from proxyc.dialects.pxc.reader import load
from proxyc.lint.engine import LintError, LintOptions, detect_lintable_format, lint_config, lint_paths
from proxyc.lint.registry import Rule, get_rule, rule_help
from proxyc.lint.selection import Selection, SelectionError, parse_selectors
from proxyc.lint.suppression import filter_suppressed

BASE = """\
defaults {
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
}

frontend web {
    listen :80
    default app
}
"""
# Two mistakes: s2 repeats s1's address (U001, line 15) and `old` is unused (S002, line 18).
SOURCE = BASE + """
upstream app {
    server s1 10.0.0.1:8080
    server s2 10.0.0.1:8080 down
}

upstream old {
    server o1 10.0.0.9:8080
}
"""


def _codes(diags) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in diags]


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ lint_config

def test_lint_config_reports_sorted_findings_with_the_file():
    cfg = load(SOURCE, "site.pxc")
    diags = lint_config(cfg, source=SOURCE, filename="site.pxc", fmt="pxc")
    assert _codes(diags) == [(15, "U001"), (18, "S002")]
    assert all(d.file == "site.pxc" for d in diags)


def test_linting_leaves_the_config_unchanged():
    # The portability rules run the writers on the config itself, not on a copy.
    cfg = load(SOURCE, "site.pxc")
    before = cfg.model_dump()
    lint_config(cfg, source=SOURCE, filename="site.pxc", select=["ALL"])
    assert cfg.model_dump() == before


def test_lint_config_is_deterministic():
    cfg = load(SOURCE, "site.pxc")
    runs = [[d.to_dict() for d in lint_config(cfg, source=SOURCE, filename="site.pxc")] for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize(("select", "ignore", "extend", "expected"), [
    (None, (), (), [(15, "U001"), (18, "S002")]),
    (["U"], (), (), [(15, "U001")]),
    (["ALL"], ["S"], (), [(15, "U001")]),
    (["S002"], (), ["U001"], [(15, "U001"), (18, "S002")]),
    (None, ["U"], (), [(18, "S002")]),
    (["S"], ["S002"], (), []),              # the more specific ignore wins
    (["S002"], ["S"], (), [(18, "S002")]),  # the more specific select wins
    (["U001"], ["U001"], (), []),           # equally specific: ignore wins
])
def test_selection_by_code_prefix_and_all(select, ignore, extend, expected):
    cfg = load(SOURCE, "site.pxc")
    diags = lint_config(cfg, source=SOURCE, filename="site.pxc", select=select, ignore=ignore, extend_select=extend)
    assert _codes(diags) == expected


def test_default_disabled_rules_need_an_explicit_selection():
    class Opinion(Rule):
        code, name, default_enabled = "S999", "an-opinion", False

    assert not Selection.of().enables(Opinion)
    assert Selection.of(select="ALL").enables(Opinion)
    assert Selection.of(extend_select="S999").enables(Opinion)


def test_bad_selectors_are_usage_errors():
    with pytest.raises(SelectionError):
        parse_selectors("R003,shadowed rule")
    assert parse_selectors(" r003 , all ") == ["R003", "ALL"]
    result = lint_paths(["examples"], LintOptions(select=["nope"]))
    assert result.errors and result.exit_code == 2


def test_a_failing_rule_is_an_internal_error_not_a_silent_gap(monkeypatch):
    from proxyc.lint.rules import unused_upstream

    def broken(self, ctx):
        raise KeyError("boom")

    monkeypatch.setattr(unused_upstream.UnusedUpstream, "check", broken)
    with pytest.raises(LintError, match="S002"):
        lint_config(load(SOURCE, "site.pxc"), source=SOURCE, filename="site.pxc")


def test_rule_lookup_by_code_or_name():
    assert get_rule("r003") is get_rule("shadowed-rule")
    text = rule_help("R003")
    assert text.startswith("# shadowed-rule (R003)") and "## Why is this bad?" in text
    assert rule_help("Z999") is None


# ------------------------------------------------------------------------------ noqa

@pytest.mark.parametrize(("comment", "expected"), [
    ("# proxyc: noqa", [(18, "S002")]),
    ("# proxyc: noqa: U001", [(18, "S002")]),
    ("# proxyc: noqa U001,S002", [(18, "S002")]),
    ("# proxyc: noqa: S002", [(15, "U001"), (18, "S002")]),  # another code: not suppressed
])
def test_noqa_on_the_finding_line(comment, expected):
    source = SOURCE.replace("server s2 10.0.0.1:8080 down", f"server s2 10.0.0.1:8080 down  {comment}")
    diags = lint_config(load(source, "site.pxc"), source=source, filename="site.pxc")
    assert _codes(diags) == expected


def test_noqa_above_a_block_header_covers_block_findings():
    source = SOURCE.replace("upstream old {", "# proxyc: noqa: S002 - kept for the rollback\nupstream old {")
    diags = lint_config(load(source, "site.pxc"), source=source, filename="site.pxc")
    assert _codes(diags) == [(15, "U001")]


def test_noqa_above_an_ordinary_line_does_not_apply():
    source = SOURCE.replace("    server s2", "    # proxyc: noqa\n    server s2")
    diags = lint_config(load(source, "site.pxc"), source=source, filename="site.pxc")
    assert _codes(diags) == [(16, "U001"), (19, "S002")]


@pytest.mark.parametrize(("fmt", "text", "line"), [
    ("nginx", "upstream app {\n    server 10.0.0.1:80;  # proxyc: noqa: U001\n}\n", 2),
    ("nginx", "# proxyc: noqa: S002\nupstream old {\n    server 10.0.0.1:80;\n}\n", 2),
    ("haproxy", "backend app\n    server s2 10.0.0.1:80  # proxyc: noqa: U001\n", 2),
    ("haproxy", "# proxyc: noqa\nbackend old\n    server o1 10.0.0.9:80\n", 2),
])
def test_noqa_in_nginx_and_haproxy_text(fmt, text, line):
    code = "S002" if "old" in text else "U001"
    diag = Diagnostic(code, "x", file="f", line=line, col=5)
    assert filter_suppressed([diag], lambda f: text, lambda f: fmt) == []
    other = Diagnostic("X001", "x", file="f", line=line, col=5)
    kept = filter_suppressed([other], lambda f: text, lambda f: fmt)
    assert kept == ([] if "noqa\n" in text else [other])


@pytest.mark.parametrize("separator", ["\u2028", "\x0c", "\x85", "\r"])
def test_noqa_lines_are_counted_as_the_readers_count_them(separator):
    """Only "\n" ends a line for the readers; a U+2028 (or form feed, NEL, lone CR) inside a
    comment must not shift the line a noqa comment is looked for on."""
    text = f"# note{separator}more\nupstream app {{\n    server 10.0.0.1:80;  # proxyc: noqa: U001\n}}\n"
    diag = Diagnostic("U001", "x", file="f", line=3, col=5)
    assert filter_suppressed([diag], lambda f: text, lambda f: "nginx") == []


def test_code_frames_number_lines_as_the_readers_and_show_no_control_characters():
    from proxyc.diagnostics import code_frame

    source = "# a\u2028b\r\nserver \x1b[2Jx;\n"
    frame = code_frame(source, 2, 8)
    assert frame.split("\n") == [" 1 | # a?b", " 2 | server ?[2Jx;", "   |        ^"]


# ------------------------------------------------------------------------------ files and settings

def test_lint_paths_walks_directories_sorted_and_skips_other_configs(tmp_path):
    _write(tmp_path, "b/site.pxc", SOURCE)
    _write(tmp_path, "a/nginx.conf", "events {}\nhttp { server { listen 80; } }\n")
    _write(tmp_path, "a/haproxy.cfg", "global\n    daemon\n")
    _write(tmp_path, "setup.cfg", "[metadata]\nname = thing\n")
    _write(tmp_path, "supervisord.conf", "[program:x]\ncommand = /bin/true\n")
    _write(tmp_path, ".git/config.cfg", "global\n")
    _write(tmp_path, "notes.txt", "frontend web {\n")
    found = []

    def fake_load(path, fmt=None):
        found.append((Path(path).relative_to(tmp_path).as_posix(), fmt))
        return None, [], "", fmt

    import proxyc.loading

    original = proxyc.loading.load_file
    proxyc.loading.load_file = fake_load
    try:
        lint_paths([str(tmp_path)], LintOptions(use_config=False))
    finally:
        proxyc.loading.load_file = original
    assert found == [("a/haproxy.cfg", "haproxy"), ("a/nginx.conf", "nginx"), ("b/site.pxc", "pxc")]


@pytest.mark.parametrize(("name", "text", "fmt"), [
    ("site.pxc", "", "pxc"),
    ("default.conf", "server {\n    listen 80;\n}\n", "nginx"),
    ("proxy.conf", "proxy_set_header Host $host;\n", "nginx"),
    ("haproxy.conf", "global\n    daemon\nfrontend f\n    bind :80\n", "haproxy"),
    ("lb.cfg", "frontend web\n    bind :80\n    http-request deny if { path /x }\n", "haproxy"),
    ("setup.cfg", "[metadata]\nname = x\n", None),
])
def test_format_detection_by_name_and_content(tmp_path, name, text, fmt):
    assert detect_lintable_format(_write(tmp_path, name, text)) == fmt


def test_missing_path_is_an_error(tmp_path):
    result = lint_paths([str(tmp_path / "nope.pxc")])
    assert result.exit_code == 2 and "no such file" in result.errors[0]


def test_syntax_errors_are_reported_as_findings(tmp_path):
    path = _write(tmp_path, "broken.pxc", "frontend web {\n    listen :80\n")
    result = lint_paths([str(path)], LintOptions(use_config=False))
    assert [d.code for d in result.diagnostics] == ["E001"]
    assert result.exit_code == 1


def test_validation_duplicates_are_shown_once(tmp_path):
    path = _write(tmp_path, "site.pxc", BASE.replace("default app", "default nope") + """
        upstream app {
            server s1 10.0.0.1:8080 check
        }
        """)
    codes = [d.code for d in lint_paths([str(path)], LintOptions(use_config=False)).diagnostics]
    assert "S001" in codes and "V101" not in codes
    # With the rule ignored, the validation error still reports the problem.
    codes = [d.code for d in lint_paths([str(path)], LintOptions(ignore=["S001"], use_config=False)).diagnostics]
    assert "V101" in codes


def test_import_notes_are_shown_only_when_selected():
    selection = Selection.of()
    assert selection.keeps_other("E001") and selection.keeps_other("V101")
    assert not selection.keeps_other("I001")
    assert Selection.of(extend_select="I").keeps_other("I001")
    assert Selection.of(select="ALL").keeps_other("I002")
    assert not Selection.of(select="R").keeps_other("V101")
    assert Selection.of(select="R").keeps_other("E001")  # syntax errors whatever the selection
    assert not Selection.of(ignore="E205").keeps_other("E205")  # unless ignored by code


def test_pyproject_settings_apply_from_the_nearest_configured_file(tmp_path):
    _write(tmp_path, "pyproject.toml", """
        [tool.proxyc.lint]
        ignore = ["S002"]
        exclude = ["vendor", "legacy/*.pxc"]
        """)
    _write(tmp_path, "sub/pyproject.toml", "[project]\nname = 'unrelated'\n")  # no table: skipped
    site = _write(tmp_path, "sub/site.pxc", SOURCE)
    _write(tmp_path, "vendor/site.pxc", SOURCE)
    _write(tmp_path, "legacy/old.pxc", SOURCE)
    result = lint_paths([str(tmp_path)])
    assert result.files_checked == [str(site)]
    assert _codes(result.diagnostics) == [(15, "U001")]
    # The command line adds to the configured ignores and can replace the selection.
    result = lint_paths([str(site)], LintOptions(select=["S"]))
    assert result.diagnostics == []
    assert _codes(lint_paths([str(site)], LintOptions(use_config=False)).diagnostics) == [(15, "U001"), (18, "S002")]


def test_invalid_pyproject_settings_are_errors(tmp_path):
    _write(tmp_path, "pyproject.toml", "[tool.proxyc.lint]\nselcet = ['R']\n")
    site = _write(tmp_path, "site.pxc", SOURCE)
    result = lint_paths([str(site)])
    assert result.exit_code == 2 and "unknown key" in result.errors[0]
