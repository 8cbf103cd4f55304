"""Small, generic helpers shared by tests."""

import os
import shutil

import pytest


def require_binary(name: str, hint: str = "apt-get install -y nginx libnginx-mod-stream haproxy") -> str:
    """Path of an external program; skip the test if it is missing, but FAIL
    under CI (env CI set) so a broken CI image cannot pass by skipping."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}") if os.access(p, os.X_OK)), None)
    if path:
        return path
    reason = f"{name} is not installed (install with: {hint})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)
