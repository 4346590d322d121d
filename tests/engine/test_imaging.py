"""Decoding: every accepted format, Azure's size errors, corrupt data, bombs, EXIF rotation."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from shared.engine.imaging import MAX_BYTES, decode_image
from shared.errors import InvalidImage, InvalidImageSize
from tests.engine.conftest import read_bytes


def noisy_rgb(width: int = 96, height: int = 64) -> np.ndarray:
    """Random pixels so every encoder produces more than the 1 KB minimum."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    image[:, : width // 2] = (255, 0, 0)  # a solid red half to check channel order
    return image


def encode(rgb: np.ndarray, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, fmt, **params)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "params", "exact"),
    [("JPEG", {"quality": 95}, False), ("PNG", {}, True), ("BMP", {}, True), ("WEBP", {"lossless": True}, True), ("GIF", {}, False)],
)
def test_each_format_decodes_to_bgr(fmt, params, exact):
    rgb = noisy_rgb()
    decoded = decode_image(encode(rgb, fmt, **params))
    assert decoded.shape == (64, 96, 3) and decoded.dtype == np.uint8
    red_block = decoded[10:50, 5:40].reshape(-1, 3).mean(axis=0)
    assert red_block[2] > 200 and red_block[0] < 40  # BGR: red is the last channel
    if exact:
        assert np.array_equal(decoded[:, :, ::-1], rgb)


def test_gif_uses_the_first_frame():
    rgb = noisy_rgb()
    frames = [Image.fromarray(rgb), Image.fromarray(np.zeros_like(rgb))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    decoded = decode_image(buffer.getvalue())
    assert decoded[10:50, 5:40, 2].mean() > 200


def test_greyscale_and_alpha_images_become_three_channels():
    grey = noisy_rgb()[:, :, 1]
    assert decode_image(encode(grey, "PNG")).shape == (64, 96, 3)
    rgba = np.dstack([noisy_rgb(), np.full((64, 96), 255, np.uint8)])
    assert decode_image(encode(rgba, "PNG")).shape == (64, 96, 3)


def test_size_limits_use_azure_messages():
    with pytest.raises(InvalidImageSize, match="Image size is too small."):
        decode_image(b"\xff\xd8" + b"0" * 500)
    with pytest.raises(InvalidImageSize, match="Image size is too big."):
        decode_image(b"0" * (MAX_BYTES + 1))


def test_not_an_image():
    with pytest.raises(InvalidImage):
        decode_image(b"%PDF-1.4 " * 300)


def test_unsupported_format_is_refused():
    with pytest.raises(InvalidImage):
        decode_image(encode(noisy_rgb(), "TIFF"))


def test_truncated_jpeg():
    data = encode(noisy_rgb(400, 300), "JPEG", quality=95)
    with pytest.raises(InvalidImage):
        decode_image(data[: len(data) // 2])


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature + IHDR declaring huge dimensions, then a tiny IDAT."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = np.random.default_rng(1).bytes(4096)  # incompressible, so the file passes the 1 KB minimum
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_the_header():
    with pytest.raises(InvalidImageSize, match="Image size is too big."):
        decode_image(png_header_only(60000, 60000))


def test_pixel_cap_is_a_setting(monkeypatch):
    data = encode(noisy_rgb(), "PNG")
    monkeypatch.setenv("FACE_MAX_IMAGE_PIXELS", str(96 * 64 - 1))
    with pytest.raises(InvalidImageSize):
        decode_image(data)


def test_exif_orientation_is_applied(liveness_dir):
    data = read_bytes(liveness_dir / "live" / "image_T1.jpg")
    assert Image.open(io.BytesIO(data)).size == (640, 480)  # stored landscape
    assert decode_image(data).shape == (640, 480, 3)  # shown portrait
