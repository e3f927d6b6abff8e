"""Status lists re-signed before they expire, on a registry served as in service: two worker processes, each
with its own cache of the signed lists, and a real clock. Whichever worker answers, a client never gets a list
with less than half its validity left, and the bits it carries never change by being re-signed."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from keys import b64url_decode
from verifier import parse_date_time_stamp

if TYPE_CHECKING:
    from conftest import Registry

pytestmark = pytest.mark.slow  # a server and a few seconds of real time per database

VALIDITY = timedelta(seconds=4)  # the smallest the settings allow for a ttl of 1 s: two ttls


def test_every_worker_serves_a_list_with_half_its_validity_left(registry: Registry, serve: Any) -> None:
    server = serve(workers=2, AIGOV_STATUS_TTL_SECONDS="1", AIGOV_STATUS_VALIDITY_SECONDS="4")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        issued = client.post(
            "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(registry.token())
        )
        assert issued.status_code == 201, issued.text
        path = issued.json()["credentialStatus"][0]["statusListCredential"].removeprefix(
            registry.settings.public_url
        )
        etags, lists = set(), set()
        deadline = time.monotonic() + 1.6 * VALIDITY.total_seconds()
        while time.monotonic() < deadline:
            response = client.get(path)
            received = datetime.now(UTC)
            assert response.status_code == 200, response.text
            claims: dict[str, Any] = json.loads(b64url_decode(response.text.split(".")[1]))
            left = parse_date_time_stamp(claims["validUntil"]) - received
            # validFrom and validUntil are whole seconds: a list signed at 12:00:00.9 says 12:00:00.
            assert left > VALIDITY / 2 - timedelta(seconds=1.2), (
                f"served with {left} left: {claims['validUntil']}"
            )
            etags.add(response.headers["etag"])
            lists.add(claims["credentialSubject"]["encodedList"])
            time.sleep(0.05)
    assert len(etags) >= 2, "never re-signed"
    assert len(lists) == 1
