"""Every real-world nginx config of the shared corpus reads without an exception, and every
directive in it is accounted for: converted into the IR or reported by a diagnostic.

``pytest tests/test_nginx_corpus.py -s`` prints, per file, how many directives were converted
and which were reported.
"""
from __future__ import annotations

from collections import Counter

import pytest

from proxyc.dialects.nginx.reader import read_with_report

try:
    from conftest import corpus_dir
except ImportError:  # run from the repository root
    from tests.conftest import corpus_dir

CORPUS = sorted((corpus_dir() / "nginx").glob("*.conf"))
_RESULTS: dict[str, tuple] = {}


def _read(path):
    if path.name not in _RESULTS:
        _RESULTS[path.name] = read_with_report(None, str(path), path=str(path))
    return _RESULTS[path.name]


def test_the_corpus_is_there():
    assert len(CORPUS) >= 30, f"expected the shared nginx corpus in {corpus_dir() / 'nginx'}"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_file_reads_and_nothing_is_dropped_silently(path):
    cfg, diags, stats = _read(path)
    assert not [str(d) for d in diags if d.code == "E999"]
    own = stats[str(path)]
    assert own.unaccounted == [], f"directives neither converted nor reported: {own.unaccounted}"
    assert own.converted + own.reported == own.total
    assert sum(own.reported_directives.values()) == own.reported
    for name, file_stats in stats.items():  # included files too
        assert file_stats.unaccounted == [], (name, file_stats.unaccounted)
    if cfg is None:  # only a file nginx itself refuses may give no IR
        assert [d for d in diags if d.code == "E201" and d.severity == "error"], [str(d) for d in diags]
    else:
        reported_lines = {(d.file, d.line) for d in diags}
        assert own.reported == 0 or reported_lines, "reported directives need diagnostics"


def test_corpus_report(capsys):
    """The table (visible with -s): per file, directives converted / reported, and the most
    frequently reported ones. Also a floor on how much of the corpus is understood."""
    rows, totals = [], Counter()
    for path in CORPUS:
        cfg, _diags, stats = _read(path)
        own = stats[str(path)]
        totals.update(total=own.total, converted=own.converted, reported=own.reported)
        top = ", ".join(f"{name}×{n}" if n > 1 else name for name, n in own.reported_directives.most_common(5))
        rows.append(f"{path.name[:44]:44} {own.total:5} {own.converted:9} {own.reported:8}  "
                    f"{'IR' if cfg is not None else '--'}  {top}")
    with capsys.disabled():
        print(f"\n{'file':44} {'total':>5} {'converted':>9} {'reported':>8}  IR  most reported")
        print("\n".join(rows))
        print(f"{'all files':44} {totals['total']:5} {totals['converted']:9} {totals['reported']:8}")
    assert totals["converted"] + totals["reported"] == totals["total"]
    assert totals["converted"] >= totals["total"] * 0.4  # routing-relevant directives are understood
