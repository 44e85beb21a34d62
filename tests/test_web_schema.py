"""Schemathesis against the published OpenAPI: generated requests to every API operation
never get a 500, and every response matches its documented schema."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gpuplan.web.app import ServerSettings, create_app

pytestmark = pytest.mark.slow  # about 12 s of API fuzzing: run by .ci/run, not the default run

DB = Path(tempfile.mkdtemp(prefix="gpuplan-schemathesis-")) / "runs.sqlite"
app = create_app(ServerSettings(db=f"sqlite:///{DB}", max_queued_jobs=2, job_cpu_seconds=2))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def started() -> Iterator[None]:
    """Run the app's startup (store, job runner) around the module; remove the database folder."""
    with TestClient(app):
        yield
    shutil.rmtree(DB.parent, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_answers_within_its_schema(case: schemathesis.Case) -> None:
    # Catalog ids (GPUs, models, presets) are open strings in the schema, so a well-formed
    # request may still name no known id and be refused with 400: that check is left out.
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance,
                                   status_code_conformance, content_type_conformance])
