"""`proxyc lint` and `proxyc rule` from the command line: output, exit status, options."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import CLEAN_PXC

from proxyc.cli import main
from proxyc.lint.registry import all_rules

FIXTURES = Path(__file__).resolve().parent / "lint_fixtures"
CLEAN = CLEAN_PXC
FAULTY = str(FIXTURES / "S002" / "bad.pxc")


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_clean_file_exits_0(run, tmp_path):
    clean = tmp_path / "clean.pxc"
    clean.write_text(CLEAN, encoding="utf-8")
    result = run("lint", str(clean))
    assert result.exit_code == 0, result.output
    assert result.output == "Found 0 problems.\n"


def test_findings_exit_1_unless_exit_zero(run):
    result = run("lint", FAULTY, "--select", "S002")
    assert result.exit_code == 1
    assert ":17:10: S002 upstream app_old is never used by a frontend" in result.output
    assert result.output.endswith("Found 1 problem.\n")
    assert run("lint", FAULTY, "--select", "S002", "--exit-zero").exit_code == 0


def test_ignore_and_extend_select(run):
    assert run("lint", FAULTY, "--select", "S", "--ignore", "S002").exit_code == 0
    result = run("lint", FAULTY, "--select", "U001", "--extend-select", "S002", "--format", "json")
    assert [d["code"] for d in json.loads(result.output)] == ["S002"]


@pytest.mark.parametrize("args", [("--select", "bogus!"), ("--ignore", "R,?")])
def test_bad_selectors_exit_2(run, args):
    result = run("lint", FAULTY, *args)
    assert result.exit_code == 2 and "invalid rule selector" in result.output


def test_missing_file_exits_2(run, tmp_path):
    result = run("lint", str(tmp_path / "missing.pxc"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_machine_formats(run):
    sarif = json.loads(run("lint", FAULTY, "--select", "S002", "--format", "sarif").output)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"][0]["ruleId"] == "S002"
    github = run("lint", FAULTY, "--select", "S002", "--format", "github").output
    assert github.startswith("::warning file=") and ",line=17,col=10,title=S002::" in github


def test_rule_explains_a_rule_and_lists_them(run):
    result = run("rule", "shadowed-rule")
    assert result.exit_code == 0 and result.output.startswith("# shadowed-rule (R003)")
    listing = run("rule", "--all").output.splitlines()
    assert len(listing) == len(all_rules())
    assert any(line.startswith("R003  shadowed-rule") for line in listing)
    assert run("rule", "Z999").exit_code == 2
