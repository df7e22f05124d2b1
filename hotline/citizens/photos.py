"""Photos citizens attach: what a file really is (from its bytes) and the name it is shown by.

Pure functions: no file system, no web. Storage is `hotline.services.photo_store`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PHOTOS = 5


@dataclass(frozen=True)
class PhotoType:
    """A photo format we accept: its MIME type and the extension it is stored under."""

    content_type: str
    extension: str


JPEG = PhotoType("image/jpeg", "jpg")
PNG = PhotoType("image/png", "png")
HEIC = PhotoType("image/heic", "heic")
BY_EXTENSION = {t.extension: t for t in (JPEG, PNG, HEIC)}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# HEIF brands a phone's HEIC photo may carry, as major or compatible brand (ISO/IEC 23008-12).
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"})
# A stored photo's name: the content's SHA-256 and our own extension, nothing a client chose.
# New uploads are stored as jpg or png (HEIC is converted); heic stays for older tickets.
STORED_NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png|heic)$")


def sniff(data: bytes) -> PhotoType | None:
    """The photo type the bytes say (JPEG, PNG or HEIC), or None; the file name is ignored."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if _is_heif(data):
        return HEIC
    return None


def _is_heif(data: bytes) -> bool:
    """An ISO-BMFF `ftyp` box at offset 4 naming a HEIF brand (major or compatible)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[0:4], "big")
    # The box holds: size, "ftyp", major brand, minor version, then 4-byte compatible brands.
    if size < 16 or size > len(data) or size % 4:
        return False
    if data[8:12] in HEIF_BRANDS:
        return True
    return any(data[i : i + 4] in HEIF_BRANDS for i in range(16, size, 4))


def neutral_name(index: int, photo_type: PhotoType) -> str:
    """The name a photo is shown and downloaded under: 照片1.jpg, 照片2.png …

    Never the citizen's own file name: "张三家楼下.jpg" would tell the handling unit who
    reported (a 举报 must not).
    """
    return f"照片{index}.{photo_type.extension}"
