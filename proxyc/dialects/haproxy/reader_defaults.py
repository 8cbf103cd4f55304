"""``defaults`` sections → the IR's one ``Defaults`` plus per-proxy differences.

HAProxy may have several ``defaults`` sections. A proxy takes the one named by its ``from``, or
else the last one written before it; a ``defaults`` section inherits from the one its own
``from`` names, and otherwise starts from nothing. The IR has a single ``Defaults``, so:

* the *base* is the defaults section most proxies use (the earliest on a tie); its settings
  become the IR ``Defaults``, and its lines the IR does not model become one raw ``defaults``
  block;
* a proxy that uses another section gets the settings that differ from the base written on
  itself (mode, timeouts, forwardfor), where the IR has a place for them;
* what cannot be placed (an unmodelled line of a non-base section, a base setting a proxy's
  own defaults do not have) is reported.

Unset ``timeout connect/client/server`` in the IR means 60 s (nginx's default; the HAProxy
writer writes it out), so in the base a 60 s timeout is read as unset.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import ir
from .lexer import Line, Section, Word
from .reader_base import ReadContext, comment_texts, line_subject
from .reader_proxy import ROUTING_KEYWORDS
from .writer import NGINX_DEFAULT_TIMEOUT_MS, REQUIRED_TIMEOUTS

# HAProxy timeout keyword → IR Timeouts field.
TIMEOUT_FIELDS = {"connect": "connect", "client": "client", "server": "server", "http-request": "http_request",
                  "queue": "queue", "tunnel": "tunnel", "check": "check"}
FRONTEND_TIMEOUTS = ("client", "http_request")
UPSTREAM_TIMEOUTS = ("connect", "server", "queue", "tunnel", "check")
PROXY_KEYWORDS = ("frontend", "backend", "listen")
BUILTIN_MODE = "tcp"  # HAProxy's mode when nothing sets one


@dataclass
class Setting:
    """One modelled value and the line that set it."""

    value: object
    line: Line


@dataclass
class DefaultsValues:
    """What a defaults section sets (its own lines, or merged with its parents)."""

    mode: Setting | None = None
    timeouts: dict[str, Setting] = field(default_factory=dict)  # IR field name → ms
    forwardfor: Setting | None = None
    log: Setting | None = None  # "log global"
    log_option: Setting | None = None  # "option httplog" / "option tcplog"
    others: list[Line] = field(default_factory=list)

    def merged_over(self, parent: DefaultsValues) -> DefaultsValues:
        others = {line.line: line for line in parent.others}
        others.update({line.line: line for line in self.others})
        return DefaultsValues(
            mode=self.mode or parent.mode,
            timeouts={**parent.timeouts, **self.timeouts},
            forwardfor=self.forwardfor or parent.forwardfor,
            log=self.log or parent.log,
            log_option=self.log_option or parent.log_option,
            others=[others[n] for n in sorted(others)],
        )

    def mode_value(self) -> str:
        return self.mode.value if self.mode else BUILTIN_MODE

    def timeout(self, key: str) -> int | None:
        setting = self.timeouts.get(key)
        return setting.value if setting else None


@dataclass
class DefaultsSection:
    section: Section
    name: str | None
    parent: Word | None
    own: DefaultsValues
    modelled_lines: list[Line]  # every modelled line, also one a later line overrides
    users: list[Section] = field(default_factory=list)


# ------------------------------------------------------------------ one defaults section


def read_defaults_section(ctx: ReadContext, section: Section) -> DefaultsSection:
    name, parent = _header_names(ctx, section)
    own = DefaultsValues()
    modelled = []
    for line in section.lines:
        if _read_modelled(ctx, line, own):
            modelled.append(line)
        else:
            own.others.append(line)
    return DefaultsSection(section, name, parent, own, modelled)


def _header_names(ctx: ReadContext, section: Section) -> tuple[str | None, Word | None]:
    """``defaults [NAME] [from PARENT]`` → (name, parent word)."""
    args = list(section.args)
    parent = None
    if len(args) >= 2 and args[-2].text == "from":
        parent = args[-1]
        args = args[:-2]
    name = args[0].text if args else None
    if len(args) > 1:
        ctx.report(section.header, f"unexpected {args[1].text!r} in the defaults header", severity="error",
                   code="E204", word=args[1])
    return name, parent


def _read_modelled(ctx: ReadContext, line: Line, values: DefaultsValues) -> bool:
    """Store a setting the IR models; False for anything else."""
    words = [w.text for w in line.words]
    if words[0] == "mode" and len(words) == 2 and words[1] in ("http", "tcp"):
        values.mode = Setting(words[1], line)
    elif words[0] == "timeout" and len(words) == 3 and words[1] in TIMEOUT_FIELDS:
        ms = ir.parse_duration(words[2])
        if ms is None:
            return False
        values.timeouts[TIMEOUT_FIELDS[words[1]]] = Setting(ms, line)
    elif words[:2] == ["option", "forwardfor"]:
        values.forwardfor = Setting(True, line)
        if len(words) > 2:
            ctx.report(line, "option forwardfor settings not imported: " + " ".join(words[2:]), word=line.words[2])
    elif words == ["log", "global"]:
        values.log = Setting(True, line)
    elif words in (["option", "httplog"], ["option", "tcplog"]):
        values.log_option = Setting(words[1], line)
    else:
        return False
    return True


# ------------------------------------------------------------------ which proxy uses which


class DefaultsPlan:
    """Every defaults section, which proxies use each, and the base that becomes the IR's."""

    def __init__(self, ctx: ReadContext, sections: list[Section]):
        self.ctx = ctx
        self.sections: list[DefaultsSection] = []
        self.by_name: dict[str, DefaultsSection] = {}
        self.used_by: dict[int, DefaultsSection | None] = {}  # id(proxy section) → its defaults
        self._effective: dict[int, DefaultsValues] = {}
        self.base_raw_lines: list[Line] = []
        self._assign(sections)
        self.base = self._choose_base()
        self.base_values = self.effective(self.base) if self.base else DefaultsValues()

    def _assign(self, sections: list[Section]) -> None:
        last: DefaultsSection | None = None
        for section in sections:
            if section.keyword == "defaults":
                last = read_defaults_section(self.ctx, section)
                self.sections.append(last)
                if last.name:
                    self.by_name[last.name] = last
            elif section.keyword in PROXY_KEYWORDS:
                chosen = self._named_in_header(section, last)
                self.used_by[id(section)] = chosen
                if chosen is not None:
                    chosen.users.append(section)

    def _named_in_header(self, section: Section, last: DefaultsSection | None) -> DefaultsSection | None:
        """The defaults a proxy names with ``from``, else the last one before it."""
        args = section.args
        if len(args) >= 3 and args[1].text == "from":
            named = self.by_name.get(args[2].text)
            if named is None:
                self.ctx.report(section.header, f"no defaults section named {args[2].text!r} before this proxy",
                                severity="error", code="E205", word=args[2])
            return named
        return last

    def _choose_base(self) -> DefaultsSection | None:
        used = [d for d in self.sections if d.users]
        if not used:
            return self.sections[-1] if self.sections else None
        # Most users wins; on a tie, the section whose first user comes first in the file.
        return max(used, key=lambda d: (len(d.users), -d.users[0].line))

    def effective(self, section: DefaultsSection, seen: frozenset[int] = frozenset()) -> DefaultsValues:
        key = id(section)
        if key in self._effective:
            return self._effective[key]
        values = section.own
        if section.parent is not None:
            parent = self.by_name.get(section.parent.text)
            if parent is None:
                self.ctx.report(section.section.header,
                                f"no defaults section named {section.parent.text!r} to inherit from",
                                severity="error", code="E205", word=section.parent)
            elif parent is section or id(parent) in seen | {key}:
                self.ctx.report(section.section.header,
                                f"the 'from' chain of defaults {section.name} comes back to itself",
                                severity="error", code="E205", word=section.parent)
            else:
                values = values.merged_over(self.effective(parent, seen | {key}))
        self._effective[key] = values
        return values

    def for_proxy(self, proxy: Section) -> DefaultsValues:
        chosen = self.used_by.get(id(proxy))
        return self.effective(chosen) if chosen else DefaultsValues()

    # ------------------------------------------------------------------ the IR defaults
    def ir_defaults(self, has_log_targets: bool) -> tuple[ir.Defaults, list[str]]:
        """The IR ``Defaults`` from the base, and the base's unmodelled lines (raw text).
        ``log global`` only means something when ``global`` has log targets."""
        base = self.base_values
        defaults = ir.Defaults(mode=base.mode_value(),
                               span=self.ctx.span(self.base.section.header) if self.base else None,
                               comments=comment_texts(self.base.section.leading_comments) if self.base else [])
        for key, setting in base.timeouts.items():
            setattr(defaults.timeouts, key, canonical_default_timeout(key, setting.value))
        defaults.forwardfor = base.forwardfor is not None
        defaults.log = base.log is not None and has_log_targets
        if base.log is not None and not has_log_targets:
            self.ctx.report(base.log.line, "log global without a log target in global logs nothing; not imported",
                            severity="info")
        self.base_raw_lines = self.raw_lines_of(base)
        self._account_base_lines()
        return defaults, [self.ctx.text_of(line) for line in self.base_raw_lines]

    @staticmethod
    def raw_lines_of(values: DefaultsValues) -> list[Line]:
        """The lines of a (merged) defaults section the IR's Defaults cannot hold. "option
        httplog|tcplog" belongs to "log global" (the writer picks the one for each proxy's mode);
        without it, it is kept as written."""
        lines = list(values.others)
        if values.log_option is not None and values.log is None:
            lines = sorted([*lines, values.log_option.line], key=lambda line: line.line)
        return lines

    def _account_base_lines(self) -> None:
        if self.base is not None:
            self.ctx.converted(self.base.section.header)
            for line in self.base.modelled_lines:
                self.ctx.converted(line)
        routing = [line for line in self.base_raw_lines if line.words[0].text in ROUTING_KEYWORDS]
        for line in routing:
            self.ctx.report(line, f"{line_subject(line)!r} in defaults applies to every proxy, but the IR's "
                                  "frontends and upstreams do not see it; kept as raw HAProxy text")
        others = [line for line in self.base_raw_lines if line not in routing]
        if others:
            names = sorted({line_subject(line) for line in others})
            self.ctx.report_lines(others, "defaults settings kept as raw HAProxy text: " + ", ".join(names))

    # ------------------------------------------------------------------ the other sections
    def account_other_sections(self) -> None:
        """Lines of defaults sections other than the base: settings of used ones are placed on
        their proxies by ``apply_*``; their unmodelled lines cannot be placed, and unused
        sections are reported whole."""
        base_texts = {self.ctx.text_of(line) for line in self.base_raw_lines}
        in_use = self._in_use()
        for section in self.sections:
            if section is self.base:
                continue
            label = section.name or "(unnamed)"
            if id(section) not in in_use:
                self.ctx.report_lines([section.section.header, *section.section.lines],
                                      f"defaults section {label} is used by no proxy; not imported")
                continue
            self.ctx.converted(section.section.header)
            for line in section.modelled_lines:
                self.ctx.converted(line)
            for line in self.raw_lines_of(section.own):
                if self.ctx.text_of(line) in base_texts:
                    self.ctx.converted(line)
                    continue
                users = ", ".join(u.name or "?" for u in section.users) or "no proxy directly"
                self.ctx.report(line, f"{line.words[0].text!r} applies only to the proxies that use defaults "
                                      f"{label} ({users}); the IR has one defaults section, so it is not "
                                      "imported")

    def _in_use(self) -> set[int]:
        """The sections some proxy uses, directly or as an ancestor through ``from``."""
        in_use: set[int] = set()
        for section in self.sections:
            if not section.users and section is not self.base:
                continue
            current, guard = section, 0
            while current is not None and id(current) not in in_use and guard <= len(self.sections):
                in_use.add(id(current))
                current = self.by_name.get(current.parent.text) if current.parent is not None else None
                guard += 1
        return in_use

    def apply_to_frontend(self, fe: ir.Frontend, proxy: Section, explicit_mode: bool) -> None:
        values = self.for_proxy(proxy)
        self._apply_mode(fe, values, explicit_mode)
        self._apply_timeouts(fe.timeouts, values, FRONTEND_TIMEOUTS, proxy)
        base_ff = self.base_values.forwardfor is not None
        own_ff = values.forwardfor is not None
        if own_ff and not base_ff:
            fe.forwardfor = True
        elif base_ff and not own_ff and not fe.forwardfor:
            self.ctx.note(proxy.header, f"frontend {fe.name} does not add X-Forwarded-For (its defaults have no "
                                        "'option forwardfor'), but the IR's defaults do", severity="warning")
        self._report_other_differences(values, proxy)

    def apply_to_upstream(self, up: ir.Upstream, proxy: Section, explicit_mode: bool) -> None:
        values = self.for_proxy(proxy)
        self._apply_mode(up, values, explicit_mode)
        self._apply_timeouts(up.timeouts, values, UPSTREAM_TIMEOUTS, proxy)
        if proxy.keyword == "backend":
            self._report_other_differences(values, proxy)

    def _apply_mode(self, node: ir.Frontend | ir.Upstream, values: DefaultsValues, explicit_mode: bool) -> None:
        if not explicit_mode and values.mode_value() != self.base_values.mode_value():
            node.mode = values.mode_value()

    def _apply_timeouts(self, timeouts: ir.Timeouts, values: DefaultsValues, keys: tuple[str, ...],
                        proxy: Section) -> None:
        for key in keys:
            if getattr(timeouts, key) is not None:
                continue  # the proxy sets it itself
            own, base = values.timeout(key), self.base_values.timeout(key)
            if own == base:
                continue
            if own is not None:
                setattr(timeouts, key, own)
            elif self.base_values.timeouts.get(key) is not None:
                self.ctx.note(proxy.header, f"{proxy.keyword} {proxy.name} has no timeout "
                                            f"{key.replace('_', '-')} in its defaults, but the IR's defaults set "
                                            f"one ({ir.format_duration(base)})", severity="warning")

    def _report_other_differences(self, values: DefaultsValues, proxy: Section) -> None:
        if values is self.base_values:
            return
        if (values.log is not None) != (self.base_values.log is not None):
            state = "logs" if values.log is not None else "does not log"
            self.ctx.note(proxy.header, f"{proxy.keyword} {proxy.name} {state} through its defaults, unlike the "
                                        "IR's defaults", severity="warning")
        own_texts = {self.ctx.text_of(line) for line in self.raw_lines_of(values)}
        leaking = [line for line in self.base_raw_lines if self.ctx.text_of(line) not in own_texts]
        if leaking:
            settings = ", ".join(f"{line_subject(line)} (line {line.line})" for line in leaking)
            self.ctx.note(proxy.header, f"{proxy.keyword} {proxy.name} does not use the defaults that become the "
                                        f"IR's, so their raw settings {settings} would also apply to it",
                          severity="warning")


def canonical_default_timeout(key: str, ms: int) -> int | None:
    """In the IR's defaults, an unset connect/client/server timeout means 60 s."""
    if key in REQUIRED_TIMEOUTS and ms == NGINX_DEFAULT_TIMEOUT_MS:
        return None
    return ms


def effective_default_timeout(defaults: ir.Defaults, key: str) -> int | None:
    """What the IR's defaults mean for ``key`` (unset connect/client/server: 60 s)."""
    value = getattr(defaults.timeouts, key)
    if value is None and key in REQUIRED_TIMEOUTS:
        return NGINX_DEFAULT_TIMEOUT_MS
    return value



