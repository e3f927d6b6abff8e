"""Errors raised by the issuer package.

IssuerError                  base of everything below
├── DecisionError            a certification decision that cannot become a credential (with `.field`)
├── SchemeError              a scheme file that cannot be used, or an unknown level
└── SelfCheckError           the signed output did not verify: never returned to the caller
"""

from __future__ import annotations


class IssuerError(Exception):
    """Base class of every error the issuer package raises."""


class DecisionError(IssuerError):
    """A certification decision that is invalid; `.field` names the offending member when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SchemeError(IssuerError):
    """A scheme definition that is unusable, or a level it does not have."""


class SelfCheckError(IssuerError):
    """The issuer's own verification of what it just signed failed; the token is withheld."""
