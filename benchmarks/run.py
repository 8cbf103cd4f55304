"""proxyc against the real tools on the same generated inputs; prints medians and ratios.

    python benchmarks/run.py                 # 100, 1,000 and 10,000 backends
    python benchmarks/run.py --sizes 10000 50000 --repeat 3

Figures: cold start of CLI commands; `proxyc build` (DSL → haproxy.cfg) against `haproxy -c` on
the reference config of the same size; `proxyc convert` (nginx → HAProxy) against
`crossplane.parse()` alone; `proxyc lint` on a small file and on each size; peak memory.
Everything runs locally; nothing is contacted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import write_all  # noqa: E402

PY = sys.executable


def timed(cmd: list[str]) -> float:
    """Wall time of one run of a command (exit 0 or 1 — lint findings — both count)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


def median(cmd: list[str], repeat: int) -> float:
    return statistics.median(timed(cmd) for _ in range(repeat))


def peak_rss_mib(cmd: list[str]) -> float:
    """Peak resident memory of a child, from its rusage."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


def nginx_check_cmd(conf: Path, scratch: Path) -> list[str]:
    text = f"pid {scratch}/nginx.pid;\nerror_log {scratch}/error.log;\n" + conf.read_text()
    text = text.replace("http {", f"http {{ access_log off; client_body_temp_path {scratch}/b; "
                        f"proxy_temp_path {scratch}/p; fastcgi_temp_path {scratch}/f; "
                        f"uwsgi_temp_path {scratch}/u; scgi_temp_path {scratch}/s;", 1)
    target = scratch / conf.name
    target.write_text(text)
    return ["nginx", "-t", "-q", "-p", str(scratch), "-c", str(target)]


def crossplane_cmd(conf: Path) -> list[str]:
    return [PY, "-c", f"import crossplane; crossplane.parse({str(conf)!r}, combine=False)"]


def row(name: str, ours: float, ref: float | None, ref_name: str = "", goal: str = "") -> str:
    ratio = f"{ours / ref:5.2f}×" if ref else "   - "
    ref_txt = f"{ref:8.3f}s" if ref else "        -"
    return f"{name:46} {ours:8.3f}s {ref_txt} {ratio:>7}  {ref_name:18} {goal}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    proxyc = [PY, "-m", "proxyc"]
    small = HERE.parent / "examples" / "haproxy-lab3-grouped.pxc"

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'measure':46} {'proxyc':>9} {'reference':>9} {'ratio':>7}  {'reference is':18} goal")
    deps = median([PY, "-c", "import lark, pydantic, click, crossplane"], args.repeat)
    print(row("cold start: proxyc --help", median(proxyc + ["--help"], args.repeat), None, "", "≤ 50 ms"))
    print(row("lint one small file", median(proxyc + ["lint", str(small), "--exit-zero"], args.repeat), deps,
              "import of the 4 deps", "≤ 150 ms and ≤ 1.5×"))
    sizes_seen: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for size in args.sizes:
            paths = write_all(size, args.out)
            out_cfg = scratch / f"out-{size}.cfg"
            build = median(proxyc + ["build", str(paths["pxc"]), "--target", "haproxy", "-o", str(out_cfg)], args.repeat)
            hap_ref = median(["haproxy", "-c", "-q", "-f", str(paths["haproxy"])], args.repeat)
            print(row(f"build {size} backends → haproxy", build, hap_ref, "haproxy -c (ref cfg)", "≤ 2×"))
            hap_ours = median(["haproxy", "-c", "-q", "-f", str(out_cfg)], args.repeat)
            print(row(f"haproxy -c on proxyc's own output ({size})", hap_ours, hap_ref, "haproxy -c (ref cfg)", "fast load"))
            convert = median(proxyc + ["convert", str(paths["nginx"]), "--to", "haproxy", "-o", str(scratch / "c.cfg")], args.repeat)
            xp = median(crossplane_cmd(paths["nginx"]), args.repeat)
            print(row(f"convert {size} backends nginx → haproxy", convert, xp, "crossplane.parse()", "≤ 1.3×"))
            ngx = median(nginx_check_cmd(paths["nginx"], scratch), 1)
            lint = median(proxyc + ["lint", str(paths["pxc"]), "--exit-zero"], args.repeat)
            print(row(f"lint {size} backends (.pxc)", lint, ngx, "nginx -t (nginx cfg)", ""))
            sizes_seen[size] = {"build": build, "convert": convert, "lint": lint}
            mem = peak_rss_mib(proxyc + ["build", str(paths["pxc"]), "--target", "haproxy", "-o", str(out_cfg)])
            print(f"{'peak memory, build ' + str(size):46} {mem:8.0f} MiB")
    if 10000 in sizes_seen and 50000 in sizes_seen:
        for key in ("build", "convert", "lint"):
            growth = sizes_seen[50000][key] / sizes_seen[10000][key]
            print(f"{'growth 10k→50k ' + key:46} {growth:8.2f}×  (goal ≤ 5.5)")


if __name__ == "__main__":
    main()
