"""Preset scenario files shipped with gpuplan, and the resolver every command uses.

A preset is a YAML scenario file in ``gpuplan/presets/`` (``mistral.yaml``,
``report-runway-1.yaml``, ...). Wherever a command takes a scenario file, a preset name works too:
:func:`resolve_scenario_path` returns an existing path unchanged, else the preset of that
name, else raises an error listing the presets.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gpuplan.economics.company import CompanySpec
from gpuplan.errors import InputError, UnknownIdError
from gpuplan.userfiles import load_yaml_text, read_user_text, user_path

ARCHETYPES = ("mistral", "anthropic", "openai", "xai", "meta", "google-deepmind")
"""The six procurement archetypes of the report's section 8, in its order of discussion."""


def _preset_dir() -> Path:
    return Path(str(resources.files("gpuplan"))) / "presets"


def list_presets() -> list[str]:
    """Names of the shipped preset scenarios."""
    return sorted(p.stem for p in _preset_dir().glob("*.yaml"))


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file path: ``name_or_path`` itself if it exists, else the preset so named."""
    path = user_path(name_or_path, "scenario")
    if path.is_file():
        return path
    name = str(name_or_path).removesuffix(".yaml")
    preset = _preset_dir() / f"{name}.yaml"
    if preset.is_file():
        return preset
    text = str(name_or_path)
    if path.is_dir():
        raise InputError("scenario", f"{text} is a folder; give a YAML file or a preset name.")
    if text.endswith((".yaml", ".yml")) or "/" in text:
        raise InputError(
            "scenario", f"file {text} does not exist; give an existing YAML file or a preset name."
        )
    raise UnknownIdError("scenario file or preset", text, list_presets())


def deep_merge(base: Any, change: Any) -> Any:
    """``change`` laid over ``base``: mappings merge key by key, anything else replaces
    (``null`` removes a section)."""
    if isinstance(base, dict) and isinstance(change, Mapping):
        merged = dict(base)
        for key, item in change.items():
            merged[key] = deep_merge(base.get(key), item)
        return merged
    return copy.deepcopy(change)


MAX_EXTENDS = 16
"""Longest chain of ``extends:`` a scenario may build on."""


def read_scenario(name_or_path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The YAML mapping of a scenario file or preset, laid over its ``extends`` base.

    ``extends: NAME`` (a preset name or a path relative to the file) takes every section of
    that scenario and lets this file change or add to it, as Calliope's ``import``: the
    Mistral preset extends the European lab's planning scenario with the company's finances.
    Files are told apart by their real path, so ``sub/../s.yaml`` is the same file as ``s.yaml``.
    """
    path = resolve_scenario_path(name_or_path).resolve()
    if path in _seen:
        chain = " -> ".join(p.name for p in (*_seen, path))
        raise InputError("extends", f"{path.name} extends itself ({chain}).")
    if len(_seen) >= MAX_EXTENDS:
        raise InputError("extends", f"more than {MAX_EXTENDS} scenarios extend one another.")
    data = load_yaml_text(read_user_text(path, "scenario"), str(path))
    if not isinstance(data, dict):
        raise InputError(str(path), "must hold a mapping (name:, horizon:, company:, ...).")
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str):
        raise InputError(
            "extends",
            f"must be a preset name or a scenario file path (got {base_name!r}) in {path.name}.",
        )
    relative = user_path(path.parent / user_path(base_name, "extends"), "extends")
    target = relative if relative.is_file() else base_name
    try:
        resolve_scenario_path(target)
    except (InputError, UnknownIdError) as error:  # the base itself is missing: name the key
        raise InputError("extends", f"in {path.name}: {error}") from None
    base = read_scenario(target, (*_seen, path))
    return dict(deep_merge(base, data))


def company_from_mapping(data: dict[str, Any], where: str = "company") -> CompanySpec:
    """Validate a ``company`` mapping into a CompanySpec; errors name the field."""
    from gpuplan.scenario.errors import explain_validation_error

    try:
        return CompanySpec.model_validate(data)
    except ValidationError as error:
        raise explain_validation_error(
            error, data, CompanySpec, where=where, limit=1, by_id=False
        ) from None
