"""The online fetcher's policy: trusted origins only, https only, no private addresses (at connect time too),
redirects re-checked, timeouts, byte caps on the wire and after Content-Encoding gzip."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from verifier import OnlineVerifier, is_loopback_host, problems
from verifier._online import (
    Fetcher,
    FetchError,
    GuardedBackend,
    address_problem,
    guarded_transport,
    origin_of,
)

REGISTRY = "https://registry.example"
JWT = ("application/vc+jwt",)


def fetcher(handler: Callable[[httpx.Request], httpx.Response], **options: object) -> Fetcher:
    return Fetcher([REGISTRY, *options.pop("extra", ())], transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


def ok(body: bytes = b"eyJ.x.y", **headers: str) -> httpx.Response:
    """A 200 streamed as a server would send it (content= would be read, and gzip-decoded, by httpx itself)."""
    return httpx.Response(
        200, stream=httpx.ByteStream(body), headers={"content-type": "application/vc+jwt", **headers}
    )


def refused(f: Fetcher, url: str, phrase: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        f.get(url, accept=JWT)
    assert phrase in str(caught.value), str(caught.value)
    assert caught.value.problem == problems.STATUS_RETRIEVAL_ERROR
    return caught.value


# -- addresses ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "phrase"),
    [
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - the address under test, not a bind
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT (RFC 6598)
        ("::ffff:10.0.0.1", "wrapped in IPv6"),
        ("::ffff:8.8.8.8", "wrapped in IPv6"),  # a mapped public address is still refused: never ambiguous
        ("2002:a00:1::", "wrapped in IPv6"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", "NAT64"),
    ],
)
def test_non_public_addresses_are_refused(address: str, phrase: str) -> None:
    problem = address_problem(address)
    assert problem is not None
    assert phrase in problem


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


def test_loopback_only_with_the_development_option() -> None:
    assert address_problem("127.0.0.1", allow_loopback=True) is None
    assert address_problem("10.0.0.1", allow_loopback=True) is not None


# -- URLs --------------------------------------------------------------------------------------------------------
def test_fetches_from_a_trusted_origin() -> None:
    f = fetcher(lambda request: ok(etag='"v1"', **{"cache-control": "max-age=60"}))
    fetched = f.get(f"{REGISTRY}/status/1", accept=JWT)
    assert (fetched.status, fetched.body, fetched.etag, fetched.cache_control.max_age) == (
        200,
        b"eyJ.x.y",
        '"v1"',
        60,
    )


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("https://evil.example/status/1", "not a trusted origin"),
        ("https://registry.example:8443/status/1", "not a trusted origin"),  # another port is another origin
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.0.0.5/status/1", "private"),
        ("https://[::ffff:127.0.0.1]/status/1", "wrapped in IPv6"),
        ("file:///etc/passwd", "only https"),
        ("ftp://registry.example/status/1", "only https"),
        ("http://registry.example/status/1", "plain-http"),
        ("http://127.0.0.1:8000/status/1", "plain-http"),  # loopback http needs the development option
        ("https://user:pw@registry.example/status/1", "credentials in a URL"),
        ("not a url at all", "only https"),
    ],
)
def test_refused_urls_make_no_request(url: str, phrase: str) -> None:
    seen: list[httpx.Request] = []
    f = fetcher(lambda request: seen.append(request) or ok())  # type: ignore[func-returns-value]
    refused(f, url, phrase)
    assert seen == []


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("https://[::1", "Invalid port"),
        ("https://0177.0.0.1", "Invalid IPv4 address"),  # octal-looking: refused, never guessed
        ("https://registry.example:99999", "port 99999 is outside 1-65535"),
    ],
)
def test_a_url_that_does_not_parse_is_a_fetch_error_and_a_value_error(url: str, phrase: str) -> None:
    """httpx's InvalidURL is not a ValueError: callers (the CLI) catch ValueError or FetchError, and get both."""
    for build in (
        lambda: origin_of(url),
        lambda: Fetcher([url]),
        lambda: OnlineVerifier(url),
        lambda: OnlineVerifier(REGISTRY, allowed_origins=[url]),
    ):
        with pytest.raises(ValueError, match=phrase) as caught:
            build()
        assert isinstance(caught.value, FetchError)
        assert str(caught.value).startswith(f"not a usable URL: {url!r}")
        assert caught.value.url == url
    refused(fetcher(lambda request: ok()), url, "not a usable URL")


def test_plain_http_to_loopback_with_the_development_option() -> None:
    f = Fetcher(
        ["http://127.0.0.1:8000"], transport=httpx.MockTransport(lambda r: ok()), allow_insecure_loopback=True
    )
    assert f.get("http://127.0.0.1:8000/status/1", accept=JWT).status == 200
    refused(f, "http://registry.example/status/1", "plain-http")


@pytest.mark.parametrize(
    ("location", "phrase"),
    [
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://evil.example/status/1", "not a trusted origin"),
        ("http://registry.example/status/1", "plain-http"),
        ("file:///etc/passwd", "only https"),
        ("https://10.1.2.3/x", "private"),
    ],
)
def test_every_redirect_is_rechecked(location: str, phrase: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": location})

    refused(fetcher(handler), f"{REGISTRY}/status/1", phrase)
    assert seen == [f"{REGISTRY}/status/1"]


def test_redirects_within_trusted_origins_are_followed_a_bounded_number_of_times() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status/1":
            return httpx.Response(301, headers={"location": "/status/1b"})
        return ok(b"eyJ.moved.y")

    assert fetcher(handler).get(f"{REGISTRY}/status/1", accept=JWT).body == b"eyJ.moved.y"
    loop = fetcher(lambda request: httpx.Response(307, headers={"location": str(request.url)}))
    refused(loop, f"{REGISTRY}/status/1", "more than 3 redirects")


# -- answers -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "phrase"),
    [
        (httpx.Response(500, text="boom"), "answered HTTP 500"),
        (httpx.Response(404), "answered HTTP 404"),
        (httpx.Response(200, html="<html>login</html>"), "answered text/html"),
        (httpx.Response(200, stream=httpx.ByteStream(b"eyJ")), "no content type"),
        (httpx.Response(302), "without a Location"),
        (ok(b"x", **{"content-encoding": "br"}), "unsupported Content-Encoding"),
        (ok(b"x" * 100, **{"content-length": str(10**9)}), "over the"),
    ],
)
def test_unusable_answers(response: httpx.Response, phrase: str) -> None:
    refused(fetcher(lambda request: response), f"{REGISTRY}/status/1", phrase)


def problem_answer(body: bytes, status: int = 404, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, stream=httpx.ByteStream(body), headers={"content-type": "application/problem+json", **headers}
    )


def test_an_error_answer_says_which_url_gave_it_and_its_problem() -> None:
    """`url` is what was asked for; `final_url` the URL that answered after redirects (here another allowed
    origin), with its RFC 9457 problem when it sent one."""
    mirror = "https://mirror.example"
    problem = {"type": "urn:aigov:problem:not-found", "status": 404, "instance": "/c/1"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "registry.example":
            return httpx.Response(302, headers={"location": f"{mirror}/c/1"})
        return problem_answer(gzip.compress(json.dumps(problem).encode()), **{"content-encoding": "gzip"})

    error = refused(fetcher(handler, extra=[mirror]), f"{REGISTRY}/status/1", "answered HTTP 404")
    assert (error.url, error.final_url, error.status) == (f"{REGISTRY}/status/1", f"{mirror}/c/1", 404)
    assert error.problem_document == problem


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(404, text='{"type": "x"}'), id="not problem+json"),
        pytest.param(problem_answer(b'{"pad": "' + b"x" * 20_000 + b'"}'), id="over 16 KiB"),
        pytest.param(problem_answer(b"[]"), id="not an object"),
        pytest.param(problem_answer(b"\x00\xff"), id="not JSON"),
        pytest.param(problem_answer(b"\x1f\x8b\x08junk", **{"content-encoding": "gzip"}), id="corrupt gzip"),
    ],
)
def test_an_unusable_problem_body_is_dropped_not_raised(response: httpx.Response) -> None:
    error = refused(fetcher(lambda request: response), f"{REGISTRY}/status/1", "answered HTTP 404")
    assert (error.status, error.final_url, error.problem_document) == (404, f"{REGISTRY}/status/1", None)


def test_no_answer_has_no_final_url() -> None:
    error = refused(fetcher(lambda request: ok()), "https://evil.example/x", "not a trusted origin")
    assert (error.status, error.final_url, error.problem_document) == (None, None, None)


def test_byte_cap_on_the_wire() -> None:
    refused(
        fetcher(lambda request: ok(b"a" * 5000), max_bytes=4096), f"{REGISTRY}/status/1", "4,096-byte cap"
    )


def test_gzip_content_encoding_is_decoded_within_the_cap() -> None:
    body = b"eyJ." + b"a" * 3000 + b".sig"
    f = fetcher(lambda request: ok(gzip.compress(body), **{"content-encoding": "gzip"}), max_bytes=4096)
    assert f.get(f"{REGISTRY}/status/1", accept=JWT).body == body


def test_gzip_bomb_in_content_encoding_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB in about 64 KB
    assert len(bomb) < 100_000
    f = fetcher(lambda request: ok(bomb, **{"content-encoding": "gzip"}), max_bytes=1024 * 1024)
    started = time.monotonic()
    refused(f, f"{REGISTRY}/status/1", "expands beyond the 1,048,576-byte cap")
    assert time.monotonic() - started < 1.0


def test_truncated_gzip_body() -> None:
    truncated = gzip.compress(b"eyJ.a.b" * 100)[:-12]
    refused(
        fetcher(lambda r: ok(truncated, **{"content-encoding": "gzip"})), f"{REGISTRY}/s", "truncated gzip"
    )


def test_an_etag_is_sent_and_a_304_comes_back_empty() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["if-none-match"] == '"v1"'
        return httpx.Response(304, headers={"etag": '"v1"', "cache-control": "max-age=5"})

    fetched = fetcher(handler).get(f"{REGISTRY}/status/1", accept=JWT, etag='"v1"')
    assert (fetched.status, fetched.body, fetched.cache_control.max_age) == (304, b"", 5)


# -- the real transport: address checks at connect time, timeouts --------------------------------------------------
@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """A one-connection-at-a-time TCP server on 127.0.0.1 running `serve(connection)`; yields the starter."""
    sockets: list[socket.socket] = []

    def start(serve: Callable[[socket.socket], None]) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(10)
        sockets.append(listener)

        def loop() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                with connection, contextlib.suppress(OSError):
                    serve(connection)

        threading.Thread(target=loop, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in sockets:
        listener.close()


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _answer(body: bytes) -> Callable[[socket.socket], None]:
    def serve(connection: socket.socket) -> None:
        request = _read_request(connection)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/vc+jwt\r\ncontent-length: %d\r\n"
            b"x-host: %s\r\n\r\n%s" % (len(body), request.split(b"\r\nhost: ")[-1].split(b"\r\n")[0], body)
        )

    return serve


def test_guarded_transport_refuses_loopback_without_the_option(raw_server) -> None:  # type: ignore[no-untyped-def]
    port = raw_server(_answer(b"eyJ.a.b"))
    origin = f"http://127.0.0.1:{port}"
    # The URL check is lifted (allowed origin, development option) to show the socket-level check on its own.
    f = Fetcher([origin], transport=guarded_transport(allow_loopback=False), allow_insecure_loopback=True)
    refused(f, f"{origin}/status/1", "127.0.0.1 is a loopback address")
    f.close()


def test_a_name_is_checked_when_resolved_and_the_checked_address_is_the_one_connected(raw_server) -> None:  # type: ignore[no-untyped-def]
    port = raw_server(_answer(b"eyJ.a.b"))
    resolved: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        resolved.append(host)
        return {"rebind.localhost": ["127.0.0.1"], "evil.localhost": ["127.0.0.1", "10.0.0.7"]}[host]

    transport = guarded_transport(allow_loopback=True, resolver=resolver)
    good = Fetcher([f"http://rebind.localhost:{port}", f"http://evil.localhost:{port}"], transport=transport)
    good.allow_insecure_loopback = (
        True  # names under .localhost are loopback by RFC 6761; the option is explicit
    )
    with pytest.raises(FetchError, match="plain-http"):  # a name that is not literally loopback needs https
        good.get(f"http://rebind.localhost:{port}/status/1", accept=JWT)
    # Through the backend directly: every address of a name is checked, and the connection goes to the checked one.
    backend = GuardedBackend(allow_loopback=True, resolver=resolver)
    with pytest.raises(Exception, match=r"10\.0\.0\.7 is a private address"):
        backend.connect_tcp("evil.localhost", port)
    stream = backend.connect_tcp("rebind.localhost", port)
    stream.write(b"GET / HTTP/1.1\r\nhost: rebind.localhost\r\n\r\n")
    assert b"x-host: rebind.localhost" in stream.read(4096)
    stream.close()
    assert resolved == ["evil.localhost", "rebind.localhost"]
    good.close()


def test_a_slow_server_times_out_within_bounded_time(raw_server) -> None:  # type: ignore[no-untyped-def]
    def silent(connection: socket.socket) -> None:
        _read_request(connection)
        time.sleep(3)

    port = raw_server(silent)
    origin = f"http://127.0.0.1:{port}"
    f = Fetcher([origin], allow_insecure_loopback=True, read_timeout=0.3, total_timeout=1.0)
    started = time.monotonic()
    refused(f, f"{origin}/status/1", "timed out")
    assert time.monotonic() - started < 1.5
    f.close()


def test_a_dripping_server_is_cut_off_at_the_total_deadline(raw_server) -> None:  # type: ignore[no-untyped-def]
    def drip(connection: socket.socket) -> None:
        _read_request(connection)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/vc+jwt\r\ncontent-length: 100000\r\n\r\n"
        )
        for _ in range(40):
            connection.sendall(b"a" * 10)
            time.sleep(0.05)

    port = raw_server(drip)
    origin = f"http://127.0.0.1:{port}"
    f = Fetcher([origin], allow_insecure_loopback=True, read_timeout=0.5, total_timeout=0.6)
    started = time.monotonic()
    refused(f, f"{origin}/status/1", "not received within 0.6 s")
    assert time.monotonic() - started < 1.5
    f.close()


def test_trickled_headers_are_cut_off_at_the_total_deadline(raw_server) -> None:  # type: ignore[no-untyped-def]
    """Each byte comes well within the read timeout; the headers as a whole would take 10 s."""
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/vc+jwt\r\nx-pad: " + b"a" * 40 + b"\r\n\r\n"

    def trickle(connection: socket.socket) -> None:
        _read_request(connection)
        for byte in answer:
            connection.sendall(bytes([byte]))
            time.sleep(0.1)

    port = raw_server(trickle)
    origin = f"http://127.0.0.1:{port}"
    f = Fetcher([origin], allow_insecure_loopback=True, read_timeout=0.5, total_timeout=1.0)
    started = time.monotonic()
    refused(f, f"{origin}/status/1", f"{origin}/status/1: not received within 1 s, the total timeout")
    assert time.monotonic() - started < 3
    f.close()


def test_slow_redirects_are_cut_off_at_the_total_deadline(raw_server) -> None:  # type: ignore[no-untyped-def]
    """Each hop answers within the read timeout; the six that five redirects allow would take 3.6 s."""

    def slow_redirect(connection: socket.socket) -> None:
        hop = int(_read_request(connection).split(b" ")[1].rsplit(b"/", 1)[1])
        time.sleep(0.6)
        connection.sendall(
            b"HTTP/1.1 302 Found\r\nlocation: /r/%d\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            % (hop + 1)
        )

    port = raw_server(slow_redirect)
    origin = f"http://127.0.0.1:{port}"
    f = Fetcher([origin], allow_insecure_loopback=True, read_timeout=1.0, total_timeout=1.0, max_redirects=5)
    started = time.monotonic()
    refused(f, f"{origin}/r/0", "not received within 1 s, the total timeout")
    assert time.monotonic() - started < 2.5
    f.close()


def test_a_body_cut_short_is_a_retrieval_error(raw_server) -> None:  # type: ignore[no-untyped-def]
    def short(connection: socket.socket) -> None:
        _read_request(connection)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/vc+jwt\r\ncontent-length: 1000\r\n\r\neyJ."
        )

    port = raw_server(short)
    origin = f"http://127.0.0.1:{port}"
    f = Fetcher([origin], allow_insecure_loopback=True, read_timeout=2)
    refused(f, f"{origin}/status/1", "cannot retrieve")
    f.close()


# -- what counts as loopback (verifier._hosts, shared by the fetcher, the badge checks and the CLI) ---------------
@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LocalHost", True),
        ("127.evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("localhost.evil.example", False),
        ("evil-localhost", False),
        ("[127.0.0.1]", False),  # brackets hold IPv6 only
        ("[localhost]", False),
        ("[]", False),
        ("::ffff:127.0.0.1", False),  # wrapped: refused by the fetcher, never "loopback"
        ("0.0.0.0", False),  # noqa: S104 - the address under test, not a bind
        ("10.0.0.1", False),
        ("127.1", False),  # shorthand is a name to ipaddress, and names are not loopback
        ("", False),
        ("[", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_plain_http_to_a_name_that_only_looks_loopback_is_refused() -> None:
    f = fetcher(lambda request: ok(), extra=["http://127.evil.example", "http://localhost.evil.example"])
    f.allow_insecure_loopback = True
    for url in ("http://127.evil.example/status/1", "http://localhost.evil.example/status/1"):
        refused(f, url, "plain http is allowed only to loopback")


def test_a_slow_name_lookup_is_cut_off_at_the_total_deadline() -> None:
    """getaddrinfo has no timeout of its own: a resolver that takes 5 s must not hold a 1 s fetch."""

    def slow(_host: str, _port: int) -> list[str]:
        time.sleep(5)
        return ["192.0.2.1"]

    transport = guarded_transport(resolver=slow)
    f = Fetcher(["https://slow-dns.example"], transport=transport, total_timeout=1.0)
    started = time.monotonic()
    refused(f, "https://slow-dns.example/status/1", "not received within 1 s, the total timeout")
    assert time.monotonic() - started < 2.5
    f.close()
