"""What ``proxyc verify`` found, and how it is shown (text for people, JSON for machines)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

CheckStatus = Literal["pass", "fail", "skip"]
MAX_SHOWN_MISMATCHES = 30  # in the text report; a badly wrong writer can fail hundreds


@dataclass
class Mismatch:
    """A request whose live answer differs from the route simulator's prediction."""

    request: str
    expected: str
    got: str
    rule: str  # the deciding rule in DSL spelling ("default", "no route", ...)
    where: str  # file:line of the deciding rule

    def to_dict(self) -> dict:
        return {"request": self.request, "expected": self.expected, "got": self.got,
                "rule": self.rule, "where": self.where}


@dataclass
class Check:
    """One balancing check of one upstream."""

    upstream: str
    name: str  # "round robin", "weights", "stickiness", ...
    status: CheckStatus
    detail: str

    def to_dict(self) -> dict:
        return {"upstream": self.upstream, "check": self.name, "status": self.status, "detail": self.detail}


@dataclass
class TargetReport:
    target: str  # "nginx" | "haproxy"
    requests: int = 0  # routing probes sent
    matched: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the run could not happen (writer errors, proxy did not start)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.mismatches and not self.failed_checks

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def note(self, text: str) -> None:
        if text not in self.notes:  # the same caveat can come from several frontends
            self.notes.append(text)

    def to_dict(self) -> dict:
        return {
            "target": self.target, "ok": self.ok, "error": self.error,
            "requests": self.requests, "matched": self.matched,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "checks": [c.to_dict() for c in self.checks],
            "notes": list(self.notes), "seconds": round(self.seconds, 2),
        }


@dataclass
class VerifyReport:
    file: str
    targets: list[TargetReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.targets)

    def exit_status(self) -> int:
        """0 all agree, 2 a target could not be run, 1 mismatches or failed checks."""
        if any(t.error is not None for t in self.targets):
            return 2
        return 0 if self.ok else 1

    def to_dict(self) -> dict:
        return {"file": self.file, "ok": self.ok, "targets": [t.to_dict() for t in self.targets]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        lines: list[str] = []
        for t in self.targets:
            lines += _target_text(t)
        verdict = "all targets route as described" if self.ok else "verification FAILED"
        lines.append(f"{self.file}: {verdict}")
        return "\n".join(lines) + "\n"


def _target_text(t: TargetReport) -> list[str]:
    head = f"== {t.target}: "
    if t.error is not None:
        return [head + "ERROR", *_indent(t.error.rstrip().splitlines()), ""]
    passed = sum(c.status == "pass" for c in t.checks)
    skipped = sum(c.status == "skip" for c in t.checks)
    lines = [head + ("ok" if t.ok else "MISMATCHES")
             + f" ({t.matched}/{t.requests} requests as predicted, {passed}/{len(t.checks)} balancing checks passed"
             + (f", {skipped} skipped" if skipped else "") + f", {t.seconds:.1f} s)"]
    for m in t.mismatches[:MAX_SHOWN_MISMATCHES]:
        lines += [f"  MISMATCH {m.request}", f"    expected {m.expected}", f"    got      {m.got}",
                  f"    decided by {m.rule} at {m.where}"]
    hidden = len(t.mismatches) - MAX_SHOWN_MISMATCHES
    if hidden > 0:
        lines.append(f"  ... and {hidden} more mismatches (--format json lists them all)")
    for c in t.checks:
        mark = {"pass": "ok  ", "fail": "FAIL", "skip": "skip"}[c.status]
        lines.append(f"  {mark} {c.upstream}: {c.name}: {c.detail}")
    lines += [f"  note: {n}" for n in t.notes]
    lines.append("")
    return lines


def _indent(lines: list[str]) -> list[str]:
    return [f"  {line}" for line in lines]
