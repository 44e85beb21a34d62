"""The fuzzer: generated command lines and scenario files against the bad-input contract.

Exit 0 with valid JSON (no NaN/Infinity, no negative cost) or exit 2 with one paragraph
naming the field; never a traceback, a hang or a Python warning (see ``fuzz_cases``).
A short run is part of the default tests; the long run (``-m slow``, fixed seed, thousands
of cases; ``GPUPLAN_FUZZ_CASES`` and ``GPUPLAN_FUZZ_SEED`` change how many and the seed)
prints its counts::

    python3 -m pytest -m slow tests/test_fuzz.py -s
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from fuzz_cases import (
    ScenarioCase,
    invocations,
    make_files,
    names_a_field,
    names_an_input,
    run_case,
    scenario_args,
    scenario_cases,
)

FUZZ_SETTINGS = settings(
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


@pytest.fixture(scope="session")
def fuzz_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    folder = tmp_path_factory.mktemp("fuzz")
    return folder, make_files(folder)


@pytest.fixture(autouse=True)
def _in_scratch_folder(
    fuzz_files: tuple[Path, dict[str, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outputs the fuzzer names (``-o 1e309``, ``--out x.csv``) land in its temporary folder,
    never in the checkout."""
    monkeypatch.chdir(fuzz_files[0])


def _check_scenario_case(case: ScenarioCase, folder: Path, n: int) -> str:
    """Run one scenario case; a breach or an error naming none of the changed fields fails."""
    outcome = run_case(scenario_args(case, folder, n))
    assert not outcome.breach, (outcome.kind, outcome.detail, case.changed, case.data)
    if outcome.kind == "error" and case.changed:
        assert any(names_a_field(outcome.detail, path) for path in case.changed), (
            outcome.detail,
            case.changed,
        )
    return outcome.kind


def test_short_cli_fuzz(fuzz_files: tuple[Path, dict[str, list[str]]]) -> None:
    _, files = fuzz_files

    @seed(20261201)
    @settings(FUZZ_SETTINGS, max_examples=12)
    @given(invocations(files))
    def check(args: list[str]) -> None:
        outcome = run_case(args)
        assert not outcome.breach, (outcome.kind, outcome.detail, args)
        if outcome.kind == "error":
            assert names_an_input(outcome.detail, args), (outcome.detail, args)

    check()


def test_short_scenario_fuzz(fuzz_files: tuple[Path, dict[str, list[str]]]) -> None:
    folder, _ = fuzz_files
    count = iter(range(10**9))

    @seed(20261201)
    @settings(FUZZ_SETTINGS, max_examples=12)
    @given(scenario_cases())
    def check(case: ScenarioCase) -> None:
        _check_scenario_case(case, folder, next(count))

    check()


@pytest.mark.slow
def test_long_fuzz(
    fuzz_files: tuple[Path, dict[str, list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Thousands of cases (half command lines, half scenario files) with a fixed seed; every
    breach is collected, the counts printed, and the test fails on any breach."""
    folder, files = fuzz_files
    total = int(os.environ.get("GPUPLAN_FUZZ_CASES", "2000"))
    base_seed = int(os.environ.get("GPUPLAN_FUZZ_SEED", "17"))
    counts: Counter[str] = Counter()
    breaches: list[str] = []
    unnamed: list[str] = []
    started = time.perf_counter()
    count = iter(range(10**9))

    @seed(base_seed)
    @settings(FUZZ_SETTINGS, max_examples=total // 2)
    @given(invocations(files))
    def cli(args: list[str]) -> None:
        outcome = run_case(args)
        counts[outcome.kind] += 1
        if outcome.breach:
            breaches.append(f"{outcome.kind}: {outcome.detail} <- {args}")
        elif outcome.kind == "error" and not names_an_input(outcome.detail, args):
            unnamed.append(f"{outcome.detail} <- {args}")

    @seed(base_seed)
    @settings(FUZZ_SETTINGS, max_examples=total - total // 2)
    @given(scenario_cases())
    def scenarios(case: ScenarioCase) -> None:
        outcome = run_case(scenario_args(case, folder, next(count)))
        counts[outcome.kind] += 1
        if outcome.breach:
            breaches.append(f"{outcome.kind}: {outcome.detail} <- {case.changed}")
        elif (
            outcome.kind == "error"
            and case.changed
            and not any(names_a_field(outcome.detail, path) for path in case.changed)
        ):
            unnamed.append(f"{outcome.detail} <- {case.changed}")

    cli()
    scenarios()
    cases = sum(counts.values())
    with capsys.disabled():
        print(
            f"\nfuzz (seed {base_seed}): {cases} cases in {time.perf_counter() - started:.0f} s: "
            f"{counts['ok']} exit 0, {counts['error']} exit 2 errors, {counts['usage']} option "
            f"usage errors, {counts['infeasible']} infeasible plans diagnosed; tracebacks "
            f"{counts['traceback']}, hangs {counts['hang']}, warnings {counts['warning']}, "
            f"bad JSON {counts['bad_json']}, negative costs {counts['negative_cost']}, "
            f"malformed errors {counts['bad_error']}, errors not naming the option or field "
            f"{len(unnamed)}"
        )
        for line in (breaches + unnamed)[:20]:
            print("  ", line[:400])
    assert not breaches
    assert not unnamed
