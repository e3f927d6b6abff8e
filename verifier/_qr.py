"""Read the QR code of a badge from a photo or a screenshot: the URL of the certificate's public page.

zxing-cpp (a maintained port of ZXing) does the decoding and Pillow the image formats; both come with the
`badges` extra and are imported only here, only when called, so the light verifier does not need them.
Images are untrusted: the byte size is capped, and the pixel count and the decoded size (pixels times bytes per
pixel) are read from the header and capped before any pixel is decoded, so a small file that inflates to
gigabytes (a decompression bomb) is refused. A JPEG photo is decoded in grey at a reduced scale (libjpeg's own
DCT scaling): a QR code needs no more than about 2,000 pixels across.
"""

from __future__ import annotations

import io

from verifier._badge import NOT_A_BADGE, BadgeError

MAX_QR_IMAGE_BYTES = 10 * 1024 * 1024
MAX_QR_IMAGE_PIXELS = 25_000_000  # a 5,000 x 5,000 photo: more than any phone camera needs to show a QR code
# What a decoded image and its grey copy may take in memory (`_decoded_bytes`): a 4K screenshot in RGBA takes
# 41 MB; a 25 MP RGBA PNG (125 MB from a file of 100 KB) is refused.
MAX_QR_DECODED_BYTES = 48 * 1024 * 1024
_JPEG_DRAFT_SIZE = (2000, 2000)  # the decoder scales down by 1/2, 1/4 or 1/8 while it stays above this
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")


def _decoded_bytes(mode: str, width: int, height: int) -> int:
    """What Pillow takes to hold the image decoded, and its grey copy for the decoder: 1 byte a pixel for
    1-bit, grey and palette images, 2 for 16-bit grey, 4 for every other mode (LA and RGB included)."""
    pixels = width * height
    per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return pixels * per_pixel + (0 if mode == "L" else pixels)


def decode_qr(image_bytes: bytes, *, max_pixels: int = MAX_QR_IMAGE_PIXELS) -> list[str]:
    """The texts of the QR codes found in an image (PNG, JPEG, WebP, GIF, BMP), in reading order.

    An image without a QR code gives an empty list; what is not a readable image raises BadgeError.
    """
    try:
        import zxingcpp  # noqa: PLC0415 - the badges extra, loaded only when a QR code is read
        from PIL import Image, UnidentifiedImageError  # noqa: PLC0415
    except ImportError as e:
        raise BadgeError(
            "reading QR codes needs the badges extra: pip install 'aigov[badges]'", problem=NOT_A_BADGE
        ) from e
    if len(image_bytes) > MAX_QR_IMAGE_BYTES:
        raise BadgeError(f"image is larger than {MAX_QR_IMAGE_BYTES:,} bytes", problem=NOT_A_BADGE)
    try:
        with Image.open(io.BytesIO(image_bytes), formats=_FORMATS) as image:
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > max_pixels:
                raise BadgeError(
                    f"image of {width} x {height} pixels is over the cap of {max_pixels:,} pixels",
                    problem=NOT_A_BADGE,
                )
            if image.format == "JPEG":
                image.draft("L", _JPEG_DRAFT_SIZE)
            decoded = _decoded_bytes(image.mode, *image.size)
            if decoded > MAX_QR_DECODED_BYTES:
                raise BadgeError(
                    f"image of {width} x {height} pixels in {image.mode} would take {decoded:,} bytes decoded, "
                    f"over the cap of {MAX_QR_DECODED_BYTES:,}",
                    problem=NOT_A_BADGE,
                )
            image.load()
            gray = image.convert("L")
    except UnidentifiedImageError:
        raise BadgeError("not an image: PNG, JPEG, WebP, GIF or BMP expected", problem=NOT_A_BADGE) from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise BadgeError(f"unreadable image: {e}", problem=NOT_A_BADGE) from None
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return [barcode.text for barcode in found if barcode.valid]
