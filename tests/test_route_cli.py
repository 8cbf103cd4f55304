"""`proxyc route` as a user runs it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def route(*args):
    result = subprocess.run([sys.executable, "-m", "proxyc", "route", *map(str, args)],
                            capture_output=True, text=True, timeout=60)
    return result


@pytest.mark.parametrize("args, upstream, span_line", [
    (["host-routing.pxc", "http://api.example.com/v2/users"], "api_v2", 17),
    (["host-routing.pxc", "http://API.example.com:80/v1"], "api", 18),
    (["host-routing.pxc", "GET", "http://shop.example.com/admin/x", "--src", "10.1.2.3"], "shop", 19),
    (["haproxy-lab3-grouped.pxc", "/basket/1"], "basket_pool", 26),
    (["haproxy-lab3-grouped.pxc", "/other"], "webservers", 27),
])
def test_route_json_names_upstream_and_rule(args, upstream, span_line):
    args = [EXAMPLES / args[0], *args[1:], "--format", "json"]
    result = route(*args)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["upstream"] == upstream
    assert data["span"].endswith(f".pxc:{span_line}:9") or data["span"].endswith(f".pxc:{span_line}:13")


def test_route_deny_and_fixed_response():
    result = route(EXAMPLES / "host-routing.pxc", "http://shop.example.com/admin/x", "--src", "192.0.2.7")
    assert result.returncode == 0
    assert "status    403" in result.stdout
    result = route(EXAMPLES / "host-routing.pxc", "http://unknown.example.org/")
    assert "status    404" in result.stdout


def test_route_unknown_frontend_is_a_clear_error():
    result = route(EXAMPLES / "host-routing.pxc", "/", "--frontend", "nope")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "nope" in result.stderr
