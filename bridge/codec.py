"""Core values ↔ JSON, for what the bridge stores to finish later (commands, deliveries).

Commands wait in the inbox and deliveries in the outbox, possibly across a restart, so both
are written as JSON and read back as the same frozen dataclasses. One generic codec, driven
by the dataclasses' own type hints, keeps the two in step with the types as they grow.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """A dataclass (or anything inside one) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def from_json(kind: type[T], data: Any) -> T:
    """The dataclass `kind` rebuilt from what `to_json` wrote."""
    return typing.cast(T, _decode(kind, data))


@cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _decode(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _decode(options[0], data)
        return data  # a plain union of JSON types (str | int)
    if origin is tuple:
        args = get_args(hint)
        item = args[0] if args else Any
        return tuple(_decode(item, v) for v in data)
    if origin is list:
        (item,) = get_args(hint) or (Any,)
        return [_decode(item, v) for v in data]
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        args = get_args(hint)
        value = args[1] if len(args) == 2 else Any
        return {k: _decode(value, v) for k, v in data.items()}
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            hints = _hints(hint)
            known = {f.name for f in dataclasses.fields(hint) if f.init}
            return hint(**{k: _decode(hints[k], v) for k, v in data.items() if k in known})
        if issubclass(hint, Enum):
            return hint(data)
        if hint is datetime:
            return datetime.fromisoformat(data)
        if hint is float and isinstance(data, int):
            return float(data)
    return data
