"""Where one file's time goes, stage by stage, without a profiler's overhead.

    .venv/bin/python benchmarks/phases.py benchmarks/out/site-10000.pxc --target haproxy
    .venv/bin/python benchmarks/phases.py benchmarks/out/nginx-10000.conf --target haproxy
    .venv/bin/python benchmarks/phases.py benchmarks/out/nginx-sites-220000.conf --lint --skip R003

Runs the stages `load_file` and the commands run, in process, one after the other, and prints
the wall time of each: imports, reading the text, crossplane's lexer alone (nginx: the floor
under `crossplane.parse()`), the reader, validation, the writer, and with --lint every lint
rule on its own. cProfile (benchmarks/hotspots.py) says which functions are slow; this says
how the seconds split, at their real size.
"""
from __future__ import annotations

import argparse
import gc
import resource
import time
from contextlib import contextmanager
from pathlib import Path

_rows: list[tuple[str, float, float, float]] = []  # (stage, wall s, CPU s, peak MB of the process after it)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux


@contextmanager
def stage(name: str):
    start, cpu = time.perf_counter(), time.process_time()
    yield
    _rows.append((name, time.perf_counter() - start, time.process_time() - cpu, _peak_mb()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--target", choices=["nginx", "haproxy", "pxc"], help="also time the writer")
    parser.add_argument("--lint", action="store_true", help="also time each default lint rule")
    parser.add_argument("--gc-off", action="store_true",
                        help="disable the cyclic garbage collector throughout (does the GC make a stage superlinear?)")
    parser.add_argument("--skip", default="", help="comma-separated rule codes not to run (e.g. a quadratic one)")
    args = parser.parse_args()
    if args.gc_off:
        gc.disable()

    with stage("import proxyc (loading, api, validate)"):
        from proxyc import api
        from proxyc.loading import detect_format, read_config, read_text
        from proxyc.validate import validate
    with stage("read the text"):
        text, problem = read_text(args.file)
    if problem:
        raise SystemExit(problem.message)
    fmt = detect_format(args.file, text)
    if fmt == "nginx":
        with stage("crossplane.lex alone (not part of the total)"):
            import crossplane

            tokens = sum(1 for _ in crossplane.lex(str(args.file)))
    with stage(f"read {fmt} → IR"):
        cfg, diags = read_config(text, fmt, str(args.file), path=str(args.file))
    if cfg is None:
        raise SystemExit(f"not readable: {[d.message for d in diags][:3]}")
    with stage("validate"):
        validate(cfg, strings=False)
    if args.target:
        with stage(f"write {args.target}"):
            api.write(cfg, args.target)
    if args.lint:
        with stage("import lint rules"):
            from proxyc.lint.context import LintContext
            from proxyc.lint.registry import all_rules
            from proxyc.lint.selection import Selection
        ctx = LintContext(config=cfg, fmt=fmt, source=text, filename=str(args.file))
        skipped = {code.strip() for code in args.skip.split(",") if code.strip()}
        gc.disable()  # as the lint engine runs its rules
        for rule in Selection.of().rules(all_rules()):
            if fmt in rule.formats and rule.code not in skipped:
                with stage(f"lint {rule.code} {rule.name}"):
                    found = sum(1 for _ in rule().check(ctx))
                if found:
                    name, *measured = _rows[-1]
                    _rows[-1] = (f"{name} ({found} findings)", *measured)
        if not args.gc_off:
            gc.enable()

    lines = text.count("\n") + 1
    print(f"{args.file}: {lines:,} lines, {fmt}" + (f", {tokens:,} tokens" if fmt == "nginx" else ""))
    counted = [row for row in _rows if "not part of the total" not in row[0]]
    total, total_cpu = sum(row[1] for row in counted), sum(row[2] for row in counted)
    shown = sorted(_rows, key=lambda row: row[2], reverse=True) if args.lint else _rows
    print(f"  {'wall':>10}  {'CPU':>10}  {'share':>6}  {'peak MB':>7}  stage (share of CPU time; peak MB: the "
          "process's largest size so far)")
    for name, seconds, cpu, peak in shown:
        if cpu >= 0.001 or not args.lint:
            print(f"  {seconds:8.3f} s  {cpu:8.3f} s  {100 * cpu / total_cpu:5.1f}%  {peak:7.0f}  {name}")
    print(f"  {total:8.3f} s  {total_cpu:8.3f} s  total (in process: no interpreter start, no output rendering)")


if __name__ == "__main__":
    main()
