"""The run store on SQLite and on a real PostgreSQL: save, read back, diff, concurrent
writers, a writer killed mid-way, abandoned jobs, the CLI's --save and runs commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import gpuplan
from gpuplan.cli import app
from gpuplan.errors import InputError
from gpuplan.store import diff_runs, open_store
from gpuplan.store.runs import RunStore
from test_planner_scenarios import tiny

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite'}"
    base: str = request.getfixturevalue("postgres_url")
    store = open_store(base)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM runs")
    store.close()
    return base


@pytest.fixture
def store(store_url: str) -> Iterator[RunStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def tiny_plans() -> tuple[dict[str, Any], dict[str, Any]]:
    """The hand-checked tiny plan (NPV 1,752,000) and its eu_data variant (876,000)."""
    return gpuplan.plan(tiny()).to_dict(), gpuplan.plan(tiny(), ["data_only"]).to_dict()


def test_saved_plan_reads_back_whole(store: RunStore, tiny_plans: Any) -> None:
    plan_a, _ = tiny_plans
    run_id = store.save("plan", "tiny", {"scenario": "tiny"}, plan_a, seed=None,
                        wall_seconds=1.5, cpu_seconds=1.2,
                        resolved=gpuplan.load_scenario(tiny()).model_dump(mode="json"))
    record = store.get(run_id[:8])
    assert record.id == run_id and record.status == "succeeded"
    # 100 GPUs x $2/h x 2,190 h x 4 quarters (tests/test_planner_scenarios.py).
    assert record.result is not None and record.result["npv_usd"] == pytest.approx(1_752_000.0)
    assert record.resolved is not None and record.resolved["horizon"]["periods"] == 4
    assert record.gpuplan_version == gpuplan.__version__
    assert record.price_as_of is not None and len(record.price_as_of) == 10
    assert record.wall_seconds == 1.5 and record.cpu_seconds == 1.2
    assert [r.id for r in store.list("tin")] == [run_id]
    assert store.list("no-such-label") == []
    store.delete(run_id)
    with pytest.raises(InputError, match="no run"):
        store.get(run_id)


def test_inputs_hash_tells_same_from_different_inputs(store: RunStore) -> None:
    one = store.save("estimate-training", "a", {"tokens": 8e12, "gpu": "h100"}, {"x": 1})
    two = store.save("estimate-training", "b", {"gpu": "h100", "tokens": 8e12}, {"x": 1})
    three = store.save("estimate-training", "c", {"gpu": "h100", "tokens": 9e12}, {"x": 1})
    hashes = [store.get(i).inputs_hash for i in (one, two, three)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_diff_of_two_plans_names_cost_and_fleet_changes(store: RunStore, tiny_plans: Any) -> None:
    plan_a, plan_b = tiny_plans
    a = store.get(store.save("plan", "eu_operator", {}, plan_a))
    b = store.get(store.save("plan", "eu_data", {}, plan_b))
    diff = diff_runs(a, b)
    # Under eu_data the $1/h AWS region replaces the $2/h Nebius one: half the cost.
    assert diff["headline"]["npv_usd"]["change"] == pytest.approx(-876_000.0)
    assert diff["headline"]["npv_usd"]["change_fraction"] == pytest.approx(-0.5)
    fleet = {(r["provider"], r["year"]): (r["a"], r["b"]) for r in diff["fleet"]}
    assert fleet == {("Nebius", "2026"): (100.0, 0.0), ("AWS", "2026"): (0.0, 100.0)}
    assert diff["commitments"] == []  # both plans rent on demand only


def test_commitments_come_from_reserve_and_buy_orders(store: RunStore) -> None:
    def orders(reserved: float) -> list[dict[str, Any]]:
        common = {"order_month": "2026-03", "provider": "Y", "gpu": "h100-sxm"}
        return [
            common | {"action": "rent", "mode": "on_demand", "gpus": 10.0,
                      "commitment_usd": 5.0},
            common | {"action": "reserve", "mode": "reserved_1y", "gpus": reserved,
                      "commitment_usd": reserved * 1000.0},
        ]

    a = store.get(store.save("plan", "a", {}, {"npv_usd": 1.0, "orders": orders(40.0)}))
    b = store.get(store.save("plan", "b", {}, {"npv_usd": 1.0, "orders": orders(100.0)}))
    diff = diff_runs(a, b)
    (row,) = diff["commitments"]  # the rental is not a commitment
    assert (row["mode"], row["a"], row["b"], row["change"]) == ("reserved_1y", 40.0, 100.0, 60.0)
    assert diff["headline"]["committed_usd"]["change"] == 60_000.0


def test_abandoned_jobs_are_failed_with_the_reason(store: RunStore) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = store.create("plan", "orphan", {"scenario": {}})
    alive = store.create("plan", "alive", {"scenario": {}})
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE runs SET owner_pid = {dead.pid}, status = 'running' WHERE id = '{orphan}'"
        )
    assert store.fail_abandoned() == [orphan]
    failed = store.get(orphan)
    assert failed.status == "failed" and f"process {dead.pid}" in (failed.error or "")
    assert store.get(alive).status == "queued"  # this process owns it and is alive


WRITER = """
import sys
sys.path.insert(0, {src!r})
from gpuplan.store import open_store
store = open_store({url!r})
rows = [{{"period": "2026-Q1", "gpus": float(i)}} for i in range(200)]
for n in range({count}):
    store.save("plan", "{name}-%d" % n, {{"n": n}}, {{"npv_usd": float(n), "fleet": rows}})
print("done", flush=True)
"""


def _writer(url: str, name: str, count: int) -> subprocess.Popen[str]:
    code = WRITER.format(src=SRC, url=url, name=name, count=count)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_writers_and_a_killed_one_leave_every_run_whole(store_url: str) -> None:
    """Two processes save 40 runs each into one database at once while a third is killed
    with SIGKILL mid-way: 80 + k runs, each complete (no half-written row)."""
    open_store(store_url).close()  # migrate once, as a server would at start
    writers = [_writer(store_url, "one", 40), _writer(store_url, "two", 40)]
    victim = _writer(store_url, "victim", 10_000)
    time.sleep(2.0)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate()
    for writer in writers:
        out, _ = writer.communicate(timeout=300)
        assert writer.returncode == 0 and "done" in out
    store = open_store(store_url)
    # By label: on an idle machine the victim saves over 1,000 runs before it is killed,
    # more than one page of the newest runs.
    finished = store.list(search="one-", limit=1000) + store.list(search="two-", limit=1000)
    assert sorted(r.label for r in finished) == sorted(
        [f"one-{n}" for n in range(40)] + [f"two-{n}" for n in range(40)]
    )
    for summary in finished + store.list(search="victim-", limit=1000):
        record = store.get(summary.id)
        n = int(record.label.rsplit("-", 1)[1])
        assert record.status == "succeeded" and record.request == {"n": n}
        assert record.result is not None and record.result["npv_usd"] == float(n)
        assert len(record.result["fleet"]) == 200
    store.close()


def test_cli_save_list_show_diff_delete(tmp_path: Path) -> None:
    runner = CliRunner()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny()))
    db = str(tmp_path / "cli.sqlite")
    for extra in ([], ["--override", "data_only"]):
        outcome = runner.invoke(app, ["plan", str(scenario), "--save", "--db", db, "--json",
                                      *extra])
        assert outcome.exit_code == 0, outcome.output
    listed = runner.invoke(app, ["runs", "list", "--db", db, "--json"])
    ids = [r["id"] for r in json.loads(listed.stdout)["runs"]]
    assert len(ids) == 2
    shown = json.loads(runner.invoke(app, ["runs", "show", ids[0][:10], "--db", db,
                                           "--json"]).stdout)
    assert shown["resolved"]["inference"][0]["sovereignty"] == "eu_data"  # override applied
    diff = json.loads(runner.invoke(app, ["runs", "diff", ids[1], ids[0], "--db", db,
                                          "--json"]).stdout)
    assert diff["headline"]["npv_usd"]["b"] == pytest.approx(876_000.0)
    table = runner.invoke(app, ["runs", "diff", ids[1], ids[0], "--db", db])
    assert table.exit_code == 0 and "NPV USD" in table.stdout
    gone = runner.invoke(app, ["runs", "delete", ids[0], "--db", db])
    assert gone.exit_code == 0
    missing = runner.invoke(app, ["runs", "show", ids[0], "--db", db])
    assert missing.exit_code == 2 and "no run" in missing.output
    bad_url = runner.invoke(app, ["runs", "list", "--db", "mysql://x@y/z"])
    assert bad_url.exit_code == 2 and "not supported" in bad_url.output


def test_group_commit_saves_every_concurrent_run_whole(store: RunStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store.use_group_commit()
    with ThreadPoolExecutor(max_workers=25) as pool:
        ids = list(pool.map(lambda n: store.save("plan", f"g-{n}", {"n": n},
                                                  {"npv_usd": float(n)}), range(50)))
    assert len(set(ids)) == 50
    for run_id in ids:
        record = store.get(run_id)
        assert record.result == {"npv_usd": float(record.request["n"])}


def test_a_saved_plan_reads_back_as_the_same_plan(store: RunStore) -> None:
    from gpuplan.store.runs import json_ready
    from gpuplan.store.saving import plan_from_record, plan_record

    result = gpuplan.plan(tiny())
    record = store.get(store.save("plan", "tiny", {}, plan_record(result))).result
    assert record is not None
    back = plan_from_record(record)
    assert json_ready(back.to_dict()) == json_ready(result.to_dict())
    assert back.allocations.shape == result.allocations.shape


def test_a_file_that_is_not_a_database_is_named_not_a_traceback(tmp_path: Path) -> None:
    # Found by tests/test_fuzz.py: `simulate ... --save --db 1` where '1' was a text file.
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    outcome = CliRunner().invoke(app, ["runs", "list", "--db", str(text)])
    assert outcome.exit_code == 2 and "file is not a database" in outcome.output
    assert "Traceback" not in outcome.output


def test_run_values_are_stored_as_plain_json(store: RunStore) -> None:
    # What each value must become, worked out by hand: NaN and infinities null (PostgreSQL's
    # JSON has no NaN), numpy scalars and arrays numbers and lists, keys text (a tuple key
    # and an integer beyond 64 bits take the slow path), dates ISO text.
    import datetime

    import numpy as np

    result = {
        "npv_usd": np.float64(-1.5e6), "gpus": np.int64(512), "ok": np.bool_(True),
        "p50": float("nan"), "cap": [float("inf"), np.float32(0.25)],
        "fleet": np.array([[1.0, np.nan], [2.0, 3.0]]), "as_of": datetime.date(2026, 11, 30),
        7: "int key",
    }
    expected = {
        "npv_usd": -1.5e6, "gpus": 512, "ok": True, "p50": None, "cap": [None, 0.25],
        "fleet": [[1.0, None], [2.0, 3.0]], "as_of": "2026-11-30", "7": "int key",
    }
    assert store.get(store.save("plan", "json", {}, result)).result == expected
    odd = {(2027, "Q1"): np.float64(1.0), "flops": 2**70}
    assert store.get(store.save("plan", "odd", {}, odd)).result == {
        "(2027, 'Q1')": 1.0, "flops": 2**70}


def test_every_kind_of_cli_run_is_saved_with_what_it_printed(tmp_path: Path) -> None:
    runner = CliRunner()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny()))
    db = str(tmp_path / "kinds.sqlite")
    grid = "inference.chat-eu.tokens_per_day"
    commands = {
        "simulate": ["simulate", "report-runway-1", "-n", "500", "--seed", "7"],
        "sweep": ["sweep", str(scenario), "--grid", f"{grid}=5e9,10e9"],
        "estimate-training": ["estimate", "training", "--model", "llama-3.1-8b", "--tokens",
                              "15e12", "--gpu", "h100", "--gpus", "1024"],
        "estimate-inference": ["estimate", "inference", "--model", "llama-3.1-8b", "--gpu",
                               "h100", "--max-tpot-ms", "50"],
        "estimate-fleet": ["estimate", "fleet", "--model", "llama-3.1-8b", "--gpu", "h100",
                           "--tokens-per-day", "2e10"],
    }
    printed = {}
    for kind, arguments in commands.items():
        outcome = runner.invoke(app, [*arguments, "--save", "--db", db, "--json"])
        assert outcome.exit_code == 0, outcome.output
        printed[kind] = json.loads(outcome.stdout)
    store = open_store(db)
    runs = {record.kind: record for record in store.list()}
    assert set(runs) == set(commands)
    for kind in ("simulate", "estimate-training", "estimate-inference", "estimate-fleet"):
        assert runs[kind].result == printed[kind], kind
    assert runs["simulate"].seed == 7 and runs["simulate"].resolved is not None
    sweep = runs["sweep"]
    assert sweep.resolved is not None and sweep.resolved["horizon"]["periods"] == 4
    assert sweep.result is not None and sweep.result["jobs"] == 2
    # 10 GPUs per 1e9 tokens/day at $2/h for 8,760 h: 5e9 -> 876,000; 10e9 -> 1,752,000.
    assert {r[f"set:{grid}"]: r["npv_usd"] for r in sweep.result["rows"]} == pytest.approx(
        {"5e9": 876_000.0, "10e9": 1_752_000.0})
    for record in runs.values():
        assert record.gpuplan_version == gpuplan.__version__ and record.price_as_of
        assert record.wall_seconds is not None and record.wall_seconds > 0
    # A second sweep of the 5e9 point alone: its NPV P50 is 876,000; the first's is the
    # median of 876,000 and 1,752,000, i.e. 1,314,000.
    again = runner.invoke(app, ["sweep", str(scenario), "--grid", f"{grid}=5e9", "--save",
                                "--db", db])
    assert again.exit_code == 0, again.output
    second = next(r for r in store.list(kind="sweep") if r.id != sweep.id)
    change = diff_runs(sweep, second)["headline"]["npv_usd (P50)"]
    assert change["a"] == pytest.approx(1_314_000.0) and change["b"] == pytest.approx(876_000.0)
    store.close()
