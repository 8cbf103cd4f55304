"""proxyc against the real tools on the same generated inputs: one table, every goal of the
performance issue (#7) with met / NOT MET.

    .venv/bin/python benchmarks/run.py                           # 100 … 50,000 backends
    .venv/bin/python benchmarks/run.py --sizes 1000 10000 --repeat 5
    .venv/bin/python benchmarks/run.py --repeat-large 1          # one run per size above 10,000
    .venv/bin/python benchmarks/run.py --rev HEAD                # measure a commit, not the working tree

Rows: cold start of every command (`--help` and a trivial real run); `proxyc build` (DSL →
haproxy.cfg) against `haproxy -c` on the reference config of the same size; `haproxy -c` on
proxyc's own output; `proxyc convert` (nginx → HAProxy) against `crossplane.parse()` alone;
`proxyc lint` of each size (nginx and .pxc) against `nginx -t`; `lint` of a ~220,000-line
many-sites nginx config; growth 10k → 50k and peak memory. Times are medians of wall time
of separate processes (so start-up counts, as it does for a user); peak memory is the largest
resident set of those runs. Everything runs locally; nothing is contacted.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from generate import write_all, write_sites

PY = sys.executable
FINDINGS = (0, 1)  # proxyc lint and fmt exit 1 when they found something; that is a normal run
SMALL_PXC = REPO / "examples" / "haproxy-lab3-grouped.pxc"
SMALL_NGINX = REPO / "examples" / "nine-locations.conf"
LARGE = 10_000  # sizes above this use --repeat-large


# ------------------------------------------------------------------------------ running

class CommandFailed(Exception):
    pass


class TimedOut(CommandFailed):
    def __init__(self, cmd: list[str], limit: float):
        super().__init__(f"killed after {limit:.0f} s: {' '.join(cmd)}")
        self.limit = limit


@dataclass
class Sample:
    seconds: float  # wall time
    peak_mb: float  # largest resident set, in MB (10^6 bytes)
    cpu: float  # user + system time: far less sensitive than wall time to other work on the machine


class Runner:
    """Runs commands as separate processes and measures wall time and peak memory of each."""

    def __init__(self, scratch: Path, env: dict[str, str], cwd: Path, timeout: float):
        self.scratch, self.env, self.cwd, self.timeout = scratch, env, cwd, timeout
        self._references: dict[tuple[str, ...], Sample] = {}

    def once(self, cmd: list[str], ok: tuple[int, ...] = (0,)) -> Sample:
        # Output goes to a file, as when a user redirects it: a pipe we do not read could block.
        with open(self.scratch / "stdout", "wb") as out, open(self.scratch / "stderr", "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=self.env, cwd=self.cwd)
            watchdog = threading.Timer(self.timeout, proc.kill)  # a quadratic path must not stall the run
            watchdog.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:  # Ctrl-C or SIGTERM: the child goes with us
                proc.kill()
                proc.wait()
                raise
            finally:
                watchdog.cancel()
            elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode == -signal.SIGKILL and elapsed >= self.timeout:
            raise TimedOut(cmd, self.timeout)
        if proc.returncode not in ok:
            tail = (self.scratch / "stderr").read_text(errors="replace")[-1500:]
            raise CommandFailed(f"exit {proc.returncode}: {' '.join(cmd)}\n{tail}")
        # ru_maxrss is KiB on Linux
        return Sample(elapsed, usage.ru_maxrss * 1024 / 1e6, usage.ru_utime + usage.ru_stime)

    def median(self, cmd: list[str], repeat: int, ok: tuple[int, ...] = (0,)) -> Sample:
        samples = [self.once(cmd, ok) for _ in range(max(1, repeat))]
        return Sample(statistics.median(s.seconds for s in samples), max(s.peak_mb for s in samples),
                      statistics.median(s.cpu for s in samples))

    def reference(self, cmd: list[str], repeat: int) -> Sample:
        """A reference tool's median, measured once however many rows compare with it."""
        key = tuple(cmd)
        if key not in self._references:
            self._references[key] = self.median(cmd, repeat)
        return self._references[key]


# ------------------------------------------------------------------------------ the table

@dataclass
class Goal:
    text: str
    met: Callable[[float, float | None], bool]  # (ours, reference) → met?


def at_most_seconds(limit: float) -> Goal:
    return Goal(f"≤ {limit * 1000:.0f} ms" if limit < 1 else f"< {limit:.0f} s", lambda ours, _ref: ours <= limit)


def at_most_ratio(limit: float) -> Goal:
    return Goal(f"≤ {limit:g}×", lambda ours, ref: ref is not None and ours / ref <= limit)


def below_mb(limit: float) -> Goal:
    return Goal(f"< {limit:.0f} MB", lambda ours, _ref: ours < limit)


def at_most_value(limit: float) -> Goal:
    return Goal(f"≤ {limit:g}", lambda ours, _ref: ours <= limit)


WIDTHS = (49, 9, 9, 9, 7, 7, 10, 8, 7)
HEADER = ("measure", "proxyc", "cpu", "reference", "ratio", "cpu", "goal", "met", "peak MB")
LOAD_NOTE = "* wall time and CPU time disagree: other work on the machine changed the wall time"


class Table:
    """Prints rows as they are measured (a full run takes a while) and remembers the goals."""

    def __init__(self) -> None:
        self.goals: list[tuple[str, str, str, str]] = []  # (measure, goal, verdict, note)
        self.failures: list[str] = []
        print(self._line(HEADER) + "  reference is")
        print(self._line(("", "wall", "(user+sys)", "wall", "wall", "ratio")))
        print("-" * (sum(WIDTHS) + 2 * len(WIDTHS) + 12))

    @staticmethod
    def _line(cells) -> str:
        return "  ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, WIDTHS)))

    def section(self, title: str) -> None:
        print(f"-- {title}", flush=True)

    def row(self, measure: str, ours: float, ref: float | None = None, ref_name: str = "",
            goal: Goal | None = None, unit: str = "s", peak_mb: float | None = None,
            ours_cpu: float | None = None, ref_cpu: float | None = None) -> None:
        """A measure; the verdict is on wall time, as the goals say, and marked when CPU time
        (what the load does not change much) disagrees."""
        fmt = {"s": lambda v: f"{v:.3f} s", "MB": lambda v: f"{v:.0f} MB", "x": lambda v: f"{v:.2f}×"}[unit]
        ratio = f"{ours / ref:.2f}×" if ref else "-"
        cpu_ratio = f"{ours_cpu / ref_cpu:.2f}×" if ours_cpu is not None and ref_cpu else "-"
        verdict, note = "", ""
        if goal:
            met = goal.met(ours, ref)
            verdict = "met" if met else "NOT MET"
            if ours_cpu is not None and (ref is None or ref_cpu) and goal.met(ours_cpu, ref_cpu) != met:
                verdict, note = verdict + "*", f"by CPU time: {'NOT MET' if met else 'met'}"
            self.goals.append((measure, goal.text, verdict, note))
        cells = (measure, fmt(ours), fmt(ours_cpu) if ours_cpu is not None else "", fmt(ref) if ref else "-",
                 ratio, cpu_ratio, goal.text if goal else "", verdict, f"{peak_mb:.0f}" if peak_mb is not None else "")
        print(self._line(cells) + f"  {ref_name}", flush=True)

    def sample_row(self, measure: str, ours: Sample, ref: Sample | None = None, ref_name: str = "",
                   goal: Goal | None = None) -> None:
        self.row(measure, ours.seconds, ref.seconds if ref else None, ref_name, goal, peak_mb=ours.peak_mb,
                 ours_cpu=ours.cpu, ref_cpu=ref.cpu if ref else None)

    def text_row(self, measure: str, value: str, goal_text: str, met: bool) -> None:
        verdict = "met" if met else "NOT MET"
        self.goals.append((measure, goal_text, verdict, ""))
        print(self._line((measure, value, "", "-", "-", "", goal_text, verdict, "")), flush=True)

    def failed(self, measure: str, error: CommandFailed, goal: Goal | None = None) -> None:
        self.failures.append(f"{measure}: {error}")
        if goal:
            self.goals.append((measure, goal.text, "FAILED", "see below"))
        print(self._line((measure, "FAILED", "", "", "", "", goal.text if goal else "", "FAILED" if goal else "",
                          "")), flush=True)

    def timed_out(self, measure: str, error: TimedOut, goal: Goal | None = None) -> None:
        if goal:
            self.goals.append((measure, goal.text, "NOT MET", f"killed after {error.limit:.0f} s"))
        print(self._line((measure, f"> {error.limit:.0f} s", "", "", "", "", goal.text if goal else "",
                          "NOT MET" if goal else "", "")), flush=True)

    def unmeasured(self, measure: str, goal: Goal, why: str) -> None:
        self.goals.append((measure, goal.text, "not measured", why))

    def summary(self) -> None:
        print("\nGoals of the performance issue:")
        for measure, goal, verdict, note in self.goals:
            print(f"  {verdict:<13} {measure}: {goal}" + (f"  ({note})" if note else ""))
        if any(verdict.endswith("*") for _, _, verdict, _ in self.goals):
            print(f"  {LOAD_NOTE}; re-run those rows when the machine is quiet")
        met = sum(1 for _, _, verdict, _ in self.goals if verdict == "met")
        print(f"  {met} of {len(self.goals)} met")
        for failure in self.failures:
            print(f"\nfailed: {failure}")


# ------------------------------------------------------------------------------ the machine

def _first_line(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # nginx -v exits 0, on stderr
    except FileNotFoundError:
        return "not installed"
    return ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[0]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def describe_machine(source: str) -> None:
    haproxy = re.sub(r" - https?://\S+", "", _first_line(["haproxy", "-v"]))
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; Python {sys.version.split()[0]} ({PY})")
    print(f"tools:   {_first_line(['nginx', '-v'])}; {haproxy}")
    print(f"proxyc:  {source}")
    print(f"load:    {load()} (1/5/15 min) at start; the machine may be shared, so compare rows "
          f"measured under similar load")
    print()


def working_tree_state() -> str:
    head = _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    changed = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "proxyc"],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    return f"working tree at {head}" + (f", {len(changed)} modified files under proxyc/" if changed else ", clean")


def snapshot(rev: str, into: Path) -> str:
    """Exports `rev` to `into`, so the run measures that commit whatever the working tree holds."""
    into.mkdir()
    # The package and its grammar (read from grammar/ in a checkout).
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "proxyc", "grammar"],
                             capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return _first_line(["git", "-C", str(REPO), "rev-parse", "--short", rev])


# ------------------------------------------------------------------------------ the measures

def proxyc_command() -> list[str]:
    """The installed console script, as a user runs it (`python -m proxyc` if there is none)."""
    script = Path(PY).parent / "proxyc"
    return [PY, str(script)] if script.exists() else [PY, "-m", "proxyc"]


def imported_modules(runner: Runner, cmd: list[str]) -> set[str]:
    """Top-level packages a command imports, from `python -X importtime`."""
    runner.once([cmd[0], "-X", "importtime", *cmd[1:]])
    text = (runner.scratch / "stderr").read_text(errors="replace")
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in text.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


def command_names(runner: Runner, proxyc: list[str]) -> list[str]:
    runner.once(proxyc + ["--help"])
    text = (runner.scratch / "stdout").read_text()
    listing = text.split("Commands:", 1)[1] if "Commands:" in text else ""
    return re.findall(r"^  (\w[\w-]*)\s", listing, re.MULTILINE)


def nginx_check_cmd(conf: Path, scratch: Path) -> list[str]:
    """`nginx -t` on a copy that keeps pid, logs and temp files in the scratch directory."""
    text = f"pid {scratch}/nginx.pid;\nerror_log {scratch}/error.log;\n" + conf.read_text()
    text = text.replace("http {", f"http {{ access_log off; client_body_temp_path {scratch}/b; "
                        f"proxy_temp_path {scratch}/p; fastcgi_temp_path {scratch}/f; "
                        f"uwsgi_temp_path {scratch}/u; scgi_temp_path {scratch}/s;", 1)
    target = scratch / f"checked-{conf.name}"
    target.write_text(text)
    return ["nginx", "-t", "-q", "-p", str(scratch), "-c", str(target)]


def crossplane_cmd(conf: Path) -> list[str]:
    return [PY, "-c", f"import crossplane; crossplane.parse({str(conf)!r}, combine=False)"]


def cold_start(runner: Runner, table: Table, proxyc: list[str], repeat: int) -> None:
    table.section(f"cold start (medians of {repeat})")
    scratch = runner.scratch
    baseline = runner.median([PY, "-c", "pass"], repeat)
    table.sample_row("python -c pass (interpreter start)", baseline)
    deps = runner.median([PY, "-c", "import lark, pydantic, click, crossplane"], repeat)
    table.sample_row("import lark, pydantic, click, crossplane", deps)

    goal = at_most_seconds(0.050)
    try:
        help_ = runner.median(proxyc + ["--help"], repeat)
        table.sample_row("proxyc --help", help_, goal=goal)
        heavy = sorted(imported_modules(runner, proxyc + ["--help"]) & {"lark", "pydantic"})
        table.text_row("proxyc --help imports lark/pydantic", ", ".join(heavy) or "neither", "neither",
                       not heavy)
    except CommandFailed as exc:
        table.failed("proxyc --help", exc, goal)

    lint_small = proxyc + ["lint", str(SMALL_PXC)]
    try:
        lint = runner.median(lint_small, repeat, FINDINGS)
        table.sample_row(f"proxyc lint {SMALL_PXC.name}", lint, goal=at_most_seconds(0.150))
        table.sample_row(f"proxyc lint {SMALL_PXC.name} vs imports", lint, deps, "import of the 4 deps",
                         at_most_ratio(1.5))
    except CommandFailed as exc:
        table.failed(f"proxyc lint {SMALL_PXC.name}", exc, at_most_seconds(0.150))

    for name in command_names(runner, proxyc):
        try:
            sample = runner.median(proxyc + [name, "--help"], repeat)
            table.sample_row(f"proxyc {name} --help", sample, baseline, "python -c pass")
        except CommandFailed as exc:
            table.failed(f"proxyc {name} --help", exc)

    fmt_copy = scratch / "fmt-me.pxc"
    real_runs = {
        f"build {SMALL_PXC.name} → haproxy": ["build", str(SMALL_PXC), "--target", "haproxy",
                                              "-o", str(scratch / "small.cfg")],
        f"convert {SMALL_NGINX.name} → haproxy": ["convert", str(SMALL_NGINX), "--to", "haproxy",
                                                  "-o", str(scratch / "nine.cfg")],
        f"fmt (a copy of) {SMALL_PXC.name}": ["fmt", str(fmt_copy)],
        f"lint {SMALL_PXC.name}": ["lint", str(SMALL_PXC)],
        f"route {SMALL_PXC.name} GET /item/1": ["route", str(SMALL_PXC), "GET", "http://shop.test/item/1"],
    }
    for label, args in real_runs.items():
        shutil.copyfile(SMALL_PXC, fmt_copy)
        try:
            sample = runner.median(proxyc + args, repeat, FINDINGS if args[0] in ("lint", "fmt") else (0,))
            table.sample_row(f"proxyc {label}", sample, baseline, "python -c pass")
        except CommandFailed as exc:
            table.failed(f"proxyc {label}", exc)


def measure(table: Table, runner: Runner, repeat: int, label: str, cmd: list[str], ok: tuple[int, ...] = (0,),
            ref: list[str] | None = None, ref_name: str = "", goal: Goal | None = None) -> Sample | None:
    """One row: the median of `cmd` against that of `ref`. A failing command is a FAILED row
    and the run goes on."""
    try:
        ours = runner.median(cmd, repeat, ok)
        theirs = runner.reference(ref, repeat) if ref else None
    except TimedOut as exc:
        table.timed_out(label, exc, goal)
        return None
    except CommandFailed as exc:
        table.failed(label, exc, goal)
        return None
    table.sample_row(label, ours, theirs, ref_name, goal)
    return ours


def one_size(runner: Runner, table: Table, proxyc: list[str], args, size: int) -> dict[str, Sample]:
    scratch = runner.scratch
    repeat = args.repeat_large if size > LARGE else args.repeat
    paths = write_all(size, args.out)
    lines = {fmt: sum(1 for _ in path.open()) for fmt, path in paths.items()}
    table.section(f"{size:,} backends ({lines['haproxy']:,} lines of HAProxy, {lines['nginx']:,} of nginx, "
                  f"{lines['pxc']:,} of .pxc); medians of {repeat}; load {load()}")
    at_goal_size = size == 10_000
    out_cfg = scratch / f"out-{size}.cfg"
    haproxy_ref = ["haproxy", "-c", "-q", "-f", str(paths["haproxy"])]
    got: dict[str, Sample] = {}
    build = measure(table, runner, repeat, f"build {size} .pxc → haproxy",
                    proxyc + ["build", str(paths["pxc"]), "--target", "haproxy", "-o", str(out_cfg)],
                    ref=haproxy_ref, ref_name="haproxy -c (reference cfg)",
                    goal=at_most_ratio(2) if at_goal_size else None)
    if build:
        got["build"] = build
        measure(table, runner, repeat, f"haproxy -c on proxyc's output ({size})",
                ["haproxy", "-c", "-q", "-f", str(out_cfg)], ref=haproxy_ref, ref_name="haproxy -c (reference cfg)",
                goal=at_most_ratio(0.2) if size == 50_000 else None)
    convert = measure(table, runner, repeat, f"convert {size} nginx → haproxy",
                      proxyc + ["convert", str(paths["nginx"]), "--to", "haproxy", "-o", str(scratch / "converted.cfg")],
                      ref=crossplane_cmd(paths["nginx"]), ref_name="crossplane.parse()",
                      goal=at_most_ratio(1.3) if at_goal_size else None)
    if convert:
        got["convert"] = convert
    nginx_t = nginx_check_cmd(paths["nginx"], scratch) if size <= args.nginx_t_max else None
    lint = measure(table, runner, repeat, f"lint {size} nginx", proxyc + ["lint", str(paths["nginx"])], FINDINGS,
                   ref=nginx_t, ref_name="nginx -t (same file)" if nginx_t else "")
    if lint:
        got["lint nginx"] = lint
    lint_pxc = measure(table, runner, repeat, f"lint {size} .pxc", proxyc + ["lint", str(paths["pxc"])], FINDINGS)
    if lint_pxc:
        got["lint .pxc"] = lint_pxc
    return got


def goals_needing_a_size(table: Table, measured: list[int]) -> None:
    """Lists the per-size goals whose size was not run, so the summary always shows every goal."""
    if 10_000 not in measured:
        table.unmeasured("build 10000 .pxc → haproxy", at_most_ratio(2), "needs size 10000")
        table.unmeasured("convert 10000 nginx → haproxy", at_most_ratio(1.3), "needs size 10000")
    if 50_000 not in measured:
        table.unmeasured("haproxy -c on proxyc's output (50000)", at_most_ratio(0.2), "needs size 50000")


def growth_and_memory(table: Table, seen: dict[int, dict[str, Sample]]) -> None:
    table.section("growth 10,000 → 50,000 backends, and peak memory at 50,000")
    keys = ("build", "convert", "lint nginx", "lint .pxc")
    for key in keys:
        goal = at_most_value(5.5)
        small, big = seen.get(10_000, {}).get(key), seen.get(50_000, {}).get(key)
        if small and big:
            table.row(f"growth {key}: time(50k) / time(10k)", big.seconds / small.seconds, goal=goal, unit="x",
                      ours_cpu=big.cpu / small.cpu)
        else:
            table.unmeasured(f"growth {key}: time(50k) / time(10k)", goal, "needs sizes 10000 and 50000")
    for key in keys:
        goal = below_mb(450)
        big = seen.get(50_000, {}).get(key)
        if big:
            table.row(f"peak memory {key} 50k", big.peak_mb, goal=goal, unit="MB")
        else:
            table.unmeasured(f"peak memory {key} 50k", goal, "needs size 50000")


def many_sites(runner: Runner, table: Table, proxyc: list[str], args) -> None:
    path = write_sites(args.sites_lines, args.out)
    lines = sum(1 for _ in path.open())
    repeat = args.repeat_sites
    table.section(f"many-sites nginx config: {lines:,} lines; medians of {repeat}; load {load()}")
    goal = at_most_seconds(10) if lines >= 220_000 else None
    measure(table, runner, repeat, f"lint {lines:,}-line nginx", proxyc + ["lint", str(path)], FINDINGS,
            ref=nginx_check_cmd(path, runner.scratch), ref_name="nginx -t (same file)", goal=goal)
    if lines < 220_000:
        table.unmeasured("lint 220,000-line nginx", at_most_seconds(10), f"--sites-lines {args.sites_lines}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", type=int, default=[100, 1000, 10_000, 50_000],
                        help="numbers of backends (the goals are at 10000 and 50000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure; the median counts")
    parser.add_argument("--repeat-large", type=int, default=None,
                        help=f"runs per measure for sizes above {LARGE:,} (default: --repeat)")
    parser.add_argument("--repeat-start", type=int, default=10, help="runs per cold-start measure")
    parser.add_argument("--nginx-t-max", type=int, default=LARGE,
                        help="largest size to run nginx -t on (it takes minutes at 50,000)")
    parser.add_argument("--sites-lines", type=int, default=220_000,
                        help="lines of the many-sites nginx lint input (0: skip)")
    parser.add_argument("--repeat-sites", type=int, default=None,
                        help="runs of the many-sites lint (default: --repeat-large)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before one run is killed (NOT MET)")
    parser.add_argument("--skip-cold-start", action="store_true")
    parser.add_argument("--rev", help="measure this commit (exported with git archive), not the working tree")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where the generated inputs go")
    args = parser.parse_args()
    if args.repeat_large is None:
        args.repeat_large = args.repeat
    if args.repeat_sites is None:
        args.repeat_sites = args.repeat_large

    # SIGTERM unwinds like Ctrl-C, so the running child is stopped and the scratch directory removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="proxyc-bench-") as tmp:
        scratch = Path(tmp)
        env, cwd = dict(os.environ), REPO
        # An installed proxyc runs from bytecode; without it every process would compile the
        # package first (~0.1 s), which is not what a user waits for.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.rev:
            source = scratch / "src"
            source_text = f"commit {snapshot(args.rev, source)} (exported from {args.rev})"
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
            cwd = source
        else:
            source, source_text = REPO, working_tree_state()
        subprocess.run([PY, "-m", "compileall", "-q", str(source / "proxyc")], check=True, env=env)
        runner = Runner(scratch, env, cwd, args.timeout)
        runner.once([PY, "-c", "import proxyc, sys; sys.stdout.write(proxyc.__file__)"])
        describe_machine(f"{source_text}; imported from {Path((scratch / 'stdout').read_text()).parent}")
        table = Table()
        proxyc = proxyc_command()
        start = time.perf_counter()
        if not args.skip_cold_start:
            cold_start(runner, table, proxyc, args.repeat_start)
        seen = {size: one_size(runner, table, proxyc, args, size) for size in args.sizes}
        goals_needing_a_size(table, args.sizes)
        growth_and_memory(table, seen)
        if args.sites_lines:
            many_sites(runner, table, proxyc, args)
        table.summary()
        print(f"\nload at the end: {load()}; took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
