"""Balancing checks against the live proxy: does each upstream spread requests as described?

Per upstream that some frontend routes to, using a request the route simulator sends there:
  * round robin, equal weights: ``ROUNDS`` full cycles give every primary exactly ``ROUNDS``;
  * round robin, weights: ``WEIGHT_REQUESTS`` requests give each primary its share of the
    weights within ``WEIGHT_TOLERANCE`` percentage points;
  * least_conn: while held requests keep every other primary busy, new requests all go to the
    one idle primary;
  * source / hash: each client (several 127.x.y.z addresses, or several key values) stays on
    one server. Only stickiness is compared: nginx and HAProxy hash differently, so which
    server a client gets differs between them;
  * random: every primary answers some of ``RANDOM_ROUNDS`` × n requests, nothing else does;
  * first: every sequential request goes to the first primary;
  * backups: unused while any primary runs, used once every primary is stopped;
  * active health check (HAProxy): a stopped primary leaves the rotation, and comes back.

Every variant of the request (another client address, key) is re-checked with the route
simulator first: a variant that would be routed elsewhere is not used.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import ir
from .report import Check

if TYPE_CHECKING:
    from .requests import Probe
    from .runner import LiveProxy

ROUNDS = 3
WEIGHT_REQUESTS = 200
WEIGHT_TOLERANCE = 5.0  # percentage points
RANDOM_ROUNDS = 20
FIRST_REQUESTS = 10
STICKY_CLIENTS = ("127.0.0.1", "127.0.1.1", "127.1.0.1", "127.2.0.1", "127.3.0.1", "127.4.0.1")
STICKY_REPEAT = 3
HOLD_SECONDS = 1.0
HOLD_PER_SERVER = 0.5
REQUEST_SLACK = 5.0  # beyond a held request's sleep, for the proxy to pass the answer on
IN_FLIGHT_WAIT = 0.3  # a request still unanswered after this is held by a stub
FAILOVER_DEADLINE = 5.0
SETTLE_SECONDS = 0.5
SETTLE_GAP = 0.1  # between least-connections requests  # several scratch health-check intervals

Note = Callable[[str], None]


def run_balance_checks(live: LiveProxy, probes: dict[str, Probe], note: Note) -> list[Check]:
    checks: list[Check] = []
    for name, probe in probes.items():
        if live.out_of_time():
            note(f"time budget reached: balancing of upstream {name} not checked")
            continue
        upstream = live.cfg.upstream(name)
        pool = _Pool(live, upstream, probe)
        checks += _algorithm_checks(pool, note)
        checks += _backup_checks(pool)
        checks += _health_checks(pool)
    return checks


class _Pool:
    """One upstream on the live proxy: its stubs and a request that reaches it."""

    def __init__(self, live: LiveProxy, upstream: ir.Upstream, probe: Probe):
        self.live, self.upstream, self.probe = live, upstream, probe
        usable = [s for s in upstream.servers if not s.down and s.weight > 0]
        self.primaries = [s for s in usable if not s.backup]
        self.backups = [s for s in usable if s.backup]

    def ids(self, servers: list[ir.Server]) -> list[str]:
        return [self.live.identity(self.upstream.name, s.name) for s in servers]

    def name(self, outcome: str) -> str:
        return self.live.names.get(outcome, outcome).split("/", 1)[-1]

    def check(self, name: str, status: str, detail: str) -> Check:
        return Check(self.upstream.name, name, status, detail)

    def send(self, probe: Probe | None = None) -> str:
        """The identity of the stub that answered, else a short description of the answer."""
        answer = self.live.send(probe or self.probe)
        if answer.stub is not None:
            return answer.stub
        return f"status {answer.status}" if answer.error is None else "no answer"

    def serve(self, n: int, probe: Probe | None = None, gap: float = 0.0) -> list[str]:
        outcomes = []
        for i in range(n):
            if gap and i:
                time.sleep(gap)
            outcomes.append(self.send(probe))
        return outcomes

    def reaches_pool(self, probe: Probe) -> bool:
        decision = self.live.predict(probe)
        return decision.upstream is not None and decision.upstream.name == self.upstream.name

    def counts_text(self, outcomes: list[str]) -> str:
        counts = Counter(outcomes)
        return ", ".join(f"{self.name(k)} {counts[k]}" for k in sorted(counts, key=self.name))

    def wait_until(self, predicate: Callable[[], bool], deadline: float = FAILOVER_DEADLINE) -> bool:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.05)
        return False


# ====================================================================== the algorithm


def _algorithm_checks(pool: _Pool, note: Note) -> list[Check]:
    balance = pool.upstream.balance
    if len(pool.primaries) < 2:
        return []
    # Only a P-code on the balance line itself: one on the upstream (e.g. about its health
    # check) says nothing about how requests are spread.
    if pool.live.is_lossy(balance):
        return [pool.check(balance.algorithm, "skip",
                           f"the {pool.live.target} writer reported it cannot express this upstream exactly")]
    algorithm = balance.algorithm
    if algorithm == "round_robin":
        weights = {s.weight for s in pool.primaries}
        return [_round_robin(pool) if len(weights) == 1 else _weights(pool)]
    if algorithm == "least_conn":
        return [_least_conn(pool)]
    if algorithm in ("source", "hash"):
        note("source/hash balancing: only stickiness is compared; nginx and HAProxy assign "
             "clients to servers differently")
        return [_stickiness(pool)]
    if algorithm == "random":
        return [_random_spread(pool)]
    if algorithm == "first":
        return [_first(pool)]
    return [pool.check(algorithm, "skip", f"no live check for {algorithm}")]


def _round_robin(pool: _Pool) -> Check:
    ids = pool.ids(pool.primaries)
    outcomes = pool.serve(ROUNDS * len(ids))
    counts = Counter(outcomes)
    ok = all(counts[i] == ROUNDS for i in ids) and sum(counts[i] for i in ids) == len(outcomes)
    detail = f"{len(outcomes)} requests, {ROUNDS} per server expected: {pool.counts_text(outcomes)}"
    return pool.check("round robin", "pass" if ok else "fail", detail)


def _weights(pool: _Pool) -> Check:
    ids = pool.ids(pool.primaries)
    total = sum(s.weight for s in pool.primaries)
    outcomes = pool.serve(WEIGHT_REQUESTS)
    counts = Counter(outcomes)
    parts, ok = [], sum(counts[i] for i in ids) == len(outcomes)
    for server, ident in zip(pool.primaries, ids):
        want = 100.0 * server.weight / total
        got = 100.0 * counts[ident] / len(outcomes)
        ok = ok and abs(got - want) <= WEIGHT_TOLERANCE
        parts.append(f"{server.name} {got:.0f}% (weight {want:.0f}%)")
    stray = [o for o in counts if o not in ids]
    if stray:
        parts.append("also " + ", ".join(f"{pool.name(o)} {counts[o]}" for o in sorted(stray)))
    detail = f"{len(outcomes)} requests, ±{WEIGHT_TOLERANCE:g} points: " + ", ".join(parts)
    return pool.check("weights", "pass" if ok else "fail", detail)


def _least_conn(pool: _Pool) -> Check:
    """Hold every primary but the last, fill each held one with a request that stays in flight,
    then check that new requests all go to the idle one."""
    ids = pool.ids(pool.primaries)
    held, idle = ids[:-1], ids[-1]
    hold = HOLD_SECONDS + HOLD_PER_SERVER * len(ids)  # filling and probing take longer with more
    for ident in held:
        pool.live.stubs.hold(ident, hold)
    background: list[threading.Thread] = []
    results: list[str] = []
    try:
        in_flight = _fill_held(pool, len(held), background, results)
        for ident in held:  # in-flight requests keep sleeping; new ones must not be delayed
            pool.live.stubs.hold(ident, 0)
        if len(in_flight) < len(held):
            return pool.check("least connections", "fail",
                              f"could not keep {len(held)} held request(s) in flight (got {len(in_flight)}): "
                              f"answers {pool.counts_text(results)}")
        # The gap lets the proxy close each finished connection before the next one arrives:
        # a lingering one would count as a connection to the idle server.
        outcomes = pool.serve(2 * len(ids), gap=SETTLE_GAP)
        still_busy = all(thread.is_alive() for thread in in_flight)
    finally:
        for ident in held:
            pool.live.stubs.hold(ident, 0)
        for thread in background:
            thread.join(hold + REQUEST_SLACK)
    detail = (f"with {len(held)} server(s) busy, {len(outcomes)} requests: {pool.counts_text(outcomes)} "
              f"(all to the idle {pool.name(idle)} expected)")
    if not still_busy:
        return pool.check("least connections", "fail", "inconclusive: a held request ended before the "
                                                       f"test did ({hold:g} s hold); " + detail)
    ok = all(o == idle for o in outcomes)
    return pool.check("least connections", "pass" if ok else "fail", detail)


def _fill_held(pool: _Pool, wanted: int, threads: list[threading.Thread],
               results: list[str]) -> list[threading.Thread]:
    """Start background requests until ``wanted`` of them are held in flight (a request that is
    answered at once went to the idle server). Returns the threads still waiting."""
    in_flight: list[threading.Thread] = []
    for _ in range(4 * wanted + 2):
        if len(in_flight) == wanted:
            break
        thread = threading.Thread(target=lambda: results.append(pool.send()), daemon=True)
        thread.start()
        threads.append(thread)
        thread.join(IN_FLIGHT_WAIT)
        if thread.is_alive():
            in_flight.append(thread)
    return in_flight


def _stickiness(pool: _Pool) -> Check:
    variants = [(label, v) for label, v in _key_variants(pool) if pool.reaches_pool(v)]
    if len(variants) < 2:
        return pool.check("stickiness", "skip", "fewer than two clients reach this upstream")
    primaries = set(pool.ids(pool.primaries))
    problems, used = [], set()
    for label, probe in variants:
        outcomes = pool.serve(STICKY_REPEAT, probe)
        used.update(outcomes)
        if len(set(outcomes)) != 1 or outcomes[0] not in primaries:
            problems.append(f"{label}: {pool.counts_text(outcomes)}")
    kind = _key_kind(pool.upstream.balance)
    detail = (f"{len(variants)} different {kind} × {STICKY_REPEAT} requests, each kept on one server "
              f"({len(used & primaries)} of {len(primaries)} servers used)")
    if problems:
        detail = f"requests with the same {kind} moved between servers: " + "; ".join(problems)
    return pool.check("stickiness", "fail" if problems else "pass", detail)


def _key_kind(balance: ir.Balance) -> str:
    if balance.algorithm == "source":
        return "client addresses"
    return {"uri": "URIs", "header": f"{balance.key_name} values", "cookie": f"{balance.key_name} cookies",
            "param": f"{balance.key_name} parameters"}.get(balance.key or "uri", "keys")


def _key_variants(pool: _Pool) -> list[tuple[str, Probe]]:
    """Requests that differ only in what the upstream hashes."""
    balance, base = pool.upstream.balance, pool.probe
    out = []
    for i, client in enumerate(STICKY_CLIENTS):
        value = f"k{i}"
        if balance.algorithm == "source":
            out.append((client, dataclasses.replace(base, source=client)))
        elif balance.key == "header":
            headers = tuple(h for h in base.headers if h[0].lower() != balance.key_name.lower())
            out.append((value, dataclasses.replace(base, headers=headers + ((balance.key_name, value),))))
        elif balance.key == "cookie":
            out.append((value, dataclasses.replace(base, headers=base.headers + (("Cookie", f"{balance.key_name}={value}"),))))
        else:  # uri, param: the query string is part of both servers' URI hash
            name = balance.key_name if balance.key == "param" else "k"
            joiner = "&" if "?" in base.path else "?"
            out.append((value, dataclasses.replace(base, path=f"{base.path}{joiner}{name}={value}")))
    return out


def _random_spread(pool: _Pool) -> Check:
    ids = pool.ids(pool.primaries)
    outcomes = pool.serve(RANDOM_ROUNDS * len(ids))
    counts = Counter(outcomes)
    ok = all(counts[i] > 0 for i in ids) and sum(counts[i] for i in ids) == len(outcomes)
    return pool.check("random", "pass" if ok else "fail",
                      f"{len(outcomes)} requests, every server expected: {pool.counts_text(outcomes)}")


def _first(pool: _Pool) -> Check:
    first = pool.ids(pool.primaries)[0]
    outcomes = pool.serve(FIRST_REQUESTS)
    ok = all(o == first for o in outcomes)
    return pool.check("first", "pass" if ok else "fail",
                      f"{len(outcomes)} sequential requests, all to {pool.name(first)} expected: "
                      f"{pool.counts_text(outcomes)}")


# ====================================================================== failover


def _backup_checks(pool: _Pool) -> list[Check]:
    if not pool.backups or not pool.primaries:
        return []
    live = pool.live
    if any(live.is_lossy(s) for s in pool.backups):
        return [pool.check("backup", "skip", f"the {live.target} writer reported it cannot express the backups")]
    if live.target == "haproxy" and not any(s.check for s in pool.primaries):
        return [pool.check("backup", "skip", "HAProxy marks a server down only through a health check, "
                                             "and no primary has `check`: backups can never take over")]
    primaries, backups = pool.ids(pool.primaries), set(pool.ids(pool.backups))
    before = pool.serve(2 * len(primaries))
    if set(before) & backups:
        return [pool.check("backup", "fail", f"backups answered while every primary ran: {pool.counts_text(before)}")]
    try:
        partial = _with_stopped(pool, primaries[:-1])
        if set(partial) & backups:
            return [pool.check("backup", "fail", "backups answered while a primary still ran: "
                                                 f"{pool.counts_text(partial)}")]
        _stop(pool, primaries[-1:])
        took_over = pool.wait_until(lambda: pool.send() in backups)
        after = pool.serve(2 * len(backups)) if took_over else []
    finally:
        for ident in primaries:
            pool.live.stubs.start(ident)
    ok = took_over and all(o in backups for o in after)
    detail = (f"unused with every primary up ({len(before)} requests) and with one left; "
              f"with every primary stopped: {pool.counts_text(after) if after else 'no backup answered'}")
    _wait_back(pool, primaries)
    return [pool.check("backup", "pass" if ok else "fail", detail)]


def _with_stopped(pool: _Pool, idents: list[str]) -> list[str]:
    """Stop these stubs and return what requests then reach."""
    if not idents:
        return []
    _stop(pool, idents)
    return pool.serve(2 * len(pool.primaries))


def _stop(pool: _Pool, idents: list[str]) -> None:
    """Stop stubs. HAProxy: then give its health check time to notice, since a request sent to
    a stopped server it still thinks is up waits through every connect retry (about 1 s each)."""
    for ident in idents:
        pool.live.stubs.stop(ident)
    if pool.live.target == "haproxy":
        time.sleep(SETTLE_SECONDS)


def _wait_back(pool: _Pool, primaries: list[str]) -> None:
    """After restarting stubs, before the health check test: HAProxy uses the primaries again
    after one passing check. nginx keeps a failed server out for ``fail_timeout`` (10 s by
    default), and no later check of this upstream needs it back, so nginx is not waited for."""
    if pool.live.target == "haproxy":
        pool.wait_until(lambda: pool.send() in primaries)


def _health_checks(pool: _Pool) -> list[Check]:
    checked = [s for s in pool.primaries if s.check]
    if not checked or len(pool.primaries) < 2:
        return []
    live = pool.live
    if live.target == "nginx":
        return [pool.check("health check", "skip", "nginx OSS has no active health checks")]
    if live.is_lossy(pool.upstream.health):
        return [pool.check("health check", "skip", "the writer reported it cannot express the health check")]
    primaries = pool.ids(pool.primaries)
    victim = pool.live.identity(pool.upstream.name, checked[0].name)
    window = 2 * len(primaries)
    try:
        _stop(pool, [victim])
        out = pool.wait_until(lambda: all(o in primaries and o != victim for o in pool.serve(window)))
    finally:
        pool.live.stubs.start(victim)
    if not out:
        return [pool.check("health check", "fail", f"{pool.name(victim)} stopped, but requests still failed or "
                                                   f"reached it after {FAILOVER_DEADLINE:g} s")]
    detail = f"stopped {pool.name(victim)}: out of rotation within {FAILOVER_DEADLINE:g} s"
    if pool.upstream.balance.algorithm in ("round_robin", "least_conn", "random"):
        back = pool.wait_until(lambda: victim in pool.serve(window))
        if not back:
            return [pool.check("health check", "fail", detail + "; restarted, but it never came back")]
        detail += "; restarted: back in rotation"
    return [pool.check("health check", "pass", detail)]
