"""Reading a credential from a file that may be a baked badge (SVG or PNG) rather than a bare token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aigov.cli import UsageError

if TYPE_CHECKING:
    from verifier import Badge


def read_credential(data: bytes, name: str) -> tuple[bytes, Badge | None]:
    """The token in `data`, and the badge it was baked into when `data` is an image (else None).

    A compact JWS is ASCII and never starts with '<' or the PNG signature, so the first bytes decide.
    """
    from verifier import BadgeError, extract_badge

    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    if not (head.startswith((b"<", b"\x89PNG"))):
        return data, None
    try:
        badge = extract_badge(data, filename=None if name == "-" else name)
    except BadgeError as e:
        where = name if name != "-" else "standard input"
        message = str(e)  # the extractor names the file itself when it was given one
        raise UsageError(message if message.startswith(f"{name}:") else f"{where}: {message}") from e
    return badge.token.encode("ascii", "replace"), badge
