"""Fit rental price trends from the shipped offer history and published series and write
``src/gpuplan/catalog/data/price_trends.csv`` and ``price_generation_pattern.csv``.

Run: ``PYTHONPATH=src python3 scripts/fit_price_trends.py`` (prints the table it writes).
"""

from __future__ import annotations

from datetime import date

from gpuplan.catalog.offers import read_offer_csv
from gpuplan.catalog.tables import packaged_data
from gpuplan.catalog.trends import fit_catalog_trends, write_trend_tables


def main() -> None:
    history = read_offer_csv(packaged_data("offers.csv"))
    trends, pattern = fit_catalog_trends(history)
    folder = packaged_data("offers.csv").parent
    for path in write_trend_tables(trends, pattern, folder, date.today()):
        print(f"wrote {path}")
    for t in trends:
        print(
            f"{t.gpu:10} {t.pricing_model:12} {t.annual_change_mid:+.0%}/y "
            f"({t.annual_change_low:+.0%} .. {t.annual_change_high:+.0%}), "
            f"{t.n_voices} voices: {t.voices}"
        )
    if pattern:
        print(
            f"new generation launch price {pattern.launch_price_ratio_mid:.2f}x the previous "
            f"({pattern.launch_price_ratio_low:.2f}-{pattern.launch_price_ratio_high:.2f}, "
            f"{pattern.n_pairs} pairs): {pattern.pairs}"
        )
        print(
            f"after launch {pattern.annual_change_after_launch_mid}/y "
            f"({pattern.annual_change_after_launch_low} .. "
            f"{pattern.annual_change_after_launch_high}): {pattern.after_launch_voices}"
        )


if __name__ == "__main__":
    main()
