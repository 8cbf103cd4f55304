"""The pre-commit hooks, run by the real `pre-commit` tool against a throw-away repository.

`pre-commit try-repo` installs proxyc from this repository at the commit HEAD points to (the
hooks file and the code as committed) into its own virtualenv, then runs the hook on the
files given; each run builds its environment afresh (20-30 s), so the two runs go side by
side. The hooks come from the committed HEAD: commit before running it to test local changes.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import CLEAN_PXC, require_binary

ROOT = Path(__file__).resolve().parent.parent

GOOD = CLEAN_PXC
# The same, with an upstream nothing uses (S002).
BAD = GOOD + """
upstream forgotten {
    server f1 10.0.0.2:8080
}
"""


def _git(cwd: Path, *args: str) -> str:
    run = subprocess.run(["git", "-c", "user.email=test@example.invalid", "-c", "user.name=test", *args],
                         cwd=cwd, capture_output=True, text=True, check=True, timeout=60)
    return run.stdout.strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A repository holding one clean and one faulty .pxc file."""
    repo = tmp_path_factory.mktemp("configs")
    (repo / "good.pxc").write_text(GOOD, encoding="utf-8")
    (repo / "bad.pxc").write_text(BAD, encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "configs")
    return repo


def _lint_command_available() -> bool:
    from proxyc.cli import main

    return "lint" in main.commands


def _start_try_repo(project: Path, pre_commit: str, home: Path, file: str) -> subprocess.Popen:
    head = _git(ROOT, "rev-parse", "HEAD")
    # The normal HOME keeps pip's download cache; each try-repo builds a fresh environment.
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.Popen([pre_commit, "try-repo", str(ROOT), "proxyc-lint", "--ref", head, "--files", file],
                            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, output


def test_proxyc_lint_hook_passes_good_files_and_fails_bad_ones(project, tmp_path_factory):
    pre_commit = require_binary("pre-commit", hint="pip install pre-commit")
    if not _lint_command_available():
        pytest.skip("the `proxyc lint` command is not in proxyc/cli.py yet")
    # The two runs install independently, so they run side by side.
    runs = [_start_try_repo(project, pre_commit, tmp_path_factory.mktemp("pre-commit-home"), name)
            for name in ("good.pxc", "bad.pxc")]
    (good_status, good), (bad_status, bad) = [_finish(run) for run in runs]

    assert good_status == 0, good
    assert "proxyc lint" in good and "Passed" in good

    assert bad_status == 1, bad
    assert "bad.pxc:17:10: S002 upstream forgotten is never used by a frontend" in bad
