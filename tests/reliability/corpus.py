"""A hostile image corpus, generated in memory (Pillow, numpy, zlib): every format detect
accepts in its variants, formats it refuses, each accepted one truncated and corrupted,
decompression bombs, polyglots, EXIF orientation tricks and the 1 KB / 6 MB size limits.

``Sample.valid`` marks well-formed images of an accepted format within the size limits:
those must be answered 200. Everything else must be answered 200 or Azure's 400, never 5xx.
``build(scale)`` makes more truncation offsets and corruption seeds per image when scale > 1.
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from shared.engine.imaging import MAX_BYTES, MIN_BYTES

KB = 1024


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    valid: bool = False


def build(face_photo: bytes, scale: int = 1) -> list[Sample]:
    face = Image.open(io.BytesIO(face_photo)).convert("RGB")
    face.thumbnail((360, 360))
    noise = Image.fromarray(np.random.default_rng(7).integers(0, 256, (240, 320, 3), dtype=np.uint8))
    accepted = _accepted_formats(face, noise)
    samples = [*accepted, *_refused_formats(face), *_exif_tricks(face), *_bombs(), *_polyglots(face),
               *_size_limits()]
    rng = random.Random(11)
    for sample in accepted[:: max(1, 4 // scale)]:
        samples += _truncated(sample, 6 * scale, rng) + _corrupted(sample, 2 * scale, rng)
    return samples


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _ok(name: str, data: bytes) -> Sample:
    return Sample(name, data, valid=MIN_BYTES <= len(data) <= MAX_BYTES)


def _accepted_formats(face: Image.Image, noise: Image.Image) -> list[Sample]:
    grey, rgba = face.convert("L"), face.convert("RGBA")
    frames = [face, face.rotate(10), face.rotate(-10)]
    return [
        _ok("jpeg", _encode(face, "JPEG", quality=90)),
        _ok("jpeg progressive", _encode(face, "JPEG", progressive=True, quality=85)),
        _ok("jpeg cmyk", _encode(face.convert("CMYK"), "JPEG")),
        _ok("jpeg greyscale", _encode(grey, "JPEG")),
        _ok("jpeg 4:4:4 q100", _encode(face, "JPEG", quality=100, subsampling=0)),
        _ok("mpo (jpeg with a second image)", _encode(face, "MPO", save_all=True, append_images=[grey.convert("RGB")])),
        _ok("png rgb", _encode(face, "PNG")),
        _ok("png rgba", _encode(rgba, "PNG")),
        _ok("png grey+alpha", _encode(face.convert("LA"), "PNG")),
        _ok("png grey 16-bit", _encode(Image.fromarray(np.asarray(grey, np.uint16) * 257), "PNG")),
        _ok("png rgb 16-bit", _png_rgb16(np.asarray(face, np.uint16) * 257)),
        _ok("png paletted", _encode(face.convert("P", palette=Image.Palette.ADAPTIVE), "PNG")),
        _ok("png paletted transparent", _encode(face.convert("P"), "PNG", transparency=0)),
        _ok("png 1-bit", _encode(noise.convert("1"), "PNG")),
        _ok("gif", _encode(face, "GIF")),
        _ok("gif animated", _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0)),
        _ok("bmp 24-bit", _encode(face, "BMP")),
        _ok("bmp 32-bit rgba", _encode(rgba, "BMP")),
        _ok("bmp 8-bit paletted", _encode(face.convert("P"), "BMP")),
        _ok("bmp 1-bit", _encode(noise.convert("1"), "BMP")),
        _ok("webp lossy", _encode(face, "WEBP", quality=80)),
        _ok("webp lossless alpha", _encode(rgba, "WEBP", lossless=True)),
        _ok("webp animated", _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])),
        _ok("noise jpeg", _encode(noise, "JPEG")),
    ]


def _png_rgb16(pixels: np.ndarray) -> bytes:
    """PNG with 16 bits per channel (Pillow writes only 16-bit greyscale itself)."""
    height, width, _ = pixels.shape
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)
    return _png(width, height, 16, 2, zlib.compress(rows))


def _png(width: int, height: int, depth: int, colour: int, idat: bytes, *extra: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + b"".join(extra) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _refused_formats(face: Image.Image) -> list[Sample]:
    rng = np.random.default_rng(3)
    encoded = [(fmt, _encode(face, fmt)) for fmt in ("TIFF", "JPEG2000", "PPM", "TGA", "PCX", "SGI", "QOI", "PDF")]
    return [Sample(f"{fmt.lower()} (not accepted)", data) for fmt, data in encoded] + [
        Sample("ico (not accepted)", _encode(face.resize((64, 64)), "ICO")),
        Sample("random bytes", rng.integers(0, 256, 50 * KB, dtype=np.uint8).tobytes()),
        Sample("zeros", bytes(50 * KB)),
        Sample("text", b"not an image at all " * 200),
        Sample("svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9999999" height="9999999">' + b" " * 2000 + b"</svg>"),
        Sample("empty", b""),
    ]


def _exif(orientation: object, kind: int = 3) -> bytes:
    """A little-endian EXIF block with one Orientation entry of the given TIFF type."""
    value = struct.pack("<HH", orientation, 0) if kind == 3 else struct.pack("<I", orientation)
    ifd = struct.pack("<H", 1) + struct.pack("<HHI", 0x0112, kind, 1) + value + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd


def _exif_tricks(face: Image.Image) -> list[Sample]:
    samples = [_ok(f"jpeg exif orientation {n}", _encode(face, "JPEG", exif=_exif(n))) for n in range(1, 9)]
    samples += [_ok(f"jpeg exif orientation {n} (out of range)", _encode(face, "JPEG", exif=_exif(n)))
                for n in (0, 9, 255, 65535)]
    samples.append(_ok("jpeg exif orientation as a long", _encode(face, "JPEG", exif=_exif(6, kind=4))))
    looping = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + \
        struct.pack("<HHII", 0x8769, 4, 1, 8) + struct.pack("<I", 8)  # an EXIF sub-IFD pointing at itself
    samples.append(Sample("jpeg exif ifd loop", _encode(face, "JPEG", exif=looping)))
    samples.append(Sample("jpeg exif count huge", _encode(face, "JPEG", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00"
                                                          + struct.pack("<H", 1) + struct.pack("<HHII", 0x010F, 2,
                                                                                               0x7FFFFFFF, 26))))
    samples.append(_ok("png exif orientation 6", _encode(face, "PNG", exif=_exif(6))))
    samples.append(_ok("webp exif orientation 8", _encode(face, "WEBP", exif=_exif(8))))
    return samples


def _bombs() -> list[Sample]:
    """Tiny files declaring huge images (rejected from the header) and one just under the
    50-megapixel cap (decoded: the most memory one request may take)."""
    zeros_row = zlib.compressobj(9)
    idat = b"".join(zeros_row.compress(bytes(1 + 8000 * 3)) for _ in range(8000)) + zeros_row.flush()
    flat = Image.new("RGB", (7000, 7000), (120, 110, 100))
    small_jpeg = _encode(Image.new("RGB", (64, 64), (90, 90, 90)), "JPEG")
    return [
        Sample("png 64 MP of zeros", _png(8000, 8000, 8, 2, idat)),
        Sample("png declares 65535x65535", _png(65535, 65535, 8, 2, zlib.compress(b"\x00" * 1000)) + bytes(KB)),
        Sample("png zTXt bomb", _png(64, 64, 8, 0, zlib.compress(b"\x00" * 65 * 64),
                                     _chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"A" * (64 * KB * KB))))),
        Sample("gif declares 65535x65535", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00"
               + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;" + bytes(2 * KB)),
        Sample("bmp declares 50000x50000", b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54)
               + struct.pack("<IiiHHIIiiII", 40, 50000, 50000, 1, 24, 0, 0, 0, 0, 0, 0) + bytes(2 * KB)),
        Sample("jpeg declares 65500x65500", _jpeg_with_size(small_jpeg, 65500, 65500)),
        Sample("webp declares 16383x16383", _webp_canvas(16383, 16383)),
        Sample("gif with 2,000 frames", _encode(Image.new("P", (100, 100)), "GIF", save_all=True,
                                                append_images=[Image.new("P", (100, 100), n % 255) for n in range(1999)])),
        _ok("png 49 MP flat (just under the cap)", _encode(flat, "PNG")),
        _ok("jpeg 49 MP flat (just under the cap)", _encode(flat, "JPEG", quality=50)),
    ]


def _jpeg_with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header (SOF0) declaring another size, padded past 1 KB."""
    at = jpeg.index(b"\xff\xc0")
    patched = jpeg[:at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9:]
    return patched + bytes(max(0, 2 * KB - len(patched)))


def _webp_canvas(width: int, height: int) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + b"VP8 " + struct.pack("<I", 2 * KB) + bytes(2 * KB)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _polyglots(face: Image.Image) -> list[Sample]:
    jpeg, png = _encode(face, "JPEG"), _encode(face, "PNG")
    return [
        _ok("jpeg + zip appended", jpeg + _zip_of(b"x" * 4000)),
        _ok("png + html appended", png + b"<html><script>alert(1)</script></html>"),
        _ok("jpeg with a pdf header in a comment", jpeg[:2] + b"\xff\xfe" + struct.pack(">H", 12) + b"%PDF-1.4\n"
            + b"\x00" + jpeg[2:]),
        Sample("zip holding a jpeg", _zip_of(jpeg)),
        Sample("html behind a jpeg marker", b"\xff\xd8\xff\xe0" + b"<html>" + b"a" * 4000 + b"</html>"),
        Sample("gif header + javascript", b"GIF89a/*" + b" " * 2000 + b"*/=1;alert(document.domain);"),
    ]


def _zip_of(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("image.jpg", data)
    return out.getvalue()


def _size_limits() -> list[Sample]:
    """Valid images padded after their end marker to exactly the limits and one byte past."""
    tiny = _encode(Image.new("RGB", (8, 8), (200, 100, 50)), "JPEG")
    return [
        Sample("1 KB - 1 byte", tiny + bytes(MIN_BYTES - 1 - len(tiny))),
        _ok("exactly 1 KB", tiny + bytes(MIN_BYTES - len(tiny))),
        _ok("exactly 6 MB", tiny + bytes(MAX_BYTES - len(tiny))),
        Sample("6 MB + 1 byte", tiny + bytes(MAX_BYTES + 1 - len(tiny))),
    ]


def _truncated(sample: Sample, count: int, rng: random.Random) -> list[Sample]:
    size = len(sample.data)
    offsets = {8, 16, 64, 200, size // 2, size - 2, size - 1} | {rng.randrange(1, size) for _ in range(count)}
    return [Sample(f"{sample.name} cut at {offset}", sample.data[:offset]) for offset in sorted(offsets)]


def _corrupted(sample: Sample, count: int, rng: random.Random) -> list[Sample]:
    data = sample.data
    variants = [Sample(f"{sample.name} header zeroed", bytes(16) + data[16:])]
    for seed in range(count):
        header = bytearray(data)
        for _ in range(3):
            header[rng.randrange(0, min(64, len(header)))] = rng.randrange(256)
        variants.append(Sample(f"{sample.name} header flipped #{seed}", bytes(header)))
        body = bytearray(data)
        start = rng.randrange(len(body) // 4, len(body) // 2)
        body[start:start + 64] = rng.randbytes(64)
        variants.append(Sample(f"{sample.name} body scrambled #{seed}", bytes(body)))
    return variants
