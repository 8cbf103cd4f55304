"""The IR runtime (proxyc/ir/base.py): constructors, equality, copies, dumps, and the pydantic
mirror (proxyc/ir/schema.py) that checks IR data against the declared types."""
from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pydantic
import pytest

from golden_cases import cases, load_case
from proxyc import ir
from proxyc.ir.schema import pydantic_model
from proxyc.loading import load_file

from golden_cases import EXAMPLES

SEED_CONFIGS = sorted((EXAMPLES / "seed").iterdir())


def _all_example_irs():
    for name, path in cases():
        yield name, load_case(path)
    for path in SEED_CONFIGS:
        cfg, _, _, _ = load_file(path, None)
        yield path.name, cfg


EXAMPLE_IRS = list(_all_example_irs())


@pytest.mark.parametrize("name,cfg", EXAMPLE_IRS, ids=[n for n, _ in EXAMPLE_IRS])
def test_what_the_readers_build_has_the_declared_types(name, cfg):
    """pydantic validates the dump against the annotations in strict mode (no coercion), so a
    reader that stored "80" for a port or a tuple for a list would fail here."""
    data = cfg.model_dump()
    model = pydantic_model(ir.Config)
    model.model_validate(json.loads(json.dumps(data)), strict=True)
    again = ir.Config.model_validate(data)
    assert again == cfg
    assert again.model_dump() == data  # spans and comments survive too


def test_validation_reports_a_wrong_type_with_its_place():
    data = {"upstreams": [{"name": "u", "servers": [{"name": "s", "host": "h", "port": "eighty"}]}]}
    with pytest.raises(pydantic.ValidationError) as caught:
        ir.Config.model_validate(data)
    assert "upstreams.0.servers.0.port" in str(caught.value)


def test_a_discriminated_condition_validates_to_the_right_class():
    rule = ir.Rule.model_validate({"condition": {"type": "not", "item": {"type": "path", "op": "prefix",
                                                                          "values": ["/a"]}},
                                   "action": {"type": "deny"}})
    assert rule == ir.Rule(condition=ir.Not(item=ir.PathMatch(op="prefix", values=["/a"])), action=ir.Deny())


def test_constructors_are_keyword_only_and_refuse_unknown_or_missing_fields():
    with pytest.raises(TypeError):
        ir.Server("s", "h")  # type: ignore[misc]
    with pytest.raises(TypeError, match="hots"):
        ir.Server(name="s", hots="h")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="host"):
        ir.Server(name="s")  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        ir.Server(name="s", host="h").wieght = 3  # type: ignore[attr-defined]


def test_defaults_are_fresh_per_node():
    a, b = ir.Upstream(name="a"), ir.Upstream(name="b")
    a.servers.append(ir.Server(name="s", host="h"))
    assert b.servers == [] and a.timeouts is not b.timeouts


def test_equality_ignores_where_a_node_came_from_but_not_what_it_means():
    here = ir.PathMatch(op="prefix", values=["/a"], span=ir.Span(file="a.pxc", line=3, col=5), comments=["x"])
    there = ir.PathMatch(op="prefix", values=["/a"], span=ir.Span(file="b.conf", line=9))
    assert here == there
    assert here != ir.PathMatch(op="prefix", values=["/b"])
    assert here != ir.HostMatch(op="prefix", values=["/a"])
    with pytest.raises(TypeError):
        hash(here)


def test_deep_copies_share_nothing_mutable_and_shallow_copies_take_updates():
    cfg = EXAMPLE_IRS[0][1]
    copy = cfg.model_copy(deep=True)
    assert copy == cfg and copy.model_dump() == cfg.model_dump()
    copy.upstreams[0].servers[0].weight += 1
    assert copy != cfg
    renamed = cfg.upstreams[0].model_copy(update={"name": "other"})
    assert renamed.name == "other" and renamed.servers is cfg.upstreams[0].servers


def test_nodes_pickle():
    cfg = EXAMPLE_IRS[0][1]
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg and again.model_dump() == cfg.model_dump()
    assert again.upstream(cfg.upstreams[0].name) is again.upstreams[0]


def test_exclude_defaults_leaves_out_what_a_constructor_would_fill_in():
    assert ir.Server(name="s", host="h").model_dump(exclude_defaults=True) == {"name": "s", "host": "h"}
    assert ir.Server(name="s", host="h", weight=2).model_dump(exclude_defaults=True)["weight"] == 2


def test_walking_a_condition_nested_far_past_the_recursion_limit():
    cond: ir.Condition = ir.TlsMatch()
    for _ in range(5 * sys.getrecursionlimit()):
        cond = ir.Not(item=cond)
    assert sum(1 for _ in ir.iter_nodes(cond)) == 5 * sys.getrecursionlimit() + 1


def test_schema_command_prints_the_json_schema_of_the_config():
    out = subprocess.run([sys.executable, "-m", "proxyc", "schema"], capture_output=True, text=True, check=True)
    schema = json.loads(out.stdout)
    assert schema["title"] == "Config"
    condition = schema["$defs"]["Rule"]["properties"]["condition"]["anyOf"][0]
    assert condition["discriminator"]["propertyName"] == "type"
    assert set(condition["discriminator"]["mapping"]) == {"path", "host", "method", "header", "source", "tls",
                                                          "acl", "not", "all", "any"}


def test_lint_and_build_do_not_import_pydantic():
    """pydantic is for the schema and for validating IR data; the hot paths must not pay for it."""
    probe = ("import sys; from proxyc.cli import main\n"
             "sys.argv = ['proxyc', 'lint', '--exit-zero', sys.argv[1]]\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('pydantic' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe, str(cases()[0][1])], capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == "False", out.stderr


def test_a_node_without_comments_shares_an_empty_list_that_refuses_changes():
    a, b = ir.Server(name="a", host="h"), ir.Server(name="b", host="h")
    assert a.comments == [] and a.comments is b.comments
    with pytest.raises(TypeError, match="assign a new list"):
        a.comments.append("x")
    a.comments = [*a.comments, "x"]
    assert a.comments == ["x"] and b.comments == []
    assert a.model_copy(deep=True).comments == ["x"]
    assert pickle.loads(pickle.dumps(b)).comments is b.comments
