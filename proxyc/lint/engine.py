"""Running the rules: on one IR (``lint_config``) or on files and directories (``lint_paths``).

Every file is read into the IR by its dialect's reader, so the same rules run on .pxc, nginx
and HAProxy input and point into the original file. The readers' own diagnostics (syntax,
import losses, validation) are reported with the findings.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import Diagnostic
from ..perf import paused_gc
from .registry import Rule, all_rules
from .selection import Selection
from .settings import Settings, SettingsError, settings_for
from .suppression import filter_suppressed

LINTABLE_SUFFIXES = (".pxc", ".conf", ".cfg")
# Directories never searched when a directory is linted (version control, environments).
SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})

# Validation problems (proxyc/validate.py) that a lint rule also reports, with the rule's
# documentation. When the rule reports at the same line, the validation diagnostic is dropped
# so the problem is shown once; when the rule is not selected, the validation one remains.
COVERED_VALIDATIONS = {
    "V101": ("S001",),          # unknown upstream
    "V102": ("R001",),          # unknown ACL
    "V103": ("S003",),          # duplicate name
    "V104": ("S009",),          # unknown resolvers section
    "V105": ("R005", "R006"),   # HTTP in a tcp frontend
    "V106": ("U010",),          # mode mismatch
    "V109": ("X003",),          # line break in a header
    "V110": ("S005",),          # frontend without listen
    "V111": ("R011",),          # invalid source address
}


class LintError(RuntimeError):
    """A rule failed: a bug in proxyc, reported as an internal error (exit status 2)."""


@dataclass
class LintOptions:
    """Command-line choices; ``select`` replaces the configured one, the others add to it."""

    select: Sequence[str] | None = None
    ignore: Sequence[str] = ()
    extend_select: Sequence[str] = ()
    exclude: Sequence[str] = ()
    use_config: bool = True  # read [tool.proxyc.lint] from pyproject.toml


@dataclass
class LintResult:
    diagnostics: list[Diagnostic]
    files_checked: list[str]
    errors: list[str]  # usage and internal errors: files that could not be linted at all
    sources: dict[str, str] = field(default_factory=dict)  # file → text, for code frames

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.diagnostics else 0


# ------------------------------------------------------------------------------ one config

def lint_config(cfg, *, source: str = "", filename: str | None = None, fmt: str = "pxc",
                select=None, ignore=(), extend_select=()) -> list[Diagnostic]:
    """The findings of the selected rules on an IR, sorted, without those a noqa comment in
    ``source`` suppresses. Raises LintError when a rule fails."""
    selection = Selection.of(select, ignore, extend_select)
    findings, failures = run_rules(cfg, selection.rules(all_rules()), source=source, filename=filename, fmt=fmt)
    if failures:
        raise LintError("; ".join(failures))
    kept = filter_suppressed(findings, lambda f: source if f == filename else None, lambda f: fmt)
    return sorted(kept, key=Diagnostic.sort_key)


def run_rules(cfg, rules: Iterable[type[Rule]], *, source: str, filename: str | None,
              fmt: str) -> tuple[list[Diagnostic], list[str]]:
    """(findings, failures): each rule that applies to ``fmt`` runs on its own, so one failing
    rule does not hide the others' findings."""
    from .context import LintContext

    ctx = LintContext(config=cfg, fmt=fmt, source=source, filename=filename)
    findings: list[Diagnostic] = []
    failures: list[str] = []
    # The rules make many small acyclic objects next to a large IR; the cyclic collector would
    # rescan that IR again and again (at 50,000 upstreams it more than doubles the time).
    with paused_gc():
        for rule in rules:
            _run_rule(rule, ctx, findings, failures)
    return findings, failures


def _run_rule(rule: type[Rule], ctx, findings: list[Diagnostic], failures: list[str]) -> None:
    if ctx.fmt not in rule.formats:
        return
    try:
        found = list(rule().check(ctx))
    except Exception as exc:  # noqa: BLE001 - reported as an internal error, with the rule
        failures.append(f"internal error in rule {rule.code} ({rule.name}): {type(exc).__name__}: {exc}")
        return
    for diag in found:
        if diag.file is None and diag.line is not None:
            diag.file = ctx.filename
        findings.append(diag)


# ------------------------------------------------------------------------------ files

def lint_paths(paths: Iterable[str | os.PathLike], options: LintOptions | None = None) -> LintResult:
    options = options or LintOptions()
    result = LintResult(diagnostics=[], files_checked=[], errors=[])
    settings_cache: dict = {}
    try:
        cli = Selection.of(options.select, options.ignore, options.extend_select)
    except ValueError as exc:
        result.errors.append(str(exc))
        return result
    formats: dict[str, str] = {}
    for path, fmt in _files(paths, options, settings_cache, result.errors):
        try:
            settings = settings_for(Path(path), settings_cache) if options.use_config else Settings()
        except SettingsError as exc:
            result.errors.append(str(exc))
            continue
        _lint_file(path, fmt, _merge(settings, cli), result, formats)
    result.diagnostics = filter_suppressed(result.diagnostics, lambda f: _source(f, result.sources),
                                           lambda f: formats.get(f) or _format_by_name(f))
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _merge(settings: Settings, cli: Selection) -> Selection:
    return Selection(select=cli.select if cli.select is not None else settings.select,
                     ignore=settings.ignore + cli.ignore,
                     extend_select=settings.extend_select + cli.extend_select)


def _lint_file(path: str, fmt: str | None, selection: Selection, result: LintResult,
               formats: dict[str, str]) -> None:
    from ..loading import load_file

    try:
        cfg, diagnostics, text, fmt = load_file(path, fmt)
    except Exception as exc:  # noqa: BLE001 - a reader bug must not stop the other files
        result.errors.append(f"{path}: internal error while reading it: {type(exc).__name__}: {exc}")
        return
    result.files_checked.append(path)
    if text is not None:
        result.sources[path] = text
    if fmt is not None:
        formats[path] = fmt
    if fmt is None and cfg is None:
        result.errors.extend(f"{d.location}: {d.message}" for d in diagnostics)
        return
    reported = [d for d in diagnostics if selection.keeps_other(d.code)]
    for diag in reported:
        diag.file = diag.file or path
    if cfg is not None:
        findings, failures = run_rules(cfg, selection.rules(all_rules()), source=text or "",
                                       filename=path, fmt=fmt)
        result.errors.extend(f"{path}: {failure}" for failure in failures)
        reported = _drop_covered_validations(reported, findings) + findings
    result.diagnostics.extend(reported)


def _drop_covered_validations(diagnostics: list[Diagnostic], findings: list[Diagnostic]) -> list[Diagnostic]:
    reported_at = {(f.code, f.file, f.line) for f in findings}
    return [d for d in diagnostics
            if not any((code, d.file, d.line) in reported_at for code in COVERED_VALIDATIONS.get(d.code, ()))]


def _source(file: str | None, sources: dict[str, str]) -> str | None:
    """A file's text for noqa comments: files included by an nginx config are read here."""
    if file is None:
        return None
    if file not in sources:
        try:
            sources[file] = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    return sources[file]


# ------------------------------------------------------------------------------ finding files

def _files(paths, options: LintOptions, settings_cache: dict, errors: list[str]):
    """(path, format or None) for every file to lint, in a stable order. Files named on the
    command line are linted whatever their name; in directories only those that look like a
    .pxc, nginx or HAProxy config are."""
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = ((str(p), fmt) for p, fmt in _directory_files(path))
        elif path.exists():
            found = [(str(given), _explicit_format(path))]
        else:
            errors.append(f"{given}: no such file or directory")
            continue
        for name, fmt in found:
            if name in seen or _excluded(Path(name), options, settings_cache, errors):
                continue
            seen.add(name)
            yield name, fmt


def _excluded(path: Path, options: LintOptions, settings_cache: dict, errors: list[str]) -> bool:
    cwd_relative = Settings(root=Path.cwd().resolve(), exclude=tuple(options.exclude))
    if cwd_relative.excludes(path):
        return True
    if not options.use_config:
        return False
    try:
        return settings_for(path, settings_cache).excludes(path)
    except SettingsError:
        return False  # reported when the file's settings are read for linting


def _directory_files(directory: Path):
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRECTORIES)
        for name in sorted(files):
            path = Path(root) / name
            if not _candidate_name(name):
                continue
            fmt = detect_lintable_format(path)
            if fmt is not None:
                yield path, fmt


def _candidate_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(LINTABLE_SUFFIXES) or "nginx" in lower or "haproxy" in lower


def _explicit_format(path: Path) -> str | None:
    """A named file's format by name and content; None leaves the decision to the loader."""
    return detect_lintable_format(path)


def _format_by_name(file: str | None) -> str:
    return detect_lintable_format(Path(file or ""), read=False) or "nginx"


# ------------------------------------------------------------------------------ detection

_HAPROXY_SECTION_LINE = re.compile(
    r"^[ \t]*(?:global|defaults|frontend|backend|listen|resolvers|userlist|peers|mailers|program|"
    r"http-errors|ring|cache|fcgi-app)(?:[ \t]+[^\s=;{}#]+)*[ \t]*(?:#.*)?$", re.MULTILINE)
_NGINX_STATEMENT_END = re.compile(r"[;{}][ \t]*(?:#.*)?$", re.MULTILINE)


def detect_lintable_format(path: Path, *, read: bool = True) -> str | None:
    """"pxc", "nginx" or "haproxy" when the file is one (by name, then content), else None.
    A `.conf` or `.cfg` that is some other program's config (setup.cfg, an INI file) is None."""
    name = path.name.lower()
    if name.endswith(".pxc"):
        return "pxc"
    candidates = []
    if "haproxy" in name or name.endswith(".cfg"):
        candidates.append("haproxy")
    if "nginx" in name or name.endswith(".conf"):
        candidates.append("nginx")
    if not read:
        return candidates[0] if candidates else None
    try:
        with path.open("rb") as handle:  # the head only: reading a large file whole to look at
            text = handle.read(50_000).decode("utf-8", errors="replace")  # its start cost 28 MB
    except OSError:
        return None
    return next((fmt for fmt in candidates if _LOOKS_LIKE[fmt](text)), None)


def looks_like_haproxy(text: str) -> bool:
    return _HAPROXY_SECTION_LINE.search(text) is not None and not looks_like_pxc(text)


def looks_like_nginx(text: str) -> bool:
    return _NGINX_STATEMENT_END.search(text) is not None and not looks_like_haproxy(text)


def looks_like_pxc(text: str) -> bool:
    from ..loading import sniff_format

    return sniff_format(text) == "pxc"


_LOOKS_LIKE = {"haproxy": looks_like_haproxy, "nginx": looks_like_nginx}
