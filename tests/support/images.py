"""Images made for upload tests: small photos, a large legitimate one, and decompression bombs
(a PNG whose header states far more pixels than its few hundred kilobytes suggest)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width_px: int, height_px: int) -> bytes:
    """A PNG that states its size and holds no pixel data at all: any attempt to decode it
    fails, so a refusal that names its pixel count was decided from the header alone."""
    ihdr = struct.pack(">IIBBBBB", width_px, height_px, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")


def png_bomb(width_px: int = 13_300, height_px: int = 13_300) -> bytes:
    """A complete, valid greyscale PNG of zeros: about 170 KB that decodes to 177 MB."""
    ihdr = struct.pack(">IIBBBBB", width_px, height_px, 8, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    row = b"\0" * (width_px + 1)  # a filter byte, then the row
    rows = [packer.compress(row) for _ in range(height_px)]
    data = b"".join(rows) + packer.flush()
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def photo(kind: str = "JPEG", size_px: tuple[int, int] = (8, 8), *, exif: bool = False) -> bytes:
    """A gradient photo of ``size_px``; with ``exif``, carrying a camera model and GPS tag."""
    width, height = size_px
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x0110] = "Test Camera"  # Model
        tags[0x8825] = {1: "N"}  # GPS info: latitude reference
        image.save(out, format=kind, exif=tags)
    else:
        image.save(out, format=kind)
    return out.getvalue()
