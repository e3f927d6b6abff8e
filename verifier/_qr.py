"""Read the QR code of a badge from a photo or a screenshot: the URL of the certificate's public page.

zxing-cpp (a maintained port of ZXing) does the decoding and Pillow the image formats; both come with the
`badges` extra and are imported only here, only when called, so the light verifier does not need them.
Images are untrusted: the byte size is capped, and the pixel count is read from the header and capped before
any pixel is decoded, so a small file that inflates to gigabytes (a decompression bomb) is refused.
"""

from __future__ import annotations

import io

from verifier._badge import NOT_A_BADGE, BadgeError

MAX_QR_IMAGE_BYTES = 10 * 1024 * 1024
MAX_QR_IMAGE_PIXELS = 25_000_000  # a 5,000 x 5,000 photo: more than any phone camera needs to show a QR code
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")


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
            image.load()
            gray = image.convert("L")
    except UnidentifiedImageError:
        raise BadgeError("not an image: PNG, JPEG, WebP, GIF or BMP expected", problem=NOT_A_BADGE) from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise BadgeError(f"unreadable image: {e}", problem=NOT_A_BADGE) from None
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return [barcode.text for barcode in found if barcode.valid]
