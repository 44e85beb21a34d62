"""Load a scenario: YAML file or shipped preset, named overrides, readable errors.

``load_scenario("path.yaml" | "preset-name" | mapping, overrides=["name", ...])`` reads the
YAML, applies each named override from its ``overrides`` section in order (dotted paths or
nested mappings; list items by index or ``id``), validates with :class:`Scenario` and resolves
CSV paths against the file's folder. Validation errors become one
:class:`~gpuplan.errors.InputError` naming the field path, the problem, and the nearest valid
field name for a typo.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gpuplan.currency import adopt_scenario_currency
from gpuplan.economics.company import CompanySpec
from gpuplan.errors import InputError, UnknownIdError
from gpuplan.scenario.errors import explain_validation_error
from gpuplan.scenario.presets import (
    company_from_mapping,
    deep_merge,
    list_presets,
    read_scenario,
    resolve_scenario_path,
)
from gpuplan.scenario.schema import Scenario

DEFAULT_PRESET = "european-lab"


def _child(container: Any, key: str, where: str) -> tuple[Any, Any]:
    """(container, index) of ``key`` inside a mapping or a list (by index or item id)."""
    if isinstance(container, dict):
        return container, key
    if isinstance(container, list):
        if key.isdigit() and int(key) < len(container):
            return container, int(key)
        ids = [item.get("id") for item in container if isinstance(item, dict)]
        if key in ids:
            return container, ids.index(key)
        raise UnknownIdError(f"item of {where}", key, [str(i) for i in ids if i])
    raise InputError(where, f"cannot descend into a {type(container).__name__} with '{key}'.")


def apply_override(data: dict[str, Any], changes: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A copy of ``data`` with one override's changes applied."""
    result = copy.deepcopy(data)
    for dotted, value in changes.items():
        parts = str(dotted).split(".")
        node: Any = result
        for depth, part in enumerate(parts[:-1]):
            where = f"overrides.{name}: " + ".".join(parts[: depth + 1])
            container, index = _child(node, part, where)
            if isinstance(container, dict) and index not in container:
                container[index] = {}
            node = container[index]
        container, index = _child(node, parts[-1], f"overrides.{name}: {dotted}")
        current = container.get(index) if isinstance(container, dict) else container[index]
        container[index] = deep_merge(current, value)
    return result


def _resolve_csv(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """CSV paths relative to the scenario's folder made absolute (text only: the schema and
    the readers check them; a section of the wrong type is left for the schema to name)."""
    workloads = data.get("inference")
    for item in workloads if isinstance(workloads, list) else []:
        if isinstance(item, dict) and isinstance(item.get("csv"), str):
            item["csv"] = os.path.join(base.absolute(), item["csv"])
    supply = data.get("supply")
    if isinstance(supply, dict) and isinstance(supply.get("offers_csv"), str):
        supply["offers_csv"] = os.path.join(base.absolute(), supply["offers_csv"])
    return data


def scenario_mapping(
    source: str | Path | Mapping[str, Any] | Scenario | None = None,
    overrides: Iterable[str] = (),
) -> tuple[dict[str, Any], str]:
    """The raw mapping of a scenario (file, preset name, mapping or Scenario) with its
    ``extends`` base merged in and the named overrides applied in order; and its label."""
    if isinstance(source, Scenario):
        data: dict[str, Any] = source.model_dump(by_alias=True, exclude_none=True)
        label = source.name
    elif isinstance(source, Mapping):
        data, label = copy.deepcopy(dict(source)), "mapping"
    else:
        path = resolve_scenario_path(source if source is not None else DEFAULT_PRESET)
        data, label = read_scenario(path), path.name
        data = _resolve_csv(data, path.parent)
    named = data.get("overrides") or {}
    for name in overrides:
        if name not in named:
            raise UnknownIdError("override", name, named.keys())
        changes = named[name]
        if not isinstance(changes, Mapping):
            raise InputError(f"overrides.{name}", "must be a mapping of paths to values.")
        data = apply_override(data, changes, name)
    return data, label


def load_scenario(
    source: str | Path | Mapping[str, Any] | Scenario | None = None,
    overrides: Iterable[str] = (),
) -> Scenario:
    """A validated scenario from a YAML path, a preset name (default: the European lab) or a
    mapping, with the named overrides applied in order."""
    data, label = scenario_mapping(source, overrides)
    if "horizon" not in data and "company" in data:
        plannable = [name for name in list_presets() if "horizon" in read_scenario(name)]
        raise InputError(
            "scenario",
            f"{label} describes a company only (no horizon, training or inference sections), "
            f"so there is no procurement to plan; simulate it with 'gpuplan simulate', or plan "
            f"one of the presets with a planning part: {', '.join(plannable)}.",
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise explain_validation_error(error, data, Scenario, source=f"scenario {label}") from None
    adopt_scenario_currency(scenario.horizon.currency)  # CLI display only; see gpuplan.currency
    return scenario


_NOT_NEEDED_BY_A_COMPANY = {("horizon",), ("name",)}


def check_scenario_file(data: dict[str, Any], label: str) -> None:
    """Validate every section of a scenario mapping with the one :class:`Scenario` schema, as
    ``plan`` does; a company-only file (no ``horizon``) is checked for everything else."""
    try:
        Scenario.model_validate(data)
    except ValidationError as error:
        company_only = "horizon" not in data
        problems = [
            issue
            for issue in error.errors()
            if not (
                company_only
                and issue["type"] == "missing"
                and issue["loc"] in _NOT_NEEDED_BY_A_COMPANY
            )
        ]
        if problems:
            raise explain_validation_error(
                problems, data, Scenario, source=f"scenario {label}"
            ) from None


def load_company(
    name_or_path: str | Path | Mapping[str, Any], overrides: Iterable[str] = ()
) -> CompanySpec:
    """The :class:`~gpuplan.economics.company.CompanySpec` of a scenario file, preset or
    mapping, with its ``extends`` base and the named overrides applied; the rest of the file
    and the declared correlations are validated as ``plan`` and ``simulate`` do."""
    from gpuplan.uncertainty.sampling import correlation_matrix, uncertain_inputs

    data, label = scenario_mapping(name_or_path, overrides)
    if not data.get("company"):
        raise InputError("company", f"{label}: the scenario has no 'company' section to simulate.")
    spec = company_from_mapping(data["company"])
    check_scenario_file(data, label)
    horizon = data.get("horizon")
    if isinstance(horizon, Mapping) and isinstance(horizon.get("currency"), str):
        adopt_scenario_currency(horizon["currency"])
    correlation_matrix(
        list(uncertain_inputs(spec)), [(c.inputs, c.rho) for c in spec.correlations]
    )
    return spec
