"""The user's data directory: offer rows written by ``gpuplan catalog refresh``.

The directory is ``$GPUPLAN_DATA_DIR`` when set, else the platform's user data folder
(``platformdirs.user_data_dir("gpuplan")``, e.g. ``~/.local/share/gpuplan``). Refreshed offers
live in ``offers/*.csv`` there, in the shipped offer layout; the shipped catalog is never
written. Files are re-read when they change.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from gpuplan.catalog.offers import Offer, read_offer_csv

DATA_DIR_ENV = "GPUPLAN_DATA_DIR"


def user_data_dir() -> Path:
    """``$GPUPLAN_DATA_DIR``, else the platform's per-user data folder for gpuplan."""
    given = os.environ.get(DATA_DIR_ENV)
    if given:
        return Path(given)
    import platformdirs

    return Path(platformdirs.user_data_dir("gpuplan"))


def refreshed_offer_dir() -> Path:
    """Folder of refreshed offer CSVs (may not exist yet)."""
    return user_data_dir() / "offers"


def refreshed_offer_files() -> list[Path]:
    """Refreshed offer CSVs, in name order (one per provider)."""
    folder = refreshed_offer_dir()
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


@cache
def _read(path: Path, modified_ns: int) -> tuple[Offer, ...]:
    return tuple(read_offer_csv(path))


def refreshed_offers() -> list[Offer]:
    """Every row of every refreshed offer CSV (a malformed file is a CatalogError naming it)."""
    rows: list[Offer] = []
    for path in refreshed_offer_files():
        rows += _read(path, path.stat().st_mtime_ns)
    return rows
