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


_DIGEST_SCRIPT = """
import hashlib, importlib, sys
from pathlib import Path
from proxyc.dialects.pxc.reader import load
write = importlib.import_module(sys.argv[1]).write
digest = hashlib.sha256()
for name in sys.argv[2:]:
    text, diags = write(load(Path(name).read_text(), name))
    digest.update(text.encode() + repr([str(d) for d in diags]).encode())
print(digest.hexdigest())
"""


def writer_digests_across_hash_seeds(writer_module: str, paths: list[str], seeds=("1", "2")) -> set[str]:
    """One digest of a writer's output (text and diagnostics) over ``paths`` per PYTHONHASHSEED,
    each in a fresh interpreter: a deterministic writer gives a single digest."""
    import subprocess
    import sys

    digests = set()
    for seed in seeds:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT, writer_module, *paths], env=env,
                             capture_output=True, text=True, check=True, timeout=60)
        digests.add(out.stdout.strip())
    return digests


# A small config every lint rule passes: the clean input of CLI and pre-commit tests.
CLEAN_PXC = """\
defaults {
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
}

frontend web {
    listen :80
    default app
}

upstream app {
    server a1 10.0.0.1:8080
}
"""
