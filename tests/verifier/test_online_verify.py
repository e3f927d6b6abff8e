"""OnlineVerifier against httpx.MockTransport: status lists fetched from trusted origins only, verified like
offline snapshots, cached by ttl / Cache-Control / ETag on an injected clock, and every failure to obtain a
status reported as `indeterminate` with a precise reason and problem type."""

from __future__ import annotations

import copy
import gzip
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from keys import b64url_decode, b64url_encode
from verifier import Bitstring, OnlineVerifier, Outcome, Verdict, problems
from verifier._jws import parse_compact

if TYPE_CHECKING:
    from conftest import World  # tests/verifier/conftest.py

JWT = "application/vc+jwt"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Registry:
    """A mock registry: URL → token, with ETags and Cache-Control; counts what it served."""

    def __init__(self, world: World, *, cache_control: str = "public, max-age=600") -> None:
        self.world = world
        self.tokens: dict[str, str | bytes] = dict(world.status_tokens)
        self.cache_control = cache_control
        self.served: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.delay = 0.0
        self.override: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url in self.override:
            return self.override[url](request)
        time.sleep(self.delay)
        token = self.tokens.get(url)
        if token is None:
            return not_found(request)
        body = token.encode() if isinstance(token, str) else token
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        headers = {"etag": etag, "cache-control": self.cache_control, "content-type": JWT}
        with self.lock:
            if request.headers.get("if-none-match") == etag:
                self.not_modified[url] += 1
                return httpx.Response(304, headers={"etag": etag, "cache-control": self.cache_control})
            self.served[url] += 1
        return httpx.Response(200, stream=httpx.ByteStream(body), headers=headers)


def not_found(request: httpx.Request, **changes: Any) -> httpx.Response:
    """The registry's 404 (registry/problems.py): RFC 9457 problem+json, its not-found type, the path."""
    problem = {
        "type": "urn:aigov:problem:not-found",
        "title": "Not Found",
        "status": 404,
        "detail": f"no credential {request.url.path}",
        "instance": request.url.path,
        **changes,
    }
    return problem_response(404, json.dumps(problem).encode())


def problem_response(
    status: int, body: bytes, media_type: str = "application/problem+json"
) -> httpx.Response:
    """An answer streamed as a server sends it (a `content=` response would count as already read)."""
    return httpx.Response(status, stream=httpx.ByteStream(body), headers={"content-type": media_type})


def online(world: World, registry: Registry, clock: Clock | None = None, **options: Any) -> OnlineVerifier:
    return OnlineVerifier(
        world.registry,
        trust=world.trust(snapshots=[]),
        transport=httpx.MockTransport(registry),
        clock=clock or Clock(world.now),
        **options,
    )


def status_check(result: Any, purpose: str = "revocation") -> Any:
    return next(c for c in result.checks if c.name == f"status.{purpose}")


def resign_list(world: World, url: str, **overrides: Any) -> str:
    """The status list at `url` with claims changed, signed again by cb."""
    payload = copy.deepcopy(parse_compact(world.status_tokens[url], max_bytes=4 * 1024 * 1024).payload)
    for path, value in overrides.items():
        *parents, last = path.split(".")
        node = payload
        for part in parents:
            node = node[part]
        node[last] = value
    return str(world.sign(payload))


def with_status(world: World, url: str) -> str:
    """The certificate with its revocation entry pointing at `url`."""
    credential = world.credential(
        **{"credentialStatus.0.statusListCredential": url, "credentialStatus.0.id": url + "#1"}
    )
    return str(world.token(credential))


# -- the happy path ----------------------------------------------------------------------------------------------
def test_valid_online(world: World) -> None:
    registry = Registry(world)
    result = online(world, registry).verify(world.valid_token)
    assert result.verdict is Verdict.VALID, result.render_text()
    assert registry.served == Counter({world.revocation_url: 1, world.suspension_url: 1})


def test_revoked_and_suspended_online(world: World) -> None:
    registry = Registry(world)
    verifier = online(world, registry)
    revoked = world.token(
        world.credential(**{"credentialStatus.0.statusListIndex": str(world.revoked_index)})
    )
    result = verifier.verify(revoked)
    world.expect(result, "status.revocation", Outcome.FAILED, problems.REVOKED, "revoked")
    suspended = world.token(
        world.credential(**{"credentialStatus.1.statusListIndex": str(world.suspended_index)})
    )
    world.expect(
        verifier.verify(suspended), "status.suspension", Outcome.FAILED, problems.SUSPENDED, "suspended"
    )
    assert registry.served[world.revocation_url] == 1


def test_a_forged_credential_fetches_nothing(world: World) -> None:
    registry = Registry(world)
    header, payload, _signature = world.valid_token.split(".")
    forged = f"{header}.{payload}.{b64url_encode(bytes(64))}"
    result = online(world, registry).verify(forged)
    assert result.verdict is Verdict.INVALID
    assert registry.served == Counter()


# -- where a status list may come from ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("https://evil.example/status/1", "not a trusted origin"),
        ("https://169.254.169.254/latest/meta-data/iam", "link-local"),
        ("file:///etc/passwd", "only https"),
        ("https://192.168.0.10/status/1", "private"),
        ("http://registry.example/status/1", "plain-http"),
    ],
)
def test_status_urls_outside_the_trust_are_never_fetched(world: World, url: str, phrase: str) -> None:
    registry = Registry(world)
    seen: list[str] = []
    registry.override[url] = lambda request: seen.append(str(request.url)) or httpx.Response(500)  # type: ignore[func-returns-value]
    result = online(world, registry).verify(with_status(world, url))
    check = world.expect(
        result, "status.revocation", Outcome.INDETERMINATE, problems.STATUS_RETRIEVAL_ERROR, phrase
    )
    assert check.detail.startswith("revocation status unknown: ")
    assert result.summary.startswith(
        "cannot tell whether this credential is valid: revocation status unknown"
    )
    assert seen == []


def test_a_pinned_issuers_own_host_is_trusted(world: World) -> None:
    """did:web:cb.example pins https://cb.example as an origin for cb's status lists."""
    url = "https://cb.example/status/9"
    registry = Registry(world)
    registry.tokens[url] = world.status_list(url, "revocation")
    assert online(world, registry).verify(with_status(world, url)).verdict is Verdict.VALID


@pytest.mark.parametrize(
    "location",
    ["https://169.254.169.254/latest/meta-data/", "https://evil.example/status/1", "https://10.0.0.1/"],
)
def test_a_redirect_out_of_the_trust_is_refused(world: World, location: str) -> None:
    registry = Registry(world)
    registry.override[world.revocation_url] = lambda request: httpx.Response(
        302, headers={"location": location}
    )
    result = online(world, registry).verify(world.valid_token)
    world.expect(
        result, "status.revocation", Outcome.INDETERMINATE, problems.STATUS_RETRIEVAL_ERROR, "refusing"
    )


# -- status lists that must not be used ----------------------------------------------------------------------------
def _gzip_bomb_list() -> str:
    return "u" + b64url_encode(gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9))


def _short_list() -> str:
    return Bitstring(1024, min_entries=8).encode()


def _truncated_gzip_list(world: World) -> str:
    encoded = parse_compact(world.status_tokens[world.revocation_url], max_bytes=4 << 20).payload
    data = b64url_decode(encoded["credentialSubject"]["encodedList"][1:])
    return "u" + b64url_encode(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("make", "problem", "phrase"),
    [
        (
            lambda w: w.sign(header_overrides={"alg": "none"}, payload=_payload(w)),
            problems.STATUS_VERIFICATION_ERROR,
            "alg 'none'",
        ),
        (
            lambda w: w.sign(_payload(w), key=w.stranger),
            problems.STATUS_VERIFICATION_ERROR,
            "is not among the pinned keys",
        ),
        (
            lambda w: w.sign(_payload(w), key=w.other.key, kid=w.other.kid),
            problems.STATUS_VERIFICATION_ERROR,
            "claims",
        ),
        (
            lambda w: resign_list(w, w.revocation_url, **{"credentialSubject.encodedList": _short_list()}),
            problems.STATUS_LIST_LENGTH_ERROR,
            "1024 entries",
        ),
        (
            lambda w: resign_list(
                w, w.revocation_url, **{"credentialSubject.encodedList": _gzip_bomb_list()}
            ),
            problems.STATUS_VERIFICATION_ERROR,
            "expands to more than",
        ),
        (
            lambda w: resign_list(
                w, w.revocation_url, **{"credentialSubject.encodedList": _truncated_gzip_list(w)}
            ),
            problems.STATUS_VERIFICATION_ERROR,
            "truncated GZIP",
        ),
        # Cut mid-payload, so it always lacks a segment: cutting into the signature can leave canonical
        # base64url (1 in 16) and then fails as a signature, not a parse.
        (
            lambda w: w.status_tokens[w.revocation_url].rsplit(".", 1)[0][:-20],
            problems.STATUS_VERIFICATION_ERROR,
            "parse",
        ),
        (
            lambda w: w.status_tokens[w.suspension_url],
            problems.STATUS_VERIFICATION_ERROR,
            "says it is https://registry.example/status/2",
        ),
        (lambda w: "<html>not a token</html>", problems.STATUS_VERIFICATION_ERROR, "parse"),
    ],
    ids=[
        "unsigned",
        "unknown-key",
        "another-issuer",
        "too-short",
        "gzip-bomb",
        "truncated-gzip",
        "truncated-token",
        "another-list",
        "garbage",
    ],
)
def test_unusable_status_lists(world: World, make: Callable[[World], str], problem: str, phrase: str) -> None:
    registry = Registry(world)
    registry.tokens[world.revocation_url] = make(world)
    started = time.monotonic()
    result = online(world, registry).verify(world.valid_token)
    assert time.monotonic() - started < 2
    world.expect(result, "status.revocation", Outcome.INDETERMINATE, problem, phrase)
    world.expect(result, "status.suspension", Outcome.PASSED)


def _payload(world: World) -> dict[str, Any]:
    return dict(parse_compact(world.status_tokens[world.revocation_url], max_bytes=4 << 20).payload)


def test_a_list_of_another_purpose(world: World) -> None:
    registry = Registry(world)
    registry.tokens[world.revocation_url] = world.status_list(world.revocation_url, "suspension")
    result = online(world, registry).verify(world.valid_token)
    world.expect(
        result,
        "status.revocation",
        Outcome.INDETERMINATE,
        problems.STATUS_VERIFICATION_ERROR,
        "is a suspension list",
    )


def test_an_expired_list(world: World) -> None:
    registry = Registry(world)
    registry.tokens[world.revocation_url] = world.status_list(
        world.revocation_url, "revocation", valid_for=timedelta(days=1)
    )
    verifier = online(world, registry)
    result = verifier.verify(world.valid_token)
    world.expect(
        result, "status.revocation", Outcome.INDETERMINATE, problems.STATUS_VERIFICATION_ERROR, "expired on"
    )
    for _ in range(5):  # kept a while, as a failure is: not fetched again for every verification
        assert verifier.verify(world.valid_token).verdict is result.verdict
    assert registry.served[world.revocation_url] + registry.not_modified[world.revocation_url] == 1


@pytest.mark.parametrize(
    ("response", "phrase"),
    [
        (httpx.Response(500, text="Internal Server Error"), "answered HTTP 500"),
        (httpx.Response(200, html="<html><body>Sign in</body></html>"), "answered text/html"),
        (httpx.Response(503), "answered HTTP 503"),
    ],
)
def test_server_failures(world: World, response: httpx.Response, phrase: str) -> None:
    registry = Registry(world)
    registry.override[world.revocation_url] = lambda request: response
    result = online(world, registry).verify(world.valid_token)
    world.expect(result, "status.revocation", Outcome.INDETERMINATE, problems.STATUS_RETRIEVAL_ERROR, phrase)


def test_a_timeout_is_indeterminate(world: World) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    registry = Registry(world)
    registry.override[world.revocation_url] = slow
    result = online(world, registry).verify(world.valid_token)
    world.expect(
        result, "status.revocation", Outcome.INDETERMINATE, problems.STATUS_RETRIEVAL_ERROR, "timed out"
    )


def test_a_range_error_is_reported_as_such(world: World) -> None:
    registry = Registry(world)
    token = world.token(world.credential(**{"credentialStatus.0.statusListIndex": str(world.list_size)}))
    result = online(world, registry).verify(token)
    world.expect(
        result, "status.revocation", Outcome.FAILED, problems.RANGE_ERROR, "outside the list's range"
    )


# -- the cache -------------------------------------------------------------------------------------------------------
def test_ttl_expiry_then_etag_revalidation(world: World) -> None:
    """The lists say ttl 5 min, the server max-age 10 min: the shorter wins; then a 304 reuses the list."""
    registry = Registry(world)
    clock = Clock(world.now)
    verifier = online(world, registry, clock)
    verifier.verify(world.valid_token)
    clock.now += timedelta(seconds=299)
    verifier.verify(world.valid_token)
    assert registry.served[world.revocation_url] == 1
    assert registry.not_modified[world.revocation_url] == 0
    clock.now += timedelta(seconds=2)
    assert verifier.verify(world.valid_token, now=world.now).verdict is Verdict.VALID
    assert (registry.served[world.revocation_url], registry.not_modified[world.revocation_url]) == (1, 1)


def test_a_changed_list_is_seen_after_expiry(world: World) -> None:
    registry = Registry(world, cache_control="max-age=60")
    clock = Clock(world.now)
    verifier = online(world, registry, clock)
    assert verifier.verify(world.valid_token).verdict is Verdict.VALID
    registry.tokens[world.revocation_url] = world.status_list(
        world.revocation_url, "revocation", set_bits=[48213]
    )
    assert verifier.verify(world.valid_token).verdict is Verdict.VALID  # still fresh: max-age 60 s
    clock.now += timedelta(seconds=61)
    world.expect(
        verifier.verify(world.valid_token, now=world.now),
        "status.revocation",
        Outcome.FAILED,
        problems.REVOKED,
    )


@pytest.mark.parametrize(("cache_control", "served", "revalidated"), [("no-store", 3, 0), ("no-cache", 1, 2)])
def test_no_store_and_no_cache(world: World, cache_control: str, served: int, revalidated: int) -> None:
    registry = Registry(world, cache_control=cache_control)
    verifier = online(world, registry)
    for _ in range(3):
        assert verifier.verify(world.valid_token).verdict is Verdict.VALID
    assert (registry.served[world.revocation_url], registry.not_modified[world.revocation_url]) == (
        served,
        revalidated,
    )


def test_many_credentials_one_fetch_per_list_even_concurrently(world: World) -> None:
    registry = Registry(world)
    registry.delay = 0.05  # long enough for every thread to ask while the first fetch is in flight
    verifier = online(world, registry)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: verifier.verify(world.valid_token), range(64)))
    assert {r.verdict for r in results} == {Verdict.VALID}
    assert registry.served == Counter({world.revocation_url: 1, world.suspension_url: 1})


def test_a_failure_is_remembered_briefly_not_retried_per_credential(world: World) -> None:
    calls: list[str] = []
    registry = Registry(world)
    registry.override[world.revocation_url] = lambda request: calls.append("x") or httpx.Response(500)  # type: ignore[func-returns-value]
    clock = Clock(world.now)
    verifier = online(world, registry, clock)
    for _ in range(5):
        assert verifier.verify(world.valid_token).verdict is Verdict.INDETERMINATE
    assert len(calls) == 1
    clock.now += timedelta(seconds=31)
    verifier.verify(world.valid_token, now=world.now)
    assert len(calls) == 2


# -- credentials by id or URL -------------------------------------------------------------------------------------
def test_a_credential_by_id_or_url(world: World) -> None:
    registry = Registry(world)
    uuid = world.credential_id.rsplit("/", 1)[1]
    registry.tokens[f"{world.registry}/api/v1/credentials/{uuid}/credential.jwt"] = world.valid_token
    verifier = online(world, registry)
    for claim in (uuid, world.credential_id, f"{world.registry}/api/v1/credentials/{uuid}"):
        assert verifier.verify(claim).verdict is Verdict.VALID, claim


@pytest.mark.parametrize(
    ("claim", "phrase"),
    [
        ("https://evil.example/credentials/3f2c9a4e-0000-4000-8000-000000000000", "not a trusted origin"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("not-a-credential", "only https"),
    ],
)
def test_a_credential_that_cannot_be_retrieved(world: World, claim: str, phrase: str) -> None:
    result = online(world, Registry(world)).verify(claim)
    world.expect(result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, phrase)
    assert result.verdict is Verdict.INDETERMINATE


UNKNOWN = "3f2c9a4e-0000-4000-8000-000000000000"


def test_an_id_the_registry_does_not_hold_is_invalid_not_indeterminate(world: World) -> None:
    """A 404 from the trusted registry for a credential path is an answer: no such certificate."""
    verifier = online(world, Registry(world))
    for claim in (
        UNKNOWN,
        f"{world.registry}/credentials/{UNKNOWN}",
        f"{world.registry}/api/v1/credentials/{UNKNOWN}/credential.jwt",
    ):
        result = verifier.verify(claim)
        world.expect(result, "parse", Outcome.FAILED, problems.UNKNOWN_CREDENTIAL, "has no certificate")
        assert result.verdict is Verdict.INVALID, claim
        assert UNKNOWN in result.summary
        assert all(c.outcome is Outcome.SKIPPED for c in result.checks[1:])


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(500), httpx.Response(503), httpx.Response(403), httpx.Response(429)],
)
def test_other_failures_to_fetch_a_credential_stay_indeterminate(
    world: World, answer: httpx.Response
) -> None:
    registry = Registry(world)
    registry.override[f"{world.registry}/api/v1/credentials/{UNKNOWN}/credential.jwt"] = lambda _: answer
    result = online(world, registry).verify(UNKNOWN)
    world.expect(
        result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, f"HTTP {answer.status_code}"
    )
    assert result.verdict is Verdict.INDETERMINATE


def test_a_timeout_fetching_a_credential_stays_indeterminate(world: World) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    registry = Registry(world)
    registry.override[f"{world.registry}/api/v1/credentials/{UNKNOWN}/credential.jwt"] = timeout
    result = online(world, registry).verify(UNKNOWN)
    world.expect(result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, "timed out")


def test_a_404_elsewhere_is_not_proof_that_a_certificate_does_not_exist(world: World) -> None:
    """Only the registry answers for its certificates: a 404 from another allowed origin, or for a URL that is
    not a credential path, says nothing about the certificate."""
    other = "https://mirror.example"
    verifier = online(world, Registry(world), allowed_origins=[other])
    for claim in (f"{other}/credentials/{UNKNOWN}", f"{world.registry}/some/page"):
        result = verifier.verify(claim)
        world.expect(result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, "HTTP 404")


def test_a_redirect_to_another_allowed_origin_that_answers_404_stays_indeterminate(world: World) -> None:
    """The registry redirects (to a mirror it trusts, say) and the mirror has no such page: that is the mirror's
    answer, not the registry's, even with the registry's own kind of problem document."""
    other = "https://mirror.example"
    registry = Registry(world)
    path = f"/api/v1/credentials/{UNKNOWN}/credential.jwt"
    registry.override[world.registry + path] = lambda _: httpx.Response(
        302, headers={"location": other + path}
    )
    result = online(world, registry, allowed_origins=[other]).verify(UNKNOWN)
    world.expect(result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, "HTTP 404")
    assert result.verdict is Verdict.INDETERMINATE
    assert "mirror.example" in result.check("parse").detail


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda r: problem_response(404, b"Not Found", "text/plain"), id="plain text"),
        pytest.param(lambda r: problem_response(404, b"<h1>404 Not Found</h1>", "text/html"), id="html"),
        pytest.param(
            lambda r: problem_response(
                404,
                json.dumps(
                    {"type": "urn:aigov:problem:not-found", "status": 404, "instance": r.url.path}
                ).encode(),
                "application/json",
            ),
            id="the problem as application/json",
        ),
        pytest.param(lambda r: not_found(r, type="about:blank"), id="another problem type"),
        pytest.param(lambda r: not_found(r, instance="/elsewhere"), id="a problem about another path"),
        pytest.param(lambda r: not_found(r, status=400), id="a problem with another status"),
        pytest.param(
            lambda r: problem_response(
                404,
                json.dumps(
                    {
                        "type": "urn:aigov:problem:not-found",
                        "status": 404,
                        "instance": r.url.path,
                        "pad": "x" * 20_000,
                    }
                ).encode(),
            ),
            id="an oversized problem",
        ),
        pytest.param(
            lambda r: problem_response(404, b"[1, 2]"),
            id="a problem that is not an object",
        ),
        pytest.param(
            lambda r: problem_response(404, b"\xff{"),
            id="a problem that is not JSON",
        ),
        pytest.param(
            lambda r: problem_response(
                410,
                json.dumps(
                    {"type": "urn:aigov:problem:not-found", "status": 410, "instance": r.url.path}
                ).encode(),
            ),
            id="410 gone",
        ),
    ],
)
def test_a_404_that_is_not_the_registrys_own_not_found_stays_indeterminate(
    world: World, answer: Callable[[httpx.Request], httpx.Response]
) -> None:
    """A front end's 404 page on the registry's origin proves nothing about a certificate."""
    registry = Registry(world)
    registry.override[f"{world.registry}/api/v1/credentials/{UNKNOWN}/credential.jwt"] = answer
    result = online(world, registry).verify(UNKNOWN)
    world.expect(result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, "answered HTTP 4")
    assert result.verdict is Verdict.INDETERMINATE


def test_a_wrong_registry_url_with_a_path_prefix_stays_indeterminate(world: World) -> None:
    """--registry https://registry.example/aigov: the host's 404s (even aigov's own problems) are about paths
    that are not the registry's credential path, so no certificate is called non-existent."""
    verifier = OnlineVerifier(
        world.registry + "/aigov",
        trust=world.trust(snapshots=[]),
        transport=httpx.MockTransport(Registry(world)),
        clock=Clock(world.now),
    )
    result = verifier.verify(UNKNOWN)
    world.expect(result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, "HTTP 404")


def test_a_redirect_within_the_registry_to_another_path_stays_indeterminate(world: World) -> None:
    registry = Registry(world)
    path = f"/api/v1/credentials/{UNKNOWN}/credential.jwt"
    registry.override[world.registry + path] = lambda _: httpx.Response(
        302, headers={"location": "/old" + path}
    )
    result = online(world, registry).verify(UNKNOWN)
    world.expect(result, "parse", Outcome.INDETERMINATE, problems.RETRIEVAL_ERROR, "HTTP 404")
