"""``gpuplan presets`` and ``gpuplan init``: discover the shipped scenarios, start your own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpuplan.cli import app
from gpuplan.cli.common import JSON, handle_errors, print_json, print_table


def preset_summary(name: str) -> dict[str, Any]:
    """A preset's one-line description (its ``description``, else its opening comment), what
    it extends and its named overrides."""
    import yaml

    from gpuplan.presets import read_scenario, resolve_scenario_path

    path = resolve_scenario_path(name)
    text = path.read_text(encoding="utf-8")
    data = read_scenario(path)
    own = yaml.safe_load(text) or {}
    described = " ".join(str(own.get("description") or "").split())
    if not described:
        comments = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            comments.append(line.lstrip("# ").strip())
        described = " ".join(comments)
    sentence = described.split(". ")[0].rstrip(".") + "." if described else ""
    return {
        "name": name,
        "description": sentence,
        "extends": own.get("extends"),
        "plans": bool(data.get("inference") or data.get("training")),
        "simulates": bool(data.get("company")),
        "overrides": sorted((data.get("overrides") or {}).keys()),
    }


@app.command("presets")
@handle_errors
def presets_command(
    as_json: bool = JSON,
) -> None:
    """List the shipped scenarios: what each is, what it extends, its named overrides."""
    from gpuplan.presets import list_presets

    rows = [preset_summary(name) for name in list_presets()]
    if as_json:
        print_json({"presets": rows})
        return
    print_table(
        "Presets (use the name wherever a scenario file goes; --override NAME applies one)",
        ["preset", "description", "overrides", "plan / simulate"],
        [
            [
                r["name"],
                str(r["description"]) + (f" Extends {r['extends']}." if r["extends"] else ""),
                ", ".join(r["overrides"]) or "-",
                " / ".join(k for k in ("plan", "simulate") if r[f"{k}s"]),
            ]
            for r in rows
        ],
    )


@app.command("init")
@handle_errors
def init_command(
    file: Path = typer.Argument(..., help="Scenario file to write, e.g. my-lab.yaml."),
    from_preset: str | None = typer.Option(
        None, "--from", help="Start from this preset's file (see `gpuplan presets`)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter scenario (or a copy of a preset) to edit."""
    from importlib import resources

    from gpuplan.errors import InputError
    from gpuplan.presets import resolve_scenario_path

    if file.exists() and not force:
        raise InputError("file", f"{file} already exists; choose another name or add --force.")
    if from_preset is None:
        text = (resources.files("gpuplan.presets") / "templates" / "starter.yaml").read_text(
            encoding="utf-8"
        )
    else:
        source = resolve_scenario_path(from_preset)
        text = (
            f"# Copied from the preset '{from_preset}' by `gpuplan init`; edit it, then run\n"
            f"# `gpuplan plan {file}` or `gpuplan report {file}`.\n"
            + source.read_text(encoding="utf-8")
        )
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError("file", f"cannot write {file}: {error.strerror}.") from None
    typer.echo(f"Wrote {file}; check it with `gpuplan plan {file}`.")
