"""Lint output for people (text) and machines (JSON, SARIF 2.1.0, GitHub workflow commands)."""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from ..diagnostics import Diagnostic, code_frame
from .registry import Rule, all_rules, rules_by_code

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def render(diagnostics: Iterable[Diagnostic], fmt: str, sources: dict[str, str] | None = None) -> str:
    """The findings in output format ``fmt`` (one of FORMATS); ``sources`` maps a file to its
    text, for the code frames of the text format."""
    diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
    if fmt == "text":
        return render_text(diagnostics, sources or {})
    if fmt == "json":
        return render_json(diagnostics)
    if fmt == "sarif":
        return render_sarif(diagnostics)
    if fmt == "github":
        return render_github(diagnostics)
    raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")


def display_path(file: str | None) -> str:
    """A file as shown to the user: relative to the working directory when it is inside it."""
    if not file:
        return "<input>"
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive on Windows
        return file
    return file if relative.startswith("..") else relative


def _location(diag: Diagnostic) -> str:
    where = display_path(diag.file)
    if diag.line is None:
        return where
    return f"{where}:{diag.line}:{diag.col}" if diag.col else f"{where}:{diag.line}"


# ------------------------------------------------------------------------------ text

def render_text(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    blocks = []
    for diag in diagnostics:
        lines = [f"{_location(diag)}: {diag.code} {diag.message}"]
        frame = code_frame(sources.get(diag.file or "", ""), diag.line, diag.col)
        if frame:
            lines.append(frame)
        if diag.hint:
            lines.append(f"  = hint: {diag.hint}")
        blocks.append("\n".join(lines))
    count = len(diagnostics)
    blocks.append(f"Found {count} problem{'' if count == 1 else 's'}.")
    return "\n\n".join(blocks) + "\n"


# ------------------------------------------------------------------------------ JSON

def render_json(diagnostics: list[Diagnostic]) -> str:
    rules = rules_by_code()
    records = []
    for diag in diagnostics:
        record = diag.to_dict()
        rule = rules.get(diag.code)
        record["rule"] = rule.name if rule else None
        records.append(record)
    return json.dumps(records, indent=2) + "\n"


# ------------------------------------------------------------------------------ SARIF

def render_sarif(diagnostics: list[Diagnostic]) -> str:
    rules = list(all_rules())
    index = {rule.code: i for i, rule in enumerate(rules)}
    run = {
        "tool": {"driver": {
            "name": "proxyc",
            "informationUri": "https://pypi.org/project/proxyc/",
            "version": _version(),
            "rules": [_sarif_rule(rule) for rule in rules],
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
        "results": [_sarif_result(diag, index) for diag in diagnostics],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


def _sarif_rule(rule: type[Rule]) -> dict:
    sections = rule.sections()
    full = "\n\n".join(sections.get(name, "") for name in ("What it does", "Why is this bad?")).strip()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": " ".join(full.split())},
        "help": {"text": rule.doc(), "markdown": rule.doc()},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity], "enabled": rule.default_enabled},
        "properties": {"tags": [rule.family()]},
    }


def _sarif_result(diag: Diagnostic, index: dict[str, int]) -> dict:
    message = diag.message + (f"\nhint: {diag.hint}" if diag.hint else "")
    result: dict = {"ruleId": diag.code, "level": _SARIF_LEVEL.get(diag.severity, "warning"),
                    "message": {"text": message}}
    if diag.code in index:
        result["ruleIndex"] = index[diag.code]
    if diag.file:
        physical: dict = {"artifactLocation": {"uri": _sarif_uri(diag.file), "uriBaseId": "%SRCROOT%"}}
        if diag.line:
            region = {"startLine": diag.line}
            if diag.col:
                region["startColumn"] = diag.col
            if diag.col and diag.end_col and diag.end_col > diag.col:
                region["endColumn"] = diag.end_col
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
    return result


def _sarif_uri(file: str) -> str:
    """A URI reference relative to the working directory (percent-encoded, '/' separated);
    absolute file URIs for files outside it."""
    shown = display_path(file)
    if os.path.isabs(shown):
        return Path(shown).as_uri()
    return quote(Path(shown).as_posix())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("proxyc")
    except PackageNotFoundError:
        return "0"


# ------------------------------------------------------------------------------ GitHub

def render_github(diagnostics: list[Diagnostic]) -> str:
    """Workflow commands that GitHub Actions turns into annotations on the pull request."""
    lines = []
    for diag in diagnostics:
        props = []
        if diag.file:
            props.append(f"file={_escape_property(display_path(diag.file))}")
        if diag.line:
            props.append(f"line={diag.line}")
        if diag.line and diag.col:
            props.append(f"col={diag.col}")
        props.append(f"title={_escape_property(diag.code)}")
        message = diag.message + (f"\nhint: {diag.hint}" if diag.hint else "")
        command = _GITHUB_COMMAND.get(diag.severity, "warning")
        lines.append(f"::{command} {','.join(props)}::{_escape_data(message)}")
    return "".join(line + "\n" for line in lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
