"""Size and build time of the HTML report and workbook of shipped presets.

Run: ``python3 benchmarks/report_size.py [PRESET ...]`` (default: mistral, european-lab,
anthropic). Target: every HTML report under 10 MB (plotly.js, ~4.6 MB, embedded once).
Prints, per preset: seconds to plan/simulate and gather, seconds to write the HTML and the
workbook, the HTML size in MB, the number of charts and of workbook sheets.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.reporting.build import build_report
from gpuplan.reporting.html import write_html
from gpuplan.reporting.sections import report_sections, report_tables
from gpuplan.reporting.workbook import write_workbook

SAMPLES = 10_000


def main(presets: list[str]) -> None:
    print(
        f"{'preset':<16} {'build s':>8} {'html s':>7} {'xlsx s':>7} {'HTML MB':>8} "
        f"{'charts':>7} {'sheets':>7}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for preset in presets:
            start = time.perf_counter()
            report = build_report(preset, samples=SAMPLES, seed=0)
            built = time.perf_counter()
            html = write_html(report, Path(folder) / f"{preset}.html")
            written = time.perf_counter()
            write_workbook(report, Path(folder) / f"{preset}.xlsx")
            done = time.perf_counter()
            charts = sum(len(s.figures) for s in report_sections(report))
            print(
                f"{preset:<16} {built - start:8.1f} {written - built:7.1f} {done - written:7.1f} "
                f"{html.stat().st_size / 1e6:8.2f} {charts:7d} {len(report_tables(report)) + 1:7d}"
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ["mistral", "european-lab", "anthropic"])
