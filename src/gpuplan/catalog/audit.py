"""Audit the offer catalog: stale rows, weak sources, estimates, and price outliers.

A stale row whose ``notes`` record a search that found nothing newer ("checked 2026-12-02: no
newer public figure ...") is reported with that date, so the audit tells a price nobody looked
at from one that is old because no newer one is public.

Outliers compare each offer with the median price of the same GPU and pricing model across
providers and regions (the median of offers younger than ``max_age_days`` when there are at
least three, so superseded list prices do not set the yardstick): more than ``outlier_factor``
times the median, or less than the median divided by it, is suspicious (a catalog error, a
mislabelled GPU, a promotional floor price).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict

from gpuplan.catalog.offers import Offer
from gpuplan.errors import InputError

PLACEHOLDER_SOURCES = frozenset({"unknown", "n/a", "na", "none", "tbd", "todo", "?", "-", "???"})
MIN_GROUP_FOR_OUTLIERS = 3
CHECKED_NOTE = re.compile(r"checked (\d{4}-\d{2}-\d{2}): no newer public figure")
"""How a row's notes record a search for a newer price that found none."""


class AuditFinding(BaseModel):
    """One offer flagged by the audit, with the reason."""

    model_config = ConfigDict(frozen=True)

    provider: str
    region: str
    instance_type: str
    gpu: str
    pricing_model: str
    price_per_gpu_hour: float
    as_of: date
    reason: str
    checked_on: date | None = None
    """Stale rows: the last date a search for a newer public price found none."""


class AuditReport(BaseModel):
    """Findings by kind; ``ok`` when nothing but estimates was flagged."""

    model_config = ConfigDict(frozen=True)

    offers_checked: int
    max_age_days: int
    outlier_factor: float
    stale: list[AuditFinding]
    unsourced: list[AuditFinding]
    outliers: list[AuditFinding]
    estimates: list[AuditFinding]

    @property
    def ok(self) -> bool:
        return not (self.stale or self.unsourced or self.outliers)

    @property
    def stale_unchecked(self) -> list[AuditFinding]:
        """Stale rows with no recorded search for a newer price: the ones to look at first."""
        return [f for f in self.stale if f.checked_on is None]


def last_checked(offer: Offer) -> date | None:
    """The latest "checked YYYY-MM-DD: no newer public figure" date in the row's notes."""
    dates = [date.fromisoformat(d) for d in CHECKED_NOTE.findall(offer.notes or "")]
    return max(dates, default=None)


def _stale_finding(offer: Offer, age_days: int, max_age_days: int) -> AuditFinding:
    checked = last_checked(offer)
    searched = f"; checked {checked}: no newer public figure" if checked else "; no search recorded"
    reason = f"{age_days} days old (limit {max_age_days}){searched}"
    return _finding(offer, reason, checked_on=checked)


def _finding(offer: Offer, reason: str, checked_on: date | None = None) -> AuditFinding:
    return AuditFinding(
        provider=offer.provider,
        region=offer.region,
        instance_type=offer.instance_type,
        gpu=offer.gpu,
        pricing_model=offer.pricing_model,
        price_per_gpu_hour=offer.usd_per_gpu_hour,
        as_of=offer.as_of,
        reason=reason,
        checked_on=checked_on,
    )


def audit_offers(
    offers: Sequence[Offer],
    *,
    max_age_days: int = 365,
    today: date | None = None,
    outlier_factor: float = 3.0,
) -> AuditReport:
    """Flag offers older than ``max_age_days``, with placeholder sources, or outlying prices."""
    if max_age_days < 0:
        raise InputError("max_age_days", f"must be >= 0 (got {max_age_days}).")
    if outlier_factor <= 1:
        raise InputError("outlier_factor", f"must be > 1 (got {outlier_factor}).")
    now = today or date.today()
    stale = [
        _stale_finding(o, (now - o.as_of).days, max_age_days)
        for o in offers
        if (now - o.as_of).days > max_age_days
    ]
    stale += [_finding(o, "as_of is in the future") for o in offers if o.as_of > now]
    unsourced = [
        _finding(o, f"placeholder source '{o.source}'")
        for o in offers
        if o.source.strip().lower() in PLACEHOLDER_SOURCES
    ]
    groups: dict[tuple[str, str], list[Offer]] = defaultdict(list)
    for offer in offers:
        groups[(offer.gpu, offer.pricing_model)].append(offer)
    outliers = []
    for (gpu, model), members in groups.items():
        if len(members) < MIN_GROUP_FOR_OUTLIERS:
            continue
        fresh = [o for o in members if 0 <= (now - o.as_of).days <= max_age_days]
        basis = fresh if len(fresh) >= MIN_GROUP_FOR_OUTLIERS else members
        median = statistics.median(o.usd_per_gpu_hour for o in basis)
        for offer in members:
            ratio = offer.usd_per_gpu_hour / median
            if ratio > outlier_factor or ratio < 1 / outlier_factor:
                outliers.append(
                    _finding(
                        offer,
                        f"{ratio:.2f}x the median {median:.2f} USD/GPU-h of {len(basis)} "
                        f"{'recent ' if basis is fresh else ''}{gpu} {model} offers",
                    )
                )
    estimates = [_finding(o, o.derivation or "estimate") for o in offers if o.is_estimate]
    return AuditReport(
        offers_checked=len(offers),
        max_age_days=max_age_days,
        outlier_factor=outlier_factor,
        stale=stale,
        unsourced=unsourced,
        outliers=outliers,
        estimates=estimates,
    )
