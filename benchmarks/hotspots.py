"""Profiles one proxyc command in-process with cProfile and prints its hotspots.

    .venv/bin/python benchmarks/hotspots.py build benchmarks/out/site-10000.pxc --target haproxy -o /tmp/x.cfg
    .venv/bin/python benchmarks/hotspots.py --top 40 --save /tmp/lint.prof lint benchmarks/out/nginx-sites-220000.conf

Everything after the options is the proxyc command line. Its own output is discarded; two
tables follow: the functions with the most cumulative time (where the time goes, callees
included) and with the most own time (tottime: the code that is itself slow). Paths are shown
relative to the package (proxyc/…) or to site-packages (lark/…, pydantic/…). `--save` keeps
the raw profile for `python -m pstats` or snakeviz.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import runpy
import sys
import time


def short_path(filename: str) -> str:
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    if "/proxyc/" in filename:
        return "proxyc/" + filename.rsplit("/proxyc/", 1)[1]
    return filename


def table(stats: pstats.Stats, key: str, top: int) -> str:
    """The `top` functions by `key` ("cumulative" or "tottime"), one line each."""
    rows = []
    for (filename, line, name), (_prim, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append((cumtime if key == "cumulative" else tottime, ncalls, tottime, cumtime,
                     f"{short_path(filename)}:{line}({name})"))
    rows.sort(key=lambda r: r[0], reverse=True)
    lines = [f"{'ncalls':>10} {'tottime':>8} {'cumtime':>8}  function"]
    lines += [f"{ncalls:>10} {tottime:8.3f} {cumtime:8.3f}  {where}" for _, ncalls, tottime, cumtime, where in rows[:top]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", help="write the raw profile here")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the proxyc command line")
    args = parser.parse_args()
    if not args.command:
        parser.error("give a proxyc command, e.g. lint FILE")

    sys.argv = ["proxyc", *args.command]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        profiler.enable()
        try:
            runpy.run_module("proxyc", run_name="__main__", alter_sys=True)
        except SystemExit:
            pass
        finally:
            profiler.disable()
    elapsed = time.perf_counter() - start
    if args.save:
        profiler.dump_stats(args.save)
    stats = pstats.Stats(profiler)
    print(f"proxyc {' '.join(args.command)}: {elapsed:.2f} s under the profiler "
          f"(profiling slows Python code down, often 1.5-2×)\n")
    print(f"-- by cumulative time (top {args.top})\n{table(stats, 'cumulative', args.top)}\n")
    print(f"-- by own time, tottime (top {args.top})\n{table(stats, 'tottime', args.top)}")


if __name__ == "__main__":
    main()
