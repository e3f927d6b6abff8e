"""Rate limits: per client address on every endpoint but the status lists, and stricter on failed authentication.

Token buckets, in process memory: each bucket holds up to `burst` tokens and refills at `per_minute / 60` a
second; a request takes one token, and a request that finds none is answered `429` with `Retry-After` (the
seconds until a token is back), as an RFC 9457 problem. Failed authentication (a `401` to a request that
presented credentials) takes a token from a smaller bucket per address; while it is empty, every request
presenting credentials from that address is refused before the token is even read, so a guesser learns nothing.

There is deliberately no bucket per token id. The id (`aigov_<id>`) is public: the event log names the token that
acted by it. A bucket per id let anyone, from any address, freeze a certification body's token with a few wrong
secrets a minute, and so stop its revocations, while guarding nothing: the secret is 256 random bits, which no
number of addresses can guess.

Limits are per process: with `aigov serve --workers N` each worker keeps its own buckets, so a client may get
up to N times the configured rate (the load balancer or a shared store would be the place for exact global
limits; these are a brake against abuse, not a quota).

What is not limited: `GET /status/{id}` (status lists are the same signed bytes for everyone, served from
memory, meant to sit behind a CDN; a verifier that cannot fetch one must answer "indeterminate", so throttling
them would turn a revocation check into "cannot tell" for the very clients checking in bulk) and `/healthz`
(the load balancer's probe). The status lists are mostly answered ahead of this middleware anyway
(registry.app.RegistryApp); the exemption makes the rest, answered by the route, behave alike.

The client address is the TCP peer's (an IPv6 client's /64: see `bucket_key`). Behind a reverse proxy every request would come from the proxy's address,
so the proxy's addresses may be listed in `rate_limit_trusted_proxies`: only for a peer in that list is
`X-Forwarded-For` read, from the right, skipping trusted hops. The list is empty by default: a header any client
can write is never trusted unless the deployment says who wrote it.

Memory is bounded: at most `max_keys` buckets per kind, the least recently used dropped first (a dropped bucket
comes back full, so an attacker who floods the table with fresh addresses gains what fresh addresses give).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.problems import problem_response

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_EXEMPT_PREFIXES = ("/status/",)
_EXEMPT_PATHS = frozenset({"/healthz"})
_EXEMPT_METHODS = frozenset({"GET", "HEAD"})
_MAX_FORWARDED_HOPS = 16


class TokenBuckets:
    """Token buckets by key: `take(key)` returns 0.0 if a token was taken, else the seconds until one is back."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        # key -> (tokens, time of that count); most recently used last.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _level(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return self.burst
        tokens, then = found
        return min(self.burst, tokens + (now - then) * self.rate)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)

    def wait(self, key: str) -> float:
        """Seconds until `key` has a token (0.0 if it has one now); takes nothing."""
        level = self._level(key, self._clock())
        return 0.0 if level >= 1.0 else (1.0 - level) / self.rate

    def take(self, key: str) -> float:
        """Take a token for `key`: 0.0 if there was one, else the seconds until there will be (nothing taken)."""
        now = self._clock()
        level = self._level(key, now)
        if level < 1.0:
            self._store(key, level, now)
            return (1.0 - level) / self.rate
        self._store(key, level - 1.0, now)
        return 0.0

    def __len__(self) -> int:
        return len(self._buckets)


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks (`10.0.0.0/8`, `::1`) as networks; ValueError names a bad entry."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(scope: Scope, trusted_proxies: tuple[Network, ...]) -> str:
    """The client's address: the TCP peer's, or, if the peer is a trusted proxy, the nearest untrusted
    address of `X-Forwarded-For` read from the right (the hops a trusted proxy appended)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted_proxies:
        return str(peer)

    def trusted(text: str) -> bool:
        address = _address(text)
        return address is not None and any(address in network for network in trusted_proxies)

    if not trusted(peer):
        return str(peer)
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops.extend(value.decode("latin-1").split(","))
    hops = [hop.strip() for hop in hops[-_MAX_FORWARDED_HOPS:] if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            # What a trusted proxy wrote is an address; anything else means the header was not its own.
            return str(_address(hop) or peer)
    return str(peer)


def bucket_key(address: str) -> str:
    """The bucket an address draws from: IPv6 clients by /64, the block one subscriber is given (RFC 6177),
    so that the 2^64 addresses of one machine are not 2^64 fresh buckets; IPv4 by address."""
    if ":" not in address:  # IPv4 (or "unknown"): no parse on every request
        return address
    parsed = _address(address)
    if not isinstance(parsed, ipaddress.IPv6Address):
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return f"{int(parsed) >> 64:x}/64"  # the network's upper 64 bits; an IPv6Network object costs 30 µs


@dataclass(frozen=True)
class RateLimits:
    """The configured limits (see registry.config.Settings, `rate_limit_*`)."""

    per_minute: int
    burst: int
    auth_failures_per_minute: int
    auth_failures_burst: int
    trusted_proxies: tuple[Network, ...] = ()
    max_keys: int = 100_000


class RateLimit:
    """Pure ASGI middleware enforcing RateLimits (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, limits: RateLimits, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.limits = limits
        self.requests = TokenBuckets(
            per_minute=limits.per_minute, burst=limits.burst, max_keys=limits.max_keys, clock=clock
        )
        failures = {
            "per_minute": limits.auth_failures_per_minute,
            "burst": limits.auth_failures_burst,
            "max_keys": limits.max_keys,
            "clock": clock,
        }
        self.failures_by_address = TokenBuckets(**failures)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        # Exempt are reads only: a POST to a status list is a 405 like any other, and counts like any other.
        exempt = scope["type"] == "http" and scope["method"] in _EXEMPT_METHODS
        if scope["type"] != "http" or (
            exempt and (path in _EXEMPT_PATHS or path.startswith(_EXEMPT_PREFIXES))
        ):
            await self.app(scope, receive, send)
            return
        address = bucket_key(client_address(scope, self.limits.trusted_proxies))
        authorization = next((v for n, v in scope.get("headers", ()) if n == b"authorization"), None)
        if authorization is not None:
            wait = self.failures_by_address.wait(address)
            if wait > 0:
                await self._refuse(scope, receive, send, wait, "too many failed authentication attempts")
                return
        wait = self.requests.take(address)
        if wait > 0:
            await self._refuse(scope, receive, send, wait, "too many requests from this address")
            return
        if authorization is None:
            await self.app(scope, receive, send)
            return

        async def send_watching(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.failures_by_address.take(address)
            await send(message)

        await self.app(scope, receive, send_watching)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, wait: float, why: str) -> None:
        seconds = max(1, math.ceil(wait))
        response = problem_response(
            429,
            f"{why}; retry after {seconds} s",
            instance=scope.get("path", ""),
            headers={"Retry-After": str(seconds)},
        )
        await response(scope, receive, send)
