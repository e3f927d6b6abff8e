"""A cap on request bodies, and strict JSON, enforced before anything parses them.

A declared Content-Length over the cap is refused at once; a body sent without one (chunked) is counted as it
streams in and refused as soon as it passes the cap. Under the cap the body is buffered (it is at most
`max_bytes`) and replayed to the application.

A JSON body is first read by the verifier's strict parser (`verifier.parse_json`), the one that reads tokens:
duplicate members, NaN and Infinity, lone surrogates, text that is not UTF-8 and nesting beyond 200 levels are
a 400 `PARSING_ERROR` that says what is wrong. The framework's own parser would take the last of two `"level"`
members and sign it, while our verifier refuses the same duplicate in a token: a request that two readers could
understand differently is refused, not guessed at. A UTF-8 byte order mark is allowed (RFC 8259 §8.1). A body
sent to the API under another media type (a form, text/plain, none) is a 415, not a confusing field error.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.problems import MALFORMED_JSON, problem_response
from verifier import parse_json

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BOM = b"\xef\xbb\xbf"
_API_PREFIX = "/api/"  # every API body is JSON; the web pages take forms and uploads


def _is_json(scope: Scope) -> bool:
    """Whether the request says its body is JSON (`application/json` or a `+json` type)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return bool(media == b"application/json" or media.endswith(b"+json"))
    return False


def json_problem(body: bytes) -> str | None:
    """Why `body` is not strict JSON, or None when it is."""
    try:
        parse_json(body.removeprefix(_BOM), "the request body")
    except ValueError as e:
        return str(e)
    return None


class BodySizeLimit:
    """Pure ASGI middleware: 413 for bodies over `max_bytes`, 400 for a nonsensical Content-Length or a JSON
    body that is not strict JSON, 415 for an API body that is not JSON."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        declared = [value for name, value in scope["headers"] if name == b"content-length"]
        if declared:
            if len(declared) > 1 or not declared[0].isdigit():
                await problem_response(400, "invalid Content-Length", instance=path)(scope, receive, send)
                return
            if int(declared[0]) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and path.startswith(_API_PREFIX) and not _is_json(scope):
            detail = "the request body must be JSON, sent as Content-Type: application/json"
            await problem_response(415, detail, instance=path)(scope, receive, send)
            return
        if body and _is_json(scope) and (problem := json_problem(body)) is not None:
            await problem_response(400, problem, instance=path, type_uri=MALFORMED_JSON)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            f"the request body is larger than {self.max_bytes:,} bytes",
            instance=scope.get("path", ""),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
