"""Online verification: fetch trust lists, key documents and status lists from trusted origins only, cache them,
and verify each exactly as offline material is verified.

The only module in aigov that imports httpx. The network decides only *whether* an answer can be had, never
what is trusted: a URL is fetched only when its origin is the registry's, a pinned issuer's did:web host or an
origin the caller allowed explicitly, never because a credential names it. Any status that cannot be obtained
makes the verdict `indeterminate`, with the reason and a Bitstring Status List §3.5 problem type.

    VerifierError
    └── FetchError        .url, .problem, .status, .final_url, .problem_document: a URL refused by policy, or an
                          answer that could not be used; for a URL that does not parse (`origin_of`, `Fetcher`,
                          `OnlineVerifier`), also a ValueError, as callers that parse URLs themselves expect

Addresses (SSRF and DNS rebinding): the default transport resolves each host itself, *at connect time*, refuses
the connection unless every address the name resolves to is public (not private, loopback, link-local,
multicast, reserved, unspecified, shared, or an IPv4 address wrapped in IPv6), and then connects to the very
address it checked. Checking at the socket, rather than resolving first and connecting by name later, leaves
no second DNS answer for a rebinding attacker to change. TLS still verifies the certificate for the host name.
Every name lookup and socket operation of that transport also ends by the fetch's total deadline, so a slow DNS
server, or a server that trickles its headers or redirects slowly, cannot hold a fetch (and a batch waiting for
it) beyond `total_timeout`.

What has been verified is not forgotten: an older trust list version, or an older copy of a status list (a stale
cache or CDN edge, a replayed copy still within its validUntil), never displaces the newest one verified, by the
offline TrustStore's own rules, whatever the cache dropped in between (a failure, `no-store`).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import re
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import httpx

from keys import DidError, KeysError, did_web_url, parse_did_document
from verifier import problems
from verifier._errors import VerifierError
from verifier._hosts import is_loopback_host
from verifier._jws import DEFAULT_MAX_TOKEN_BYTES
from verifier._result import CHECK_NAMES, CheckResult, Outcome, Verdict, VerificationResult
from verifier._trust import StatusSnapshot, TrustStore, newest_snapshot
from verifier._trustlist import TRUST_LIST_PATH, owner_keys_by_fingerprint
from verifier._verify import DEFAULT_MAX_CLOCK_SKEW, MAX_STATUS_LIST_TOKEN_BYTES, verify, verify_status_list

Clock = Callable[[], datetime]
Resolver = Callable[[str, int], Sequence[str]]

VC_JWT_TYPES = ("application/vc+jwt", "application/vc-ld+jwt", "application/jwt")
JSON_TYPES = ("application/did+json", "application/did+ld+json", "application/json", "application/ld+json")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"https": 443, "http": 80}
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_CREDENTIAL_PATH = re.compile(rf"/(?:api/v1/)?credentials/({_UUID.pattern})(?:/credential\.jwt)?/?")
_SHOWN = 200  # how much of a URL or server answer a message echoes
PROBLEM_JSON = "application/problem+json"
_MAX_PROBLEM_BYTES = 16 * 1024
# registry/problems.py NOT_FOUND: what the registry answers, as RFC 9457 problem+json, for an id it does not
# hold (tests/registry/test_online_registry.py holds the two equal).
REGISTRY_NOT_FOUND = "urn:aigov:problem:not-found"


class FetchError(VerifierError):
    """A URL refused by the fetch policy, or an answer that could not be used; `problem` says which kind.

    For an answer other than 200/304: `status` is its HTTP status, `final_url` the URL that gave it (after
    redirects; `url` is the one asked for), and `problem_document` its RFC 9457 body when it was a small
    `application/problem+json` object (else None). All three are None when there was no answer.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        problem: str = problems.STATUS_RETRIEVAL_ERROR,
        status: int | None = None,
        final_url: str | None = None,
        problem_document: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.problem = problem
        self.status = status
        self.final_url = final_url
        self.problem_document = problem_document


class _InvalidURLError(FetchError, ValueError):
    """A URL that does not parse: a FetchError, and a ValueError for callers that catch what URL parsers raise
    (httpx's own InvalidURL is neither)."""


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


# -- addresses ---------------------------------------------------------------------------------------------------
def address_problem(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why `address` (an IP literal) must not be connected to, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        wrapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if wrapped is not None:
            return f"an IPv4 address wrapped in IPv6 ({ip}) is refused"
        if ip in ipaddress.ip_network("64:ff9b::/96") or ip in ipaddress.ip_network("64:ff9b:1::/48"):
            return f"a NAT64-translated address ({ip}) is refused"
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    for test, kind in (
        (ip.is_link_local, "link-local (cloud metadata lives here)"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    ):
        if test:
            return f"{ip} is a {kind} address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo), as text."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# Name lookups, off the fetching thread so that they can be waited for with a timeout (GuardedBackend).
_RESOLVERS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="aigov-resolve")

# When the fetch running in this thread (Fetcher.get) must be over, on time.monotonic(); None outside one.
_DEADLINE: ContextVar[float | None] = ContextVar("aigov_fetch_deadline", default=None)


def _within_deadline(timeout: float | None, timed_out: type[httpcore.TimeoutException]) -> float | None:
    """`timeout` for one socket operation, cut to what is left before the running fetch's deadline.

    A per-operation timeout alone lets a server that sends a byte every second keep a fetch going for ever.
    """
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise timed_out("the total timeout has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the deadline of the fetch using it (a
    pooled connection serves fetches with different deadlines, so it is read at each operation)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _within_deadline(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend with an address check at connect time, and the fetch's total deadline on
    every socket operation (see the module docstring)."""

    def __init__(self, *, allow_loopback: bool = False, resolver: Resolver = system_resolver) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_loopback = allow_loopback
        self._resolve = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        # getaddrinfo takes no timeout: it runs on a resolver thread, and the fetch waits for it no longer than
        # its connect timeout or its deadline allow (a lookup still running is left to the system's own limit).
        wait = _within_deadline(timeout, httpcore.ConnectTimeout)
        try:
            addresses = _RESOLVERS.submit(self._resolve, host, port).result(timeout=wait)
        except concurrent.futures.TimeoutError:
            raise httpcore.ConnectTimeout(f"cannot resolve {host} within {wait:g} s") from None
        except OSError as e:
            raise httpcore.ConnectError(f"cannot resolve {host}: {e.strerror or e}") from e
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            problem = address_problem(address, allow_loopback=self._allow_loopback)
            if problem:
                raise _AddressRefusedError(f"{host} resolves to a refused address: {problem}")
        timeout = _within_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.connect_tcp(addresses[0], port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never used")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AddressRefusedError(httpcore.ConnectError):
    """Raised by GuardedBackend; httpx maps it to ConnectError with the message kept."""


def guarded_transport(
    *, allow_loopback: bool = False, resolver: Resolver = system_resolver
) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through GuardedBackend; no proxies, no retries."""
    transport = httpx.HTTPTransport(retries=0, trust_env=False)
    # httpx builds its pool without a way to pass a network backend; rebuild it with ours
    # (test_online_fetch checks that a loopback connection is refused through this transport).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=32,
        max_keepalive_connections=16,
        keepalive_expiry=5.0,
        http1=True,
        http2=False,
        retries=0,
        network_backend=GuardedBackend(allow_loopback=allow_loopback, resolver=resolver),
    )
    return transport


# -- the fetch policy and the fetcher ----------------------------------------------------------------------------
def _parse_url(url: str) -> httpx.URL:
    """`url` parsed, or FetchError (also a ValueError) saying why it cannot be used."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as e:
        raise _InvalidURLError(f"not a usable URL: {_short(url)!r} ({e})", url=url) from None
    # httpx keeps a port it cannot connect to; the socket layer would wrap it round to another port.
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise _InvalidURLError(
            f"not a usable URL: {_short(url)!r} (port {parsed.port} is outside 1-65535)", url=url
        )
    return parsed


def origin_of(url: str | httpx.URL) -> str:
    """`scheme://host:port` with the default port made explicit, lower-cased (FetchError, also a ValueError,
    for a URL that does not parse)."""
    parsed = url if isinstance(url, httpx.URL) else _parse_url(url)
    scheme = parsed.scheme.lower()
    port = parsed.port or _DEFAULT_PORTS.get(scheme, 0)
    host = parsed.host.lower()
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


@dataclass(frozen=True, slots=True)
class CacheControl:
    """The Cache-Control directives a client cache acts on (RFC 9111 §5.2.2)."""

    max_age: int | None = None
    no_store: bool = False
    no_cache: bool = False

    @classmethod
    def parse(cls, header: str | None) -> CacheControl:
        max_age, no_store, no_cache = None, False, False
        for directive in (header or "").split(","):
            name, _, value = directive.strip().partition("=")
            name = name.strip().lower()
            value = value.strip().strip('"')
            if name == "max-age" and value.isascii() and value.isdigit():
                max_age = int(value[:10])
            elif name == "no-store":
                no_store = True
            elif name == "no-cache":
                no_cache = True
        return cls(max_age, no_store, no_cache)


@dataclass(frozen=True, slots=True)
class Fetched:
    """An answer: 200 with its (decoded, capped) body, or 304 with none."""

    url: str
    status: int
    body: bytes
    etag: str | None
    cache_control: CacheControl


class Fetcher:
    """GET from allowed origins only, with timeouts, byte caps (on the wire and after gzip) and checked redirects.

    `transport` is injected (httpx.MockTransport in tests); the default is `guarded_transport`.
    """

    def __init__(
        self,
        allowed_origins: Iterable[str],
        *,
        transport: httpx.BaseTransport | None = None,
        allow_insecure_loopback: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        total_timeout: float = 20.0,
        max_bytes: int = MAX_STATUS_LIST_TOKEN_BYTES,
        max_redirects: int = 3,
    ) -> None:
        self.allow_insecure_loopback = allow_insecure_loopback
        self.allowed_origins = frozenset(origin_of(o) for o in allowed_origins)
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._client = httpx.Client(
            transport=transport or guarded_transport(allow_loopback=allow_insecure_loopback),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": "aigov-verifier"},
        )

    def close(self) -> None:
        self._client.close()

    def allow(self, origin: str) -> None:
        """Add an origin to the allow-list (the trust changed: a newly accredited issuer's host)."""
        self.allowed_origins = self.allowed_origins | {origin_of(origin)}

    def check_url(self, url: str) -> httpx.URL:
        """The parsed URL if policy allows fetching it; FetchError (retrieval) otherwise."""
        parsed = _parse_url(url)
        origin = origin_of(parsed)
        scheme, host = parsed.scheme.lower(), parsed.host.lower()
        if scheme not in ("https", "http"):
            raise FetchError(
                f"refusing {scheme or 'scheme-less'} URL {_short(url)!r}: only https is fetched", url=url
            )
        if parsed.userinfo:
            raise FetchError(f"refusing {_short(url)!r}: credentials in a URL are never sent", url=url)
        if scheme == "http" and not (self.allow_insecure_loopback and is_loopback_host(host)):
            hint = (
                "" if is_loopback_host(host) else " (plain http is allowed only to loopback, in development)"
            )
            raise FetchError(f"refusing plain-http URL {_short(url)!r}: only https is fetched{hint}", url=url)
        try:
            problem = address_problem(host, allow_loopback=self.allow_insecure_loopback)
        except ValueError:
            problem = None  # a name: checked when it is resolved, at connect time
        if problem:
            raise FetchError(f"refusing {_short(url)!r}: {problem}", url=url)
        if origin not in self.allowed_origins:
            raise FetchError(
                f"refusing {_short(url)!r}: {origin} is not a trusted origin (the registry, a pinned issuer's "
                "host, or one allowed explicitly); a credential cannot add origins",
                url=url,
            )
        return parsed

    def get(
        self, url: str, *, accept: Sequence[str], etag: str | None = None, max_bytes: int | None = None
    ) -> Fetched:
        """GET `url`, following at most `max_redirects` redirects, each re-checked, all within `total_timeout`
        (connecting, headers, every redirect and the body); raises FetchError."""
        deadline = time.monotonic() + self.total_timeout
        started = _DEADLINE.set(deadline)  # read by the guarded transport's every socket operation
        try:
            return self._get(
                url, accept=accept, etag=etag, cap=max_bytes or self.max_bytes, deadline=deadline
            )
        finally:
            _DEADLINE.reset(started)

    def _get(
        self, url: str, *, accept: Sequence[str], etag: str | None, cap: int, deadline: float
    ) -> Fetched:
        current = url
        for _ in range(self.max_redirects + 1):
            parsed = self.check_url(current)
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._too_slow(url, current)
            headers = {"Accept": ", ".join(accept), "Accept-Encoding": "gzip"}
            if etag:
                headers["If-None-Match"] = etag
            # No step of a hop (waiting for a pooled connection included) may take longer than what is left.
            # The guarded transport also cuts every socket operation to the deadline; an injected transport is
            # held to it per operation, before each hop and between chunks of the body.
            connect, read = min(self._connect_timeout, left), min(self._read_timeout, left)
            timeout = httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
            try:
                with self._client.stream("GET", parsed, headers=headers, timeout=timeout) as response:
                    if response.status_code in _REDIRECTS:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"{_short(current)} redirected without a Location", url=url)
                        current = str(parsed.join(location))
                        continue
                    return self._answer(url, current, response, accept=accept, cap=cap, deadline=deadline)
            except httpx.TimeoutException as e:
                if time.monotonic() >= deadline:
                    raise self._too_slow(url, current) from None
                raise FetchError(f"{_short(current)} timed out ({type(e).__name__})", url=url) from None
            except httpx.HTTPError as e:
                raise FetchError(
                    f"cannot retrieve {_short(current)}: {_short(str(e)) or type(e).__name__}", url=url
                ) from None
        raise FetchError(f"{_short(url)}: more than {self.max_redirects} redirects", url=url)

    def _too_slow(self, url: str, current: str) -> FetchError:
        where = "" if current == url else f" (redirected to {_short(current)})"
        return FetchError(
            f"{_short(url)}{where}: not received within {self.total_timeout:g} s, the total timeout", url=url
        )

    def _answer(
        self,
        url: str,
        current: str,
        response: httpx.Response,
        *,
        accept: Sequence[str],
        cap: int,
        deadline: float,
    ) -> Fetched:
        etag = response.headers.get("etag")
        cache_control = CacheControl.parse(response.headers.get("cache-control"))
        if response.status_code == 304:
            return Fetched(current, 304, b"", etag, cache_control)
        if response.status_code != 200:
            raise FetchError(
                f"{_short(current)} answered HTTP {response.status_code}",
                url=url,
                status=response.status_code,
                final_url=current,
                problem_document=_problem_document(response, url=url, deadline=deadline),
            )
        media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type not in accept:
            raise FetchError(
                f"{_short(current)} answered {media_type or 'no content type'}, not {' or '.join(accept)}",
                url=url,
            )
        body = _read_capped(response, url=url, cap=cap, deadline=deadline, total=self.total_timeout)
        return Fetched(current, 200, body, etag, cache_control)


def _problem_document(response: httpx.Response, *, url: str, deadline: float) -> dict[str, Any] | None:
    """The RFC 9457 body of an error answer, if it is a small `application/problem+json` object; else None."""
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != PROBLEM_JSON:
        return None
    try:
        body = _read_capped(response, url=url, cap=_MAX_PROBLEM_BYTES, deadline=deadline, total=0)
        return _json_object(body)
    except (FetchError, httpx.HTTPError, httpx.StreamError, ValueError):
        return None  # an unreadable problem says nothing: the caller treats the answer as opaque


def _read_capped(response: httpx.Response, *, url: str, cap: int, deadline: float, total: float) -> bytes:
    """The body, at most `cap` bytes on the wire and after Content-Encoding, within the total deadline."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise FetchError(f"{_short(url)}: unsupported Content-Encoding {_short(encoding)!r}", url=url)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(f"{_short(url)}: {int(declared):,} bytes is over the {cap:,}-byte cap", url=url)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
    body = bytearray()
    wire = 0
    for chunk in response.iter_raw():
        wire += len(chunk)
        if wire > cap:
            raise FetchError(f"{_short(url)}: the answer is over the {cap:,}-byte cap", url=url)
        if time.monotonic() > deadline:
            raise FetchError(f"{_short(url)}: not received within {total:g} s, the total timeout", url=url)
        if inflater is None:
            body += chunk
            continue
        try:
            # max_length bounds what one chunk may expand to: a gzip bomb stops at the cap.
            body += inflater.decompress(chunk, cap - len(body) + 1)
        except zlib.error as e:
            raise FetchError(f"{_short(url)}: corrupt gzip body ({e})", url=url) from None
        if len(body) > cap or inflater.unconsumed_tail:
            raise FetchError(f"{_short(url)}: the gzip body expands beyond the {cap:,}-byte cap", url=url)
    if inflater is not None and not inflater.eof:
        raise FetchError(f"{_short(url)}: truncated gzip body", url=url)
    return bytes(body)


# -- the cache ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Entry:
    """A cached answer: the verified value, or the error that stands in for it until `fresh_until`; `note` says
    why the value is not what the answer said (an older trust list refused)."""

    fresh_until: datetime
    etag: str | None = None
    body: bytes = b""
    value: Any = None
    error: FetchError | None = None
    generation: int = 0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class _HeldStatus:
    """The newest copy of a status list verified so far, made from `bodies` (more than one when copies signed in
    the same second were merged) under the trust of `generation`."""

    snapshot: StatusSnapshot
    bodies: tuple[bytes, ...]
    generation: int


class _Cache:
    """URL → entry on the injected clock, with one loader at a time per URL (single flight)."""

    def __init__(self, clock: Clock, *, max_entries: int = 4096) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._max = max_entries

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()

    def fresh(self, url: str, generation: int) -> _Entry | None:
        entry = self._entries.get(url)
        if entry is not None and entry.generation == generation and self._clock() < entry.fresh_until:
            return entry
        return None

    def get(self, url: str, generation: int, load: Callable[[_Entry | None], tuple[_Entry, bool]]) -> _Entry:
        """The fresh entry for `url`, else `load(stale_or_none)` → (entry, store?) under the URL's lock."""
        entry = self.fresh(url, generation)
        if entry is not None:
            return entry
        with self._guard:
            lock = self._locks.setdefault(url, threading.Lock())
        with lock:
            entry = self.fresh(url, generation)  # another thread may have loaded it while we waited
            if entry is not None:
                return entry
            entry, store = load(self._entries.get(url))
            with self._guard:
                if store:
                    if url not in self._entries and len(self._entries) >= self._max:
                        oldest = next(iter(self._entries))
                        del self._entries[oldest]
                        self._locks.pop(oldest, None)
                    self._entries[url] = entry
                else:
                    self._entries.pop(url, None)
            return entry


def _lifetime(cache_control: CacheControl, ttl_ms: object, default: timedelta) -> timedelta:
    """How long an answer stays fresh: the shorter of max-age and the list's `ttl` (milliseconds, §2.2)."""
    if cache_control.no_cache:
        return timedelta(0)
    candidates = []
    if cache_control.max_age is not None:
        candidates.append(timedelta(seconds=cache_control.max_age))
    if isinstance(ttl_ms, int) and not isinstance(ttl_ms, bool) and ttl_ms >= 0:
        candidates.append(timedelta(milliseconds=min(ttl_ms, 10**12)))
    return min(candidates) if candidates else default


# -- online verification -----------------------------------------------------------------------------------------
class _OnlineTrust(TrustStore):
    """The verifier's TrustStore, viewed for one verification: status snapshots come from the network.

    Shares the base store's state (a shallow copy of its attributes); `_Run` asks for a snapshot only after
    the credential's signature verified, so a forged credential makes no request at all.
    """

    def __init__(self, base: TrustStore, lookup: Callable[[str], StatusSnapshot | FetchError]) -> None:
        self.__dict__.update(base.__dict__)
        self._lookup = lookup
        self.failures: dict[str, FetchError] = {}

    def snapshot_age_problem(self, url: str, now: datetime) -> tuple[str, str] | None:
        return None  # fetched now, kept no longer than its ttl / Cache-Control allow

    def status_snapshot(self, url: str) -> StatusSnapshot | None:
        found = self._lookup(url)
        if isinstance(found, FetchError):
            self.failures[url] = found
            return None
        return found


def _status_problem(snapshot: StatusSnapshot) -> str:
    found = {c.problem for c in snapshot.result.problems}
    return (
        problems.STATUS_LIST_LENGTH_ERROR
        if problems.STATUS_LIST_LENGTH_ERROR in found
        else problems.STATUS_VERIFICATION_ERROR
    )


def _ttl_of(snapshot: StatusSnapshot) -> object:
    subject = (snapshot.result.credential or {}).get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    return subject.get("ttl") if isinstance(subject, dict) else None


def cannot_tell(
    name: str, detail: str, problem: str, credential: dict[str, Any] | None = None
) -> VerificationResult:
    """An `indeterminate` result whose check `name` could not be made; the others say why they were not."""
    checks = []
    for check in CHECK_NAMES:
        if check == name:
            checks.append(CheckResult(check, Outcome.INDETERMINATE, detail, problem))
        else:
            checks.append(CheckResult(check, Outcome.SKIPPED, f"not checked: {name} could not be done"))
    return VerificationResult(
        Verdict.INDETERMINATE,
        tuple(checks),
        f"cannot tell whether this credential is valid: {detail}",
        credential,
    )


def _unknown_credential(registry: str, credential_id: uuid.UUID, status: int) -> VerificationResult:
    """`invalid`: the trusted registry answered that it holds no certificate with this id."""
    detail = f"the registry {registry} has no certificate {credential_id} (HTTP {status})"
    checks = [CheckResult("parse", Outcome.FAILED, detail, problems.UNKNOWN_CREDENTIAL)]
    checks += [
        CheckResult(name, Outcome.SKIPPED, "not checked: there is no such certificate")
        for name in CHECK_NAMES[1:]
    ]
    return VerificationResult(
        Verdict.INVALID,
        tuple(checks),
        f"no such certificate: {detail}; the id is wrong or was never issued by this registry",
    )


class OnlineVerifier:
    """Verify credentials against a registry: status lists (and the trust list, key documents) fetched, cached
    and verified on the way. Thread-safe; one instance serves a whole batch (each list is fetched once).

    Trust comes from `trust` (pinned DID documents) and, when `scheme_owner` is given, from the registry's
    trust list signed by that key (`scheme_owner`: the scheme owner's DID document, or its key's RFC 7638
    thumbprint, whose DID document is then fetched from the registry and only that key pinned).
    """

    def __init__(
        self,
        registry_url: str,
        *,
        trust: TrustStore | None = None,
        scheme_owner: Mapping[str, Any] | str | None = None,
        allowed_origins: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        allow_insecure_loopback: bool = False,
        max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
        allow_legacy: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        total_timeout: float = 20.0,
        default_lifetime: timedelta = timedelta(seconds=60),
        failure_lifetime: timedelta = timedelta(seconds=30),
        trust_list_path: str = TRUST_LIST_PATH,
    ) -> None:
        self.registry_url = registry_url.rstrip("/")
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._base = trust or TrustStore()
        self._trust = self._base
        self._generation = 0
        self._skew = max_clock_skew
        self._allow_legacy = allow_legacy
        self._default_lifetime = default_lifetime
        self._failure_lifetime = failure_lifetime
        self._scheme_owner = scheme_owner
        self._trust_list_url = self.registry_url + trust_list_path
        self._cache = _Cache(self._clock)
        self._trust_lock = threading.Lock()
        # Apart from the cache, which forgets on a failure or `no-store`: what must never be rolled back.
        self._held_trust: tuple[bytes, TrustStore] | None = None  # the newest trust list verified, its store
        self._held_status: dict[str, _HeldStatus] = {}
        self.fetcher = Fetcher(
            [self.registry_url, *allowed_origins, *self._issuer_origins(self._base)],
            transport=transport,
            allow_insecure_loopback=allow_insecure_loopback,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            total_timeout=total_timeout,
        )

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> OnlineVerifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def trust(self) -> TrustStore:
        """The trust store currently in force (the pinned one, plus the last trust list that verified)."""
        return self._trust

    # -- verification ------------------------------------------------------------------------------------------
    def verify(self, claim: str | bytes, *, now: datetime | None = None) -> VerificationResult:
        """Verify a compact JWS, a credential id (UUID or URL) or a credential URL at `now` (default: the clock)."""
        when = now or self._clock()
        token: str | bytes
        if _looks_like_jws(claim):
            token = claim
        else:
            text = claim.decode("utf-8", "replace") if isinstance(claim, bytes) else claim
            fetched = self._credential(text.strip())
            if isinstance(fetched, VerificationResult):
                return fetched
            token = fetched
        refreshed = self._refresh_trust()
        if isinstance(refreshed, VerificationResult):
            return refreshed
        view = _OnlineTrust(self._trust, self._status)
        result = verify(token, view, now=when, max_clock_skew=self._skew, allow_legacy=self._allow_legacy)
        if view.failures:
            result = _explain_failures(result, view.failures)
        return _with_note(result, "issuer_trust", refreshed) if refreshed else result

    def _credential(self, claim: str) -> str | VerificationResult:
        """The token of a credential named by id or URL, fetched from the registry (or an allowed origin).

        The registry's own "no such credential" is an answer, `invalid` (a made-up certificate id must not read
        as "cannot tell"); see `_is_registry_not_found` for what counts as one. Anything else that prevents
        retrieval (network, timeout, 5xx, any other 404) is `indeterminate`.
        """
        credential_id: uuid.UUID | None = None
        if _UUID.fullmatch(claim):
            credential_id = uuid.UUID(claim)
            url = f"{self.registry_url}/api/v1/credentials/{credential_id}/credential.jwt"
        else:
            url = claim
            try:
                parsed = httpx.URL(claim)
                match = _CREDENTIAL_PATH.fullmatch(parsed.path)
                if match and parsed.scheme in ("http", "https"):
                    credential_id = uuid.UUID(match.group(1))
                    base = str(parsed.copy_with(path="/", query=None, fragment=None)).rstrip("/")
                    url = f"{base}/api/v1/credentials/{credential_id}/credential.jwt"
            except (httpx.InvalidURL, ValueError, TypeError):
                pass
        try:
            fetched = self.fetcher.get(url, accept=VC_JWT_TYPES, max_bytes=DEFAULT_MAX_TOKEN_BYTES)
        except FetchError as e:
            if credential_id is not None and self._is_registry_not_found(e, credential_id):
                return _unknown_credential(self.registry_url, credential_id, 404)
            return cannot_tell(
                "parse", f"the credential could not be retrieved: {e}", problems.RETRIEVAL_ERROR
            )
        return fetched.body.decode("ascii", "replace")

    def _is_registry_not_found(self, error: FetchError, credential_id: uuid.UUID) -> bool:
        """Whether `error` is the registry itself saying it holds no credential `credential_id`.

        Only then is a certificate reported as non-existent; a 404 from anything else (a redirect to another
        allowed origin, a wrong --registry with a path prefix, a front end's HTML or text 404 page) says nothing
        about the certificate. So the answer must come, after any redirects, from the registry's origin, for
        exactly the registry's credential path of this id, as the registry's RFC 9457 not-found problem about
        that path (`instance`, which registry/problems.py always sets).
        """
        if error.status != 404 or error.final_url is None or error.problem_document is None:
            return False
        path = f"/api/v1/credentials/{credential_id}/credential.jwt"
        try:
            answered = httpx.URL(error.final_url)
            on_registry = origin_of(answered) == origin_of(self.registry_url)
        except (httpx.InvalidURL, ValueError, TypeError):
            return False
        document = error.problem_document
        return (
            on_registry
            and answered.path == path
            and document.get("type") == REGISTRY_NOT_FOUND
            and document.get("status") == 404
            and document.get("instance") == path
        )

    # -- status lists ------------------------------------------------------------------------------------------
    def _status(self, url: str) -> StatusSnapshot | FetchError:
        generation = self._generation
        entry = self._cache.get(url, generation, lambda stale: self._load_status(url, stale, generation))
        return entry.error or entry.value

    def _load_status(self, url: str, stale: _Entry | None, generation: int) -> tuple[_Entry, bool]:
        now = self._clock()
        try:
            fetched = self.fetcher.get(
                url, accept=VC_JWT_TYPES, etag=stale.etag if stale and stale.body else None
            )
        except FetchError as e:
            return _Entry(now + self._failure_lifetime, error=e, generation=generation), True
        if fetched.status == 304 and stale is not None and stale.body:
            body, etag = stale.body, fetched.etag or stale.etag
        else:
            body, etag = fetched.body, fetched.etag
        snapshot = stale.value if stale and stale.body == body and stale.generation == generation else None
        if not isinstance(snapshot, StatusSnapshot):
            snapshot = verify_status_list(body, self._trust)
            error = self._snapshot_error(url, snapshot)
            if error is not None:
                return _Entry(now + self._failure_lifetime, error=error, generation=generation), True
            snapshot = self._newest_status(url, body, snapshot, generation)
        fresh_until = now + _lifetime(fetched.cache_control, _ttl_of(snapshot), self._default_lifetime)
        if snapshot.valid_until is not None:
            # Not kept past its validUntil; one that has already expired is kept as a failure would be (the
            # verdict says it expired), not fetched again for every verification.
            fresh_until = min(fresh_until, max(snapshot.valid_until, now + self._failure_lifetime))
        entry = _Entry(fresh_until, etag, body, snapshot, generation=generation)
        return entry, not fetched.cache_control.no_store

    def _newest_status(
        self, url: str, body: bytes, snapshot: StatusSnapshot, generation: int
    ) -> StatusSnapshot:
        """The copy of the list at `url` to use, `snapshot` (just verified, from `body`) or the one held, by the
        offline store's rule (`TrustStore.add_status_list`): an older copy served after a newer one must not hide
        a revocation. Runs under the cache's lock for `url`."""
        held = self._held_status.get(url)
        known, bodies = (held.snapshot, held.bodies) if held else (None, ())
        if held is not None and held.generation != generation:
            # Verified under other trust (since then a key may be compromised, a body withdrawn): again.
            known = None
            for copy in bodies:
                known = newest_snapshot(known, verify_status_list(copy, self._trust))
        kept = newest_snapshot(known, snapshot)
        if kept is snapshot:
            bodies = (body,)
        elif kept is not known and body not in bodies:  # merged with a copy signed in the same second
            bodies = (*bodies, body)
        self._held_status[url] = _HeldStatus(kept, bodies, generation)
        return kept

    @staticmethod
    def _snapshot_error(url: str, snapshot: StatusSnapshot) -> FetchError | None:
        if snapshot.bits is None:
            first = snapshot.result.problems[0] if snapshot.result.problems else None
            reason = f"{first.name}: {first.detail}" if first else "it did not verify"
            return FetchError(
                f"the status list at {_short(url)} did not verify ({reason})",
                url=url,
                problem=_status_problem(snapshot),
            )
        if snapshot.url != url:
            return FetchError(
                f"the status list at {_short(url)} says it is {_short(snapshot.url)}",
                url=url,
                problem=problems.STATUS_VERIFICATION_ERROR,
            )
        return None

    # -- the trust list and key documents ----------------------------------------------------------------------
    @staticmethod
    def _issuer_origins(trust: TrustStore) -> list[str]:
        """The did:web hosts of pinned and accredited issuers: where their status lists may live."""
        dids = [issuer.id for issuer in trust.issuers]
        if trust.trust_list is not None:
            dids += [entry.id for entry in trust.trust_list.credential_subject.issuers]
        origins = []
        for did in dids:
            try:
                origins.append(origin_of(did_web_url(did)))
            except (DidError, ValueError):
                continue  # not a did:web issuer: it has no host of its own
        return origins

    def _refresh_trust(self) -> VerificationResult | str | None:
        """Fetch (or reuse) the trust list when a scheme owner is pinned: a result when trust cannot be had, else
        a note for the issuer_trust check when the registry's answer was refused (an older version)."""
        if self._scheme_owner is None:
            return None
        entry = self._cache.get(self._trust_list_url, 0, self._load_trust_list)
        if entry.error is not None:
            return cannot_tell(
                "issuer_trust", f"cannot check the issuer's accreditation: {entry.error}", entry.error.problem
            )
        if entry.value is not self._trust:
            with self._trust_lock:
                if entry.value is not self._trust:
                    self._trust = entry.value
                    self._generation += 1
                    for origin in self._issuer_origins(self._trust):
                        self.fetcher.allow(origin)
        return entry.note

    def _scheme_owner_store(self) -> TrustStore:
        """A store with the pinned issuers and the scheme owner (a thumbprint's key read from the registry)."""
        owner = self._scheme_owner
        try:
            if isinstance(
                owner, str
            ):  # a thumbprint: only the key with it is taken from the registry's document
                fetched = self.fetcher.get(self.registry_url + "/.well-known/did.json", accept=JSON_TYPES)
                did, keys = owner_keys_by_fingerprint(_json_object(fetched.body), owner)
            else:
                did = str(owner.get("id")) if owner is not None else ""
                keys = parse_did_document(owner, expected_did=did)
        except (KeysError, ValueError) as e:
            raise FetchError(
                f"the scheme owner's key cannot be pinned: {e}",
                url=self.registry_url + "/.well-known/did.json",
                problem=problems.STATUS_VERIFICATION_ERROR,
            ) from None
        store = TrustStore()
        for issuer in self._base.issuers:
            store.add_issuer(issuer.id, issuer.keys.values(), name=issuer.name)
        store.pin_scheme_owner(did, keys)
        return store

    def _load_trust_list(self, stale: _Entry | None) -> tuple[_Entry, bool]:
        url = self._trust_list_url
        try:
            fetched = self.fetcher.get(
                url, accept=VC_JWT_TYPES, etag=stale.etag if stale and stale.body else None
            )
            if fetched.status == 304 and stale is not None and stale.body:
                store, body, note = stale.value, stale.body, stale.note
            else:
                body = fetched.body
                store, note = self._trust_from(body)
        except FetchError as e:
            return _Entry(self._clock() + self._failure_lifetime, error=e), True
        fresh_until = self._clock() + _lifetime(fetched.cache_control, None, self._default_lifetime)
        entry = _Entry(fresh_until, fetched.etag, body, store, note=note)
        return entry, not fetched.cache_control.no_store

    def _trust_from(self, body: bytes) -> tuple[TrustStore, str | None]:
        """The store to use now that the registry answered trust list `body`, and a note when it was refused.

        The new store starts from the newest list verified so far, so that `TrustStore.add_trust_list`'s rule
        decides: an older version (a stale cache or CDN edge, a replayed copy still within its validUntil) never
        displaces it, and a withdrawal or a compromise once seen is not forgotten. Runs under the cache's lock
        for the trust list.
        """
        url = self._trust_list_url
        held = self._held_trust
        if held is not None and held[0] == body:
            return held[1], None
        store = self._scheme_owner_store()
        if held is not None:
            store.add_trust_list(held[0])
        # Without `now`: the list's validity window is checked at each verification, so a list that expires
        # while cached gives `indeterminate` rather than being used.
        checked = store.add_trust_list(body)
        offered = checked.trust_list
        if offered is None:
            problem = checked.problems[0] if checked.problems else None
            reason = f"{problem.name}: {problem.detail}" if problem else checked.summary
            raise FetchError(
                f"the trust list at {url} did not verify ({reason})",
                url=url,
                problem=problem.problem
                if problem and problem.problem
                else problems.STATUS_VERIFICATION_ERROR,
            )
        kept = store.trust_list
        if held is not None and kept is not None and kept is not offered:
            return held[1], (
                f"{url} served trust list version {offered.version}, older than version {kept.version} already "
                f"verified, which is kept"
            )
        self._held_trust = (body, store)
        return store, None


def _json_object(body: bytes) -> dict[str, Any]:
    from verifier._json import loads  # noqa: PLC0415

    value = loads(body, "document")
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _looks_like_jws(claim: str | bytes) -> bool:
    text = claim if isinstance(claim, bytes) else claim.encode("utf-8", "replace")
    text = text.strip()
    return text.count(b".") == 2 and text[:2] == b"ey"


def _with_note(result: VerificationResult, name: str, note: str) -> VerificationResult:
    """`result` with `note` added to the detail of its check `name`, unless that check was not made."""
    checks = tuple(
        check._replace(detail=f"{check.detail} ({note})")
        if check.name == name and check.outcome is not Outcome.SKIPPED
        else check
        for check in result.checks
    )
    return replace(result, checks=checks)


def _explain_failures(result: VerificationResult, failures: Mapping[str, FetchError]) -> VerificationResult:
    """Replace the offline verifier's "no snapshot of URL" with why the list could not be obtained."""
    checks = list(result.checks)
    for i, check in enumerate(checks):
        if check.outcome is not Outcome.INDETERMINATE or not check.name.startswith("status"):
            continue
        for url, error in failures.items():
            if check.detail.endswith(f"no snapshot of {url}"):
                purpose = check.name.partition(".")[2] or "status"
                checks[i] = CheckResult(
                    check.name, Outcome.INDETERMINATE, f"{purpose} status unknown: {error}", error.problem
                )
    summary = result.summary
    if result.verdict is Verdict.INDETERMINATE:
        first = next(c for c in checks if c.outcome is Outcome.INDETERMINATE)
        summary = f"cannot tell whether this credential is valid: {first.detail}"
    return replace(result, checks=tuple(checks), summary=summary)
