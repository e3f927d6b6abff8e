"""Errors of the registry's domain functions, which know nothing of HTTP; registry.problems maps them.

RegistryError                    base of everything below
├── NotFoundError                no such thing, or not one the caller may see (`.kind`, `.ref`)
├── ConflictError                the request contradicts the current state
│   ├── StateConflictError       a lifecycle change the credential's status forbids (`.status`)
│   ├── DuplicateError           a certificate number (or slug) already taken (`.field`)
│   └── LogBehindError           an event feed position past the log's end: the log went back (`.last`)
├── InvalidRequestError          a well-formed request the domain rules refuse (`.field`)
│   └── IdempotencyKeyReusedError  the same Idempotency-Key with a different request
├── ForbiddenError               the caller is known but may not do this
│   └── NotAccreditedError       the body holds no active accreditation for what it would issue
└── SigningUnavailableError      the certification body cannot sign now (no usable key)
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base class of the registry's domain errors."""


class NotFoundError(RegistryError):
    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"no {kind} {ref}")
        self.kind = kind
        self.ref = ref


class ConflictError(RegistryError):
    """The request cannot be applied to the resource in its current state."""


class StateConflictError(ConflictError):
    def __init__(self, message: str, *, status: str) -> None:
        super().__init__(message)
        self.status = status


class DuplicateError(ConflictError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class LogBehindError(ConflictError):
    """A follower asked for events after a `seq` the log no longer reaches: the database was restored to an
    earlier state (registry.restore), and the log forked at its `restored` events."""

    def __init__(self, after: int, last: int) -> None:
        super().__init__(
            f"the event log ends at seq {last}, before after={after}: this registry's database went back to an "
            f"earlier state (a restore) and its log forked there. Re-read from seq {last} or earlier and check "
            "each prevHash against the hashes you hold"
        )
        self.last = last


class InvalidRequestError(RegistryError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class IdempotencyKeyReusedError(InvalidRequestError):
    """draft-ietf-httpapi-idempotency-key-header §2.7: a key reused for a different request is an error."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different request", field="Idempotency-Key"
        )


class ForbiddenError(RegistryError):
    """The caller is authenticated but not allowed to do this."""


class SigningUnavailableError(RegistryError):
    """The certification body has no key that may sign now (none created, or retired or compromised)."""


class NotAccreditedError(ForbiddenError):
    """Only a body with an accreditation active now, for the scheme and level, may issue, renew or reinstate:
    anything else would be a certificate that no verifier pinning the scheme owner recognises."""
