"""The report's Mistral model portfolio as default training runs (``data/portfolio_training.yaml``).

Token counts are labelled assumptions (Mistral publishes none); the cluster size, sequence
length are stated defaults; the price is the user's or the cheapest current on-demand offer
of the GPU (:func:`gpuplan.catalog.prices.resolve_price`). Each run is estimated with
:func:`gpuplan.compute.training.estimate_training`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.prices import resolve_price
from gpuplan.compute.training import TrainingEstimate, estimate_training


class PortfolioDefaults(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    gpu: str
    gpus: int = Field(gt=0)
    gpus_status: str
    seq_len: int = Field(gt=0)
    seq_len_status: str
    precision: str


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


class PortfolioEstimate(BaseModel):
    """Training estimates of every portfolio model, with the price used and its source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: PortfolioDefaults
    price_per_gpu_hour: float | None
    price_source: str | None
    runs: list[tuple[PortfolioRun, TrainingEstimate]]


def estimate_portfolio(
    gpu: str | None = None,
    gpus: int | None = None,
    price_per_gpu_hour: float | None = None,
) -> PortfolioEstimate:
    """Training estimates for every portfolio model (defaults unless overridden)."""
    portfolio = load_portfolio()
    d = portfolio.defaults
    device = get_gpu(gpu or d.gpu)
    price, source = resolve_price(device, price_per_gpu_hour)
    runs = [
        (
            run,
            estimate_training(
                run.id,
                tokens=run.tokens,
                gpu=device,
                gpus=gpus or d.gpus,
                precision=d.precision,
                seq_len=d.seq_len,
                price_per_gpu_hour=price,
            ),
        )
        for run in portfolio.models
    ]
    return PortfolioEstimate(defaults=d, price_per_gpu_hour=price, price_source=source, runs=runs)
