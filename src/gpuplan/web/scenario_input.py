"""Scenario text from the web: parsed safely, stripped of file access, validated with lines.

YAML is parsed with PyYAML's safe loader after two bounds are checked on its node graph:
at most :data:`MAX_ALIASES` aliases and :data:`MAX_EXPANDED_NODES` nodes once aliases are
expanded (a "billion laughs" document is refused before anything is built). Fields that name
files (``extends`` other than a preset, ``csv``, ``offers_csv``, model ``config.json``
paths) are refused: the server's disk is not the user's. Validation goes through the same
:func:`gpuplan.load_scenario` as the CLI, and the error's field path is mapped back to its
line in the text.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml

from gpuplan.errors import GpuplanError, InputError

MAX_ALIASES = 100
MAX_EXPANDED_NODES = 200_000
FILE_FIELDS = ("csv", "offers_csv")
"""Scenario fields whose value is a file path."""


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    """Nodes in ``node`` with every alias expanded (shared nodes counted each time)."""
    if id(node) in memo:
        return memo[id(node)]
    if depth > 200:
        raise InputError("scenario", "the YAML nests deeper than 200 levels.")
    memo[id(node)] = MAX_EXPANDED_NODES + 1  # a cycle counts as too large
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, memo, depth + 1) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, memo, depth + 1) + _expanded_size(value, memo, depth + 1)
    memo[id(node)] = size
    return size


def parse_yaml(text: str) -> Any:
    """The data of a YAML document, refusing alias bombs; errors name the line."""
    try:
        aliases = sum(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, yaml.SafeLoader))
        if aliases > MAX_ALIASES:
            raise InputError(
                "scenario", f"the YAML uses {aliases} aliases (*name); at most {MAX_ALIASES} "
                "are accepted from the web."
            )
        node = yaml.compose(text, yaml.SafeLoader)
        if node is not None and _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise InputError(
                "scenario", f"the YAML expands to more than {MAX_EXPANDED_NODES:,} values "
                "through its aliases; write the values out instead."
            )
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "scenario"
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(where, f"is not valid YAML: {problem}.") from None


def refuse_files(data: Any, presets: list[str], path: str = "") -> None:
    """Raise :class:`InputError` for any field naming a file on the server."""
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "extends" and value is not None and str(value) not in presets:
                raise InputError(
                    where, f"'{value}' is not a preset; in the web app a scenario can only "
                    f"extend a preset ({', '.join(presets)}), not a file."
                )
            if key in FILE_FIELDS and value is not None:
                raise InputError(
                    where, "files cannot be read from the web app; write the rows in the "
                    "scenario (e.g. table: or offers:), or run it with the gpuplan CLI."
                )
            if key == "model" and isinstance(value, str) and (
                value.endswith(".json") or "/" in value or "\\" in value
            ):
                raise InputError(
                    where, f"'{value}' is a file path; the web app takes catalog model ids "
                    "only (see the catalog page)."
                )
            refuse_files(value, presets, where)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            name = item.get("id", index) if isinstance(item, dict) else index
            refuse_files(item, presets, f"{path}.{name}" if path else str(name))


def with_extends(data: dict[str, Any]) -> dict[str, Any]:
    """The mapping laid over the preset it ``extends`` (already checked to be a preset)."""
    from gpuplan.presets import deep_merge, read_scenario

    base = data.get("extends")
    if base is None:
        return data
    rest = {k: v for k, v in data.items() if k != "extends"}
    return dict(deep_merge(read_scenario(str(base)), rest))


def scenario_from_text(text: str) -> dict[str, Any]:
    """A web scenario's mapping: safe YAML, no file fields, ``extends`` merged in."""
    from gpuplan.presets import list_presets

    data = parse_yaml(text)
    if not isinstance(data, dict):
        raise InputError("scenario", "must be a mapping (name:, horizon:, training:, ...).")
    refuse_files(data, list_presets())
    return with_extends(copy.deepcopy(data))


def preset_text(name: str) -> str:
    """The YAML text of a shipped preset (``name`` must be one: never a path)."""
    from gpuplan.errors import UnknownIdError
    from gpuplan.presets import list_presets, resolve_scenario_path

    if name not in list_presets():
        raise UnknownIdError("preset", name, list_presets())
    return resolve_scenario_path(name).read_text(encoding="utf-8")


def line_of(text: str, field: str) -> int | None:
    """The 1-based line of a dotted field path (list items by id or index) in YAML text;
    the deepest part of the path that exists."""
    if field.startswith("line "):
        return int(field.split()[1]) if field.split()[1].isdigit() else None
    try:
        node = yaml.compose(text, yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in field.split("."):
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, _ in node.value if k.value == part), None)
            if key is not None:
                line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                ids = [v.value for k, v in getattr(item, "value", []) if
                       isinstance(item, yaml.MappingNode) and k.value == "id"]
                if part == str(index) or part in ids:
                    child = item
                    line = item.start_mark.line + 1
                    break
        if child is None:
            break
        node = child
    return line


@dataclass(frozen=True)
class Finding:
    """One validation problem: the field path as the CLI names it, its line, the message."""

    field: str
    line: int | None
    message: str


def validate_text(text: str) -> list[Finding]:
    """Problems of a scenario text (empty when valid), checked by the CLI's own loader:
    :func:`gpuplan.load_scenario` for planning scenarios, :func:`gpuplan.load_company` for a
    company-only file."""
    import gpuplan

    try:
        data = scenario_from_text(text)
        if "horizon" not in data and "company" in data:
            gpuplan.load_company(data)
        else:
            gpuplan.load_scenario(data)
    except InputError as error:
        message = str(error).removeprefix(f"{error.field}: ")
        return [Finding(error.field, line_of(text, error.field), message)]
    except GpuplanError as error:
        return [Finding("scenario", None, str(error))]
    return []
