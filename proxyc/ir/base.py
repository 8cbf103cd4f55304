"""The base every IR node shares: typed fields declared once, a span that equality ignores, comments.

Two configs that route the same way must compare equal even when one was read from a .pxc file
and the other from nginx.conf, so neither the span nor the comments take part in ``==``.

Why not pydantic models at run time: importing pydantic and building ~40 model classes costs
about 120 ms, most of the 150 ms a pre-commit lint may take (issue #7), and validating every node
of a 10,000-backend config costs more than parsing it. The readers build nodes from values they
have already checked, so nodes here are plain slotted objects with keyword-only constructors
generated from the annotations. The annotations stay the single declaration of the IR's types:
``proxyc.ir.schema`` turns them into pydantic models on demand, for the JSON Schema and to
validate IR data from outside (``Config.model_validate``). The method names follow pydantic's
(``model_fields``, ``model_copy``, ``model_dump``), so callers read the same either way.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, ClassVar, NamedTuple

_REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "<required>"})()
_UNSET: Any = type("Unset", (), {"__repr__": lambda self: "<unset>"})()

# Fields that describe where a node came from, not what it means.
_META_FIELDS = frozenset({"span", "comments"})


class Span(NamedTuple):
    """Where a node was read from. Lines and columns are 1-based; col is None where the
    format does not give columns (crossplane only reports lines). Immutable, so shared freely;
    a tuple, because readers make one per statement and a tuple is the cheapest thing to make."""

    file: str | None = None
    line: int = 0
    col: int | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        return f"{where}:{self.line}:{self.col}" if self.col else f"{where}:{self.line}"

    def model_dump(self, *, mode: str = "python", exclude_defaults: bool = False) -> dict[str, Any]:
        data = {"file": self.file, "line": self.line, "col": self.col}
        if exclude_defaults:
            data = {k: v for k, v in data.items() if v != _SPAN_DEFAULTS[k]}
        return data


_SPAN_DEFAULTS = {"file": None, "line": 0, "col": None}


class FieldInfo:
    """One declared field: its default (or factory) and its annotation, as written."""

    __slots__ = ("name", "annotation", "default", "default_factory", "repr", "discriminator")

    def __init__(self, default: Any = _REQUIRED, *, default_factory: Callable[[], Any] | None = None,
                 repr: bool = True, discriminator: str | None = None) -> None:
        self.name = ""
        self.annotation: str = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.discriminator = discriminator

    def is_required(self) -> bool:
        return self.default is _REQUIRED and self.default_factory is None

    def get_default(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default


def Field(default: Any = _REQUIRED, **options: Any) -> Any:  # noqa: N802 — pydantic's spelling
    return FieldInfo(default, **options)


class PrivateAttr:
    """State a node keeps for itself (a cache): not a field, not compared, dumped or copied."""

    __slots__ = ("default_factory",)

    def __init__(self, default_factory: Callable[[], Any]) -> None:
        self.default_factory = default_factory


class _NodeMeta(type):
    """Turns the annotations of a Node subclass into fields and slots."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]):
        fields: dict[str, FieldInfo] = {}
        private: dict[str, PrivateAttr] = {}
        for base in reversed(bases):
            fields.update(getattr(base, "model_fields", {}))
            private.update(getattr(base, "__private_attributes__", {}))
        slots = []
        for field_name, annotation in namespace.get("__annotations__", {}).items():
            if isinstance(annotation, str) and annotation.startswith("ClassVar"):
                continue
            value = namespace.pop(field_name, _REQUIRED)
            if isinstance(value, PrivateAttr):
                private[field_name] = value
                slots.append(field_name)
                continue
            info = value if isinstance(value, FieldInfo) else FieldInfo(value)
            info.name, info.annotation = field_name, annotation
            if field_name not in fields:
                slots.append(field_name)
            fields[field_name] = info
        namespace["__slots__"] = tuple(slots)
        namespace.setdefault("__init__", _first_init)
        cls = super().__new__(mcs, name, bases, namespace)
        cls.model_fields = fields
        cls.__private_attributes__ = private
        cls._semantic_fields = tuple(n for n in fields if n not in _META_FIELDS)
        cls._child_fields = tuple(n for n, f in fields.items() if _may_hold_nodes(f.annotation))
        return cls


# Capitalised names in annotations that never stand for a node: walking skips such fields.
_NOT_NODES = frozenset({"Literal", "Millis", "Mode", "Algorithm", "Span", "None", "ClassVar"})
_CAPITALISED = re.compile(r"\b[A-Z]\w*")


def _may_hold_nodes(annotation: str) -> bool:
    """Whether a field (by its annotation, as written) can hold nodes. An unknown name counts
    as a node type, so a new alias makes walks slower, never wrong."""
    return any(name not in _NOT_NODES for name in _CAPITALISED.findall(annotation))


def _first_init(self: Node, **values: Any) -> None:
    """Compiles the class's keyword-only constructor on first use (so start-up only pays for the
    node types a command builds), installs it, and runs it."""
    cls = type(self)
    cls.__init__ = _compile_init(cls)  # type: ignore[method-assign]
    cls.__init__(self, **values)


def _compile_init(cls: type[Node]) -> Callable[..., None]:
    env: dict[str, Any] = {"_UNSET": _UNSET}
    params, body = [], []
    for i, (name, info) in enumerate(cls.model_fields.items()):
        if info.default_factory is not None:
            env[f"_factory{i}"] = info.default_factory
            params.append(f"{name}=_UNSET")
            body.append(f"self.{name} = _factory{i}() if {name} is _UNSET else {name}")
        elif info.default is _REQUIRED:
            params.append(name)
            body.append(f"self.{name} = {name}")
        else:
            env[f"_default{i}"] = info.default
            params.append(f"{name}=_default{i}")
            body.append(f"self.{name} = {name}")
    for i, (name, attr) in enumerate(cls.__private_attributes__.items()):
        env[f"_private{i}"] = attr.default_factory
        body.append(f"self.{name} = _private{i}()")
    source = f"def __init__(self, *, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, env)  # noqa: S102 — generated from the class's own field names, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__name__}.__init__"
    return init


class _NoComments(list):
    """The comments of a node that has none: one shared empty list that refuses changes (a node
    with comments gets a list of its own). A fresh empty list per node cost ~70 bytes each,
    40 MB at 50,000 backends."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this node has no comments list of its own: assign a new list instead")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]

    def __reduce__(self):
        return (_no_comments, ())


def _no_comments() -> list[str]:
    return NO_COMMENTS


NO_COMMENTS: list[str] = _NoComments()


class Node(metaclass=_NodeMeta):
    span: Span | None = Field(default=None, repr=False)
    comments: list[str] = Field(default=NO_COMMENTS, repr=False)

    model_fields: ClassVar[dict[str, FieldInfo]]
    __private_attributes__: ClassVar[dict[str, PrivateAttr]]
    _semantic_fields: ClassVar[tuple[str, ...]]
    _child_fields: ClassVar[tuple[str, ...]]  # the fields that can hold nodes (see iter_nodes)

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: Any) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        for name in self._semantic_fields:
            if getattr(self, name) != getattr(other, name):
                return False
        return True

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n, f in self.model_fields.items() if f.repr)
        return f"{type(self).__name__}({shown})"

    def __getstate__(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.model_fields}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        for name, attr in self.__private_attributes__.items():
            setattr(self, name, attr.default_factory())

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        """A copy; ``deep`` copies nested nodes and lists too. ``update`` replaces fields as given."""
        cls = type(self)
        new = cls.__new__(cls)
        for name in cls.model_fields:
            value = getattr(self, name)
            setattr(new, name, _deep_copy(value) if deep else value)
        for name, attr in cls.__private_attributes__.items():
            setattr(new, name, attr.default_factory())
        for name, value in (update or {}).items():
            setattr(new, name, value)
        return new

    def model_dump(self, *, mode: str = "python", exclude_defaults: bool = False) -> dict[str, Any]:
        """The node as plain data (every value is JSON-native already, so ``mode`` changes nothing)."""
        data: dict[str, Any] = {}
        for name, info in self.model_fields.items():
            value = getattr(self, name)
            if exclude_defaults and not info.is_required() and value == info.get_default():
                continue
            data[name] = _dump(value, exclude_defaults)
        return data

    def model_dump_json(self, *, indent: int | None = None, exclude_defaults: bool = False) -> str:
        separators = None if indent is not None else (",", ":")
        return json.dumps(self.model_dump(exclude_defaults=exclude_defaults), indent=indent,
                          separators=separators, ensure_ascii=False)

    def semantic_dump(self) -> dict[str, Any]:
        """The node as plain data without spans and comments: what round-trip tests compare."""
        return _strip_meta(self.model_dump(mode="json"))

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of this node type, derived by pydantic from the annotations."""
        from .schema import pydantic_model

        return pydantic_model(cls).model_json_schema()

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        """Plain data (e.g. parsed ``proxyc ir`` JSON) checked by pydantic against the declared
        types, as a node of this type. Raises ``pydantic.ValidationError``."""
        from .schema import validate_as

        return validate_as(cls, data)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Node):
        return value.model_copy(deep=True)
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value  # str, int, bool, None and Span are immutable


def _dump(value: Any, exclude_defaults: bool) -> Any:
    if isinstance(value, (Node, Span)):
        return value.model_dump(exclude_defaults=exclude_defaults)
    if isinstance(value, (list, tuple)):
        return [_dump(v, exclude_defaults) for v in value]
    return value


def _strip_meta(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_meta(v) for k, v in value.items() if k not in _META_FIELDS}
    if isinstance(value, list):
        return [_strip_meta(v) for v in value]
    return value
