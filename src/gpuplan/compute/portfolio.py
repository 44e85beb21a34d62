"""The report's Mistral model portfolio as default training runs (``data/portfolio_training.yaml``).

Token counts are labelled assumptions (Mistral publishes none); the cluster size, sequence
length and price are stated defaults with their sources. Each run is estimated with
:func:`gpuplan.compute.training.estimate_training`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from gpuplan.compute.training import TrainingEstimate, estimate_training


class PortfolioDefaults(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    gpu: str
    gpus: int = Field(gt=0)
    gpus_status: str
    seq_len: int = Field(gt=0)
    seq_len_status: str
    precision: str
    price_per_gpu_hour: float = Field(gt=0, description="USD per GPU-hour.")
    price_source: str


class PortfolioRun(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tokens: float = Field(gt=0)
    tokens_status: Literal["published", "assumption"]
    tokens_source: str


class Portfolio(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: PortfolioDefaults
    models: list[PortfolioRun]


@cache
def load_portfolio() -> Portfolio:
    """The shipped portfolio file, read once."""
    path = resources.files("gpuplan.compute") / "data" / "portfolio_training.yaml"
    return Portfolio.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def estimate_portfolio(
    gpu: str | None = None,
    gpus: int | None = None,
    price_per_gpu_hour: float | None = None,
) -> list[tuple[PortfolioRun, TrainingEstimate]]:
    """Training estimates for every portfolio model (defaults unless overridden)."""
    portfolio = load_portfolio()
    d = portfolio.defaults
    return [
        (
            run,
            estimate_training(
                run.id,
                tokens=run.tokens,
                gpu=gpu or d.gpu,
                gpus=gpus or d.gpus,
                precision=d.precision,
                seq_len=d.seq_len,
                price_per_gpu_hour=price_per_gpu_hour or d.price_per_gpu_hour,
            ),
        )
        for run in portfolio.models
    ]
