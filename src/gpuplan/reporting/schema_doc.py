"""The scenario schema as a readable Markdown field reference (``gpuplan schema --markdown``).

Walks the JSON Schema pydantic generates (field descriptions are the models' own), one table
per section: field, type, default, description. Sections appear in the order a scenario file
reads, starting from the top level.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NUMBER_FORMS = (
    "Numbers may be written as in the CLI: `15T` (1.5e13), `2.5M`, `1_000`, `60%` (0.6); SI "
    "decimal suffixes K, M, B (or G), T, P. A field typed *number or range* also takes "
    '`{low: 2.0, high: 4.5, shape: uniform, source: "..."}` (shapes: uniform, triangular, '
    "pert, lognormal)."
)


def type_text(schema: Mapping[str, Any]) -> str:
    """A field's JSON Schema type in words: ``number or range``, ``list of TrainingRun``."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return "range" if name == "Distribution" else f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [type_text(s) for s in schema[key] if s.get("type") != "null"]
            text = " or ".join(dict.fromkeys(parts))
            nullable = any(s.get("type") == "null" for s in schema[key])
            return text + (" (optional)" if nullable else "")
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_text(schema.get('items', {}))}"
    if kind == "object":
        values = schema.get("additionalProperties")
        return f"mapping to {type_text(values)}" if isinstance(values, dict) else "mapping"
    if kind == "string" and schema.get("format"):
        return f"string ({schema['format']})"
    return str(kind)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def section_markdown(title: str, schema: Mapping[str, Any]) -> str:
    """One section: its description, then a table of its fields (required ones marked)."""
    required = set(schema.get("required", []))
    lines = [f"### {title}", "", _cell(str(schema.get("description", ""))), ""]
    lines += ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, field in schema.get("properties", {}).items():
        default = (
            "required"
            if name in required
            else (f"`{json.dumps(field['default'])}`" if "default" in field else "")
        )
        lines.append(
            f"| `{name}` | {_cell(type_text(field))} | {default} | "
            f"{_cell(str(field.get('description', '')))} |"
        )
    return "\n".join(lines) + "\n"


def schema_markdown(schema: Mapping[str, Any]) -> str:
    """The whole reference: number forms, the top level, then each section by name."""
    definitions = schema.get("$defs", {})
    parts = ["## Scenario file fields", "", NUMBER_FORMS, ""]
    parts.append(section_markdown("Scenario (top level)", schema))
    for name in sorted(definitions):
        parts.append(f'<a id="{name.lower()}"></a>\n')
        parts.append(section_markdown(name, definitions[name]))
    return "\n".join(parts)
