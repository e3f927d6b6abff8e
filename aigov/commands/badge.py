"""`aigov badge`: draw a certificate's badge (SVG or PNG) with the signed credential baked in (Open Badges 3.0).

Needs the `badges` extra for PNG and the QR code (`pip install 'aigov[badges]'`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aigov.cli import EXIT_OK, UsageError
from aigov.commands._common import read_input


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "badge",
        help="draw a certificate's badge (SVG or PNG) with the credential baked in",
        description=(
            "Draw the badge of a signed certificate, with the credential baked in the Open Badges 3.0 way and "
            "a QR code that opens its public page. The output's suffix (.svg or .png) picks the format."
        ),
    )
    parser.add_argument(
        "credential", help="the certificate: a vc+jwt file (or a badge to redraw), - for stdin"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="badge.svg or badge.png")
    parser.add_argument(
        "--page-url",
        help=(
            "what the link and the QR code open: the credential's id, its page on the registry that issued it "
            "(the default). https only (http only to a loopback host); a badge that links anywhere else fails "
            "the verifier's badge check, so another URL is refused when the id is a web page"
        ),
    )
    parser.add_argument("--lang", choices=["ja", "en"], default="ja", help="language of the labels (ja)")
    parser.add_argument(
        "--status",
        choices=["valid", "suspended", "revoked", "expired"],
        help="add a status ribbon (the registry's live badge does this; default: none)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from aigov.commands._badge_input import read_credential
    from issuer import BadgeRenderError, render_badge_png, render_badge_svg

    suffix = args.output.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise UsageError(f"{args.output}: the output must end in .svg or .png")
    token_bytes, _ = read_credential(read_input(args.credential), args.credential)
    try:
        token = token_bytes.decode("ascii").strip()
    except UnicodeDecodeError:
        raise UsageError(f"{args.credential}: not a compact JWS (non-ASCII bytes)") from None
    try:
        page_url = _page_url(token, args.page_url)
        options = {"page_url": page_url, "status": args.status, "lang": args.lang}
        data = (
            render_badge_svg(token, **options).encode("utf-8")
            if suffix == ".svg"
            else render_badge_png(token, **options)
        )
    except BadgeRenderError as e:
        raise UsageError(f"{args.credential}: {e}") from e
    try:
        tmp = args.output.with_name(args.output.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(args.output)
    except OSError as e:
        raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from e
    return EXIT_OK


def _page_url(token: str, given: str | None) -> str:
    """What the badge links to: the credential's id (its page on the issuing registry), which is what the
    verifier requires (verifier._badge._link_problem); --page-url only where the id is not a web page."""
    from verifier import page_url_problem

    identifier = _credential_id(token, required=given is None)
    if given is None:
        return identifier
    problem = page_url_problem(given)
    if problem:
        raise UsageError(f"--page-url {given!r} refused: {problem}")
    if identifier and given != identifier:
        raise UsageError(
            f"--page-url {given!r} refused: a badge must link to the credential's own page {identifier} "
            "(its id, on the registry that issued it); the verifier fails a badge that links anywhere else"
        )
    return given


def _credential_id(token: str, *, required: bool) -> str:
    """The credential's `id` when it is an http(s) URL (the registry's page for it); else --page-url is needed
    (`required`) or "" is returned."""
    import json

    from issuer import BadgeRenderError
    from keys import b64url_decode

    parts = token.split(".")
    try:
        payload = json.loads(b64url_decode(parts[1])) if len(parts) == 3 else None
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise BadgeRenderError("not a credential token: a compact JWS with a JSON payload is expected")
    identifier = payload.get("id")
    if not (isinstance(identifier, str) and identifier.startswith(("https://", "http://"))):
        if not required:
            return ""
        raise UsageError(
            "the credential's id is not an http(s) URL: say what the QR code opens with --page-url"
        )
    return identifier
