"""The fuzzer's parts: hostile inputs, invocation and scenario strategies, and the contract.

Invocations are generated from the CLI itself (every option of every command, found by
introspecting the typer app) and scenario files from the scenario JSON Schema and a tiny
scenario, with values drawn from the catalogs (valid) and from a pool of hostile values
(what a careless or hostile user types). :func:`run_case` runs one case in-process and
classifies its outcome against the bad-input contract:

* exit 0: the ``--json`` output is valid JSON, with no NaN or Infinity and no negative cost;
* exit 2: one ``Error:`` paragraph naming the field (or click's usage error naming the
  option, for options typed ``int``);
* never a traceback, a hang (a case over :data:`HANG_SECONDS`) or a Python warning.
"""

from __future__ import annotations

import copy
import json
import math
import re
import signal
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from typer.testing import CliRunner

from test_bad_input import SMALL

HANG_SECONDS = 60
"""A case running longer than this counts as a hang."""

TINY_SCENARIO: dict[str, Any] = copy.deepcopy(SMALL) | {
    "name": "tiny",
    "supply": {"ownership": [{"site": "paris", "country": "FR", "gpu": "h100-sxm"}]},
    "company": {
        "name": "Lab",
        "start": "2026-01",
        "horizon_months": 12,
        "opening_cash": 1.0e8,
        "operating": {"rd_operations_per_year": 1.0e7},
        "revenue": {"api": [{"name": "api", "tokens_per_day": 1.0e9, "price_per_million": 2.0}]},
    },
}
"""A scenario that plans in well under a second and simulates in milliseconds."""

HOSTILE_TEXT = [
    "", " ", "-1", "0", "-0", "-0.5", "0.5", "1", "1.5", "3", "70", "1_", "1__0", "_1",
    "1e308", "-1e308", "1.797e308", "1e309", "1e-320", "5e-324", "nan", "NaN", "inf", "-inf",
    "1e30", "1e31", "15T", "1.5B", "99999999999999999999999", "0x10", "1,5", "1e5k", "abc",
    "Fq", "France", "ZZ", "EU", "fr", "a" * 300, "é", "../", "/", ".", "/dev/null",
    "/dev/full", "h100", "h999", "mixtral-8x7b", "bf16", "fp4", "int3", "\t", "--json",
    "1" + "0" * 400,
]  # fmt: skip
"""What a careless or hostile user types into any option."""

HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2, 0.5, -0.5, 70, 1e308, -1e308, 5e-324, 1e30, 1e31, 1e-30,
    math.nan, math.inf, -math.inf, "", "abc", "a" * 300, "15T", "2026-Q1", "9999-Q4",
    "0001-01", "2026-13", "h100-sxm", "FR", "Fq", "EU", [], [1], ["h100-sxm"], ["h999"], {},
    {"a": 1}, date(2026, 1, 1), date(9999, 12, 1),
    {"low": 1e-300, "high": 1e300, "shape": "lognormal"},
    {"low": 1e-20, "high": 1e20, "shape": "lognormal"},
    {"low": 2, "high": 1, "shape": "uniform"},
    {"low": 0, "high": 1, "shape": "pert", "mode": 0.2},
    {"low": 0.1, "high": 0.9, "shape": "triangular"},
    {"range": [1, 2], "shape": "uniform"},
    {"low": 1, "high": 2, "shape": "gaussian"},
    10**400, -(10**400), {"annual_growth": 1e30}, {"annual_growth": -1},
]  # fmt: skip
"""What a careless or hostile user writes as a scenario value."""


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


HOSTILE_VALUES.append(_deep(200))


# ---- files the options and arguments may name ------------------------------------------------


def make_files(folder: Path) -> dict[str, list[str]]:
    """Files (good and bad) in ``folder``, by the kind of option that reads them."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, content: str | bytes) -> str:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    config = {
        "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
    }  # fmt: skip
    offers_header = (
        "provider,provider_hq_jurisdiction,instance_type,region,country,region_group,gpu,"
        "gpus_per_instance,pricing_model,price_per_gpu_hour,currency,as_of,source\n"
    )
    offer = "Lambda,US,gpu_8x_h100,us-east-1,US,US,h100-sxm,8,on_demand,2.5,USD,2025-06-01,t\n"
    vms = (
        "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region\n"
        "p5.48xlarge,H100,8,98.32,,us-east-1\n"
    )
    common = [
        write("binary.bin", b"\xff\xfe\x00garbage"),
        write("empty.txt", ""),
        str(folder),
        str(folder / "missing.yaml"),
        str(folder / ("n" * 300)),
    ]
    scenario = copy.deepcopy(TINY_SCENARIO)
    company_only = {"company": scenario["company"]}
    ranged = copy.deepcopy(TINY_SCENARIO)
    ranged["inference"][0]["tokens_per_day"] = {"low": 5e8, "high": 2e9, "shape": "uniform"}
    return {
        "scenario": [
            write("tiny.yaml", yaml.safe_dump(scenario)),
            write("company.yaml", yaml.safe_dump(company_only)),
            write("ranged.yaml", yaml.safe_dump(ranged)),
            write("deep.yaml", "a: " + "[" * 300 + "]" * 300 + "\n"),
            write("bomb.yaml", _yaml_bomb()),
            write("loop.yaml", "extends: ./sub/../loop.yaml\nname: x\n"),
            *common,
        ],
        "config": [
            write("config.json", json.dumps(config)),
            write("deep.json", "[" * 100_000 + "]" * 100_000),
            write("nan.json", json.dumps(config).replace("4096", "NaN")),
            write("huge.json", json.dumps(config | {"hidden_size": 1e308})),
            write("bigint.json", json.dumps(config | {"num_hidden_layers": 10**400})),
            *common,
        ],
        "csv": [
            write("offers.csv", offers_header + offer),
            write("bigcell.csv", offers_header + "x" * 200_000 + offer[6:]),
            write("vms.csv", vms),
            write("nul.csv", offers_header + offer.replace("t\n", "\x00\n")),
            *common,
        ],
        "output": [str(folder / "out.csv"), "/dev/full", str(folder), *common[3:]],
    }


def _yaml_bomb() -> str:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for n in range(1, 9):
        previous = chr(ord("a") + n - 1)
        name = chr(ord("a") + n)
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 10)}]")
    return "\n".join(lines) + "\nname: bomb\n"


# ---- invocations generated from the CLI ------------------------------------------------------

FUZZED_COMMANDS = (
    "plan", "simulate", "compare", "tco", "catalog offers", "catalog audit",
    "catalog import-skypilot", "catalog gpus", "catalog models", "estimate training",
    "estimate implied", "estimate inference", "estimate fleet", "estimate portfolio",
    "search deployments",
)  # fmt: skip
"""Commands the fuzzer drives (others start servers, write reports or take no input)."""


@dataclass(frozen=True)
class Param:
    name: str
    flag: str | None  # None for an argument
    is_flag: bool
    required: bool
    multiple: bool


def cli_commands() -> dict[str, list[Param]]:
    """Every fuzzed command with its parameters, read from the typer app."""
    import typer.main

    from gpuplan.cli import app

    found: dict[str, list[Param]] = {}

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        key = " ".join(path)
        if key in FUZZED_COMMANDS:
            found[key] = [
                Param(
                    p.name,
                    max(p.opts, key=len) if p.opts[0].startswith("-") else None,
                    bool(getattr(p, "is_flag", False)),
                    bool(p.required),
                    bool(p.multiple),
                )
                for p in command.params
            ]

    walk(typer.main.get_command(app), [])
    return found


def _vocabulary() -> dict[str, list[str]]:
    from gpuplan.catalog.gpus import list_gpus
    from gpuplan.catalog.models import list_models
    from gpuplan.catalog.offers import load_offers
    from gpuplan.presets import ARCHETYPES

    offers = load_offers()
    return {
        "gpu": [g.id for g in list_gpus()][:12],
        "model": [m.id for m in list_models()][:10],
        "country": ["FR", "DE", "US", "GB", "EU", "uk", "IE"],
        "provider": [*sorted({o.provider for o in offers})[:6], "aws", "gcp"],
        "pricing": ["on_demand", "spot", "reserved_1y", "capacity_block"],
        "region_group": ["EU", "US", "APAC"],
        "jurisdiction": ["US", "EU"],
        "precision": ["bf16", "fp8", "fp4"],
        "presets": list(ARCHETYPES),
        "number": ["1", "8", "1000", "250", "0.8", "3", "15T", "1.2M", "1e9", "2.5", "1024"],
    }


_FILE_PARAMS = {
    "scenario": "scenario", "presets": "scenario", "user_csv": "csv", "vms_csv": "csv",
    "output": "output", "report": "output",
}  # fmt: skip
_WORD_PARAMS = {"gpu", "gpus", "model", "country", "provider", "pricing", "region_group",
                "jurisdiction", "precision", "precisions", "kv_precision"}  # fmt: skip


def _values_for(
    param: Param, files: dict[str, list[str]], words: dict[str, list[str]]
) -> list[str]:
    if param.name == "report":  # only the fuzzer's own output paths: never a file in cwd
        return files["output"][:3]
    if param.name in _FILE_PARAMS:
        good = files[_FILE_PARAMS[param.name]]
        return good + (words["presets"] if param.name == "presets" else [])
    if param.name == "model":
        return words["model"] + files["config"]
    if param.name in {"gpus", "precisions"} and param.multiple:
        return words["gpu" if param.name == "gpus" else "precision"]
    if param.name in {"samples"}:
        return ["1", "20", "100"]
    if param.name in {"sobol_samples"}:
        return ["4", "16", "64", "3"]
    if param.name == "prices":
        return ["h100-sxm=2", "h100=-2", "h999=1", "=", "h100=nan"]
    if param.name == "override":
        return ["nosuch"]
    if param.name in {"futures", "out_of_sample"}:
        return ["0", "2", "3"]
    if param.name == "decision_point":
        return ["2026-Q2", "2026-07", "2020-01"]
    if param.name == "risk":
        return ["cvar:0.9:0.5", "cvar:2:1", "cvar"]
    for key in ("gpu", "country", "provider", "pricing", "region_group", "jurisdiction"):
        if param.name == key:
            return words[key]
    if param.name in {"precision", "kv_precision"}:
        return words["precision"]
    return words["number"]


@st.composite
def invocations(draw: st.DrawFn, files: dict[str, list[str]]) -> list[str]:
    """One command line: a fuzzed command, its required parameters and some optional ones,
    each with a valid value (70 %) or a hostile one."""
    commands = _commands()
    words = _words()
    name = draw(st.sampled_from(sorted(commands)))
    args = name.split()
    for param in commands[name]:
        if param.name == "as_json":
            if draw(st.integers(0, 9)) < 7:
                args.append("--json")
            continue
        if param.is_flag:
            if draw(st.booleans()):
                args.append(param.flag or "")
            continue
        small_only = name in {"plan", "simulate"} and param.name == "scenario"
        if not param.required and not small_only and not draw(st.booleans()):
            continue
        valid = _values_for(param, files, words)
        if small_only:
            valid = files["scenario"]  # never a full-size preset (the default): no big plans
        value = draw(
            st.one_of(
                st.sampled_from(valid),
                st.sampled_from(HOSTILE_TEXT),
                st.text(min_size=0, max_size=12),
            )
            if draw(st.integers(0, 9)) >= 7
            else st.sampled_from(valid)
        )
        value = value.replace("\x00", "")
        args.extend([value] if param.flag is None else [param.flag, value])
    return args


_CACHE: dict[str, Any] = {}


def _commands() -> dict[str, list[Param]]:
    if "commands" not in _CACHE:
        _CACHE["commands"] = cli_commands()
    return dict(_CACHE["commands"])


def _words() -> dict[str, list[str]]:
    if "words" not in _CACHE:
        _CACHE["words"] = _vocabulary()
    return dict(_CACHE["words"])


# ---- scenario mutations generated from the schema ------------------------------------------


def schema_fields() -> list[tuple[str, ...]]:
    """Paths of every field of the scenario schema reachable from the tiny scenario
    (``('inference', 0, 'peak_factor')``, ``('company', 'revenue', 'api', 0, 'price_per_m')``)."""
    from gpuplan.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    definitions = schema.get("$defs", {})
    paths: list[tuple[str, ...]] = []

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = definitions[node["$ref"].split("/")[-1]]
        for key in ("anyOf", "oneOf"):
            for option in node.get(key, []):
                found = resolve(option)
                if "properties" in found or found.get("type") == "array":
                    return found
        return node

    def visit(node: dict[str, Any], path: tuple[Any, ...], depth: int) -> None:
        node = resolve(node)
        if depth > 6:
            return
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            visit(node["items"], (*path, 0), depth + 1)
            return
        for name, sub in node.get("properties", {}).items():
            paths.append((*path, name))
            visit(sub, (*path, name), depth + 1)

    visit(schema, (), 0)
    return [p for p in paths if p[0] != "overrides"]


def _set(data: Any, path: tuple[Any, ...], value: Any) -> bool:
    """Set ``path`` in ``data`` (missing mappings and one-item lists are created)."""
    node = data
    for depth, part in enumerate(path[:-1]):
        following = path[depth + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or not node:
                return False
            node = node[min(part, len(node) - 1)]
            continue
        if not isinstance(node, dict):
            return False
        if part not in node or node[part] is None:
            node[part] = [{}] if isinstance(following, int) else {}
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or not node:
            return False
        node[min(last, len(node) - 1)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        return False
    return True


@dataclass(frozen=True)
class ScenarioCase:
    """A mutated scenario, the fields it changed, and the command that reads it."""

    data: dict[str, Any]
    changed: tuple[tuple[Any, ...], ...]
    command: str


@st.composite
def scenario_cases(draw: st.DrawFn) -> ScenarioCase:
    """The tiny scenario with one to three fields of the schema set to hostile values,
    deleted, or joined by an unknown field; read by plan, simulate or compare."""
    if "fields" not in _CACHE:
        _CACHE["fields"] = schema_fields()
    fields: list[tuple[Any, ...]] = _CACHE["fields"]
    data = copy.deepcopy(TINY_SCENARIO)
    changed = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(fields))
        action = draw(st.sampled_from(["set", "set", "set", "delete", "unknown", "repeat"]))
        if action == "repeat" and 0 in path:  # the same list item twice
            items = data
            for part in path[: path.index(0)]:
                items = items.get(part) if isinstance(items, dict) else None
            if isinstance(items, list) and items:
                items.append(copy.deepcopy(items[0]))
                changed.append(path[: path.index(0)])
            continue
        if action == "repeat":
            continue
        if action == "delete":
            parent = data
            ok = True
            for part in path[:-1]:
                try:
                    parent = parent[part]
                except (KeyError, IndexError, TypeError):
                    ok = False
                    break
            if ok and isinstance(parent, dict) and path[-1] in parent:
                del parent[path[-1]]
                changed.append(path)
            continue
        if action == "unknown":
            path = (*path[:-1], path[-1] + "_typo")
        value = draw(
            st.one_of(
                st.sampled_from(HOSTILE_VALUES),
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(min_value=-(2**70), max_value=2**70),
                st.text(max_size=8),
            )
        )
        trial = copy.deepcopy(data)
        if _set(trial, path, copy.deepcopy(value)):
            data = trial
            changed.append(path)
    if draw(st.integers(0, 9)) == 0:  # every number at one extreme, the longest company
        extreme = draw(st.sampled_from([1e30, -1e30, 1e-30, 0.0, 1.0]))
        changed.extend(_set_every_number(data, extreme))
        if isinstance(data.get("company"), dict):
            data["company"]["horizon_months"] = 600
    command = draw(st.sampled_from(["plan", "simulate", "compare"]))
    return ScenarioCase(data, tuple(changed), command)


def _set_every_number(data: Any, value: float, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Replace every number in ``data`` by ``value`` (not booleans, not horizon sizes)."""
    changed = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, item in list(items):
        here = (*path, key)
        if isinstance(item, dict | list):
            changed.extend(_set_every_number(item, value, here))
        elif (
            isinstance(item, int | float)
            and not isinstance(item, bool)
            and key not in {"periods", "horizon_months"}
        ):
            data[key] = value
            changed.append(here)
    return changed


def scenario_args(case: ScenarioCase, folder: Path, n: int) -> list[str]:
    """Write the case's file and return the command line that reads it."""
    path = folder / f"case{n % 8}.yaml"
    path.write_text(yaml.safe_dump(case.data, allow_unicode=True), encoding="utf-8")
    extra = {"plan": ["--json", "--no-baselines"], "simulate": ["-n", "20", "--json"]}
    return [case.command, str(path), *extra.get(case.command, ["--json"])]


# ---- the contract ------------------------------------------------------------------------------


class Hang(Exception):
    """A case ran past HANG_SECONDS."""


@dataclass
class Outcome:
    """What one case did: ``kind`` is ok, error, usage (click's option error), infeasible (a
    plan's diagnosis) or a breach: traceback, hang, warning, bad_json, negative_cost,
    bad_error."""

    kind: str
    args: list[str]
    detail: str = ""

    @property
    def breach(self) -> bool:
        return self.kind not in {"ok", "error", "usage", "infeasible"}


def _alarm(signum: int, frame: Any) -> None:
    raise Hang(f"no answer within {HANG_SECONDS} s")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in JSON output")


def negative_costs(payload: Any, key: str = "") -> Iterator[str]:
    """Keys of cost figures below zero (a residual-value credit is not a cost)."""
    if isinstance(payload, dict):
        for k, v in payload.items():
            yield from negative_costs(v, str(k))
    elif isinstance(payload, list):
        for v in payload:
            yield from negative_costs(v, key)
    elif (
        isinstance(payload, int | float)
        and not isinstance(payload, bool)
        and payload < 0
        and re.search(r"(^|_)cost", key)
        and "residual" not in key
    ):
        yield f"{key}={payload}"


def run_case(args: list[str]) -> Outcome:
    """Run one command line in-process and classify it against the contract."""
    from gpuplan.cli import app

    runner = CliRunner()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = runner.invoke(app, args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    error = result.exception
    if isinstance(error, Hang):
        return Outcome("hang", args, str(error))
    if error is not None and not isinstance(error, SystemExit):
        return Outcome("traceback", args, f"{type(error).__name__}: {error}")
    relevant = [w for w in caught if not issubclass(w.category, ResourceWarning)]
    if relevant:
        return Outcome("warning", args, f"{relevant[0].category.__name__}: {relevant[0].message}")
    if result.exit_code == 0:
        if "--json" in args:
            try:
                payload = json.loads(result.stdout, parse_constant=_no_constant)
            except ValueError as problem:
                return Outcome("bad_json", args, str(problem)[:200])
            negative = list(negative_costs(payload))
            if negative:
                return Outcome("negative_cost", args, ", ".join(negative[:3]))
        return Outcome("ok", args)
    if result.exit_code == 2:
        text = result.output
        if "Usage:" in text and re.search(r"Invalid value for|No such option|Missing", text):
            return Outcome("usage", args, text.strip().splitlines()[-2])  # click's own error
        if "--json" in args and result.stdout.startswith("{"):  # plan --json, infeasible
            try:
                payload = json.loads(result.stdout, parse_constant=_no_constant)
            except ValueError as problem:
                return Outcome("bad_json", args, str(problem)[:200])
            if payload.get("status") != "infeasible" or not payload.get("diagnosis"):
                return Outcome("bad_error", args, "exit 2 with JSON that is no diagnosis")
            return Outcome("infeasible", args, payload["diagnosis"][0])
        message = result.stderr
        if not message.startswith("Error: ") or "\n\n" in message.strip() or "Traceback" in text:
            return Outcome("bad_error", args, text[:300])
        return Outcome("error", args, message.strip())
    return Outcome("bad_error", args, f"exit {result.exit_code}: {result.output[:300]}")


def names_an_input(message: str, args: list[str]) -> bool:
    """Whether an error of a command line names one of the command's options or arguments
    (given or missing), or quotes a value or file name that was given."""
    command = " ".join(a for a in args[:2] if a in " ".join(FUZZED_COMMANDS).split())
    names: set[str] = set()
    for param in _commands().get(command, []):
        if param.name == "presets":
            names.add("scenario")  # compare's arguments are scenario files or presets
        names |= {param.name, param.name.replace("_", "-"), param.name.replace("_", " ")}
        names.add(param.name.removesuffix("s"))
        if param.flag:
            names.add(param.flag.lstrip("-").replace("-", "_"))
    for arg in args[len(command.split()) :]:
        if len(arg.strip()) > 1 and not arg.startswith("--"):
            names |= {arg.strip(), Path(arg.strip()).name}
    text = message.lower()
    return any(name.lower() in text for name in names if len(name) > 1)


def names_a_field(message: str, path: tuple[Any, ...]) -> bool:
    """Whether an error message names the changed field, its parent (the last two names of
    the path: ``tokens_per_day`` or ``low`` for ``inference.0.tokens_per_day.low``) or the
    list item holding it (``supply.offers.0`` / ``company.people[0]``, for a new item)."""
    if re.search(r"\.yaml: .*\(line \d+\)", message):  # a syntax-level problem, by line
        return True
    names = [part for part in path if isinstance(part, str)]
    items = [
        text
        for end, part in enumerate(path)
        if isinstance(part, int)
        for text in (
            ".".join(map(str, path[: end + 1])),
            ".".join(map(str, path[:end])) + f"[{part}]",
        )
    ]
    return any(name in message for name in [*names[-2:], *items])
