"""Writing files safely and finding input files."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


def write_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` only once the new content is fully on disk: a crash or a full disk leaves
    the previous file untouched. Keeps the old file's permission bits."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def expand_paths(paths: Iterable[str | Path], suffixes: tuple[str, ...] | None = None) -> Iterator[Path]:
    """Files as given, and the files below directories (sorted; hidden folders skipped), kept
    when they end with one of ``suffixes`` (all files if None)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if child.is_file() and (suffixes is None or child.name.endswith(suffixes)):
                    yield child
        else:
            yield path
