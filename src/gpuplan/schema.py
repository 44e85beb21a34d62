"""The base of every model a scenario file is read into (Calliope-style strict schema).

Unknown keys are errors (a typo is never ignored), values are frozen once read, and
non-finite numbers (``.inf``, ``.nan``) are rejected; field aliases and names both work.
"""

from pydantic import BaseModel, ConfigDict


class ScenarioModel(BaseModel):
    """Strict, frozen, finite: the shared configuration of scenario-file sections."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )
