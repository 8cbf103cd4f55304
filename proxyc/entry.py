"""The ``proxyc`` command's entry point.

``proxyc --help`` and ``proxyc --version`` are answered here, without importing click: the
import alone is ~35 ms of a ~60 ms start, and the help is what a new user runs first. The text
is click's own rendering of cli.main, kept here and checked against it by
tests/test_cli.py::test_the_fast_help_is_what_click_prints (which says how to refresh it).
Every other command line goes to the click CLI in cli.py.
"""
from __future__ import annotations

import os
import sys

from . import __version__

TOP_LEVEL_HELP = """\
Usage: {prog} [OPTIONS] COMMAND [ARGS]...

  proxyc: compile, lint and convert nginx and HAProxy configs.

Options:
  --version   Show the version and exit.
  -h, --help  Show this message and exit.

Commands:
  build    Compile FILE (.pxc, or any supported config) to nginx.conf or...
  convert  Convert FILE between nginx, HAProxy and the proxyc DSL; report...
  fmt      Rewrite .pxc files in canonical form.
  graph    Draw the routing topology (Mermaid, Graphviz DOT or SVG).
  ir       Print the IR of FILE as JSON.
  lint     Lint .pxc, nginx and HAProxy files (directories are searched).
  route    Show where a request goes: route FILE [METHOD] URL.
  rule     Explain a lint rule (or list them all).
  schema   Print the JSON Schema of the IR.
  verify   Run the compiled config on the real nginx/HAProxy (loopback...
"""


def main() -> None:
    args = sys.argv[1:]
    if args in (["--help"], ["-h"]):
        sys.stdout.write(TOP_LEVEL_HELP.format(prog=program_name()))
        sys.exit(0)
    if args == ["--version"]:
        sys.stdout.write(f"{program_name()}, version {__version__}\n")
        sys.exit(0)
    from .cli import main as cli_main

    cli_main()


def program_name() -> str:
    """The name click would show: ``python -m proxyc`` when run as a module, else the script's
    name (the same rule as click.utils._detect_program_name)."""
    path = sys.argv[0]
    package = getattr(sys.modules.get("__main__"), "__package__", None)
    if not path or not package:
        return os.path.basename(path)
    name = os.path.splitext(os.path.basename(path))[0]
    module = package if name == "__main__" else f"{package}.{name}"
    return f"python -m {module.lstrip('.')}"
