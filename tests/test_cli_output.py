"""The CLI that talks: number forms in and out, tables that fit, --version, presets, init,
schema --markdown, the report command, and Monte Carlo progress events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gpuplan import __version__, humanize
from gpuplan.cli import app
from gpuplan.cli.common import fit_columns, format_cell, parse_number, print_table
from gpuplan.errors import InputError
from gpuplan.presets import company_from_mapping
from gpuplan.scenario.loading import load_scenario
from gpuplan.uncertainty.montecarlo import simulate

runner = CliRunner()


@pytest.fixture(autouse=True)
def _hundred_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped output is as wide as ``$COLUMNS``: pin it, whatever the developer's terminal."""
    monkeypatch.setenv("COLUMNS", "100")


def test_number_forms_parse_like_the_cli() -> None:
    assert humanize.parse("15T") == 15e12
    assert humanize.parse("2.5M") == 2.5e6
    assert humanize.parse("60%") == pytest.approx(0.6)
    assert humanize.parse("\u22122.3B") == -2.3e9
    assert humanize.parse("15_000") == 15_000
    with pytest.raises(ValueError):
        humanize.parse("2,5")


def test_error_examples_fit_the_option() -> None:
    with pytest.raises(InputError, match=r"0\.6 or 60%"):
        parse_number("sixty", "utilisation")
    with pytest.raises(InputError, match="15T"):
        parse_number("lots", "tokens")
    assert parse_number("60%", "utilisation") == pytest.approx(0.6)


def test_tco_takes_a_percentage() -> None:
    """`--utilisation 60%` is 0.6: the same result as `--utilisation 0.6`."""
    args = ["tco", "--gpu", "h100-sxm", "--country", "FR", "--json", "--utilisation"]
    percent = json.loads(runner.invoke(app, [*args, "60%"]).stdout)
    fraction = json.loads(runner.invoke(app, [*args, "0.6"]).stdout)
    assert percent["ownership"]["utilisation"] == 0.6
    assert percent == fraction
    bad = runner.invoke(app, [*args, "most"])
    assert bad.exit_code == 2 and "0.6 or 60%" in bad.output


def test_cells_read_the_way_people_write_numbers() -> None:
    assert format_cell(7_086_338_675_175) == "7.09T"
    assert format_cell(1_655_699) == "1.66M"
    assert format_cell(1.5e13) == "15T"
    assert format_cell(-0.004) == "\u22120.004"
    assert format_cell(2048) == "2,048"
    assert format_cell(8.29e22) == "8.29e22"


def test_narrow_tables_keep_key_columns_and_name_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Six 15-character columns need 6 x 18 + 1 = 109 characters: at 100 (piped) the last
    one is dropped and named; the first two always stay; at 120 all fit as they are."""
    columns = [f"column {c}" for c in "abcdef"]
    rows = [["x" * 15] * 6]
    assert fit_columns(columns, rows, 100) == dict.fromkeys(range(5), 15)
    assert fit_columns(columns, rows, 10) == {0: 15, 1: 15}
    assert fit_columns(columns, rows, 120) == dict.fromkeys(range(6))
    print_table("wide", columns, [["on_demand", *[1.5e13] * 5]])
    out = capsys.readouterr().out
    assert "On demand" in out and "15T" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_version_and_presets() -> None:
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"gpuplan {__version__}"
    listed = json.loads(runner.invoke(app, ["presets", "--json"]).stdout)["presets"]
    lab = next(p for p in listed if p["name"] == "european-lab")
    assert "cloud_only" in lab["overrides"] and lab["plans"] and not lab["simulates"]
    mistral = next(p for p in listed if p["name"] == "mistral")
    assert mistral["extends"] == "european-lab" and mistral["simulates"]
    assert all(p["description"] for p in listed)


def test_init_writes_a_valid_commented_starter(tmp_path: Path) -> None:
    target = tmp_path / "lab.yaml"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text.startswith("#") and "60%" in text and "4T" in text
    scenario = load_scenario(target)
    assert scenario.inference[0].tokens_per_day == 5e9
    assert scenario.inference[0].growth.annual_growth == pytest.approx(0.6)  # type: ignore[union-attr]
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 2 and "--force" in again.output
    copy = tmp_path / "mistral.yaml"
    assert runner.invoke(app, ["init", "--from", "mistral", str(copy)]).exit_code == 0
    assert yaml.safe_load(copy.read_text(encoding="utf-8"))["name"] == "mistral"


def test_yaml_accepts_cli_number_forms() -> None:
    """`15T`, `2.5M` and `60%` in a scenario mean 1.5e13, 2.5e6 and 0.6, inside ranges too."""
    company = company_from_mapping(
        {
            "name": "Forms",
            "start": "2026-01",
            "horizon_months": 12,
            "opening_cash": "2.5M",
            "operating": {
                "rd_operations_per_year": {"low": "1M", "high": "1.2M", "shape": "uniform"}
            },
        }
    )
    assert company.opening_cash == 2.5e6
    assert company.operating.rd_operations_per_year.high == 1.2e6  # type: ignore[union-attr]


def test_schema_markdown_is_a_field_reference() -> None:
    text = runner.invoke(app, ["schema", "--markdown"]).stdout
    assert "### TrainingRun" in text
    assert "| `tokens` | number or range | required | Training tokens. |" in text
    assert "60%" in text


def test_monte_carlo_reports_progress() -> None:
    events: list[tuple[str, float | None]] = []
    spec = company_from_mapping(
        {
            "name": "P",
            "start": "2026-01",
            "horizon_months": 12,
            "opening_cash": {"low": 1e6, "high": 2e6, "shape": "uniform"},
        }
    )
    simulate(spec, samples=10_000, progress=lambda phase, f: events.append((phase, f)))
    fractions = [f for _, f in events if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert events[-1][0] == "10K of 10K samples"


@pytest.mark.slow
def test_report_command_writes_all_three(tmp_path: Path) -> None:
    from report_scenario import report_scenario

    scenario = tmp_path / "lab.yaml"
    scenario.write_text(yaml.safe_dump(report_scenario()), encoding="utf-8")
    html, book, folder = tmp_path / "r.html", tmp_path / "r.xlsx", tmp_path / "csv"
    args = ["report", str(scenario), "-o", str(html), "--xlsx", str(book), "--csv", str(folder)]
    result = runner.invoke(app, [*args, "-n", "500"])
    assert result.exit_code == 0, result.output
    assert html.stat().st_size > 1e6 and book.is_file() and (folder / "fleet.csv").is_file()
    bad = runner.invoke(app, ["report", str(scenario), "-o", str(tmp_path / "no/dir/r.html")])
    assert bad.exit_code == 2 and "does not exist" in bad.output


@pytest.mark.slow
def test_plan_and_simulate_write_a_report(tmp_path: Path) -> None:
    from report_scenario import report_scenario

    scenario = tmp_path / "lab.yaml"
    scenario.write_text(yaml.safe_dump(report_scenario()), encoding="utf-8")
    planned = runner.invoke(app, ["plan", str(scenario), "--report", str(tmp_path / "p.html")])
    assert planned.exit_code == 0, planned.output
    text = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert 'id="plan"' in text and 'id="finance"' not in text
    simulated = runner.invoke(
        app, ["simulate", str(scenario), "-n", "300", "--report", str(tmp_path / "s.html")]
    )
    assert simulated.exit_code == 0, simulated.output
    text = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert 'id="finance"' in text and 'id="plan"' not in text and "300 samples" in text


def _docs_example() -> dict:
    """The worked example of docs/scenarios.md, as written there."""
    import re

    text = (Path(__file__).parent.parent / "docs" / "scenarios.md").read_text(encoding="utf-8")
    block = re.search(r"## A complete worked example.*?```yaml\n(.*?)```", text, re.S)
    assert block, "docs/scenarios.md lost its worked example"
    return yaml.safe_load(block.group(1))


def test_docs_worked_example_is_a_valid_scenario() -> None:
    """The example loads as written (15T-style numbers, 60% growth) and so does each of its
    named overrides."""
    data = _docs_example()
    scenario = load_scenario(data)
    assert scenario.inference[0].tokens_per_day == 5e9
    assert scenario.horizon.discount_rate == pytest.approx(0.10)
    assert not load_scenario(data, ["cloud_only"]).supply.ownership
    fast = load_scenario(data, ["fast_growth"]).inference[0].growth
    assert fast.annual_growth == pytest.approx(1.2)  # type: ignore[union-attr]


@pytest.mark.slow
def test_docs_worked_example_plans_no_dearer_than_its_baselines() -> None:
    """The example plans to an optimum; each baseline is the same problem with fewer options,
    so none may be cheaper (the docs quote the savings against them)."""
    from gpuplan.planning.api import plan

    result = plan(_docs_example())
    assert result.status == "optimal"
    feasible = result.baselines[result.baselines.status == "optimal"]
    assert len(feasible) >= 3
    assert (feasible.npv_usd >= result.npv_usd * (1 - 1e-6)).all()


def test_uncertain_values_in_mappings_take_number_forms() -> None:
    """`gpu_hours: {h100-sxm: 200K}` and a per-GPU range written `8`..`1.2K` read as numbers,
    as on the command line."""
    from report_scenario import report_scenario

    data = report_scenario()
    data["training"][0]["gpu_hours"] = {"h100-sxm": "200K"}
    data["inference"][0]["gpus_per_billion_tokens_per_day"] = {
        "h100-sxm": {"low": "8", "high": "1.2K", "shape": "uniform"}
    }
    scenario = load_scenario(data)
    assert scenario.training[0].gpu_hours == {"h100-sxm": 2e5}
    per_gpu = scenario.inference[0].gpus_per_billion_tokens_per_day["h100-sxm"]  # type: ignore[index]
    assert (per_gpu.low, per_gpu.high) == (8.0, 1200.0)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "example"),
    [
        (["tco", "--gpu", "h100-sxm", "--country", "FR", "--utilisation", "most"], "60%"),
        (["tco", "--gpu", "h100-sxm", "--country", "FR", "--years", "five"], "5 or 2.5"),
        (["estimate", "training", "--params", "big", "--tokens", "1T", "--gpu", "h100"], "7B"),
        (["estimate", "training", "--model", "mistral-7b", "--tokens", "lots", "--gpu", "h100"],
         "15T"),
        (["estimate", "fleet", "--model", "mistral-7b", "--gpu", "h100", "--tokens-per-day",
          "many"], "10B"),
        (["estimate", "inference", "--model", "mistral-7b", "--gpu", "h100", "--max-tpot-ms",
          "fast"], "200 (milliseconds)"),
        (["simulate", "mistral", "-n", "many"], "1024 or 1K"),
    ],
)  # fmt: skip
def test_each_options_error_example_fits_it(args: list[str], example: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert example in result.output and "Traceback" not in result.output


RAW_NUMBER_FORMS = (
    r"\de\+\d",  # 1.5e+13
    r"(?<![\d.])\d{7,}(?![\d.])",  # 4632106
    r"\d{1,3}(?:,\d{3}){2,}",  # 4,632,106
    r"\$-",  # $-2.3B
)


def _raw_numbers(text: str) -> list[str]:
    import re

    return [m.group(0) for form in RAW_NUMBER_FORMS for m in re.finditer(form, text)]


@pytest.mark.parametrize(
    "args",
    [
        ["catalog", "gpus"],
        ["catalog", "models"],
        ["estimate", "training", "--model", "llama-3.1-405b", "--tokens", "15T", "--gpu", "h100"],
        ["estimate", "inference", "--model", "mistral-7b", "--gpu", "h100-sxm"],
        ["estimate", "fleet", "--model", "mistral-7b", "--gpu", "h100", "--tokens-per-day", "1T"],
        ["estimate", "implied", "--gpu", "a100-80gb", "--gpu-hours", "4.6M", "--model",
         "mistral-7b"],
        ["tco", "--gpu", "h100-sxm", "--country", "FR"],
        ["check-report"],
    ],
)  # fmt: skip
def test_commands_print_numbers_the_way_people_read_them(args: list[str]) -> None:
    """No `1.5e+13`, `4632106`, `4,632,106` or `$-2.3B` in any table or note, and tables
    stay within the piped width."""
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _raw_numbers(result.stdout) == []
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_infeasible_plan_diagnosis_reads_like_the_tables(tmp_path: Path) -> None:
    """A training run of 4.63M GPU-hours on at most 512 rented GPUs: the diagnosis says
    `4.63M h100-sxm GPU-hours` and `512 GPUs`, wrapped to the output width."""
    from report_scenario import report_scenario

    data = report_scenario()
    data["training"][0] |= {"gpu_hours": {"h100-sxm": 4_632_106}, "min_cluster_gpus": 2048}
    data["supply"]["ownership"] = []
    data["supply"]["offers"] = [o | {"availability_gpus": 512} for o in data["supply"]["offers"]]
    data.pop("company")
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["plan", str(path), "--no-baselines"])
    assert result.exit_code == 2
    assert "4.63M h100-sxm GPU-hours" in " ".join(result.output.split())
    assert _raw_numbers(result.output) == []


def test_field_tables_read_each_row_by_its_key(capsys: pytest.CaptureFixture[str]) -> None:
    """`cost_per_day_usd` 194 -> `Cost per day` `$194`; `utilisation` 0.747 -> `75%`;
    `ttft_p99_ms` stays a number under a title-case label with its acronym."""
    print_table(
        "fields",
        ["quantity", "value"],
        [["cost_per_day_usd", 194.0], ["utilisation", 0.747], ["ttft_p99_ms", 326.4]],
    )
    lines = capsys.readouterr().out.splitlines()
    assert any("Cost per day " in x and "$194" in x for x in lines)
    assert any("Utilisation" in x and "75%" in x for x in lines)
    assert any("TTFT P99 ms" in x and "326" in x for x in lines)


def test_usd_columns_read_as_money_once_in_any_currency() -> None:
    """`tco`'s USD columns print `$2.37`; under `--currency EUR` the same cell is the USD
    figure divided by the dated rate (converted once, not twice), with a euro sign."""
    args = ["tco", "--gpu", "h100-sxm", "--country", "FR"]
    usd = runner.invoke(app, args)
    eur = runner.invoke(app, ["--currency", "EUR", *args])
    rate = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    total = rate["ownership"]["cost_per_gpu_hour"]
    assert usd.exit_code == 0 and eur.exit_code == 0, usd.output + eur.output
    assert humanize.money(total, "$") in usd.stdout
    from gpuplan.currency import display_currency, from_usd

    with display_currency("EUR"):
        in_euros, twice = from_usd(total), from_usd(from_usd(total))
    assert humanize.money(in_euros, "\u20ac") in eur.stdout
    assert humanize.money(twice, "\u20ac") not in eur.stdout


def test_narrow_tables_keep_figures_before_text() -> None:
    """At 60 characters a table of (label, note, region, price) drops text before the price:
    the key columns, then figures, then text while it fits."""
    columns = ["offer", "note", "region", "USD/GPU-h"]
    rows = [["a" * 10, "b" * 20, "c" * 20, "$2.50"]]
    assert list(fit_columns(columns, rows, 60, figures={3})) == [0, 1, 3]
    assert list(fit_columns(columns, rows, 60)) == [0, 1, 2]
