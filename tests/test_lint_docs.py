"""docs/rules.md is generated from the rule docstrings and must be up to date."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from proxyc.lint import docs
from proxyc.lint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent


def test_docs_rules_md_is_up_to_date():
    run = subprocess.run([sys.executable, "-m", "proxyc.lint.docs", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr + "\nrun `python -m proxyc.lint.docs` to regenerate docs/rules.md"


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path):
    target = tmp_path / "rules.md"
    target.write_text("# old\n", encoding="utf-8")
    assert docs.main(["--check", "--output", str(target)]) == 1
    assert docs.main(["--output", str(target)]) == 0
    assert docs.main(["--check", "--output", str(target)]) == 0


def test_every_rule_has_a_table_row_and_a_section():
    text = docs.rules_markdown()
    for rule in all_rules():
        assert f"| [{rule.code}](#{rule.code.lower()}-{rule.name}) | {rule.name} |" in text
        assert f"### {rule.code} {rule.name}\n" in text
    assert "#### What it does" in text and "\n## What it does" not in text
