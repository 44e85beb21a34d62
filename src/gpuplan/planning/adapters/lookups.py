"""Small helpers shared by the scenario-to-tables adapters (catalog lookups with field paths)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from gpuplan.errors import GpuplanError, InputError

T = TypeVar("T")


def field_errors(path: str, call: Callable[[], T]) -> T:
    """Run a catalog lookup, naming the scenario field ``path`` in any error it raises
    (an error that already names a field under ``path`` is passed on unchanged)."""
    try:
        return call()
    except InputError as error:
        if error.field.startswith(path):
            raise
        raise InputError(path, str(error)) from None
    except GpuplanError as error:
        raise InputError(path, str(error)) from None


def gpu_id(path: str, gpu: str) -> str:
    """Canonical GPU id (aliases accepted); an unknown id names the field and near ids."""
    from gpuplan.catalog.gpus import get_gpu

    return field_errors(path, lambda: get_gpu(gpu).id)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
