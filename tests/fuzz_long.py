"""The long run of proxyc's robustness properties (issue 5), for hours rather than seconds.

    python tests/fuzz_long.py --examples 100000            # fuzz every reader, random seed
    python tests/fuzz_long.py --examples 20000 --seed 7    # reproducible
    python tests/fuzz_long.py --examples 5000 --hostile 200 --servers
    python tests/fuzz_long.py --examples 0 --round-trips 5000   # IR → nginx/HAProxy → IR

Runs the properties of tests/test_fuzz_readers.py (every reader on mutated examples and corpus
files, token soup and raw bytes through ``load_file``) with ``--examples`` inputs per reader and
kind, and optionally those of tests/test_hostile_strings.py (``--hostile`` examples per field and
target, with ``--servers`` also checked by the real nginx and haproxy) and the round trips of
tests/test_nginx_reader.py and tests/test_haproxy_reader.py on ``--round-trips`` generated IRs
each (the suite runs a fixed sample). Unlike the test suite it
does not stop at the first problem: it collects every distinct problem (by signature) with the
shortest input that showed it, prints them, and exits 1 if it found any.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_fuzz_readers as fuzz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class Findings:
    """Distinct problems, each with the shortest input that showed it."""

    def __init__(self) -> None:
        self.shortest: dict[str, str | bytes] = {}
        self.hits: Counter[str] = Counter()
        self.tried: Counter[str] = Counter()

    def record(self, what: str, problems: list[str], sample: str | bytes) -> None:
        self.tried[what] += 1
        for problem in problems:
            self.hits[problem] += 1
            if problem not in self.shortest or len(sample) < len(self.shortest[problem]):
                self.shortest[problem] = sample

    def report(self) -> int:
        print("\ninputs tried: " + ", ".join(f"{what} {n}" for what, n in sorted(self.tried.items())))
        for problem, count in sorted(self.hits.items()):
            print(f"[problem] {problem} ({count} inputs); shortest: {self.shortest[problem][:500]!r}")
        if not self.hits:
            print("no problems found")
        return 1 if self.hits else 0


def run_settings(examples: int, seed: int | None):
    base = settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck))
    return base, (lambda test: test) if seed is None else _seeded(seed)


def _seeded(seed: int):
    from hypothesis import seed as hypothesis_seed

    return hypothesis_seed(seed)


def fuzz_readers(findings: Findings, examples: int, seed: int | None) -> None:
    chosen, seeded = run_settings(examples, seed)
    def runner(fmt: str, kind: str, strategy):
        @seeded
        @chosen
        @given(strategy)
        def one(text: str) -> None:
            findings.record(f"{fmt} {kind}", fuzz.compile_problems(fmt, text, fuzz.FILE_NAMES[fmt]), text)

        return one

    for fmt in fuzz.FORMATS:
        for kind, strategy in (("mutants", fuzz.mutants(fmt)), ("token soup", fuzz.token_soups(fmt))):
            started = time.monotonic()
            runner(fmt, kind, strategy)()
            print(f"{fmt} {kind}: {findings.tried[f'{fmt} {kind}']} inputs in {time.monotonic() - started:.0f} s",
                  flush=True)


def fuzz_bytes(findings: Findings, examples: int, seed: int | None) -> None:
    chosen, seeded = run_settings(examples, seed)
    with tempfile.TemporaryDirectory(prefix="proxyc-fuzz-") as tmp:
        @seeded
        @chosen
        @given(st.binary(max_size=5000), st.sampled_from(fuzz.SUFFIXES))
        def one(data: bytes, suffix: str) -> None:
            path = Path(tmp) / f"input{suffix}"
            path.write_bytes(data)
            findings.record("load_file bytes", fuzz.load_problems(path), data)

        one()
    print(f"load_file bytes: {findings.tried['load_file bytes']} inputs", flush=True)


def hostile_strings(findings: Findings, examples: int, servers: bool, seed: int | None) -> None:
    """The hostile-string property for every field and target; each failure is recorded."""
    import test_hostile_strings as hostile

    chosen, seeded = run_settings(examples, seed)

    def runner(fld, target: str, tally, written: list[str]):
        @seeded
        @chosen
        @given(st.lists(fld.values(), min_size=1, max_size=hostile.VALUES_PER_EXAMPLE, unique=True))
        def one(values: list[str]) -> None:
            try:
                written.extend(hostile.judge(fld, target, values, tally))
                problems = []
            except AssertionError as exc:
                problems = [f"hostile {fld.name} {target}: {str(exc).splitlines()[0][:200]}"]
            findings.record(f"hostile {target}", problems, repr(values))

        return one

    for fld in hostile.FIELDS:
        for target in hostile.TARGETS:
            tally, written = hostile.Tally(), []
            runner(fld, target, tally, written)()
            if servers and target != "pxc" and written:
                try:
                    hostile.check_on_server(fld, target, list(dict.fromkeys(written)), tally)
                except AssertionError as exc:
                    findings.record(f"hostile {target} server", [f"hostile {fld.name} {target}: server refused"],
                                    str(exc)[:2000])
            print(tally.line(fld, target), flush=True)


# The generated-IR round trips of the suite, each a hypothesis test over configs(): (module,
# test, comments in the generated IR).
ROUND_TRIPS = (
    ("test_nginx_reader", "test_generated_configs_read_back_exactly", False),
    ("test_nginx_reader", "test_nginx_canonical_keeps_every_route_of_generated_configs", True),
    ("test_haproxy_reader", "test_generated_configs_read_back_exactly", False),
    ("test_haproxy_reader", "test_the_writer_spelling_routes_as_the_ir", True),
)


def round_trips(findings: Findings, examples: int, seed: int | None) -> None:
    """IR → target → IR on ``examples`` generated IRs per property, recording each failure."""
    import importlib

    from strategies import configs

    chosen, seeded = run_settings(examples, seed)
    for module, name, comments in ROUND_TRIPS:
        check = getattr(importlib.import_module(module), name).hypothesis.inner_test
        what = f"{module}::{name}"

        @seeded
        @chosen
        @given(configs(comments=comments))
        def one(cfg) -> None:
            try:
                check(cfg)
                problems = []
            except AssertionError as exc:
                problems = [f"{what}: {(str(exc).splitlines() or ['?'])[0][:200]}"]
            findings.record(what, problems, repr(cfg))

        started = time.monotonic()
        one()
        print(f"{what}: {findings.tried[what]} IRs in {time.monotonic() - started:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000,
                        help="inputs per reader and kind (mutants, token soup) and for raw bytes (0: skip)")
    parser.add_argument("--hostile", type=int, default=0, help="hostile-string examples per field and target (0: skip)")
    parser.add_argument("--servers", action="store_true", help="also check hostile-string outputs with nginx/haproxy")
    parser.add_argument("--round-trips", type=int, default=0,
                        help="generated IRs per round-trip property (IR → nginx/HAProxy → IR; 0: skip)")
    parser.add_argument("--seed", type=int, help="a fixed seed, for a reproducible run")
    args = parser.parse_args(argv)

    findings = Findings()
    started = time.monotonic()
    if args.examples:
        fuzz_readers(findings, args.examples, args.seed)
        fuzz_bytes(findings, args.examples, args.seed)
    if args.hostile:
        hostile_strings(findings, args.hostile, args.servers, args.seed)
    if args.round_trips:
        round_trips(findings, args.round_trips, args.seed)
    print(f"done in {time.monotonic() - started:.0f} s")
    return findings.report()


if __name__ == "__main__":
    sys.exit(main())
