"""The model catalog: architectures of the report's portfolio and reference models.

Each entry of ``data/models.yaml`` holds a Hugging Face style config plus provenance; entries
whose architecture is not public are marked ``status: estimate`` with a note. A user's own
``config.json`` path is accepted wherever a catalog id is.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.tables import packaged_data
from gpuplan.compute.architecture import Architecture
from gpuplan.compute.hf_config import architecture_from_hf_config, load_hf_config
from gpuplan.errors import UnknownIdError
from gpuplan.userfiles import is_user_file, user_path


class ModelEntry(BaseModel):
    """A catalog model: its architecture plus where the figures come from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    org: str
    released: date | None = None
    status: Literal["published", "estimate", "user"]
    source: str = Field(min_length=3)
    as_of: date | None = None
    note: str | None = None
    published_params_total: float | None = None
    published_params_active: float | None = None
    config: dict[str, Any]
    architecture: Architecture

    @property
    def params_total(self) -> int:
        return self.architecture.params_total

    @property
    def params_active(self) -> int:
        return self.architecture.params_active


@cache
def model_catalog() -> dict[str, ModelEntry]:
    """All catalog models by id (loaded once, on first use)."""
    raw = yaml.safe_load(packaged_data("models.yaml").read_text(encoding="utf-8"))
    entries = {}
    for item in raw:
        arch = architecture_from_hf_config(item["config"], source=f"models.yaml[{item['id']}]")
        entries[item["id"]] = ModelEntry.model_validate({**item, "architecture": arch})
    return entries


def get_model(model: str | Path | ModelEntry) -> ModelEntry:
    """A catalog model by id (case-insensitive), or a ``config.json`` path."""
    if isinstance(model, ModelEntry):
        return model
    text = str(model)
    if text.endswith(".json") or is_user_file(text):
        path = user_path(text, "model")
        arch = load_hf_config(path)
        return ModelEntry(
            id=path.stem if path.stem != "config" else path.parent.name or "config",
            name=text,
            org="user",
            status="user",
            source=f"user config {text}",
            config={},
            architecture=arch,
        )
    key = text.strip().lower()
    catalog = model_catalog()
    if key not in catalog:
        raise UnknownIdError("model", text, catalog.keys())
    return catalog[key]


def list_models() -> list[ModelEntry]:
    return list(model_catalog().values())
