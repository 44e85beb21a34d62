"""Regenerate the field reference at the end of docs/scenarios.md from the scenario schema
(the text `gpuplan schema --markdown` prints), keeping the hand-written part above it.

Run: ``python3 scripts/update_scenario_docs.py`` after a change to the scenario schema.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gpuplan.planning.api import scenario_schema  # noqa: E402
from gpuplan.reporting.schema_doc import schema_markdown  # noqa: E402

MARKER = "## Scenario file fields"


def main() -> None:
    docs = ROOT / "docs" / "scenarios.md"
    text = docs.read_text(encoding="utf-8")
    head = text[: text.index(MARKER)] if MARKER in text else text + "\n"
    docs.write_text(head + schema_markdown(scenario_schema()).strip() + "\n", encoding="utf-8")
    print(f"{docs.relative_to(ROOT)}: field reference regenerated")


if __name__ == "__main__":
    main()
