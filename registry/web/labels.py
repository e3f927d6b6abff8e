"""Translated labels for the codes the registry stores (statuses, reasons, actions, roles, checks).

Plain functions rather than template macros: a certificate page shows a few dozen labels, and a Jinja macro
call costs ten times a dictionary lookup (measured: macros were half of the page's rendering time). Messages
are marked with `N_` so that Babel's extractor finds them; they are translated once per language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup

from verifier import CheckResult, Outcome, Verdict, VerificationResult, problems


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark for translation"
    """Mark `message` for extraction; translated later."""
    return message


STATUS = {
    "active": N_("Valid"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
    "superseded": N_("Superseded by a renewal"),
}
REASON = {
    "withdrawn_by_certification_body": N_("Withdrawn by the certification body"),
    "nonconformity": N_("Nonconformity found"),
    "surveillance_not_performed": N_("Surveillance audit not performed"),
    "scope_reduced_to_nothing": N_("Scope reduced to nothing"),
    "company_request": N_("At the company's request"),
    "misuse_of_mark": N_("Misuse of the certification mark"),
    "superseded": N_("Superseded by a renewal"),
    "other": N_("Other reason"),
}
ACTION = {
    "issued": N_("Issued"),
    "suspended": N_("Suspended"),
    "reinstated": N_("Reinstated"),
    "revoked": N_("Revoked"),
    "renewed": N_("Renewed"),
    "superseded": N_("Superseded by a renewal"),
}
ACCREDITATION = {
    "active": N_("Accredited"),
    "suspended": N_("Accreditation suspended"),
    "withdrawn": N_("Accreditation withdrawn"),
}
# The colour class of each accreditation state (the same palette as certificate statuses).
_ACCREDITATION_CLASS = {"active": "active", "suspended": "suspended", "withdrawn": "revoked"}
ROLE = {
    "ai_developer": N_("AI developer"),
    "ai_provider": N_("AI provider"),
    "ai_business_user": N_("AI business user"),
}
CHECK = {
    "parse": N_("The credential can be read"),
    "header": N_("Signature format and algorithm"),
    "key": N_("The issuer's key is known"),
    "signature": N_("The signature is genuine"),
    "data_model": N_("Standard credential format"),
    "claims": N_("Token and credential agree"),
    "profile": N_("AI governance certificate fields"),
    "validity_period": N_("Within its validity period"),
    "issuer_trust": N_("Issued by a certification body of this registry"),
    "status.revocation": N_("Not revoked"),
    "status.suspension": N_("Not suspended"),
    "status": N_("Current status"),
    "badge": N_("The badge's picture matches the credential"),
}
OUTCOME = {
    "passed": N_("Passed"),
    "failed": N_("Failed"),
    "warning": N_("Warning"),
    "skipped": N_("Not checked"),
    "indeterminate": N_("Could not be decided"),
}

# What each check's result means, in plain words (the verifier's own detail stays beside it, in English).
CHECK_PASSED = {
    "parse": N_("It is a signed credential in the standard format (compact JWS)."),
    "header": N_("It is signed with an algorithm this registry accepts."),
    "key": N_("It was signed with a key the issuer has published."),
    "signature": N_("The signature is genuine: nothing has been changed since it was signed."),
    "data_model": N_("It follows the W3C Verifiable Credentials standard."),
    "claims": N_("The token's dates and identifiers agree with the credential."),
    "profile": N_("It has every field an AI governance certificate must have."),
    "validity_period": N_("Today is within its validity period."),
    "issuer_trust": N_("The issuer is a certification body accredited in this registry."),
    "status.revocation": N_("The certification body has not revoked it (current status list)."),
    "status.suspension": N_("It is not suspended (current status list)."),
    "status": N_("Its current status is in order."),
    "badge": N_("The company, level and dates drawn on the badge match the signed credential."),
}
# Why a check failed or could not be decided, by the problem type the verifier reports (verifier.problems).
PROBLEM = {
    problems.PARSING_ERROR: N_("The data cannot be read as a credential: it is damaged or not a credential."),
    problems.CRYPTOGRAPHIC_SECURITY_ERROR: N_(
        "The signature does not match: the credential was changed after it was signed, or forged."
    ),
    problems.MALFORMED_VALUE_ERROR: N_("A required field is missing or malformed."),
    problems.RANGE_ERROR: N_("A value is outside its allowed range."),
    problems.STATUS_RETRIEVAL_ERROR: N_(
        "The current status could not be obtained, so revocation cannot be ruled out."
    ),
    problems.STATUS_VERIFICATION_ERROR: N_(
        "The status list could not be trusted, so the current status is unknown."
    ),
    problems.STATUS_LIST_LENGTH_ERROR: N_("The status list is malformed (wrong length)."),
    problems.UNTRUSTED_ISSUER: N_("The issuer is not a certification body this registry trusts."),
    problems.UNKNOWN_KEY: N_("The key that signed it is not a known key of the issuer."),
    problems.KEY_NOT_USABLE: N_("The key that signed it was retired or compromised at the time of signing."),
    problems.CLAIM_MISMATCH: N_("The token's dates or identifiers contradict the credential."),
    problems.PROFILE_VIOLATION: N_("It lacks fields an AI governance certificate must have."),
    problems.NOT_YET_VALID: N_("It is not valid yet: its validity period has not begun."),
    problems.EXPIRED: N_("It has expired: its validity period has ended."),
    problems.REVOKED: N_("The certification body has revoked this certificate."),
    problems.SUSPENDED: N_("The certification body has suspended this certificate."),
    problems.LEGACY_FORMAT: N_("It uses an older format that is not accepted."),
    problems.NOT_ACCREDITED: N_("The issuer is not accredited by the scheme owner."),
    problems.ACCREDITATION_SUSPENDED: N_("The issuer's accreditation is suspended."),
    problems.ACCREDITATION_WITHDRAWN: N_("The issuer's accreditation has been withdrawn."),
    problems.TRUST_LIST_EXPIRED: N_(
        "The list of accredited bodies has expired, so the issuer cannot be confirmed."
    ),
    problems.STALE_BUNDLE: N_("The status information is too old to rely on."),
    problems.RETRIEVAL_ERROR: N_("The credential could not be fetched."),
    problems.UNKNOWN_CREDENTIAL: N_("The registry has no certificate with this id."),
    problems.STALE_STATUS_LIST: N_("The status information is too old to rely on."),
    problems.QR_CODE_NOT_READ: N_(
        "The badge's QR code could not be read here, so where it leads is unknown."
    ),
}
# A failed check whose problem type is not above (or the same type meaning something more precise here).
CHECK_FAILED = {
    "badge": N_("The text drawn on the badge differs from the signed credential: the picture was edited."),
}
CHECK_WARNING = {
    "status": N_("The credential has no status entry, so revocation cannot be checked."),
}
EXPLAIN_FALLBACK = {
    "failed": N_("This check failed."),
    "indeterminate": N_("This could not be decided."),
    "warning": N_("Passed with a caveat (see the detail)."),
    "passed": N_("Passed."),
}
SKIPPED_AFTER_FAILURE = N_("Not checked, because an earlier check failed.")
SKIPPED_NOT_APPLICABLE = N_("Does not apply to this credential.")
SUMMARY_VALID = N_("The certificate of %(name)s is genuine and in force.")
SUMMARY_VALID_UNNAMED = N_("The certificate is genuine and in force.")
SUMMARY_INVALID = N_("Do not rely on this certificate: %(reason)s")
SUMMARY_INDETERMINATE = N_("This certificate cannot be confirmed for now: %(reason)s")


class Labels:
    """The labels of one language; unknown codes are shown as they are (escaped by the template)."""

    def __init__(self, language: str, gettext: Callable[[str], str]) -> None:
        self.language = language

        def translated(table: Mapping[str, str]) -> dict[str, str]:
            return {code: gettext(message) for code, message in table.items()}

        self._status = translated(STATUS)
        self._reason = translated(REASON)
        self._action = translated(ACTION)
        self._accreditation = translated(ACCREDITATION)
        self._role = translated(ROLE)
        self._check = translated(CHECK)
        self._outcome = translated(OUTCOME)
        self._passed = translated(CHECK_PASSED)
        self._problem = translated(PROBLEM)
        self._failed = translated(CHECK_FAILED)
        self._warning = translated(CHECK_WARNING)
        self._fallback = translated(EXPLAIN_FALLBACK)
        self._gettext = gettext

    def status(self, code: str) -> str:
        return self._status.get(code, code)

    def reason(self, code: str) -> str:
        return self._reason.get(code, code)

    def action(self, code: str) -> str:
        return self._action.get(code, code)

    def role(self, code: str) -> str:
        return self._role.get(code, code)

    def check_name(self, code: str) -> str:
        return self._check.get(code, code)

    def outcome(self, code: str) -> str:
        return self._outcome.get(code, code)

    def explain(self, check: CheckResult, *, after_failure: bool) -> str:
        """What `check`'s result means, in plain words of this language.

        By check name for passes (and for the badge check, whose failure means an edited picture), by the
        problem type for failures and undecided checks; a skipped check says whether an earlier failure
        stopped it (`after_failure`) or it does not apply.
        """
        outcome = check.outcome
        if outcome is Outcome.PASSED:
            return self._passed.get(check.name) or self._fallback["passed"]
        if outcome is Outcome.SKIPPED:
            return self._gettext(SKIPPED_AFTER_FAILURE if after_failure else SKIPPED_NOT_APPLICABLE)
        if outcome is Outcome.WARNING:
            return self._warning.get(check.name) or self._fallback["warning"]
        if outcome is Outcome.FAILED and check.name in self._failed:
            return self._failed[check.name]
        return self._problem.get(check.problem or "") or self._fallback.get(outcome.value, "")

    def explained(self, result: VerificationResult) -> list[tuple[CheckResult, str]]:
        """Every check of `result` with its plain-language explanation (see `explain`)."""
        rows = []
        failed = False
        for check in result.checks:
            rows.append((check, self.explain(check, after_failure=failed)))
            failed = failed or check.outcome is Outcome.FAILED
        return rows

    def summary(self, result: VerificationResult) -> str:
        """The verdict in one sentence of this language: whose certificate is valid, or the first reason not."""
        if result.verdict is Verdict.VALID:
            name = self._company_of(result.credential)
            if name:
                return self._gettext(SUMMARY_VALID) % {"name": name}
            return self._gettext(SUMMARY_VALID_UNNAMED)
        wanted = Outcome.FAILED if result.verdict is Verdict.INVALID else Outcome.INDETERMINATE
        rows = self.explained(result)
        reason = next((text for check, text in rows if check.outcome is wanted), "")
        template = SUMMARY_INVALID if result.verdict is Verdict.INVALID else SUMMARY_INDETERMINATE
        return self._gettext(template) % {"reason": reason}

    def _company_of(self, credential: Mapping[str, Any] | None) -> str:
        subject = credential.get("credentialSubject") if credential else None
        names = subject.get("legalName") if isinstance(subject, Mapping) else None
        if not isinstance(names, Mapping):
            return ""
        en, ja = names.get("en"), names.get("ja")
        return self.company(en if isinstance(en, str) else None, ja if isinstance(ja, str) else None)

    def status_badge(self, code: str) -> Markup:
        """The status in colour and in words (the dot is decoration; the word carries the meaning)."""
        return Markup(
            '<span class="status status-{}"><span class="dot" aria-hidden="true"></span>{}</span>'
        ).format(code, self.status(code))

    def accreditation(self, state: str) -> Markup:
        return Markup(
            '<span class="status status-{}"><span class="dot" aria-hidden="true"></span>{}</span>'
        ).format(_ACCREDITATION_CLASS.get(state, "expired"), self._accreditation.get(state, state))

    def company(self, en: str | None, ja: str | None) -> str:
        """A bilingual name in the page's language, or the other one when it has only that."""
        first, second = (ja, en) if self.language == "ja" else (en, ja)
        return first or second or ""

    def other_name(self, en: str | None, ja: str | None) -> str:
        """The name in the other language, when there are both."""
        if not (en and ja):
            return ""
        return en if self.language == "ja" else ja
