"""Image bytes -> upright BGR uint8 array, with Azure's limits and errors.

Formats: JPEG, PNG, GIF (first frame), BMP, WebP. EXIF orientation is applied, so phone
photos (stored sideways with an Orientation tag) come out the way people see them.
Every failure is a client error: InvalidImageSize for the byte limits, InvalidImage for
anything that is not a decodable image of an accepted format.
"""
from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps

from shared.errors import InvalidImage, InvalidImageSize
from shared.settings import env_int

MIN_BYTES = 1024
MAX_BYTES = 6 * 1024 * 1024
# A 6 MB file can declare 65535x65535 pixels (a "decompression bomb"); the header is read
# first and anything above this many pixels is refused before decoding. 50 MP covers every
# phone camera while capping a decoded image at about 150 MB.
DEFAULT_MAX_PIXELS = 50_000_000
# MPO is JPEG with more pictures after the first (some cameras and phones write it): the
# first picture is an ordinary JPEG.
FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "BMP", "WEBP"})
# Pillow's own bomb check would fire later with its own message; ours runs first.
Image.MAX_IMAGE_PIXELS = None


def check_byte_size(data: bytes) -> None:
    if len(data) < MIN_BYTES:
        raise InvalidImageSize("Image size is too small.")
    if len(data) > MAX_BYTES:
        raise InvalidImageSize("Image size is too big.")


def _open_header(data: bytes) -> Image.Image:
    """Parse only the header: format and declared dimensions, no pixel data yet."""
    try:
        image = Image.open(io.BytesIO(data))
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage("Decoding error, image format unsupported.") from exc
    if image.format not in FORMATS:
        raise InvalidImage("Decoding error, image format unsupported.")
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage("Decoding error, image format unsupported.")
    if width * height > env_int("FACE_MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS):
        raise InvalidImageSize("Image size is too big.")
    return image


_WIDE_GREY = ("I;16", "I;16B", "I;16L", "I", "F")
_BAND_PIXELS = 1 << 20


def _to_bgr(image: Image.Image) -> np.ndarray:
    """The pixels as a BGR uint8 array, converted a band of rows at a time, so that besides
    the decoded image only the result is ever full size (a 50 MP image: ~300 MB in all)."""
    width, height = image.size
    # 16-bit / float greyscale: scaled to 8 bits by the image's peak, not clipped.
    scale = 255.0 / (float(image.getextrema()[1]) or 1.0) if image.mode in _WIDE_GREY else None
    out = np.empty((height, width, 3), np.uint8)
    rows = max(1, _BAND_PIXELS // width)
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        target = out[top:top + rows]
        if scale is not None:
            grey = np.clip(np.asarray(band, dtype=np.float32) * scale, 0, 255).astype(np.uint8)
            cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR, dst=target)
        else:
            cv2.cvtColor(np.asarray(band if band.mode == "RGB" else band.convert("RGB")), cv2.COLOR_RGB2BGR,
                         dst=target)
    return out


def decode_image(data: bytes) -> np.ndarray:
    """Decode to an upright (H, W, 3) BGR uint8 array or raise an Azure client error."""
    check_byte_size(data)
    image = _open_header(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd EXIF; the pixels are what matter
            image.seek(0)  # GIF / animated WebP: the first frame
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            return _to_bgr(image)
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise InvalidImage("Decoding error, image format unsupported.") from exc
    finally:
        image.close()
