"""Lint settings from ``[tool.proxyc.lint]`` in the nearest pyproject.toml above a linted file.

    [tool.proxyc.lint]
    select = ["ALL"]
    ignore = ["U007"]
    extend-select = []
    exclude = ["vendor", "*.generated.conf", "legacy/*.cfg"]

As with ruff, a pyproject.toml without the table is skipped, so a nested Python project does
not hide the repository's settings. ``exclude`` globs are relative to the pyproject.toml's
directory: a pattern without ``/`` matches any single path component (a file or a directory
name), a pattern with ``/`` matches the relative path or one of its leading directories.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .selection import SelectionError, parse_selectors

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

KEYS = ("select", "ignore", "extend-select", "exclude")


class SettingsError(ValueError):
    """A pyproject.toml whose lint settings cannot be used."""


@dataclass(frozen=True)
class Settings:
    root: Path | None = None  # the directory of the pyproject.toml; None: no file found
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def excludes(self, path: Path) -> bool:
        if self.root is None or not self.exclude:
            return False
        try:
            relative = PurePosixPath(path.resolve().relative_to(self.root).as_posix())
        except ValueError:  # outside the project: its excludes do not apply
            return False
        return any(matches_glob(relative, pattern) for pattern in self.exclude)


def matches_glob(relative: PurePosixPath, pattern: str) -> bool:
    pattern = pattern.strip("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts)
    leading = [PurePosixPath(*relative.parts[:n]) for n in range(1, len(relative.parts) + 1)]
    return any(fnmatch.fnmatchcase(str(candidate), pattern) for candidate in leading)


def settings_for(path: Path, cache: dict[Path, Settings | None] | None = None) -> Settings:
    """The settings that apply to a file (or directory), from the nearest configured
    pyproject.toml in it or above it. ``cache`` (one per run) saves re-reading the files."""
    cache = {} if cache is None else cache
    start = path.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject not in cache:
            cache[pyproject] = _load(pyproject)
        if cache[pyproject] is not None:
            return cache[pyproject]
    return Settings()


def _load(pyproject: Path) -> Settings | None:
    if not pyproject.is_file():
        return None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{pyproject}: cannot read it: {exc}") from exc
    table = data.get("tool", {}).get("proxyc", {}).get("lint")
    if table is None:
        return None
    return _parse(table, pyproject)


def _parse(table: dict, pyproject: Path) -> Settings:
    where = f"{pyproject} [tool.proxyc.lint]"
    unknown = sorted(set(table) - set(KEYS) - {"extend_select"})
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    values = {key.replace("-", "_"): value for key, value in table.items()}
    for key, value in values.items():
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise SettingsError(f"{where}: {key.replace('_', '-')} must be a list of strings")
    try:
        select = parse_selectors(values.get("select"))
        ignore = parse_selectors(values.get("ignore", []))
        extend = parse_selectors(values.get("extend_select", []))
    except SelectionError as exc:
        raise SettingsError(f"{where}: {exc}") from exc
    return Settings(root=pyproject.parent.resolve(), select=None if select is None else tuple(select),
                    ignore=tuple(ignore), extend_select=tuple(extend), exclude=tuple(values.get("exclude", [])))
