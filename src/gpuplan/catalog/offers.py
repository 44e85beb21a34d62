"""The offer catalog: dated, sourced GPU rental prices across clouds and jurisdictions.

One flat CSV (``data/offers.csv``), one row per offer (provider, region, instance type, GPU,
pricing model, as-of date). Prices are written in the row's currency; :func:`load_offers`
converts them to US dollars with the dated rate of ``data/fx_rates.csv`` and keeps the native
price alongside.

Freshness rule: for one offer key (provider, region, instance type, GPU, pricing model) the
row with the latest ``as_of`` is the current price and older rows are its price history.
:func:`load_offers` returns current prices, or those known on a past date (``as_of``);
:func:`load_offer_history` returns every row. Rows written by ``gpuplan catalog refresh`` into
the user's data directory join the shipped history; a user's own CSV in the same layout (a
negotiated rate) replaces the rows of the keys it names. Nothing is read until the first call.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.places import (
    REGION_GROUPS,
    Country,
    RegionGroup,
    country_code,
    fx_rate,
    providers,
)
from gpuplan.catalog.tables import packaged_data, read_table_lines
from gpuplan.errors import CatalogError, GpuplanError, InputError, UnknownIdError
from gpuplan.userfiles import user_path, write_user_text

PricingModel = Literal[
    "on_demand", "spot", "reserved_1y", "reserved_3y", "capacity_block", "contract"
]
PRICING_MODELS: tuple[str, ...] = (
    "on_demand",
    "spot",
    "reserved_1y",
    "reserved_3y",
    "capacity_block",
    "contract",
)
DEFAULT_TERM_MONTHS: dict[str, int] = {
    "on_demand": 0,
    "spot": 0,
    "reserved_1y": 12,
    "reserved_3y": 36,
    "capacity_block": 1,
    "contract": 12,
}
"""Commitment implied by a pricing model when a row has no ``term_months``. Capacity blocks
(AWS EC2 Capacity Blocks: 1-182 days, paid up front) count as one month; a contract without a
stated term counts as one year."""

PAY_PER_USE: frozenset[str] = frozenset({"on_demand", "spot", "capacity_block"})
"""Pricing models paid only for the hours used (capacity blocks are bought when needed)."""

CSV_COLUMNS: tuple[str, ...] = (
    "provider",
    "provider_hq_jurisdiction",
    "instance_type",
    "region",
    "city",
    "country",
    "region_group",
    "gpu",
    "gpus_per_instance",
    "pricing_model",
    "term_months",
    "price_per_instance_hour",
    "price_per_gpu_hour",
    "currency",
    "as_of",
    "availability_gpus",
    "is_estimate",
    "source",
    "derivation",
    "notes",
)
PRICE_TOLERANCE = 0.01
"""Relative disagreement allowed between the instance price / GPUs and the per-GPU price."""
STALE_AFTER_DAYS = 365
"""A price older than this on the day it is used is reported with its age."""


def _lower_snake(value: object) -> object:
    return value.strip().lower().replace("-", "_") if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class OfferRow(BaseModel):
    """One row of the offer CSV, prices in the row's own currency."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str = Field(min_length=1)
    provider_hq_jurisdiction: Annotated[str, BeforeValidator(_upper)] = Field(
        min_length=2, description="Jurisdiction of the provider's headquarters: US, EU, UK, ..."
    )
    instance_type: str = Field(min_length=1)
    region: str = Field(min_length=1)
    city: str | None = None
    country: Country | None = Field(
        default=None, description="ISO 3166 alpha-2 of the data centre; empty for global prices."
    )
    region_group: Annotated[RegionGroup, BeforeValidator(_upper)]
    gpu: str = Field(description="Catalog GPU id (aliases accepted, stored canonical).")
    gpus_per_instance: int = Field(ge=1)
    pricing_model: Annotated[PricingModel, BeforeValidator(_lower_snake)]
    term_months: int | None = Field(default=None, ge=0)
    price_per_instance_hour: float | None = Field(default=None, gt=0)
    price_per_gpu_hour: float | None = Field(default=None, gt=0)
    currency: Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{3}$")]
    as_of: date
    availability_gpus: int | None = Field(default=None, ge=1)
    is_estimate: bool = False
    source: str = Field(min_length=3, description="Where the price was read, or the rule used.")
    derivation: str | None = None
    notes: str | None = None

    @field_validator("gpu", mode="before")
    @classmethod
    def _canonical_gpu(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return get_gpu(value).id
        except UnknownIdError as error:
            raise ValueError(str(error)) from None

    @model_validator(mode="after")
    def _prices_agree(self) -> OfferRow:
        per_gpu, per_instance = self.price_per_gpu_hour, self.price_per_instance_hour
        if per_gpu is None and per_instance is None:
            raise ValueError("give price_per_gpu_hour or price_per_instance_hour (or both)")
        if per_gpu is None:
            object.__setattr__(self, "price_per_gpu_hour", per_instance / self.gpus_per_instance)  # type: ignore[operator]
        elif per_instance is None:
            object.__setattr__(self, "price_per_instance_hour", per_gpu * self.gpus_per_instance)
        elif abs(per_instance / self.gpus_per_instance - per_gpu) > PRICE_TOLERANCE * per_gpu:
            raise ValueError(
                f"price_per_instance_hour {per_instance} / gpus_per_instance "
                f"{self.gpus_per_instance} = {per_instance / self.gpus_per_instance:.4f} "
                f"disagrees with price_per_gpu_hour {per_gpu}; fix one of the three"
            )
        if self.derivation is None and self.is_estimate:
            raise ValueError("an estimate (is_estimate=true) must say how in 'derivation'")
        return self

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Identity of an offer; rows sharing it are one offer's price history."""
        return (
            self.provider.lower(),
            self.region,
            self.instance_type,
            self.gpu,
            self.pricing_model,
        )

    def age_days(self, on: date) -> int:
        """Days between the price's as-of date and ``on``."""
        return (on - self.as_of).days

    def staleness(self, on: date) -> str | None:
        """'548 days old' when the price is older than a year on ``on``, else None."""
        age = self.age_days(on)
        return f"{age} days old" if age > STALE_AFTER_DAYS else None

    @property
    def commitment_months(self) -> int:
        """Months the buyer is committed for: 0 on-demand/spot, 12, 36, as documented."""
        if self.term_months is not None:
            return self.term_months
        return DEFAULT_TERM_MONTHS[self.pricing_model]

    @property
    def pay_per_use(self) -> bool:
        """True when only the hours used are paid (on-demand, spot, capacity blocks)."""
        return self.pricing_model in PAY_PER_USE and not self.term_months


class Offer(OfferRow):
    """An offer with prices converted to US dollars (``currency`` is then ``USD``).

    The price as published stays in ``native_price_per_gpu_hour`` / ``native_currency``, with
    the rate and its date in ``fx_usd_per_unit`` / ``fx_as_of``.
    """

    native_currency: str
    native_price_per_gpu_hour: float = Field(gt=0)
    fx_usd_per_unit: float = Field(gt=0)
    fx_as_of: date

    @property
    def usd_per_gpu_hour(self) -> float:
        """Price per GPU-hour in USD (same as ``price_per_gpu_hour``)."""
        assert self.price_per_gpu_hour is not None  # set by the validator
        return self.price_per_gpu_hour


def to_usd(row: OfferRow) -> Offer:
    """Convert a row to USD with its currency's rate dated on or before the row's as-of date."""
    rate = fx_rate(row.currency, row.as_of)
    assert row.price_per_gpu_hour is not None and row.price_per_instance_hour is not None
    data = row.model_dump()
    data.update(
        price_per_gpu_hour=row.price_per_gpu_hour * rate.usd_per_unit,
        price_per_instance_hour=row.price_per_instance_hour * rate.usd_per_unit,
        currency="USD",
        native_currency=row.currency,
        native_price_per_gpu_hour=row.price_per_gpu_hour,
        fx_usd_per_unit=rate.usd_per_unit,
        fx_as_of=rate.as_of,
    )
    return Offer.model_validate(data)


def read_offer_csv(path: Path) -> list[Offer]:
    """Read and convert one offer CSV; a bad row, duplicate key or currency names its line."""
    path = user_path(path, "offers")
    if not path.is_file():
        raise InputError("offers", f"'{path}' is not a file; give the path of an offer CSV file.")
    seen: dict[tuple[object, ...], int] = {}
    offers: list[Offer] = []
    for line, row in read_table_lines(path, OfferRow):
        dated_key = (*row.key, row.as_of)
        if dated_key in seen:
            raise CatalogError(
                f"{path.name} line {line}: same offer and date as line {seen[dated_key]} "
                f"(provider, region, instance_type, gpu, pricing_model = {row.key}, as_of "
                f"{row.as_of}). Keep one row per offer and date (older dates are history)."
            )
        seen[dated_key] = line
        try:
            offers.append(to_usd(row))
        except GpuplanError as error:
            raise CatalogError(f"{path.name} line {line}: {error}") from None
    if not offers:
        raise CatalogError(
            f"{path.name} has a header but no offer rows; add rows in the layout of "
            "`gpuplan catalog offers --json` (or leave the file out)."
        )
    return offers


@cache
def _builtin_offers() -> tuple[Offer, ...]:
    return tuple(read_offer_csv(packaged_data("offers.csv")))


_PRICES_AS_OF: ContextVar[date | None] = ContextVar("gpuplan_prices_as_of", default=None)


@contextmanager
def prices_as_of(day: date | None) -> Iterator[None]:
    """Within the block, :func:`load_offers` without ``as_of`` uses prices known on ``day``."""
    token = _PRICES_AS_OF.set(day)
    try:
        yield
    finally:
        _PRICES_AS_OF.reset(token)


def active_prices_as_of() -> date | None:
    """The date set by an enclosing :func:`prices_as_of`, or None (current prices)."""
    return _PRICES_AS_OF.get()


def price_date(as_of: date | None = None) -> date:
    """The day prices are taken on: ``as_of``, else the active :func:`prices_as_of`, else today."""
    return as_of or _PRICES_AS_OF.get() or date.today()


def load_offer_history(user_csv: str | Path | None = None) -> list[Offer]:
    """Every dated row: shipped, refreshed into the user's data directory, and ``user_csv``.

    A refreshed row with the same key and date as a shipped one replaces it; the rows of a
    key named in ``user_csv`` replace that key's whole history.
    """
    from gpuplan.catalog.user_data import refreshed_offers

    rows = {(*o.key, o.as_of): o for o in _builtin_offers()}
    rows |= {(*o.key, o.as_of): o for o in refreshed_offers()}
    if user_csv is not None:
        mine = read_offer_csv(Path(user_csv))
        replaced = {o.key for o in mine}
        rows = {k: o for k, o in rows.items() if o.key not in replaced}
        rows |= {(*o.key, o.as_of): o for o in mine}
    return list(rows.values())


def current_offers(history: Iterable[Offer], as_of: date | None = None) -> list[Offer]:
    """The latest row per offer key dated on or before ``as_of`` (every row if None)."""
    latest: dict[tuple[str, ...], Offer] = {}
    for offer in history:
        if as_of is not None and offer.as_of > as_of:
            continue
        best = latest.get(offer.key)
        if best is None or offer.as_of > best.as_of:
            latest[offer.key] = offer
    return list(latest.values())


def load_offers(user_csv: str | Path | None = None, *, as_of: date | None = None) -> list[Offer]:
    """Current offers (the freshness rule), or those known on ``as_of``; USD per GPU-hour.

    ``as_of`` defaults to the active :func:`prices_as_of` date, else the newest row. A date
    before the catalog's first price is an :class:`InputError`.
    """
    history = load_offer_history(user_csv)
    day = as_of or _PRICES_AS_OF.get()
    offers = current_offers(history, day)
    if not offers:
        first = min(o.as_of for o in history)
        raise InputError(
            "as_of",
            f"no offer is dated on or before {day}; the catalog's first price is of {first}. "
            "Give a later date.",
        )
    return offers


def _check_choice(kind: str, given: str, valid: Iterable[str]) -> str:
    choices = {v.lower(): v for v in valid}
    match = choices.get(given.strip().lower().replace("-", "_")) or choices.get(
        given.strip().lower()
    )
    if match is None:
        raise UnknownIdError(kind, given, choices.values())
    return match


def query_offers(
    offers: Sequence[Offer] | None = None,
    *,
    gpu: str | None = None,
    region_group: str | None = None,
    pricing: str | None = None,
    provider: str | None = None,
    jurisdiction: str | None = None,
    country: str | None = None,
) -> list[Offer]:
    """Offers matching every given filter, cheapest per GPU-hour (USD) first.

    Filters are case-insensitive and a provider may be given by an alias of ``providers.csv``
    (``oci``, ``datacrunch``); a value no offer has is an :class:`UnknownIdError` listing the
    valid ones (except ``country``/``gpu``, which may simply have no offers).
    """
    rows = list(load_offers() if offers is None else offers)
    universe = rows
    if gpu is not None:
        gpu_id = get_gpu(gpu).id
        rows = [o for o in rows if o.gpu == gpu_id]
    if region_group is not None:
        group = _check_choice("region group", region_group, REGION_GROUPS)
        rows = [o for o in rows if o.region_group == group]
    if pricing is not None:
        model = _check_choice("pricing model", pricing, PRICING_MODELS)
        rows = [o for o in rows if o.pricing_model == model]
    if provider is not None:
        listed = providers().get(provider.strip().lower())
        name = _check_choice(
            "provider", listed.provider if listed else provider, {o.provider for o in universe}
        )
        rows = [o for o in rows if o.provider == name]
    if jurisdiction is not None:
        juris = _check_choice(
            "jurisdiction", jurisdiction, {o.provider_hq_jurisdiction for o in universe}
        )
        rows = [o for o in rows if o.provider_hq_jurisdiction == juris]
    if country is not None:
        code = country_code(country)
        rows = [o for o in rows if o.country == code]
    return sorted(rows, key=lambda o: (o.usd_per_gpu_hour, o.provider, o.region))


def offer_csv_row(row: OfferRow) -> dict[str, Any]:
    """A row for the CSV layout; an :class:`Offer` is written back in its native currency."""
    data = row.model_dump(include=set(CSV_COLUMNS))
    if isinstance(row, Offer):
        rate = row.fx_usd_per_unit
        assert row.price_per_instance_hour is not None
        data.update(
            currency=row.native_currency,
            price_per_gpu_hour=row.native_price_per_gpu_hour,
            price_per_instance_hour=row.price_per_instance_hour / rate,
        )
    data["is_estimate"] = "true" if row.is_estimate else "false"
    return {column: "" if data[column] is None else data[column] for column in CSV_COLUMNS}


def write_offer_csv(
    rows: Iterable[OfferRow], path: str | Path, inputs: tuple[Path, ...] = ()
) -> Path:
    """Write rows in the offer CSV layout (readable by ``load_offers(user_csv=...)``); a
    failed write or a target among ``inputs`` is an :class:`InputError` naming the path."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow(offer_csv_row(row))
    return write_user_text(path, buffer.getvalue(), "output", inputs)
