"""Out-of-sample check of the price-trend ranges: is a held-out source inside the range the
others give?

1. Leave one voice out: for every GPU and pricing model with at least three voices, fit the
   range on the other voices and test the held-out voice's annual change.
2. Leave one GPU out: the pooled range of the other GPUs (what a GPU without history gets)
   against the held-out GPU's own fitted change (its median voice).

Run: ``PYTHONPATH=src python3 benchmarks/price_trend_holdout.py`` (prints coverage figures).
"""

from __future__ import annotations

import math
import statistics

from gpuplan.catalog.offers import read_offer_csv
from gpuplan.catalog.tables import packaged_data
from gpuplan.catalog.trend_fit import spread, voice_slopes
from gpuplan.catalog.trends import price_points, published_series


def main() -> None:
    history = read_offer_csv(packaged_data("offers.csv"))
    voices = voice_slopes(price_points(history, published_series()))
    inside = total = 0
    for (gpu, model), by_voice in sorted(voices.items()):
        if len(by_voice) < 3:
            continue
        for voice, slope in by_voice.items():
            low, _, high = spread([s for v, s in by_voice.items() if v != voice])
            hit = low <= slope <= high
            inside += hit
            total += 1
            print(
                f"leave-one-voice-out {gpu} {model} {voice}: {math.expm1(slope):+.0%}/y vs "
                f"{math.expm1(low):+.0%}..{math.expm1(high):+.0%} {'in' if hit else 'OUT'}"
            )
    print(f"leave-one-voice-out coverage: {inside}/{total}")
    inside = total = 0
    by_model: dict[str, dict[str, list[float]]] = {}
    for (gpu, model), by_voice in voices.items():
        by_model.setdefault(model, {})[gpu] = list(by_voice.values())
    for model, gpus in sorted(by_model.items()):
        if len(gpus) < 3:
            continue
        for gpu, slopes in sorted(gpus.items()):
            others = [s for g, values in gpus.items() if g != gpu for s in values]
            low, _, high = spread(others)
            own = statistics.median(slopes)
            hit = low <= own <= high
            inside += hit
            total += 1
            print(
                f"leave-one-gpu-out {model} {gpu}: {math.expm1(own):+.0%}/y vs pooled "
                f"{math.expm1(low):+.0%}..{math.expm1(high):+.0%} {'in' if hit else 'OUT'}"
            )
    print(f"leave-one-gpu-out coverage: {inside}/{total}")


if __name__ == "__main__":
    main()
