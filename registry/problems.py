"""Every error the registry answers, in one place: RFC 9457 `application/problem+json`.

Problem types are the verifier's (VC DM 2.0 §7.2, Bitstring Status List §3.5) where they fit, and
`urn:aigov:problem:*` otherwise, so a problem URI means the same thing in the verifier and in the registry.
Nothing here ever echoes a traceback or the offending input back to the client.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from registry.errors import (
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    LogBehindError,
    NotAccreditedError,
    NotFoundError,
    RegistryError,
    SigningUnavailableError,
)
from verifier.problems import PARSING_ERROR

MEDIA_TYPE = "application/problem+json"
_AIGOV = "urn:aigov:problem:"
INVALID_REQUEST = _AIGOV + "invalid-request"
UNAUTHORIZED = _AIGOV + "unauthorized"
FORBIDDEN = _AIGOV + "forbidden"
# The verifier's NOT_ACCREDITED: the same finding, made before issuing rather than after.
NOT_ACCREDITED = _AIGOV + "not-accredited"
NOT_FOUND = _AIGOV + "not-found"
METHOD_NOT_ALLOWED = _AIGOV + "method-not-allowed"
CONFLICT = _AIGOV + "conflict"
# An event feed position past the log's end: the registry was restored and its event log forked.
EVENT_LOG_BEHIND = _AIGOV + "event-log-behind"
PAYLOAD_TOO_LARGE = _AIGOV + "payload-too-large"
UNSUPPORTED_MEDIA_TYPE = _AIGOV + "unsupported-media-type"
RATE_LIMITED = _AIGOV + "rate-limited"
INTERNAL_ERROR = _AIGOV + "internal-error"
SIGNING_UNAVAILABLE = _AIGOV + "signing-unavailable"
DATABASE_UNAVAILABLE = _AIGOV + "database-unavailable"
# Seconds a client is asked to wait when the database is unreachable (a restart, a failover).
DATABASE_RETRY_AFTER = 5
# Malformed JSON in a request body is the VC Data Model's PARSING_ERROR.
MALFORMED_JSON = PARSING_ERROR

_TYPE_BY_STATUS = {
    400: INVALID_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    409: CONFLICT,
    413: PAYLOAD_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    422: INVALID_REQUEST,
    429: RATE_LIMITED,
    503: SIGNING_UNAVAILABLE,
}

logger = logging.getLogger("registry")


class FieldProblem(BaseModel):
    """One invalid input: where (`in` body, header, path or query; `field` as a dotted path) and why."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    location: str | None = Field(default=None, alias="in")
    field: str | None = None
    detail: str


class Problem(BaseModel):
    """RFC 9457 §3.1 members, plus `errors` listing invalid fields (§3.2 extension member)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    type_uri: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: list[FieldProblem] | None = None,
) -> JSONResponse:
    """The one constructor of error responses."""
    problem = Problem(
        type=type_uri or _TYPE_BY_STATUS.get(status, INTERNAL_ERROR if status >= 500 else INVALID_REQUEST),
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers) if headers else None,
        media_type=MEDIA_TYPE,
    )


# Error responses for the OpenAPI document.
def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def install(app: FastAPI) -> None:
    """Route every error, expected or not, through problem_response."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # noqa: S101
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing is published at {request.url.path}"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(
            400, "the request body is not valid JSON", instance=request.url.path, type_uri=MALFORMED_JSON
        )
    problems = [_field_problem(error) for error in errors[:20]]
    first = problems[0] if problems else FieldProblem(detail="invalid request")
    detail = f"{first.field}: {first.detail}" if first.field else first.detail
    return problem_response(422, detail, instance=request.url.path, errors=problems)


def _field_problem(error: dict[str, Any]) -> FieldProblem:
    location, *path = [str(part) for part in error.get("loc", ())] or ["body"]
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    return FieldProblem(location=location, field=".".join(path) or None, detail=message)


async def _registry_error(request: Request, exc: Exception) -> JSONResponse:
    path = request.url.path
    if isinstance(exc, NotFoundError):
        return problem_response(404, str(exc), instance=path)
    if isinstance(exc, LogBehindError):
        return problem_response(409, str(exc), instance=path, type_uri=EVENT_LOG_BEHIND)
    if isinstance(exc, ConflictError):
        return problem_response(409, str(exc), instance=path)
    if isinstance(exc, InvalidRequestError):
        field = [FieldProblem(location="body", field=exc.field, detail=str(exc))] if exc.field else None
        return problem_response(422, str(exc), instance=path, errors=field)
    if isinstance(exc, NotAccreditedError):
        return problem_response(403, str(exc), instance=path, type_uri=NOT_ACCREDITED)
    if isinstance(exc, ForbiddenError):
        return problem_response(403, str(exc), instance=path)
    if isinstance(exc, SigningUnavailableError):
        logger.error("signing unavailable: %s", exc)
        return problem_response(503, "the certification body cannot sign at the moment", instance=path)
    return await _unexpected_error(request, exc)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or used now (not that a statement was wrong): lost
    or refused connections, a server shutting down, pool exhaustion, SQLite busy, unreadable or full."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    if type(getattr(exc, "orig", None)) is sqlite3.DatabaseError:  # "file is not a database", "malformed"
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not database_unavailable(exc):
        return await _unexpected_error(request, exc)
    incident = uuid.uuid4()
    # The driver's message goes to the log only: it may name hosts, users and files.
    logger.error(
        "incident %s: database unavailable: %s", incident, str(exc).splitlines()[0] if str(exc) else exc
    )
    return problem_response(
        503,
        f"the database is unavailable; retry later (incident {incident})",
        instance=request.url.path,
        type_uri=DATABASE_UNAVAILABLE,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4()
    logger.error("incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        f"an internal error occurred; quote incident {incident} when reporting it",
        instance=f"urn:uuid:{incident}",
    )
