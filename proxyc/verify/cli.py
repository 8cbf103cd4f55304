"""``proxyc verify FILE``: load, verify on the real servers, print the report."""
from __future__ import annotations

import sys


def run_verify(file: str, target: str, fmt: str | None, out_format: str, quiet: bool) -> int:
    """Exit status: 0 every answer as predicted, 1 mismatches or failed balancing checks,
    2 the input has errors or a target could not be run. A missing nginx/haproxy raises
    ``proxyc.checkers.BinaryMissing`` (the CLI prints it as one line)."""
    import click

    from ..checkers import require_binary
    from ..loading import load_file

    cfg, diags, text, _fmt = load_file(file, fmt)
    errors = [d for d in diags if d.severity == "error"]
    if cfg is None or errors:
        from ..cli import _echo_diagnostics

        _echo_diagnostics(diags, {file: text or ""})
        return 2
    for name in ("nginx", "haproxy") if target == "both" else (target,):
        require_binary(name)  # fail before starting anything

    from .runner import verify_config

    def progress(line: str) -> None:
        if not quiet:
            click.echo(f"proxyc verify: {line}", err=True)

    report = verify_config(cfg, target, file=file, progress=progress)
    output = report.to_json() + "\n" if out_format == "json" else report.to_text()
    sys.stdout.write(output)
    sys.stdout.flush()
    return report.exit_status()
