"""What verification found: a verdict and one explained check per step.

Verification returns a result rather than raising, so that a procurement tool can show every reason at once;
`VerificationResult.raise_for_failure()` is there for callers who prefer an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from verifier._errors import VerificationFailedError
from verifier._json import json_ready


class Verdict(StrEnum):
    """The overall answer. `indeterminate` means "cannot tell", never "probably fine"."""

    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


class Outcome(StrEnum):
    """The outcome of one check.

    `indeterminate` is added to the passed/failed/warning/skipped of CONVENTIONS.md: a status that cannot be
    obtained is neither a failure of the credential nor a pass, and must be visible as such.
    """

    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"
    INDETERMINATE = "indeterminate"


# The checks in the order they run; a failed prerequisite marks the ones after it `skipped`.
CHECK_NAMES = (
    "parse",
    "header",
    "key",
    "signature",
    "data_model",
    "claims",
    "profile",
    "validity_period",
    "issuer_trust",
    "status",
)

_MARKS = {
    Outcome.PASSED: "✔",
    Outcome.FAILED: "✘",
    Outcome.WARNING: "!",
    Outcome.SKIPPED: "-",
    Outcome.INDETERMINATE: "?",
}


class CheckResult(NamedTuple):
    """One step of verification: its name, outcome, a human explanation and, when not passed, a problem URI.

    A NamedTuple rather than a dataclass: a verification makes a dozen of these on its hot path.
    """

    name: str
    outcome: Outcome
    detail: str
    problem: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "detail": self.detail,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict with every check that led to it, and the credential when it could be read."""

    verdict: Verdict
    checks: tuple[CheckResult, ...]
    summary: str
    credential: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def problems(self) -> list[CheckResult]:
        """The checks that failed or could not be decided, in order."""
        return [c for c in self.checks if c.outcome in (Outcome.FAILED, Outcome.INDETERMINATE)]

    def check(self, name: str) -> CheckResult:
        """The result of the check called `name` (the first, for status checks per purpose use `checks`)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise LookupError(f"no check named {name!r}")

    def raise_for_failure(self) -> None:
        """Raise VerificationFailedError unless the verdict is valid."""
        if self.verdict is not Verdict.VALID:
            raise VerificationFailedError(self.summary, result=self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for machines (`aigov verify --json`, the registry's API)."""
        return {
            "verdict": self.verdict.value,
            "summary": self.summary,
            "checks": [c.to_dict() for c in self.checks],
            "credential": json_ready(self.credential),
        }

    def render_text(self) -> str:
        """One line per check with a clear mark, then a verdict line a non-expert understands."""
        width = max(len(c.name) for c in self.checks)
        lines = [f"{_MARKS[c.outcome]} {c.name:<{width}}  {_printable(c.detail)}" for c in self.checks]
        lines.append("")
        lines.append(f"{self.verdict.value.upper()}: {_printable(self.summary)}")
        return "\n".join(lines)


# Details quote what a token said; a newline or terminal escape in it must not forge a line of the report.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {0x2028: "\\u2028", 0x2029: "\\u2029"}


def _printable(text: str) -> str:
    return text.translate(_CONTROLS)
