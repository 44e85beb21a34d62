"""The JSON API and pages through the guarded app: same answers as the CLI, named errors,
safe input (no files, bounded YAML, body limit), token, CSRF, jobs, queue and CPU limits."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gpuplan.cli import app as cli
from gpuplan.web.app import ServerSettings, guarded_app
from gpuplan.web.scenario_input import preset_text
from test_planner_scenarios import tiny


def client_for(tmp_path: Path, **settings: Any) -> TestClient:
    db = f"sqlite:///{tmp_path / 'web.sqlite'}"
    return TestClient(guarded_app(ServerSettings(db=db, **settings)))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with client_for(tmp_path) as opened:
        yield opened


def wait_for(client: TestClient, run_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{run_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {run_id} still {job['status']} after {timeout} s")


def test_estimate_equals_the_cli_and_is_saved(client: TestClient) -> None:
    body = {"model": "mixtral-8x7b", "tokens": 8e12, "gpu": "h100", "gpus": 1024}
    answer = client.post("/api/estimate/training", json=body)
    assert answer.status_code == 200
    cli_json = CliRunner().invoke(cli, ["estimate", "training", "--model", "mixtral-8x7b",
                                        "--tokens", "8T", "--gpu", "h100", "--gpus", "1024",
                                        "--json"]).stdout
    assert answer.json()["result"] == json.loads(cli_json)
    saved = client.get(f"/api/runs/{answer.json()['run_id']}").json()
    assert saved["kind"] == "estimate-training" and saved["request"]["tokens"] == 8e12


def test_bad_input_is_400_naming_the_field(client: TestClient) -> None:
    answer = client.post("/api/estimate/training",
                         json={"model": "mixtral-8x7", "tokens": 8e12, "gpu": "h100"})
    assert answer.status_code == 400
    assert answer.json()["field"] == "model" and "mixtral-8x7b" in answer.json()["message"]


def test_validation_errors_come_with_their_line(client: TestClient) -> None:
    text = preset_text("path-a-cloud-only").replace("peak_factor: 2.0", "peak_factor: -2.0", 1)
    expected_line = text.splitlines().index("    peak_factor: -2.0") + 1
    answer = client.post("/api/scenarios/validate", json={"yaml": text}).json()
    assert answer["valid"] is False
    (problem,) = answer["problems"]
    assert problem["field"] == "inference.le-chat-eu.peak_factor"
    assert problem["line"] == expected_line
    valid = client.post("/api/scenarios/validate", json={"yaml": preset_text("mistral")})
    assert valid.json() == {"valid": True, "problems": []}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inference": [{"id": "chat-eu", "csv": "/etc/passwd"}]}, "inference.chat-eu.csv"),
        ({"extends": "../../etc/passwd"}, "extends"),
        ({"supply": {"offers_csv": "offers.csv"}}, "supply.offers_csv"),
        ({"training": [{"id": "t", "model": "/root/config.json"}]}, "training.t.model"),
    ],
)
def test_fields_naming_files_are_refused(client: TestClient, change: dict[str, Any],
                                         field: str) -> None:
    text = yaml.safe_dump(tiny() | change)
    answer = client.post("/api/jobs", json={"kind": "plan", "yaml": text})
    assert answer.status_code == 400 and answer.json()["field"] == field
    assert "web app" in answer.json()["message"]
    problems = client.post("/api/scenarios/validate", json={"yaml": text}).json()["problems"]
    assert problems[0]["field"] == field


def test_alias_bomb_and_big_bodies_are_refused(client: TestClient) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    started = time.monotonic()
    answer = client.post("/api/scenarios/validate", json={"yaml": "\n".join(lines)})
    assert time.monotonic() - started < 5
    assert "expands to more than" in answer.json()["problems"][0]["message"]
    huge = client.post("/api/scenarios/validate", json={"yaml": "x" * 2_500_000})
    assert huge.status_code == 413


def test_token_is_required_everywhere_when_set(tmp_path: Path) -> None:
    with client_for(tmp_path, token="s3cret") as client:
        assert client.get("/api/gpus").status_code == 401
        assert client.get("/").status_code == 401
        ok = client.get("/api/gpus", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert client.get("/?token=s3cret").status_code == 200  # sets the cookie
        assert client.get("/runs").status_code == 200


def test_serve_refuses_a_public_address_without_token() -> None:
    outcome = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"], env={"GPUPLAN_TOKEN": ""})
    assert outcome.exit_code == 2 and "token" in outcome.output


def test_cross_site_requests_are_refused(client: TestClient) -> None:
    cross = client.post("/api/scenarios/validate", json={"yaml": "a: 1"},
                        headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    form = client.post("/api/scenarios/validate", data={"yaml": "a: 1"})
    assert form.status_code == 403
    client.get("/editor")  # sets the CSRF cookie
    no_token = client.post("/runs", data={"kind": "plan", "yaml": yaml.safe_dump(tiny())},
                           follow_redirects=False)
    assert no_token.status_code == 403


@pytest.mark.slow
def test_plan_job_from_the_editor_form_to_the_comparison(client: TestClient) -> None:
    page = client.get("/editor?preset=path-a-cloud-only")
    csrf = client.cookies["gpuplan_csrf"]
    assert f'value="{csrf}"' in page.text
    ids = []
    for overrides in ("", "data_only"):
        posted = client.post("/runs", data={"kind": "plan", "yaml": yaml.safe_dump(tiny()),
                                            "overrides": overrides, "csrf": csrf},
                             follow_redirects=False)
        assert posted.status_code == 303
        ids.append(posted.headers["location"].rsplit("/", 1)[1])
    jobs = [wait_for(client, run_id) for run_id in ids]
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]
    # Hand calculation in tests/test_planner_scenarios.py: 1,752,000 and half of it.
    assert [j["result"]["npv_usd"] for j in jobs] == pytest.approx([1_752_000.0, 876_000.0])
    assert jobs[1]["resolved"]["inference"][0]["sovereignty"] == "eu_data"
    run_page = client.get(f"/runs/{ids[0]}")
    assert run_page.status_code == 200 and "$1.75M" in run_page.text
    # Fleet, cost, baselines and utilisation charts, plotly's script inline (no CDN).
    assert run_page.text.count('class="plotly-graph-div"') == 4
    assert "<script src=\"http" not in run_page.text
    report = client.get(f"/runs/{ids[0]}/report.html")
    assert report.status_code == 200 and "$1.75M" in report.text
    book = client.get(f"/runs/{ids[0]}/workbook.xlsx")
    assert book.status_code == 200
    import openpyxl

    summary = openpyxl.load_workbook(io.BytesIO(book.content)).worksheets[0]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True)}
    assert values["Net present cost (USD)"] == pytest.approx(1_752_000.0)
    assert client.get(f"/runs/{ids[0]}/fleet.csv").text.startswith("period,")
    compare = client.get(f"/compare?a={ids[0]}&b={ids[1]}")
    assert compare.status_code == 200 and "−$876K" in compare.text
    listed = client.get("/runs?q=tiny")
    assert ids[0][:12] in listed.text
    diff = client.get(f"/api/runs/{ids[0]}/diff/{ids[1]}").json()
    assert diff["headline"]["npv_usd"]["change"] == pytest.approx(-876_000.0)


@pytest.mark.slow
def test_a_full_queue_answers_429(tmp_path: Path) -> None:
    with client_for(tmp_path, max_queued_jobs=1) as client:
        body = {"kind": "plan", "yaml": yaml.safe_dump(tiny())}
        first = client.post("/api/jobs", json=body)
        second = client.post("/api/jobs", json=body)
        assert first.status_code == 202 and second.status_code == 429
        assert second.headers["Retry-After"] and "already waiting" in second.json()["message"]
        wait_for(client, first.json()["id"])


@pytest.mark.slow
def test_a_job_over_its_cpu_limit_fails_with_the_reason(tmp_path: Path) -> None:
    with client_for(tmp_path, job_cpu_seconds=1) as client:
        job = client.post("/api/jobs", json={"kind": "plan", "preset": "path-a-cloud-only"})
        outcome = wait_for(client, job.json()["id"])
        assert outcome["status"] == "failed" and "CPU-time limit of 1 s" in outcome["error"]


def test_catalog_page_filters_offers(client: TestClient) -> None:
    page = client.get("/catalog?gpu=h100&region_group=EU&pricing=on_demand")
    assert page.status_code == 200 and "h100-sxm" in page.text
    offers = client.get("/api/offers?gpu=h100&region_group=EU&pricing=on_demand").json()
    assert offers and all(o["region_group"] == "EU" for o in offers)
    prices = [o["price_per_gpu_hour"] for o in offers]
    assert prices == sorted(prices)
    bad = client.get("/catalog?pricing=monthly")
    assert bad.status_code == 400 and "pricing model" in bad.text


@pytest.mark.slow
def test_two_servers_share_one_database(tmp_path: Path) -> None:
    """A second server starting on the same store leaves the first one's job alone, and
    both see every run."""
    body = {"kind": "plan", "yaml": yaml.safe_dump(tiny())}
    with client_for(tmp_path) as first:
        job = first.post("/api/jobs", json=body).json()["id"]
        with client_for(tmp_path) as second:
            estimate = second.post("/api/estimate/training", json={
                "model": "mixtral-8x7b", "tokens": 8e12, "gpu": "h100"}).json()["run_id"]
            assert wait_for(first, job)["status"] == "succeeded"
            for client in (first, second):
                ids = {r["id"] for r in client.get("/api/runs").json()}
                assert ids == {job, estimate}
            assert second.get(f"/api/jobs/{job}").json()["result"]["npv_usd"] == pytest.approx(
                1_752_000.0)


@pytest.mark.slow
def test_simulate_job_equals_the_cli(client: TestClient) -> None:
    job = client.post("/api/jobs", json={"kind": "simulate", "preset": "report-runway-1",
                                         "samples": 2000, "seed": 7})
    outcome = wait_for(client, job.json()["id"])
    assert outcome["status"] == "succeeded" and outcome["seed"] == 7
    cli_json = CliRunner().invoke(cli, ["simulate", "report-runway-1", "-n", "2000", "--seed",
                                        "7", "--json"]).stdout
    assert outcome["result"]["runway_months"] == json.loads(cli_json)["runway_months"]
    page = client.get(f"/runs/{outcome['id']}")
    p10, p50, p90 = (outcome["result"]["runway_months"][k] for k in ("p10", "p50", "p90"))
    assert f"{p10:.3g} / {p50:.3g} / {p90:.3g}" in page.text
    assert page.text.count('class="plotly-graph-div"') == 3  # cash fan, runway, tornado


@pytest.mark.slow
def test_jobs_on_a_postgresql_store(postgres_url: str) -> None:
    with TestClient(guarded_app(ServerSettings(db=postgres_url))) as client:
        job = client.post("/api/jobs", json={"kind": "plan", "yaml": yaml.safe_dump(tiny())})
        outcome = wait_for(client, job.json()["id"])
        assert outcome["status"] == "succeeded"
        assert outcome["result"]["npv_usd"] == pytest.approx(1_752_000.0)


def test_a_bad_form_gets_a_named_error_page(client: TestClient) -> None:
    client.get("/editor")
    csrf = client.cookies["gpuplan_csrf"]
    answer = client.post("/runs", data={"kind": "optimise", "yaml": "name: x", "csrf": csrf})
    assert answer.status_code == 400 and "kind" in answer.text
    unknown = client.get("/editor?preset=../../etc/passwd")
    assert unknown.status_code == 400 and "Unknown preset" in unknown.text


@pytest.mark.slow
def test_sweep_job_over_a_grid(client: TestClient) -> None:
    body = {"kind": "sweep", "yaml": yaml.safe_dump(tiny()),
            "grid": ["inference.chat-eu.tokens_per_day=5e9,10e9"]}
    outcome = wait_for(client, client.post("/api/jobs", json=body).json()["id"])
    assert outcome["status"] == "succeeded" and outcome["result"]["jobs"] == 2
    # 10 GPUs per 1e9 tokens/day at $2/h for 8,760 h: 5e9 -> 876,000; 10e9 -> 1,752,000.
    npv = {row["set:inference.chat-eu.tokens_per_day"]: row["npv_usd"]
           for row in outcome["result"]["rows"]}
    assert npv == pytest.approx({"5e9": 876_000.0, "10e9": 1_752_000.0})  # grid text as given
    sneaky = client.post("/api/jobs", json=body | {"grid": ["supply.offers_csv=/etc/passwd"]})
    assert sneaky.status_code == 400 and sneaky.json()["field"] == "supply.offers_csv"


def test_catalog_search_and_tco_equal_the_cli(client: TestClient) -> None:
    def cli_json(*arguments: str) -> Any:
        outcome = CliRunner().invoke(cli, [*arguments, "--json"])
        assert outcome.exit_code == 0, outcome.output
        return json.loads(outcome.stdout)

    tco = client.post("/api/tco", json={"gpu": "h100-sxm", "country": "FR", "utilisation": 0.7,
                                        "gpus": 8, "pricing": "on_demand"})
    assert tco.status_code == 200
    assert tco.json() == cli_json("tco", "--gpu", "h100-sxm", "--country", "FR",
                                  "--utilisation", "0.7", "--gpus", "8", "--pricing", "on_demand")
    search = client.post("/api/search/deployments",
                         json={"model": "mixtral-8x7b", "max_tpot_ms": 50, "top": 3})
    assert search.json() == cli_json("search", "deployments", "--model", "mixtral-8x7b",
                                     "--max-tpot-ms", "50", "--top", "3")
    offers = client.get("/api/offers?gpu=h100-sxm&pricing=on_demand").json()
    listed = cli_json("catalog", "offers", "--gpu", "h100-sxm", "--pricing", "on_demand")
    assert offers and [(o["provider"], o["price_per_gpu_hour"], o["as_of"]) for o in offers] == [
        (o["provider"], o["price_per_gpu_hour"], o["as_of"]) for o in listed["offers"]]
    gpus = {g["id"] for g in client.get("/api/gpus").json()}
    assert {"h100-sxm", "b200"} <= gpus


@pytest.mark.slow
def test_two_server_processes_answer_for_each_others_jobs(tmp_path: Path) -> None:
    """`gpuplan serve --workers 2`: requests on new connections land on either process; a
    job queued by one is followed through the other, and both list every run."""
    import urllib.request

    from web_server import start_server

    def call(path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(server.url + path, data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    server = start_server(f"sqlite:///{tmp_path / 'two.sqlite'}", "--workers", "2")
    try:
        job = call("/api/jobs", {"kind": "plan", "yaml": yaml.safe_dump(tiny())})["id"]
        estimates = {call("/api/estimate/training", {"model": "mixtral-8x7b", "tokens": 8e12,
                                                     "gpu": "h100"})["run_id"]
                     for _ in range(6)}
        deadline = time.monotonic() + 120
        while (status := call(f"/api/jobs/{job}"))["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
        assert status["status"] == "succeeded"
        assert status["result"]["npv_usd"] == pytest.approx(1_752_000.0)
        assert {r["id"] for r in call("/api/runs")} == {job, *estimates}
    finally:
        server.stop()
