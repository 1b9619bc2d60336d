"""Reading JSON out of model replies and checking it against the JSON-schema subset our prompts use.

Small models wrap JSON in code fences or add a sentence around it, and servers without structured
output give no guarantee at all, so the reply is located, parsed and validated here in one place.
"""
from __future__ import annotations

import json
import re

from ..errors import GraphmemError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


class JSONReplyError(GraphmemError, ValueError):
    """The reply holds no JSON value, or one that breaks the schema."""


def json_in_reply(text: str) -> object:
    """The first JSON object or array in ``text`` (code fences and surrounding prose are ignored)."""
    fenced = _FENCE.search(text)
    body = (fenced.group(1) if fenced else text).strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        pass
    except RecursionError:
        raise JSONReplyError(f"JSON nested too deeply: {_clip(text)!r}") from None
    starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
    if not starts:
        raise JSONReplyError(f"no JSON in reply: {_clip(text)!r}")
    try:
        value, _ = json.JSONDecoder().raw_decode(body, min(starts))
    except json.JSONDecodeError as exc:
        raise JSONReplyError(f"malformed JSON ({exc.msg} at char {exc.pos}): {_clip(text)!r}") from None
    except RecursionError:
        raise JSONReplyError(f"JSON nested too deeply: {_clip(text)!r}") from None
    return value


def validate(value: object, schema: dict, path: str = "$") -> None:
    """Raise JSONReplyError naming the first place where ``value`` breaks ``schema``.

    Supports: type, enum, properties, required, additionalProperties (bool), items, minItems,
    maxItems, minLength. Unknown keywords are ignored rather than rejected.
    """
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        allowed = tuple(t for k in kinds for t in _TYPES[k])
        # bool is an int subclass in Python but not a JSON number.
        if not isinstance(value, allowed) or (isinstance(value, bool) and "boolean" not in kinds):
            raise JSONReplyError(f"{path}: expected {kind}, got {type(value).__name__}")
    if "enum" in schema and value not in schema["enum"]:
        raise JSONReplyError(f"{path}: {value!r} not one of {schema['enum']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                raise JSONReplyError(f"{path}: missing {name!r}")
        props = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                validate(item, props[name], f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                raise JSONReplyError(f"{path}: unexpected {name!r}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise JSONReplyError(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise JSONReplyError(f"{path}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                validate(item, schema["items"], f"{path}[{i}]")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        raise JSONReplyError(f"{path}: shorter than {schema['minLength']} characters")


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
