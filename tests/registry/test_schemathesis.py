"""Schemathesis against the registry's own OpenAPI document: no 500 on any generated request, and every
response matches what the document says (status codes, content types, bodies, headers).

Every operation runs on a fresh SQLite registry holding one issued credential, with a valid token (the write
endpoints' 401s are tested elsewhere; with a token, generated bodies reach the validation and domain code).
Bounded: 20 examples per operation, one second of deadline per example.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, checks

if TYPE_CHECKING:
    from conftest import Registry

EXAMPLES = 20
# Schema-valid data that the domain refuses is expected: a scheme, level or issuer that does not exist, a
# certificate number already taken, a validity window that ends before it starts. The schema cannot say so.
EXCLUDED = [checks.positive_data_acceptance]


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (overrides the two-backend fixture of conftest.py): the API is the same on both."""
    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def api(registry: Registry, token: str) -> Any:
    app = registry.app()
    with TestClient(app) as client:
        issued = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
        assert issued.status_code == 201
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
def test_the_api_keeps_its_openapi_promises(api: Any, registry: Registry, token: str) -> None:
    failures: dict[str, str] = {}
    labels = []
    for result in api.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @settings(
            max_examples=EXAMPLES,
            deadline=timedelta(seconds=2),
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Case) -> None:
            case.call_and_validate(headers=registry.bearer(token), excluded_checks=EXCLUDED)

        try:
            check()
        except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001  # each operation's failure is collected
            failures[operation.label] = f"{type(e).__name__}: {str(e)[:1500]}"
    assert len(labels) > 15, labels
    assert failures == {}, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
