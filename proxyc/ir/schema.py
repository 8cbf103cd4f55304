"""pydantic models derived from the IR's annotations: the JSON Schema, and validation of IR data.

The IR classes declare their types once (``models.py``); this module mirrors each class as a
pydantic model with the same name, fields, defaults and discriminated unions, on demand, so only
``proxyc schema`` and callers of ``model_validate`` pay for importing pydantic.
"""
from __future__ import annotations

import functools
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField

from . import models
from .base import NO_COMMENTS, FieldInfo, Node
from .base import Span as IRSpan


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def pydantic_model(cls: type) -> type[BaseModel]:
    """The pydantic model mirroring the IR class ``cls`` (a Node subclass or Span)."""
    return _mirrors()[cls.__name__]


@functools.lru_cache(maxsize=None)
def _mirrors() -> dict[str, type[BaseModel]]:
    """Every IR class as a pydantic model. Conditions nest (``Not`` holds a ``Condition``), so
    the models are made first with their annotations as written, then completed together."""
    classes = [c for c in vars(models).values() if isinstance(c, type) and issubclass(c, Node) and c is not Node]
    mirrors: dict[str, type[BaseModel]] = {"Span": _span_model()}
    for cls in classes:
        # A module with no namespace: every name resolves in model_rebuild below, to a mirror.
        namespace: dict[str, Any] = {"__module__": "proxyc.ir.pydantic_mirror", "__doc__": cls.__doc__,
                                     "__annotations__": {n: f.annotation for n, f in cls.model_fields.items()}}
        for name, info in cls.model_fields.items():
            if info.default is NO_COMMENTS:  # shared at run time; a fresh list for pydantic
                namespace[name] = PydanticField(default_factory=list)
            elif info.default_factory is not None:
                namespace[name] = PydanticField(default_factory=info.default_factory)
            elif not info.is_required():
                namespace[name] = PydanticField(default=info.default)
        mirrors[cls.__name__] = type(cls.__name__, (_Strict,), namespace)
    types_namespace = {name: _mirror(value, mirrors) for name, value in vars(models).items()}
    types_namespace.update(mirrors)
    for model in mirrors.values():
        model.model_rebuild(_types_namespace=types_namespace)
    return mirrors


def validate_as(cls: type[Node], data: Any) -> Node:
    """``data`` validated by pydantic as ``cls``, then built as IR nodes."""
    checked = pydantic_model(cls).model_validate(data)
    return _to_node(checked)


def _span_model() -> type[BaseModel]:
    class Span(_Strict):  # noqa: D401 — named as the IR's Span in the schema
        model_config = ConfigDict(extra="forbid", frozen=True)
        file: str | None = None
        line: int = 0
        col: int | None = None

    Span.__doc__ = IRSpan.__doc__
    return Span


def _mirror(tp: Any, mirrors: dict[str, type[BaseModel]]) -> Any:
    """The annotation ``tp`` with every IR class replaced by its pydantic model."""
    if isinstance(tp, type) and (issubclass(tp, Node) or tp is IRSpan):
        return mirrors.get(tp.__name__, tp)
    origin = get_origin(tp)
    if origin is Annotated:
        inner, *extras = get_args(tp)
        return Annotated[(_mirror(inner, mirrors), *(_mirror_extra(e) for e in extras))]
    if origin in (Union, types.UnionType):
        return Union[tuple(_mirror(a, mirrors) for a in get_args(tp))]
    if origin is list:
        return list[_mirror(get_args(tp)[0], mirrors)]
    return tp


def _mirror_extra(extra: Any) -> Any:
    if isinstance(extra, FieldInfo) and extra.discriminator:
        return PydanticField(discriminator=extra.discriminator)
    return extra


def _to_node(value: Any) -> Any:
    if isinstance(value, BaseModel):
        ir_class = IRSpan if type(value).__name__ == "Span" else getattr(models, type(value).__name__)
        fields = {name: _to_node(getattr(value, name)) for name in type(value).model_fields}
        return ir_class(**fields)
    if isinstance(value, list):
        return [_to_node(v) for v in value]
    return value
