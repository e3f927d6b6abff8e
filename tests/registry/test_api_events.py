"""GET /api/v1/events: the public lifecycle feed, paged in commit order, verifiable link by link."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.eventlog import canonical_json
from registry.models import GENESIS_HASH
from registry.search import event_cursor

if TYPE_CHECKING:
    from conftest import Registry

URL = "/api/v1/events"
INVALID_REQUEST = "urn:aigov:problem:invalid-request"
# What an event's hash covers (registry.eventlog.event_document), by the feed's member names.
HASHED = (
    "seq",
    "at",
    "actor",
    "issuer",
    "credential",
    "action",
    "reasonCode",
    "reason",
    "payload",
    "prevHash",
)


def assert_problem(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert (problem["type"], problem["status"], problem["title"]) == (INVALID_REQUEST, 400, "Bad Request")
    assert problem["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        assert problem["errors"][0]["field"] == field
    return problem


def feed(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """The whole feed from `params`, following nextCursor."""
    items: list[dict[str, Any]] = []
    response = client.get(URL, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["nextCursor"] is None:
            return items
        response = client.get(
            URL, params={**{k: v for k, v in params.items() if k != "after"}, "cursor": page["nextCursor"]}
        )


@pytest.fixture
def history(client: TestClient, registry: Registry) -> dict[str, Any]:
    """A token; two certificates of acme-cb and one of other-cb taken through every lifecycle action."""
    token = registry.token()
    other_token = registry.token(registry.other)
    auth, other_auth = registry.bearer(token), registry.bearer(other_token)

    def post(path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
        response = client.post(f"/api/v1/credentials{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        return result

    first = post("", registry.decision(), auth)
    registry.clock.advance(seconds=1.5)  # a timestamp with fractions, as the hash covers it
    second = post("", registry.decision(), auth)
    other = post("", registry.decision(), other_auth)
    registry.clock.advance(days=1)
    post(f"/{first['id']}/suspend", {"reasonCode": "nonconformity", "reason": "Audit finding 3"}, auth)
    post(f"/{first['id']}/reinstate", {"reason": "Corrected"}, auth)
    post(f"/{other['id']}/revoke", {"reasonCode": "company_request"}, other_auth)
    renewed = post(f"/{second['id']}/renew", registry.decision(), auth)
    return {
        "token": token,
        "other_token": other_token,
        "first": first,
        "second": second,
        "other": other,
        "renewed": renewed,
    }


def test_the_feed_lists_every_change_in_order(
    client: TestClient, registry: Registry, history: dict[str, Any]
) -> None:
    response = client.get(URL)
    assert response.headers["access-control-allow-origin"] == "*"
    everything = response.json()["items"]
    # The scheme owner accredited both bodies first (tests/registry/conftest.py): those decisions are events.
    setup, items = everything[: registry.setup_events], everything[registry.setup_events :]
    assert [(e["action"], e["issuer"], e["credential"]) for e in setup] == [
        ("accredited", registry.acme.did, None),
        ("accredited", registry.other.did, None),
    ]
    summary = [(e["seq"] - len(setup), e["action"], e["credential"], e["reasonCode"]) for e in items]
    first, second, other, renewed = (history[k]["id"] for k in ("first", "second", "other", "renewed"))
    assert summary == [
        (1, "issued", first, None),
        (2, "issued", second, None),
        (3, "issued", other, None),
        (4, "suspended", first, "nonconformity"),
        (5, "reinstated", first, None),
        (6, "revoked", other, "company_request"),
        (7, "superseded", second, "superseded"),
        (8, "renewed", renewed, None),
    ]
    assert items[0]["issuer"] == registry.acme.did
    assert items[2]["issuer"] == registry.other.did
    assert items[3]["reason"] == "Audit finding 3"
    assert items[1]["at"] == "2026-11-01T00:00:01.500000Z"
    assert items[7]["payload"]["supersedes"] == second
    assert response.json()["nextCursor"] is None
    assert "link" not in response.headers


def test_a_follower_can_verify_the_chain_from_the_feed_alone(
    client: TestClient, registry: Registry, history: dict[str, Any]
) -> None:
    items = feed(client, limit=3)
    assert len(items) == registry.setup_events + 8
    previous = GENESIS_HASH
    for item in items:
        document = {name: item[name] for name in HASHED}
        assert hashlib.sha256(canonical_json(document)).hexdigest() == item["hash"]
        assert item["prevHash"] == previous
        previous = item["hash"]
    # ... and a change to any member breaks it.
    forged = {name: items[4][name] for name in HASHED} | {"reason": "nothing to see"}
    assert hashlib.sha256(canonical_json(forged)).hexdigest() != items[4]["hash"]


def test_the_feed_exposes_token_ids_never_secrets(client: TestClient, history: dict[str, Any]) -> None:
    text = client.get(URL).text
    for token in (history["token"], history["other_token"]):
        _, token_id, secret = token.split("_", 2)
        assert token_id in text  # the acting token's id is public by design
        assert secret not in text
        assert token not in text
    assert history["first"]["token"] not in text  # nor the signed credentials themselves


def test_paging_by_cursor_and_by_after_agree(
    client: TestClient, registry: Registry, history: dict[str, Any]
) -> None:
    everything = feed(client)
    by_cursor = feed(client, limit=3)
    assert by_cursor == everything

    by_after: list[dict[str, Any]] = []
    last = 0
    while True:
        page = client.get(URL, params={"after": last, "limit": 3}).json()
        if not page["items"]:
            break
        by_after.extend(page["items"])
        last = page["items"][-1]["seq"]
    assert by_after == everything

    first = client.get(URL, params={"limit": 3})
    link = first.headers["link"]
    assert link == (
        f'<{registry.settings.public_url}{URL}?limit=3&cursor={first.json()["nextCursor"]}>; rel="next"'
    )
    last = registry.setup_events + 8
    assert [e["seq"] for e in client.get(URL, params={"after": last - 2}).json()["items"]] == [last - 1, last]
    assert client.get(URL, params={"after": last}).json() == {"items": [], "nextCursor": None}

    # A follower polling from its last seq sees what happens next, and only that.
    token = registry.bearer(history["token"])
    client.post(
        f"/api/v1/credentials/{history['first']['id']}/revoke", json={"reasonCode": "other"}, headers=token
    )
    assert [(e["seq"], e["action"]) for e in client.get(URL, params={"after": last}).json()["items"]] == [
        (last + 1, "revoked")
    ]


def test_since_filters_by_time(client: TestClient, registry: Registry, history: dict[str, Any]) -> None:
    s = registry.setup_events  # the accreditations, on the first day
    later = feed(client, since="2026-11-02T00:00:00Z", limit=2)
    assert [e["seq"] - s for e in later] == [4, 5, 6, 7, 8]
    assert [e["seq"] - s for e in feed(client, since="2026-11-02T09:00:00+09:00")] == [4, 5, 6, 7, 8]
    assert feed(client, since="2030-01-01T00:00:00Z") == []
    assert [e["seq"] - s for e in feed(client, since="2026-11-02T00:00:00Z", after=s + 6)] == [7, 8]


@pytest.mark.parametrize("accredited", [False])  # nothing decided yet (tests/registry/conftest.py)
def test_an_empty_feed(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"items": [], "nextCursor": None}
    for params in (
        {"after": 0},
        {"since": "9999-12-31T23:59:59Z"},
        {"since": "0001-01-01T00:00:00Z"},
    ):
        assert client.get(URL, params=params).json() == {"items": [], "nextCursor": None}
    assert_behind(client.get(URL, params={"after": 2**31 - 1}), after=2**31 - 1, last=0)


def assert_behind(response: httpx.Response, *, after: int, last: int) -> None:
    """A 409 problem telling a follower that the log ends before its position (the registry went back)."""
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["status"]) == ("urn:aigov:problem:event-log-behind", 409)
    assert problem["detail"].startswith(f"the event log ends at seq {last}, before after={after}: ")
    assert f"Re-read from seq {last} or earlier and check each prevHash" in problem["detail"]


def test_a_position_past_the_end_of_the_log_is_a_409_not_an_empty_page(
    client: TestClient, registry: Registry, history: dict[str, Any]
) -> None:
    """A follower never hears "nothing new" for a position the log does not reach: that is a log that went back
    (a restore, tests/registry/test_after_restore.py), and waiting would bring an event that does not chain."""
    last = registry.setup_events + 8
    assert client.get(URL, params={"after": last}).json() == {"items": [], "nextCursor": None}
    assert_behind(client.get(URL, params={"after": last + 1}), after=last + 1, last=last)
    assert_behind(
        client.get(URL, params={"after": last + 1, "since": "2026-11-02T00:00:00Z"}),
        after=last + 1,
        last=last,
    )
    # Filtered to nothing by `since` is still an empty page, and a cursor past the end is the same 409.
    assert client.get(URL, params={"after": 1, "since": "2030-01-01T00:00:00Z"}).json()["items"] == []
    assert_behind(client.get(URL, params={"cursor": event_cursor(last + 5, None)}), after=last + 5, last=last)


FORGED_HUGE_SEQ = event_cursor(2**31, None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "-1"}, "after"),
        ({"after": "seven"}, "after"),
        ({"after": str(2**31)}, "after"),  # seq is a 32-bit integer
        ({"after": str(2**63)}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-01T00:00:00"}, "since"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": "ZTEuMQ"}, "cursor"),  # "e1.1": no tag
        ({"cursor": FORGED_HUGE_SEQ}, "cursor"),  # a correct tag is no secret: the value is still checked
        ({"from": "3"}, "from"),
    ],
)
def test_bad_parameters_are_400_problems(client: TestClient, params: dict[str, str], field: str) -> None:
    assert_problem(client.get(URL, params=params), field)


def test_a_cursor_is_bound_to_since_and_exclusive_with_after(
    client: TestClient, history: dict[str, Any]
) -> None:
    cursor = client.get(URL, params={"limit": 2, "since": "2026-11-02T00:00:00Z"}).json()["nextCursor"]
    assert cursor
    assert client.get(URL, params={"cursor": cursor, "since": "2026-11-02T00:00:00Z"}).status_code == 200
    assert_problem(client.get(URL, params={"cursor": cursor}), "cursor")
    assert_problem(client.get(URL, params={"cursor": cursor, "since": "2026-11-03T00:00:00Z"}), "cursor")
    problem = assert_problem(
        client.get(URL, params={"cursor": cursor, "after": 1, "since": "2026-11-02T00:00:00Z"}), "cursor"
    )
    assert "either" in problem["detail"]
    search_cursor = client.get("/api/v1/credentials", params={"limit": 1}).json()["nextCursor"]
    assert_problem(client.get(URL, params={"cursor": search_cursor}), "cursor")
