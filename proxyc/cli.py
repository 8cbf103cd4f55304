"""The ``proxyc`` command line.

Start-up time matters (pre-commit runs it on every commit), so this module imports only click
and the light modules; each command imports what it needs when it runs.

Exit status: 0 success, 1 findings (lint, fmt --check, verify mismatches), 2 errors in the
input, usage errors and internal errors. No Python traceback ever reaches the user.
"""
from __future__ import annotations

import functools
import sys
import click

FORMAT_CHOICE = click.Choice(["pxc", "nginx", "haproxy"])


# ------------------------------------------------------------------------------ reporting

def _echo_diagnostics(diags, sources: dict[str, str] | None = None, *, strict: bool = False) -> None:
    from .diagnostics import Diagnostic, code_frame

    sources = sources or {}
    for d in sorted(diags, key=Diagnostic.sort_key):
        severity = "error" if strict and d.code.startswith("P") else d.severity
        color = {"error": "red", "warning": "yellow"}.get(severity, "cyan")
        head = f"{d.location}: {click.style(severity, fg=color, bold=True)}[{d.code}]: {d.message}"
        click.echo(head, err=True)
        frame = code_frame(sources.get(d.file or "", ""), d.line, d.col)
        if frame:
            click.echo(frame, err=True)
        if d.hint:
            click.echo(f"  = hint: {d.hint}", err=True)


def _fails(diags, strict: bool) -> bool:
    return any(d.severity == "error" or (strict and d.code.startswith("P")) for d in diags)


def _guarded(fn):
    """Turn any unexpected exception into one line and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
            from .checkers import BinaryMissing

            if isinstance(exc, BinaryMissing):
                click.echo(f"proxyc: {exc}", err=True)
            else:
                click.echo(f"proxyc: internal error: {type(exc).__name__}: {exc}", err=True)
                click.echo("  = hint: please report this with the input that caused it", err=True)
            sys.exit(2)

    return wrapper


def _load_or_exit(path: str, fmt: str | None):
    from .loading import load_file

    cfg, diags, text, fmt = load_file(path, fmt)
    sources = {path: text} if text is not None else {}
    return cfg, diags, sources, fmt


def _refuse_input_as_output(out: str | None, file: str) -> None:
    from pathlib import Path

    if out not in (None, "-") and Path(out).resolve() == Path(file).resolve():
        raise click.UsageError(f"refusing to overwrite the input file {out}")


def _write_output(text: str, out: str | None) -> None:
    if out is None or out == "-":
        click.echo(text, nl=False)
        return
    from .outputs import write_atomic

    write_atomic(out, text)


def _compile(path: str, target: str, fmt: str | None, strict: bool, check: bool):
    """Shared by build and convert: read, validate, write, optionally check. Exits 2 on failure."""
    from .api import write

    cfg, diags, sources, fmt = _load_or_exit(path, fmt)
    if cfg is None or _fails(diags, strict):
        _echo_diagnostics(diags, sources, strict=strict)
        sys.exit(2)
    text, wdiags = write(cfg, target)
    diags = list(diags) + list(wdiags)
    _echo_diagnostics(diags, sources, strict=strict)
    if _fails(diags, strict):
        click.echo(f"proxyc: not written: {target} output has errors" + (" (--strict)" if strict else ""), err=True)
        sys.exit(2)
    if check:
        _run_check(cfg, text, target)
    return text


def _run_check(cfg, text: str, target: str) -> None:
    from .checkers import check_haproxy, check_nginx
    from .verify.loopback import names_to_loopback

    if target == "pxc":
        return
    scratch_cfg, renamed = names_to_loopback(cfg)
    if renamed:
        from .api import write

        text, _ = write(scratch_cfg, target)
        click.echo(f"proxyc: note: {len(renamed)} server host name(s) mapped to 127.0.0.1 for the check "
                   f"({', '.join(sorted(renamed)[:5])}{', ...' if len(renamed) > 5 else ''}); DNS was not checked",
                   err=True)
    result = check_nginx(text) if target == "nginx" else check_haproxy(text, strict=True)
    tool = "nginx -t" if target == "nginx" else "haproxy -c -dW"
    if result.ok:
        click.echo(f"proxyc: {tool}: ok", err=True)
        return
    click.echo(f"proxyc: {tool} rejected the output:", err=True)
    for msg in result.messages or []:
        where = f"line {msg.line}: " if msg.line else ""
        click.echo(f"  {msg.severity}: {where}{msg.message}", err=True)
    if not result.messages:
        click.echo(result.output.rstrip(), err=True)
    sys.exit(2)


# ------------------------------------------------------------------------------ commands

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="proxyc")
def main() -> None:
    """proxyc: compile, lint and convert nginx and HAProxy configs."""
    import atexit
    import gc

    # A short-lived process building large trees: the cyclic collector would rescan every
    # node again and again (seconds at 10,000 upstreams) to free almost nothing. At exit the
    # interpreter still collects once (~0.35 s at 10,000 upstreams); frozen objects are skipped.
    gc.disable()
    atexit.register(gc.freeze)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=click.Choice(["nginx", "haproxy"]), required=True, help="What to write.")
@click.option("--output", "-o", "out", help="Write here (atomically) instead of stdout.")
@click.option("--from", "fmt", type=FORMAT_CHOICE, help="Input format (detected when absent).")
@click.option("--check", is_flag=True, help="Run nginx -t / haproxy -c on the output.")
@click.option("--strict", is_flag=True, help="Portability warnings are errors.")
@_guarded
def build(file, target, out, fmt, check, strict):
    """Compile FILE (.pxc, or any supported config) to nginx.conf or haproxy.cfg."""
    _refuse_input_as_output(out, file)
    _write_output(_compile(file, target, fmt, strict, check), out)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--to", "target", type=click.Choice(["nginx", "haproxy", "pxc"]), required=True)
@click.option("--from", "fmt", type=FORMAT_CHOICE, help="Input format (detected when absent).")
@click.option("--output", "-o", "out", help="Write here (atomically) instead of stdout.")
@click.option("--check", is_flag=True, help="Run nginx -t / haproxy -c on the output.")
@click.option("--strict", is_flag=True, help="Fail on anything that could not be carried over.")
@_guarded
def convert(file, target, fmt, out, check, strict):
    """Convert FILE between nginx, HAProxy and the proxyc DSL; report what is lost."""
    _refuse_input_as_output(out, file)
    _write_output(_compile(file, target, fmt, strict, check), out)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@click.option("--check", is_flag=True, help="Exit 1 if a file would change; write nothing.")
@click.option("--diff", is_flag=True, help="Print a diff instead of writing.")
@_guarded
def fmt(paths, check, diff):
    """Rewrite .pxc files in canonical form."""
    import difflib

    from .dialects.pxc.writer import format_text
    from .loading import read_text
    from .outputs import expand_paths, write_atomic

    changed = failed = 0
    for path in expand_paths(paths, suffixes=(".pxc",)):
        text, problem = read_text(path)
        if problem:
            _echo_diagnostics([problem])
            failed += 1
            continue
        new, diags = format_text(text, str(path))
        if new is None:
            _echo_diagnostics(diags, {str(path): text})
            failed += 1
            continue
        if new == text:
            continue
        changed += 1
        if diff:
            click.echo("".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                    f"{path}", f"{path} (formatted)")), nl=False)
        elif check:
            click.echo(f"would reformat {path}", err=True)
        else:
            write_atomic(path, new)
            click.echo(f"reformatted {path}", err=True)
    if failed:
        sys.exit(2)
    if changed and (check or diff):
        sys.exit(1)


@main.command(name="ir")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--from", "fmt", type=FORMAT_CHOICE)
@click.option("--spans/--no-spans", default=False, help="Include source spans.")
@_guarded
def ir_command(file, fmt, spans):
    """Print the IR of FILE as JSON."""
    import json

    cfg, diags, sources, _ = _load_or_exit(file, fmt)
    _echo_diagnostics(diags, sources)
    if cfg is None or _fails(diags, False):
        sys.exit(2)
    data = cfg.model_dump(mode="json", exclude_defaults=True) if spans else cfg.semantic_dump()
    click.echo(json.dumps(data, indent=2, sort_keys=False))


@main.command()
@_guarded
def schema():
    """Print the JSON Schema of the IR."""
    import json

    from .ir import Config

    click.echo(json.dumps(Config.model_json_schema(), indent=2))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("request", nargs=-1, required=True)
@click.option("-H", "--header", "headers", multiple=True, help="'Name: value'")
@click.option("--src", default="127.0.0.1", show_default=True, help="Client address.")
@click.option("--frontend", help="Frontend name (default: the one listening on the URL's port).")
@click.option("--tls", is_flag=True, help="The client connection is TLS.")
@click.option("--from", "fmt", type=FORMAT_CHOICE)
@click.option("--format", "out_format", type=click.Choice(["text", "json"]), default="text")
@_guarded
def route(file, request, headers, src, frontend, tls, fmt, out_format):
    """Show where a request goes: route FILE [METHOD] URL."""
    from .routing_cli import run_route

    sys.exit(run_route(file, request, headers, src, frontend, tls, fmt, out_format))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=click.Choice(["nginx", "haproxy", "both"]), default="both", show_default=True)
@click.option("--from", "fmt", type=FORMAT_CHOICE)
@click.option("--format", "out_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@_guarded
def verify(file, target, fmt, out_format, quiet):
    """Run the compiled config on the real nginx/HAProxy (loopback only) and check every route."""
    from .verify.cli import run_verify

    sys.exit(run_verify(file, target, fmt, out_format, quiet))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--from", "fmt", type=FORMAT_CHOICE)
@click.option("--format", "out_format", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True)
@click.option("--output", "-o", "out", help="Write here instead of stdout.")
@_guarded
def graph(file, fmt, out_format, out):
    """Draw the routing topology (Mermaid, Graphviz DOT or SVG)."""
    from .graph import run_graph

    sys.exit(run_graph(file, fmt, out_format, out))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@click.option("--format", "out_format", type=click.Choice(["text", "json", "sarif", "github"]), default="text")
@click.option("--select", help="Comma-separated codes or prefixes to enable (ALL for every rule).")
@click.option("--ignore", help="Comma-separated codes or prefixes to disable.")
@click.option("--extend-select", help="Codes or prefixes to enable on top of the defaults.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@_guarded
def lint(paths, out_format, select, ignore, extend_select, exit_zero):
    """Lint .pxc, nginx and HAProxy files (directories are searched)."""
    from .lint.cli import run_lint

    sys.exit(run_lint(paths, out_format, select, ignore, extend_select, exit_zero))


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
@_guarded
def rule(code, show_all):
    """Explain a lint rule (or list them all)."""
    from .lint.cli import run_rule

    sys.exit(run_rule(code, show_all))


if __name__ == "__main__":
    main()
