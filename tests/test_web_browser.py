"""The web app in Debian's chromium, driven by Playwright: open a preset, edit it, see the
validation error at its line, fix it, run the plan, watch its progress, see the results,
run a variant and compare the two."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web_server import Server, start_server

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(f"sqlite:///{tmp_path / 'browser.sqlite'}")
    yield running
    running.stop()


@pytest.mark.slow
def test_edit_validate_run_and_compare_in_chromium(server: Server,
                                                   chromium_executable: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable,
                                             args=["--no-sandbox"])
        page = browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{server.url}/editor?preset=path-a-cloud-only")
        editor, validation = page.locator("#yaml"), page.locator("#validation")
        expect(validation).to_have_text("Valid scenario.", timeout=30_000)
        text = editor.input_value()
        # A shorter horizon keeps the solve short: 12 quarters still hold every deadline.
        text = text.replace("periods: 20", "periods: 12")
        broken = text.replace("peak_factor: 2.0", "peak_factor: -2.0", 1)
        line = broken.splitlines().index("    peak_factor: -2.0") + 1
        editor.fill(broken)
        finding = page.locator(".finding").first
        expect(finding).to_contain_text("inference.le-chat-eu.peak_factor", timeout=30_000)
        expect(finding).to_contain_text(f"line {line}")
        expect(page.locator(f'#gutter .bad-line[data-line="{line}"]')).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "web-editor-error.png"))

        editor.fill(text)
        expect(validation).to_have_text("Valid scenario.", timeout=30_000)
        run_ids = []
        for overrides in ("", "eu_operator"):
            if overrides:
                page.goto(f"{server.url}/editor?preset=path-a-cloud-only")
                editor.fill(text)
            page.locator("#overrides").fill(overrides)
            page.locator("#run-plan").click()
            page.wait_for_url("**/runs/*")
            run_ids.append(page.url.rsplit("/", 1)[1])
            # The job starts in a fresh process, so the page opens before it ends: progress.
            expect(page.locator("#progress")).to_have_count(1)
            expect(page.locator("#status")).to_have_text("succeeded", timeout=240_000)
            expect(page.locator("table.headline")).to_contain_text("NPV USD")
            # The report's four plan charts (fleet, cost, baselines, utilisation), drawn.
            expect(page.locator("#charts .plotly-graph-div")).to_have_count(4, timeout=30_000)
            expect(page.locator("#charts .plotly-graph-div svg.main-svg").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / f"web-run-{len(run_ids)}.png"), full_page=True)

        page.goto(f"{server.url}/runs")
        for run_id in run_ids:
            page.locator(f'input.pick[value="{run_id}"]').check()
        page.locator("#compare-picked").click()
        page.wait_for_url("**/compare**")
        expect(page.locator("#headline-diff")).to_contain_text("NPV USD")
        page.screenshot(path=str(ARTIFACTS / "web-compare.png"), full_page=True)
        browser.close()
    assert errors == []
