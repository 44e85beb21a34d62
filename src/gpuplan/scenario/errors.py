"""One translator from pydantic's validation errors to a :class:`~gpuplan.errors.InputError`
for everything a scenario file holds (the scenario, its company section, its CSV tables):
the field as the user wrote it (``inference.chat-eu.peak_factor``, list items by id), the
problem, the value given, and for a misspelt key the nearest valid name."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from gpuplan.errors import InputError

UNION_TAGS = frozenset({"number", "distribution", "equity", "debt"})
"""pydantic's union branch names in a location, which the user never wrote."""


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``list[X]``, ``X | None``, ``Annotated[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _model_at(loc: Iterable[Any], root: type[BaseModel]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            continue
        model = _inner_model(field.annotation)
    return model


def _readable(loc: tuple[Any, ...], data: Any) -> str:
    """``inference.chat-eu.peak_factor`` rather than ``inference.0.peak_factor``."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            parts.append(str(item["id"]) if isinstance(item, dict) and "id" in item else str(part))
            node = item
        elif isinstance(node, dict) and part in node:
            parts.append(str(part))
            node = node[part]
        elif isinstance(part, str) and part not in UNION_TAGS:
            parts.append(part)
    return ".".join(parts) or "scenario"


def unknown_field_text(loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    """'unknown field. Did you mean ...? Valid fields: ...' for a misspelt key at ``loc``."""
    parent = _model_at(loc[:-1], root)
    valid = [f.alias or k for k, f in parent.model_fields.items()] if parent else []
    near = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
    hint = f" Did you mean '{near[0]}'?" if near else ""
    return f"unknown field.{hint} Valid fields: {', '.join(valid)}"


def field_path(loc: tuple[Any, ...]) -> str:
    """``('revenue', 'api', 0, 'price')`` -> ``'revenue.api[0].price'`` (union tags dropped)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in UNION_TAGS:
            text += f".{part}" if text else str(part)
    return text


def explain_validation_error(
    error: ValidationError | list[ErrorDetails],
    data: Any,
    root: type[BaseModel],
    *,
    where: str = "",
    source: str = "",
    limit: int = 5,
    by_id: bool = True,
) -> InputError:
    """One InputError for ``data`` failing ``root``'s validation (first ``limit`` problems).

    Fields are named under ``where`` (``company``), list items by their ``id`` when
    ``by_id`` (``inference.chat-eu.peak_factor``) else by index (``revenue.api[0].price``);
    ``source`` (the file) is appended. ``error`` may be a list of pydantic's error details
    (some of a ValidationError's, the others judged irrelevant)."""
    issues = error.errors() if isinstance(error, ValidationError) else error
    messages = []
    first_field = where or "scenario"
    for n, issue in enumerate(issues[:limit]):
        loc = tuple(issue["loc"])
        named = _readable(loc, data) if by_id else field_path(loc)
        field = ".".join(p for p in (where, named) if p)
        if n == 0:
            first_field = field or first_field
        text = str(issue["msg"]).removeprefix("Value error, ")
        if issue["type"] == "extra_forbidden":
            text = unknown_field_text(loc, root)
        elif issue["type"] == "union_tag_not_found" and "kind" in str(issue.get("ctx", "")):
            text = "'kind' is missing; write kind: equity (cash in) or kind: debt (a loan)"
        elif "input" in issue and not isinstance(issue["input"], dict | list):
            text += "" if "(got " in text else f" (got {issue['input']!r})"
        messages.append(text if n == 0 else f"{field}: {text}")
    more = len(issues) - len(messages)
    tail = f" (and {more} more)" if more > 0 else ""
    suffix = f" ({source})" if source else ""
    return InputError(first_field, "; ".join(messages) + tail + suffix + ".")
